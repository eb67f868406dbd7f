package httpin

import (
	"sync"
	"time"
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
//  4. The reservation is given back when the request ends: the handler
//     (handle) takes it out of the reservations map when it starts, and
//     gives it back when it returns; the transport error handler
//     (handleTransportError) gives it back at once.
//
// A request can also end with neither hook: fasthttp takes an EOF at a
// chunk boundary of a chunked body for a client closing between requests,
// and closes the connection without a word (so does a failed write of
// "100 Continue"). Its reservation is given back (5) when its header is
// used again, since fasthttp reuses one RequestCtx, and so one header, for
// one request at a time: the request that had it is over; and (6) when the
// budget runs short, by a sweep of the reservations older than twice the
// read timeout: fasthttp has read or given up on every body by one read
// timeout after its headers, so such a reservation is not a body being
// read, and its header may never be used again (fasthttp's pool of them
// forgets what the garbage collector takes). A reservation keeps its own
// half, public or not, whichever request gives it back.
//
// Invariants: the body bytes allocated for requests in flight never exceed
// the budget plus smallBodyBytes per connection; the counters are the sum
// of the reservations in the map and those held by handlers running.

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
	at       int64 // when decided, in time.Now().UnixNano()
}

// bodyLimit is the server's HeaderReceived hook: see the comment above.
func (s *Server) bodyLimit(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	// A reservation still kept for h is a request that ended with neither
	// hook (step 5).
	if old, ok := s.reserved.take(h); ok {
		s.giveBack(old)
	}
	var limit bodyLimit
	limit.at = time.Now().UnixNano()
	limit.max, limit.public = s.bodyCap(h)
	n := h.ContentLength()
	if limit.max > smallBodyBytes && n != 0 && n != -2 { // -2: no body declared
		need := int64(limit.max) // chunked (-1): up to the cap
		if n > 0 {
			need = int64(min(n, limit.max))
		}
		if s.reserve(need, limit.public) || s.sweepAbandoned(limit.at) && s.reserve(need, limit.public) {
			limit.reserved = need
		} else {
			limit.max, limit.busy = 1, true
		}
	}
	s.reserved.put(h, limit)
	return fasthttp.RequestConfig{MaxRequestBodySize: limit.max}
}

// sweepAbandoned gives back the reservations of requests that ended with
// neither hook (step 6), at most once a second; it reports whether it
// gave any back.
func (s *Server) sweepAbandoned(now int64) bool {
	last := s.lastBodySweep.Load()
	if now-last < int64(time.Second) || !s.lastBodySweep.CompareAndSwap(last, now) {
		return false
	}
	freed := false
	for _, limit := range s.reserved.takeOlder(now - 2*int64(s.opts.readTimeout)) {
		s.giveBack(limit)
		freed = freed || limit.reserved > 0
	}
	return freed
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

// takeBody takes the request's reservation out of the map, to be given
// back with giveBack, and returns what was decided for it.
func (s *Server) takeBody(h *fasthttp.RequestHeader) bodyLimit {
	limit, ok := s.reserved.take(h)
	if !ok {
		return bodyLimit{max: s.opts.MaxBodyBytes}
	}
	return limit
}

// giveBack returns limit's reservation to the budget, and to the inbound
// half when it was taken from it.
func (s *Server) giveBack(limit bodyLimit) {
	if limit.reserved == 0 {
		return
	}
	s.bodyBytes.Add(-limit.reserved)
	if limit.public {
		s.publicBodyBytes.Add(-limit.reserved)
	}
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

// put records limit for h; the caller has taken any reservation h had.
func (r *reservations) put(h *fasthttp.RequestHeader, limit bodyLimit) {
	sh := &r.shards[r.shard(h)]
	sh.mu.Lock()
	if sh.m == nil {
		sh.m = make(map[*fasthttp.RequestHeader]bodyLimit)
	}
	sh.m[h] = limit
	sh.mu.Unlock()
}

// takeOlder takes out every reservation decided before t.
func (r *reservations) takeOlder(t int64) []bodyLimit {
	var out []bodyLimit
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		for h, limit := range sh.m {
			if limit.at < t {
				out = append(out, limit)
				delete(sh.m, h)
			}
		}
		sh.mu.Unlock()
	}
	return out
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
