// Package httpin owns hookline's HTTP front end, on fasthttp. It parses and
// authenticates requests, checks each against its route's scope, calls the
// engine and its feature packages (engine/inbound, engine/access) and maps
// their errors to statuses and stable error codes
// (respond.go); delivery policy lives in engine. It serves:
//
//   - the ingest API: POST …/events and …/events/batch (JSON array or
//     NDJSON), parsed by a hand-written single-pass scanner that keeps each
//     payload as raw bytes (publish.go, parse.go, jsonscan.go);
//   - the management API under /v1/tenants: tenants and endpoints (api.go),
//     delivery logs, replays and GET …/events/{id} (deliveries.go), the
//     event feed (feed.go), bulk jobs (jobs.go), test deliveries
//     (testevent.go), the event-type catalogue (eventtypes.go), API keys
//     (apikeys.go), portal sessions (portal.go), the audit log and the
//     X-Hookline-Reason header (audit.go), the per-endpoint limit on
//     tenant credentials' replays (replaylimit.go) and inbound sources
//     with their request log (inbound.go);
//   - the inbound receiver, POST /in/{source id}, where providers' webhooks
//     are verified and mapped into events, and GET /in/{source id}, Meta's
//     subscription handshake (inbound.go);
//   - GET /v1/openapi.json, the OpenAPI 3.1 document of these two APIs,
//     kept by hand in openapi.json, which the tests hold to the route table
//     and to real answers (openapi.go);
//   - /metrics (the engine's metrics and the HTTP ones of metrics.go),
//     /healthz, /readyz, and /debug/pprof for the admin token (server.go);
//     /metrics, /healthz and /readyz also on a listener of their own, and
//     who may read /metrics (metrics_listener.go).
//
// The main listener serves HTTPS when given a certificate, reloaded by
// Server.ReloadTLS (tls.go), and logs each request when asked
// (accesslog.go).
//
// routes.go holds the route table: every route's method, path pattern,
// handler, metric label and the access.Scope a tenant API key or portal
// session needs, the matcher, and principal.may, the one place a tenant
// credential's access to a route is decided. Authorisation is an allow-list: a route without a
// scope is the admin token's alone.
//
// It must not import bench or cmd.
package httpin
