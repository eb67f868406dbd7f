package httpin

import (
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"hookline/engine"
)

// feedPage is one answer of the event feed.
type feedPage struct {
	Data       []engine.FeedEvent `json:"data"`
	NextCursor string             `json:"next_cursor"`
}

// readFeed serves GET /v1/tenants/{tenant}/events?after=&limit=&wait=: the
// tenant's events in order after a cursor, waiting (long poll, default and
// at most 30 s) when there are none yet.
func (s *Server) readFeed(ctx *fasthttp.RequestCtx, tenant string) {
	args := ctx.QueryArgs()
	limit := defaultListLimit
	if v := args.Peek("limit"); len(v) > 0 {
		n, err := strconv.Atoi(string(v))
		if err != nil {
			writeError(ctx, fasthttp.StatusBadRequest, "invalid_limit", "limit must be a whole number from 1 to 1000")
			return
		}
		limit = n
	}
	wait := engine.MaxFeedWait
	if v := args.Peek("wait"); len(v) > 0 {
		d, err := time.ParseDuration(string(v))
		if err != nil {
			writeError(ctx, fasthttp.StatusBadRequest, "invalid_wait", "wait must be a duration such as 0s, 5s or 30s")
			return
		}
		wait = d
	}
	evs, next, err := s.e.Feed(ctx, tenant, string(args.Peek("after")), limit, wait)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, feedPage{Data: evs, NextCursor: next})
}
