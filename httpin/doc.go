// Package httpin owns hookline's HTTP front end, on fasthttp: the ingest API
// (single and batch publish), the management API (tenants, endpoints),
// /metrics, /healthz and /readyz. It parses and authenticates requests and
// maps engine errors to statuses and stable error codes; delivery policy
// lives in engine. It must not import bench or cmd.
package httpin
