package httpin

import (
	"sync"
	"unsafe"

	"github.com/valyala/fasthttp"
)

// fasthttp allocates a request body's declared Content-Length before it
// reads a byte of it, and before the handler runs: a client declaring
// 16 MiB and sending one byte cost 16 MiB per connection. So each
// request's body cap is decided when its headers arrive (bodyLimit, the
// server's HeaderReceived hook):
//
//  1. The route and, where it needs one, the token are checked first: a
//     request that will get 401, 403, 404 or 405, or that goes to a route
//     taking no body, may send smallBodyBytes at most. Publish routes may
//     send MaxBodyBytes, and the other routes that take a body (the
//     inbound receiver of a known source among them) twice MaxEventBytes,
//     bounded by MaxBodyBytes: their handlers refuse more than one event.
//  2. A declared length over the cap is refused by fasthttp before it is
//     read (413 body_too_large, from handleTransportError).
//  3. The bytes it may hold (its declared length, or the cap for a chunked
//     body) are reserved from Options.MaxBodyBytesInFlight. Requests to
//     the inbound receiver, which anyone may send, may hold at most half
//     of it, so a flood of slow inbound bodies cannot stop publishing.
//     When the budget is spent the cap drops to nothing, so fasthttp
//     refuses the body unread, and the answer is 503 server_busy with
//     Retry-After.
//  4. The reservation is given back when the request ends: after the
//     handler (handle) or the transport error (handleTransportError).
//
// Invariants: the body bytes allocated for requests in flight never exceed
// the budget plus smallBodyBytes per connection; a reservation is kept
// per request header (fasthttp reuses one RequestCtx, and so one header,
// per request at a time), and one left behind by a request that ended with
// neither hook (a connection the server closed) is given back when its
// header is used again.

// smallBodyBytes caps the body of a request that cannot use one: routes
// taking none (GET, DELETE, health), unknown paths and requests with no
// valid token. They are not counted against the budget.
const smallBodyBytes = 16 << 10

// bodyRetryAfter is how long a client told server_busy should wait: bodies
// in flight are answered within milliseconds.
const bodyRetryAfter = "1"

// bodyLimit is what bodyLimit decided for one request.
type bodyLimit struct {
	max      int   // the cap fasthttp enforces
	reserved int64 // bytes taken from the budget
	public   bool  // reserved also from the inbound half
	busy     bool  // the budget was spent: the body is refused
}

// bodyLimit is the server's HeaderReceived hook: see the comment above.
func (s *Server) bodyLimit(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	var limit bodyLimit
	limit.max, limit.public = s.bodyCap(h)
	n := h.ContentLength()
	if limit.max > smallBodyBytes && n != 0 && n != -2 { // -2: no body declared
		need := int64(limit.max) // chunked (-1): up to the cap
		if n > 0 {
			need = int64(min(n, limit.max))
		}
		if s.reserve(need, limit.public) {
			limit.reserved = need
		} else {
			limit.max, limit.busy = 1, true
		}
	}
	s.reserved.put(h, limit)
	return fasthttp.RequestConfig{MaxRequestBodySize: limit.max}
}

// reserve takes need bytes from the budget, and from its inbound half for
// a public request, when both have room.
func (s *Server) reserve(need int64, public bool) bool {
	if public && s.publicBodyBytes.Add(need) > s.opts.MaxBodyBytesInFlight/2 {
		s.publicBodyBytes.Add(-need)
		return false
	}
	if s.bodyBytes.Add(need) > s.opts.MaxBodyBytesInFlight {
		s.bodyBytes.Add(-need)
		if public {
			s.publicBodyBytes.Add(-need)
		}
		return false
	}
	return true
}

// releaseBody gives back the request's reservation and returns what was
// decided for it.
func (s *Server) releaseBody(h *fasthttp.RequestHeader) bodyLimit {
	limit, ok := s.reserved.take(h)
	if !ok {
		return bodyLimit{max: s.opts.MaxBodyBytes}
	}
	s.bodyBytes.Add(-limit.reserved)
	if limit.public {
		s.publicBodyBytes.Add(-limit.reserved)
	}
	return limit
}

// bodyCap is the most body the request with header h may send (step 1),
// and whether the request is public (needs no token).
func (s *Server) bodyCap(h *fasthttp.RequestHeader) (int, bool) {
	uri := fasthttp.AcquireURI()
	defer fasthttp.ReleaseURI(uri)
	if uri.Parse(nil, h.RequestURI()) != nil {
		return smallBodyBytes, false
	}
	pr, params := routes.match(routePath(string(uri.Path())))
	if pr == nil {
		return smallBodyBytes, false
	}
	r := pr.find(h.Method())
	switch {
	case r == nil, r.method == "GET", r.method == "DELETE", r.method == anyMethod:
		return smallBodyBytes, pr.public
	case !pr.public && !s.mayUse(h, r, pr.tenantOf(params)):
		return smallBodyBytes, false
	case r.label == routePublish || r.label == routePublishBatch:
		return s.opts.MaxBodyBytes, false
	case r.label == routeInbound:
		if s.receiver == nil || !s.receiver.HasSource(params[0]) {
			return smallBodyBytes, true // a 404 to come
		}
	}
	// One event's worth with room for what wraps it (a test event's
	// envelope, an event type's schema), so the handler, not the
	// transport, refuses a payload a little over MaxEventBytes with its
	// code; and a client still sending it reads that answer, where one
	// refused from its headers alone may see the connection reset first.
	return min(2*s.opts.MaxEventBytes, s.opts.MaxBodyBytes), r.label == routeInbound
}

// reservations maps a request header to what bodyLimit decided for it,
// until the request ends. Sharded by the header's address, so requests on
// different connections rarely share a lock.
type reservations struct {
	shards [16]struct {
		mu sync.Mutex
		m  map[*fasthttp.RequestHeader]bodyLimit
	}
}

func (r *reservations) shard(h *fasthttp.RequestHeader) int {
	p := uintptr(unsafe.Pointer(h))
	return int(((p >> 6) ^ (p >> 12)) & 15)
}

// put records limit for h. A reservation still there (its request ended
// without either hook) is given back by the caller's next release: put
// merges it into the new one.
func (r *reservations) put(h *fasthttp.RequestHeader, limit bodyLimit) {
	sh := &r.shards[r.shard(h)]
	sh.mu.Lock()
	if sh.m == nil {
		sh.m = make(map[*fasthttp.RequestHeader]bodyLimit)
	}
	if old, ok := sh.m[h]; ok {
		limit.reserved += old.reserved
	}
	sh.m[h] = limit
	sh.mu.Unlock()
}

func (r *reservations) take(h *fasthttp.RequestHeader) (bodyLimit, bool) {
	sh := &r.shards[r.shard(h)]
	sh.mu.Lock()
	limit, ok := sh.m[h]
	if ok {
		delete(sh.m, h)
	}
	sh.mu.Unlock()
	return limit, ok
}
