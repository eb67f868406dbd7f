package httpin

import (
	"fmt"
	"strconv"

	"github.com/valyala/fasthttp"
)

// testEndpoint sends the endpoint one hookline.test event and answers 200
// with the attempt's result, whether the receiver accepted it or not: the
// request worked, the receiver's answer is the data (success, status,
// error_class, response_body). It waits for the attempt, up to the delivery
// timeout.
func (s *Server) testEndpoint(ctx *fasthttp.RequestCtx, tenant, id string) {
	body := ctx.PostBody()
	if len(body) > s.opts.MaxEventBytes {
		writeError(ctx, fasthttp.StatusRequestEntityTooLarge, "payload_too_large",
			"request body is "+strconv.Itoa(len(body))+" bytes; at most "+strconv.Itoa(s.opts.MaxEventBytes)+" allowed")
		return
	}
	payload, perr := parseTestBody(body)
	if perr != nil {
		writeParseError(ctx, perr)
		return
	}
	res, err := s.e.TestEndpoint(s.actor(ctx), tenant, id, payload)
	if err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, res)
}

// parseTestBody reads the optional body of a test request: nothing, or a
// JSON object whose only field is "payload", any JSON value sent unchanged
// as the event's data. A nil payload means the default one. The payload
// aliases body.
func parseTestBody(body []byte) ([]byte, *ParseError) {
	start, end := skipWS(body, 0), trimRightWS(body)
	if start >= end {
		return nil, nil
	}
	s := body[:end]
	if s[start] != '{' {
		msg := fmt.Sprintf("expected a JSON object, found %q", s[start])
		if k := kindOf(s[start]); k != "" {
			msg = "the request body must be a JSON object, got " + k
		}
		return nil, syntaxFault(start, msg).toError(-1, 0)
	}
	// Validate the whole document first: then the walk below cannot fail
	// on syntax, and broken JSON is reported as invalid_json before any
	// field error.
	p, msg := skipValue(s, start)
	if msg == "" && p != end {
		p, msg = skipWS(s, p), "unexpected data after the JSON object"
	}
	if msg != "" {
		return nil, syntaxFault(p, msg).toError(-1, 0)
	}
	var payload []byte
	p = skipWS(s, start+1)
	for s[p] != '}' {
		ks := p
		p, _ = scanKey(s, p)
		name, _ := fieldOf(s, ks)
		vs := p
		p, _ = skipValue(s, p)
		switch {
		case name != "payload":
			return nil, &ParseError{Code: CodeUnknownField, Index: -1,
				Message: fmt.Sprintf(`unknown field %s; the only field is "payload"`, quoteTrunc(name))}
		case payload != nil:
			return nil, syntaxFault(ks, `duplicate field "payload"`).toError(-1, 0)
		}
		payload = s[vs:p:p]
		if p = skipWS(s, p); s[p] == ',' {
			p = skipWS(s, p+1)
		}
	}
	return payload, nil
}
