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
	payload, perr := parseTestBody(body, s.opts.MaxPayloadDepth)
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
// as the event's data, nested at most maxDepth levels as a published
// payload. A nil payload means the default one. The payload aliases body.
//
// It scans the object once, as parseObject does: broken JSON, a repeated
// "payload" and a value nested too deep end the scan at once, while an
// unknown field is held until the object has been scanned, so broken JSON
// is reported as invalid_json before any field error.
func parseTestBody(body []byte, maxDepth int) ([]byte, *ParseError) {
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
	var payload []byte
	var first *ParseError
	var msg string
	p := skipWS(s, start+1)
	if p < len(s) && s[p] == '}' {
		p++
	} else {
		for {
			ks := p
			if p, msg = scanKey(s, p); msg != "" {
				return nil, syntaxFault(p, msg).toError(-1, 0)
			}
			name, _ := fieldOf(s, ks)
			vs := p
			if p, msg = skipValue(s, p, maxDepth); msg != "" {
				if msg == errTooDeep {
					return nil, tooDeep("field "+quoteTrunc(name), p, maxDepth).toError(-1, 0)
				}
				return nil, syntaxFault(p, msg).toError(-1, 0)
			}
			switch {
			case name != "payload":
				if first == nil {
					first = &ParseError{Code: CodeUnknownField, Index: -1,
						Message: fmt.Sprintf(`unknown field %s; the only field is "payload"`, quoteTrunc(name))}
				}
			case payload != nil:
				return nil, syntaxFault(ks, `duplicate field "payload"`).toError(-1, 0)
			default:
				payload = s[vs:p:p]
			}
			if p = skipWS(s, p); p >= len(s) {
				return nil, syntaxFault(p, errEOF).toError(-1, 0)
			}
			if s[p] == '}' {
				p++
				break
			}
			if s[p] != ',' {
				return nil, syntaxFault(p, "expected ',' or '}' after an object field").toError(-1, 0)
			}
			p = skipWS(s, p+1)
		}
	}
	if p = skipWS(s, p); p != end {
		return nil, syntaxFault(p, "unexpected data after the JSON object").toError(-1, 0)
	}
	if first != nil {
		return nil, first
	}
	return payload, nil
}
