package httpin

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/valyala/fasthttp"
)

// /metrics shows every route's traffic, the queues, the disk: what an
// operator watches, and more than the public should see. Who may read it:
//
//   - By default it is open on the main listener, as before metrics had
//     options; the default listener is loopback (127.0.0.1:8080).
//   - Options.MetricsToken closes it on every listener to requests
//     without the metrics token or the admin token (401). Scrapers get a
//     token that opens nothing else.
//   - Options.MetricsListen serves /metrics, /healthz and /readyz on a
//     listener of their own, and nothing else (404): bind it to loopback
//     or a private interface, and the port that faces the internet no
//     longer shows metrics without a token. There it needs the metrics
//     token only when one is set.
//
// Health needs no token anywhere: a load balancer's probe has none.

// listener is how one listener answers.
type listener struct {
	metricsOpen bool // /metrics needs no token
	metricsOnly bool // only routes onMetricsListener: the metrics listener
}

// open reports whether the rows of pr serve the request with header h on
// listener l without the admin token or a tenant key (routeTable's step
// 2): noToken rows, and metricsToken rows where l leaves them open or h
// carries the metrics token.
func (s *Server) open(pr *pathRoutes, h *fasthttp.RequestHeader, l *listener) bool {
	switch {
	case pr == nil:
		return false
	case pr.public:
		return true
	case pr.metrics:
		return l.metricsOpen || s.isMetricsToken(h.Peek("Authorization"))
	}
	return false
}

// isMetricsToken compares an Authorization header value with the metrics
// token in constant time; false when there is none.
func (s *Server) isMetricsToken(h []byte) bool {
	token := bearerToken(h)
	return s.metricsBearer != nil && token != nil && subtle.ConstantTimeCompare(token, s.metricsBearer) == 1
}

// newMetricsServer is the metrics listener's server: the main one's
// limits, and no request body worth reading (its routes take none, so
// bodies need no budget).
func (s *Server) newMetricsServer() *fasthttp.Server {
	return &fasthttp.Server{
		Name:                         "hookline",
		Handler:                      s.handleMetricsListener,
		ErrorHandler:                 handleMetricsTransportError,
		MaxRequestBodySize:           smallBodyBytes,
		MaxConnsPerIP:                max(s.opts.MaxConnsPerIP, 0),
		ReadBufferSize:               maxHeaderBytes, // the main listener's head limit
		ReadTimeout:                  30 * time.Second,
		WriteTimeout:                 30 * time.Second,
		IdleTimeout:                  2 * time.Minute,
		DisablePreParseMultipartForm: true,
		NoDefaultContentType:         true,
		CloseOnShutdown:              true,
		Logger:                       fasthttpLogger{s.logger},
	}
}

// handleMetricsListener answers one request on the metrics listener and
// counts it under its route's label, with the main listener's.
func (s *Server) handleMetricsListener(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	label := s.dispatch(ctx, &s.metricsL)
	s.m.observe(label, ctx.Response.StatusCode(), start)
}

func handleMetricsTransportError(ctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		writeError(ctx, fasthttp.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("request body exceeds %d bytes", smallBodyBytes))
		return
	}
	writeHeadError(ctx, err)
}
