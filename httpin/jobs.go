package httpin

import (
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"hookline/engine"
)

// jobRequest is the body of POST …/endpoints/{id}/replay, /backfill and
// /cancel; every field is optional except a backfill's since.
type jobRequest struct {
	Status        string `json:"status"`
	Type          string `json:"type"`
	Since         string `json:"since"`
	Until         string `json:"until"`
	RatePerSecond int    `json:"rate_per_second"`
}

// createJob starts a bulk replay, backfill or cancel on one endpoint and
// answers 202 with the job, whose progress GET …/jobs/{id} shows.
func (s *Server) createJob(ctx *fasthttp.RequestCtx, tenant, id, kind string) {
	var req jobRequest
	if len(strings.TrimSpace(string(ctx.PostBody()))) > 0 && !decodeStrict(ctx, &req) {
		return
	}
	in := engine.JobInput{Kind: kind, Status: req.Status, Type: req.Type, RatePerSecond: req.RatePerSecond}
	for _, f := range []struct {
		name, v string
		t       *time.Time
	}{{"since", req.Since, &in.Since}, {"until", req.Until, &in.Until}} {
		if f.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, f.v)
		if err != nil {
			writeError(ctx, fasthttp.StatusBadRequest, "invalid_time", f.name+" must be an RFC 3339 time such as 2026-11-23T10:00:00Z")
			return
		}
		*f.t = t
	}
	j, err := s.e.CreateJob(s.actor(ctx), tenant, id, in)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusAccepted, j)
}

// listJobs serves GET …/jobs.
func (s *Server) listJobs(ctx *fasthttp.RequestCtx, tenant string) {
	js, err := s.e.ListJobs(tenant)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, listPage[engine.Job]{Data: js})
}

// getJob serves GET …/jobs/{id}: the job and its progress.
func (s *Server) getJob(ctx *fasthttp.RequestCtx, tenant, id string) {
	j, err := s.e.GetJob(tenant, id)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, j)
}

// stopJob serves POST …/jobs/{id}/stop.
func (s *Server) stopJob(ctx *fasthttp.RequestCtx, tenant, id string) {
	j, err := s.e.StopJob(s.actor(ctx), tenant, id)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, j)
}
