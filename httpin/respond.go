package httpin

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bytedance/sonic"
	"github.com/bytedance/sonic/decoder"
	"github.com/valyala/fasthttp"

	"hookline/engine"
	"hookline/wal"
)

// strictJSON refuses unknown fields: a misspelt option must fail loudly,
// not be ignored.
var strictJSON = sonic.Config{DisallowUnknownFields: true, ValidateString: true}.Froze()

// writeError writes {"error":{"code":...,"message":...}} with status.
func writeError(ctx *fasthttp.RequestCtx, status int, code, message string) {
	msg, err := sonic.MarshalString(message)
	if err != nil {
		msg = `"` + code + `"`
	}
	ctx.Response.Reset()
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	b := ctx.Response.BodyWriter()
	_, _ = b.Write([]byte(`{"error":{"code":"` + code + `","message":` + msg + `}}`))
}

// writeEngineError maps an engine error to its status; anything else is a 500
// whose details go to the log, not to the client.
func (s *Server) writeEngineError(ctx *fasthttp.RequestCtx, err error) {
	switch {
	case errors.Is(err, engine.ErrNotOwner), errors.Is(err, wal.ErrReplicaRefused):
		writeError(ctx, fasthttp.StatusServiceUnavailable, "not_owner", "this tenant is moving to another node of the cluster; try again")
		ctx.Response.Header.Set("Retry-After", "1")
		return
	case errors.Is(err, wal.ErrReplicaUnavailable):
		writeError(ctx, fasthttp.StatusServiceUnavailable, "cluster_unavailable", "the cluster's log cannot take writes now (no quorum reachable from this node); try again")
		ctx.Response.Header.Set("Retry-After", "1")
		return
	}
	var ee *engine.Error
	if !errors.As(err, &ee) {
		s.logger.Error("request failed", "method", string(ctx.Method()), "path", string(ctx.Path()), "err", err)
		writeError(ctx, fasthttp.StatusInternalServerError, "internal", "internal error; see the server log")
		return
	}
	status := fasthttp.StatusBadRequest
	switch ee.Kind {
	case engine.KindNotFound:
		status = fasthttp.StatusNotFound
	case engine.KindConflict:
		status = fasthttp.StatusConflict
	case engine.KindUnavailable:
		status = fasthttp.StatusServiceUnavailable
	case engine.KindTooMany:
		status = fasthttp.StatusTooManyRequests
	}
	writeError(ctx, status, ee.Code, ee.Message)
	if status == fasthttp.StatusServiceUnavailable || status == fasthttp.StatusTooManyRequests {
		wait := max(ee.RetryAfter, time.Second)
		ctx.Response.Header.Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	}
}

func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	b, err := sonic.Marshal(v)
	if err != nil {
		writeError(ctx, fasthttp.StatusInternalServerError, "internal", "cannot encode response")
		return
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}

// decodeStrict decodes a management request body into v, answering 400 with
// invalid_json, unknown_field or invalid_field itself when it fails.
func decodeStrict(ctx *fasthttp.RequestCtx, v any) bool {
	body := ctx.PostBody()
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", "request body is empty; a JSON object is required")
		return false
	case trimmed[0] != '{':
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", "request body must be a JSON object")
		return false
	case !utf8.Valid(body):
		// sonic does not check UTF-8; stored invalid bytes would make later
		// list answers unparsable for strict clients.
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", "request body is not valid UTF-8")
		return false
	}
	err := strictJSON.Unmarshal(body, v)
	if err == nil {
		return true
	}
	var mis *decoder.MismatchTypeError
	switch {
	case errors.As(err, &mis):
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_field", "a field has the wrong type: "+firstLine(mis.Error()))
	case strings.Contains(err.Error(), "unknown field"):
		writeError(ctx, fasthttp.StatusBadRequest, "unknown_field", strings.TrimPrefix(err.Error(), "json: "))
	default:
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", "request body is not valid JSON: "+firstLine(err.Error()))
	}
	return false
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
