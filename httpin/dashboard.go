package httpin

import (
	"bytes"

	"github.com/valyala/fasthttp"

	"hookline/internal/dashboard"
)

// pages serves the dashboard (internal/dashboard): one page for both
// views and its assets, none of which needs a token. What the pages show
// comes from the API, with the token the browser holds.
type pages struct {
	assets  *dashboard.Assets
	headers [][2]string
}

// dashboardIndex serves GET / (the operator view) and GET /portal (the
// customer view, opened from a portal session's url): the same page,
// which tells them apart by its path.
func (s *Server) dashboardIndex(ctx *fasthttp.RequestCtx) {
	if s.pages == nil {
		notFound(ctx, string(ctx.Path()))
		return
	}
	s.pages.serve(ctx, s.pages.assets.Index())
}

// dashboardAsset serves GET /assets/{file...}.
func (s *Server) dashboardAsset(ctx *fasthttp.RequestCtx, name string) {
	if s.pages == nil {
		notFound(ctx, string(ctx.Path()))
		return
	}
	f, ok := s.pages.assets.Lookup(name)
	if !ok {
		notFound(ctx, string(ctx.Path()))
		return
	}
	s.pages.serve(ctx, f)
}

func (p *pages) serve(ctx *fasthttp.RequestCtx, f *dashboard.File) {
	h := &ctx.Response.Header
	for _, kv := range p.headers {
		h.Set(kv[0], kv[1])
	}
	// Revalidated on every load: a new binary's pages are seen at once,
	// and an unchanged one costs a 304.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.ETag)
	if inm := ctx.Request.Header.Peek("If-None-Match"); len(inm) > 0 && bytes.Contains(inm, []byte(f.ETag)) {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return
	}
	h.SetContentType(f.ContentType)
	ctx.SetBody(f.Body)
}
