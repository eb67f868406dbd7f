package httpin

import (
	"bytes"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"hookline/engine"
	"hookline/wal"
)

// publishScratch holds one publish request's slices, pooled so the hot path
// does not allocate them per request.
type publishScratch struct {
	evs []engine.PublishEvent
	res []wal.AppendResult
	out []byte
}

var publishPool = sync.Pool{New: func() any { return new(publishScratch) }}

func (s *Server) limits() ParseLimits {
	return ParseLimits{MaxPayloadBytes: s.opts.MaxEventBytes, MaxBatchEvents: s.opts.MaxBatchEvents, MaxPayloadDepth: s.opts.MaxPayloadDepth}
}

func (s *Server) publishOne(ctx *fasthttp.RequestCtx, tenant string) {
	body := ctx.PostBody()
	if len(body) > s.opts.MaxEventBytes {
		writeError(ctx, fasthttp.StatusRequestEntityTooLarge, "payload_too_large",
			"event is "+strconv.Itoa(len(body))+" bytes; at most "+strconv.Itoa(s.opts.MaxEventBytes)+" allowed")
		return
	}
	in, perr := ParseEvent(body, s.limits())
	if perr != nil {
		writeParseError(ctx, perr)
		return
	}
	if in.IdempotencyKey == "" {
		if k := ctx.Request.Header.Peek("Idempotency-Key"); len(k) > 0 {
			if !validIdempotencyKey(k) {
				writeError(ctx, fasthttp.StatusBadRequest, "invalid_idempotency_key", "Idempotency-Key header must be 1-256 printable characters")
				return
			}
			in.IdempotencyKey = string(k)
		}
	}
	p := publishPool.Get().(*publishScratch)
	defer publishPool.Put(p)
	p.evs = append(p.evs[:0], engine.PublishEvent{Type: in.Type, Payload: in.Payload, IdempotencyKey: in.IdempotencyKey})
	p.res = append(p.res[:0], wal.AppendResult{})
	if err := s.e.Publish(tenant, p.evs, p.res); err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	out := append(p.out[:0], `{"id":"`...)
	out = appendEventID(out, p.res[0].ID)
	if p.res[0].Duplicate {
		out = append(out, `","duplicate":true}`...)
	} else {
		out = append(out, `"}`...)
	}
	p.out = out
	ctx.SetStatusCode(fasthttp.StatusAccepted)
	ctx.SetContentType("application/json")
	ctx.SetBody(out)
}

func (s *Server) publishBatch(ctx *fasthttp.RequestCtx, tenant string) {
	ct := ctx.Request.Header.ContentType()
	ndjson := bytes.Contains(ct, []byte("ndjson")) || bytes.Contains(ct, []byte("jsonl"))
	if len(ctx.Request.Header.Peek("Idempotency-Key")) > 0 {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_idempotency_key",
			"an Idempotency-Key header cannot apply to a batch; set idempotency_key on each event")
		return
	}
	ins, perr := ParseBatch(ctx.PostBody(), ndjson, s.limits())
	if perr != nil {
		writeParseError(ctx, perr)
		return
	}
	p := publishPool.Get().(*publishScratch)
	defer publishPool.Put(p)
	p.evs = p.evs[:0]
	for _, in := range ins {
		p.evs = append(p.evs, engine.PublishEvent{Type: in.Type, Payload: in.Payload, IdempotencyKey: in.IdempotencyKey})
	}
	p.res = append(p.res[:0], make([]wal.AppendResult, len(ins))...)
	if err := s.e.Publish(tenant, p.evs, p.res); err != nil {
		s.writeEngineError(ctx, err)
		return
	}
	out := append(p.out[:0], `{"ids":[`...)
	dups := 0
	for i, r := range p.res {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = appendEventID(out, r.ID)
		out = append(out, '"')
		if r.Duplicate {
			dups++
		}
	}
	out = append(out, `],"duplicates":`...)
	out = strconv.AppendInt(out, int64(dups), 10)
	out = append(out, '}')
	p.out = out
	clear(p.evs)
	ctx.SetStatusCode(fasthttp.StatusAccepted)
	ctx.SetContentType("application/json")
	ctx.SetBody(out)
}

func appendEventID(dst []byte, id wal.ID) []byte {
	return id.AppendString(append(dst, "evt_"...))
}

func writeParseError(ctx *fasthttp.RequestCtx, perr *ParseError) {
	status := fasthttp.StatusBadRequest
	if perr.Code == "payload_too_large" || perr.Code == "batch_too_large" {
		status = fasthttp.StatusRequestEntityTooLarge
	}
	writeError(ctx, status, perr.Code, perr.Message)
}

// validIdempotencyKey applies the body field's rules to the header.
func validIdempotencyKey(k []byte) bool {
	return len(k) > 0 && utf8.Valid(k) && checkKey(k) == ""
}
