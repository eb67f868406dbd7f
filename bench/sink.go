package bench

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Delivery is what the sink saw of one request.
//
// Body aliases the request buffer: it is valid only until OnDelivery
// returns. Copy it to keep it.
type Delivery struct {
	ID          string
	Type        string // top-level "type" of the body as raw JSON string content; "" if absent
	Attempt     int    // hookline-attempt header; 0 if absent
	Timestamp   int64  // webhook-timestamp; 0 if absent or malformed
	SigValid    bool   // signature checked and valid
	SigChecked  bool   // false when no secret is set or VerifyEvery skipped the check
	TimestampOK bool   // within Tolerance of Received
	Status      int    // status answered; 0 while the Status hook runs
	Reason      string // why the sink answered 401; "" otherwise
	Body        []byte
	Received    time.Time
}

// SinkOptions configures a Sink. The zero value is a loopback sink on a
// random port that answers 200 to every POST and checks nothing.
type SinkOptions struct {
	Listen      string                // host:port; "" means "127.0.0.1:0"
	Secret      string                // whsec_...; "" disables signature and timestamp checks
	VerifyEvery int                   // verify 1 in N requests; 0 or 1 verify all
	Status      func(d *Delivery) int // status for a request that passed the checks; nil or 0 means 200
	OnDelivery  func(d *Delivery)     // called for every POST, concurrently from request goroutines
	Tolerance   time.Duration         // allowed |now - webhook-timestamp| in whole seconds; 0 means 5m, <0 disables the check
	MaxIDs      int                   // distinct webhook-ids tracked for Unique/Duplicates; 0 means DefaultMaxIDs
	// PerPath counts ids per request path: with one path per endpoint, an
	// event fanned out to many endpoints is many deliveries, not duplicates.
	PerPath bool
}

// DefaultMaxIDs caps the id set at about 300 MB (see idSet): enough for a
// bench run of a few million events with room for their retries.
const DefaultMaxIDs = 8 << 20

// SinkStats is a snapshot of a Sink's counters.
type SinkStats struct {
	Requests     uint64 // every request, any method
	Accepted     uint64 // answered 2xx
	Failed       uint64 // answered non-2xx by the Status hook
	BadSignature uint64 // answered 401: a header missing or no matching signature
	BadTimestamp uint64 // answered 401: signature fine or unchecked, timestamp outside Tolerance
	NotAllowed   uint64 // answered 405
	Verified     uint64 // signature checked and valid
	Unchecked    uint64 // secret set but the check skipped by VerifyEvery
	Unique       uint64 // distinct webhook-ids among requests that passed the checks
	Delivered    uint64 // distinct webhook-ids answered 2xx at least once (Unique less those only ever failed)
	Duplicates   uint64 // requests whose webhook-id had already been answered 2xx
	Untracked    uint64 // passed the checks but not counted in Unique: no webhook-id, or MaxIDs reached
	BodyBytes    uint64
	First, Last  time.Time // receive times of the first and last POST; zero before any
}

// Sink receives webhook deliveries, verifies them and counts them.
//
// How a POST is handled:
//  1. With a secret, the webhook-id, -timestamp and -signature headers must be
//     present; 1 in VerifyEvery requests also has its HMAC checked, and the
//     timestamp must be within Tolerance. Any failure is answered 401 with a
//     short reason, so a wrong secret shows up in the engine as failed attempts.
//  2. A request that passed is answered with the Status hook's code (200 by
//     default), and its id is recorded: a repeat of an id that was already
//     answered 2xx is a duplicate, a repeat after a failure is a retry.
//  3. OnDelivery sees every POST, rejected or not, after the status is known.
//
// Without callbacks the path allocates nothing, so the sink stays cheaper
// than the engine it measures.
type Sink struct {
	opts SinkOptions
	key  []byte // HMAC key; nil when no secret is set
	tol  int64  // Tolerance in seconds; <0 disables
	macs sync.Pool
	ids  idSet
	srv  *fasthttp.Server

	mu       sync.Mutex // guards ln, done, serveErr and closed against Start/Close races
	ln       net.Listener
	done     chan struct{}
	serveErr error
	closed   bool

	verifySeq atomic.Uint64
	first     atomic.Int64
	last      atomic.Int64

	requests, accepted, failed, badSig, badTS, notAllowed atomic.Uint64
	verified, unchecked, bodyBytes                        atomic.Uint64
}

// macState is pooled because hmac.New costs several allocations and the
// precomputed pads; Sum writes into sum so nothing escapes per request.
type macState struct {
	mac  hash.Hash
	sum  [sha256.Size]byte
	want [44]byte // base64.StdEncoding.EncodedLen(sha256.Size)
}

// NewSink validates opts and returns a Sink that is not yet listening.
func NewSink(opts SinkOptions) (*Sink, error) {
	s := &Sink{opts: opts}
	if opts.Secret != "" {
		key, err := ParseSecret(opts.Secret)
		if err != nil {
			return nil, err
		}
		s.key = key
		s.macs.New = func() any { return &macState{mac: hmac.New(sha256.New, key)} }
	}
	if s.opts.Listen == "" {
		s.opts.Listen = "127.0.0.1:0"
	}
	if s.opts.VerifyEvery < 0 {
		return nil, fmt.Errorf("VerifyEvery must be >= 0; got %d", opts.VerifyEvery)
	}
	switch {
	case opts.Tolerance == 0:
		s.tol = 5 * 60
	case opts.Tolerance < 0:
		s.tol = -1
	default:
		s.tol = int64(opts.Tolerance / time.Second)
	}
	maxIDs := opts.MaxIDs
	if maxIDs <= 0 {
		maxIDs = DefaultMaxIDs
	}
	s.ids.init(maxIDs)
	s.srv = &fasthttp.Server{
		Handler:              s.handle,
		Name:                 "hookline-sink",
		ReadTimeout:          30 * time.Second,
		WriteTimeout:         30 * time.Second,
		IdleTimeout:          90 * time.Second, // outlive client pools' idle conns so they are not cut under them
		MaxRequestBodySize:   16 << 20,
		NoDefaultContentType: true,
		CloseOnShutdown:      true,
	}
	return s, nil
}

// ParseSecret decodes a "whsec_" secret into its HMAC key. Errors never
// echo the secret, since they end up in logs.
func ParseSecret(secret string) ([]byte, error) {
	secret = strings.TrimSpace(secret)
	b64, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return nil, fmt.Errorf(`cannot parse secret (%d chars): it must start with "whsec_"`, len(secret))
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf(`cannot decode secret: the part after "whsec_" must be standard base64: %w`, err)
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, fmt.Errorf("cannot use secret: its key has %d bytes; want 24..64", len(key))
	}
	return key, nil
}

// Start listens on opts.Listen and serves in the background until Close.
func (s *Sink) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil || s.closed {
		return errors.New("cannot start sink: already started or closed")
	}
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen for the sink on %q: %w", s.opts.Listen, err)
	}
	s.ln = ln
	s.done = make(chan struct{})
	go func() {
		err := s.srv.Serve(ln)
		s.mu.Lock()
		s.serveErr = err
		s.mu.Unlock()
		close(s.done)
	}()
	return nil
}

// Addr returns the listening host:port, or "" before Start.
func (s *Sink) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// URL returns the URL to register as an endpoint.
func (s *Sink) URL() string { return "http://" + s.Addr() + "/" }

// Close stops accepting, lets in-flight requests finish for up to 5s and
// waits for the server to stop. Stats stay readable afterwards.
func (s *Sink) Close() error {
	s.mu.Lock()
	if s.ln == nil || s.closed {
		s.closed = true
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	done, ln := s.done, s.ln
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.ShutdownWithContext(ctx)
	// Shutdown only closes listeners Serve has registered; a Close right
	// after Start can beat the Serve goroutine to it.
	if cerr := ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) && err == nil {
		err = cerr
	}
	<-done
	if err != nil {
		return fmt.Errorf("cannot shut down the sink on %s: %w", s.Addr(), err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.serveErr != nil {
		return fmt.Errorf("sink on %s stopped serving: %w", s.ln.Addr(), s.serveErr)
	}
	return nil
}

// Stats returns a snapshot. Counters are read one by one, so under load a
// snapshot can be off by the requests in flight.
func (s *Sink) Stats() SinkStats {
	st := SinkStats{
		Requests:     s.requests.Load(),
		Accepted:     s.accepted.Load(),
		Failed:       s.failed.Load(),
		BadSignature: s.badSig.Load(),
		BadTimestamp: s.badTS.Load(),
		NotAllowed:   s.notAllowed.Load(),
		Verified:     s.verified.Load(),
		Unchecked:    s.unchecked.Load(),
		Unique:       s.ids.unique.Load(),
		Delivered:    s.ids.delivered.Load(),
		Duplicates:   s.ids.dups.Load(),
		Untracked:    s.ids.untracked.Load(),
		BodyBytes:    s.bodyBytes.Load(),
	}
	if n := s.first.Load(); n != 0 {
		st.First = time.Unix(0, n)
		st.Last = time.Unix(0, s.last.Load())
	}
	return st
}

func (s *Sink) handle(ctx *fasthttp.RequestCtx) {
	s.requests.Add(1)
	if !ctx.IsPost() {
		s.notAllowed.Add(1)
		ctx.Error("the sink only accepts POST deliveries", fasthttp.StatusMethodNotAllowed)
		ctx.Response.Header.Set("Allow", "POST") // after Error, which resets headers
		return
	}
	now := ctx.Time()
	s.noteReceived(now.UnixNano())
	h := &ctx.Request.Header
	id := h.Peek("webhook-id")
	tsRaw := h.Peek("webhook-timestamp")
	sig := h.Peek("webhook-signature")
	body := ctx.PostBody()
	s.bodyBytes.Add(uint64(len(body)))

	ts, err := fasthttp.ParseUint(tsRaw)
	tsParsed := err == nil
	if !tsParsed {
		ts = 0
	}
	tsOK := tsParsed && s.fresh(now.Unix(), int64(ts))

	var reason string
	badTS, checked, valid := false, false, false
	if s.key != nil {
		checked = true
		switch {
		case len(id) == 0:
			reason = "missing webhook-id header"
		case len(tsRaw) == 0:
			reason = "missing webhook-timestamp header"
		case !tsParsed:
			reason = "webhook-timestamp is not unix seconds"
		case len(sig) == 0:
			reason = "missing webhook-signature header"
		case !s.sampled():
			checked = false
			s.unchecked.Add(1)
		case s.verify(id, tsRaw, body, sig):
			valid = true
			s.verified.Add(1)
		default:
			reason = "no matching v1 signature in webhook-signature"
		}
		if reason == "" && !tsOK {
			reason, badTS = "webhook-timestamp outside tolerance", true
		}
	}

	// Built only for callbacks: &Delivery escapes into them, and the
	// callback-free path must not allocate.
	var d *Delivery
	if s.opts.Status != nil || s.opts.OnDelivery != nil {
		attempt, err := fasthttp.ParseUint(h.Peek("hookline-attempt"))
		if err != nil {
			attempt = 0
		}
		d = &Delivery{
			ID:          string(id),
			Type:        string(topLevelString(body, "type")),
			Attempt:     attempt,
			Timestamp:   int64(ts),
			SigValid:    valid,
			SigChecked:  checked,
			TimestampOK: tsOK,
			Reason:      reason,
			Body:        body,
			Received:    now,
		}
	}

	status := fasthttp.StatusOK
	switch {
	case reason != "":
		status = fasthttp.StatusUnauthorized
		if badTS {
			s.badTS.Add(1)
		} else {
			s.badSig.Add(1)
		}
		ctx.Error(reason, status)
	default:
		if s.opts.Status != nil {
			if code := s.opts.Status(d); code != 0 {
				status = code
			}
		}
		if status < 100 || status > 599 {
			status = fasthttp.StatusInternalServerError
		}
		acked := status >= 200 && status < 300
		var scope []byte
		if s.opts.PerPath {
			scope = ctx.Path()
		}
		s.ids.record(id, scope, acked)
		if acked {
			s.accepted.Add(1)
			ctx.SetStatusCode(status)
		} else {
			s.failed.Add(1)
			ctx.Error(fasthttp.StatusMessage(status), status)
		}
	}
	if s.opts.OnDelivery != nil {
		d.Status = status
		s.opts.OnDelivery(d)
	}
}

func (s *Sink) noteReceived(n int64) {
	if s.first.Load() == 0 { // a CAS on every request would bounce the cache line
		s.first.CompareAndSwap(0, n)
	}
	for {
		last := s.last.Load()
		if n <= last || s.last.CompareAndSwap(last, n) {
			return
		}
	}
}

func (s *Sink) fresh(now, ts int64) bool {
	if s.tol < 0 {
		return true
	}
	d := now - ts
	return d <= s.tol && d >= -s.tol
}

// sampled picks exactly 1 in VerifyEvery requests, the first included, so a
// short run still checks at least one signature.
func (s *Sink) sampled() bool {
	n := uint64(s.opts.VerifyEvery)
	return n <= 1 || (s.verifySeq.Add(1)-1)%n == 0
}

var (
	dot      = []byte{'.'}
	space    = []byte{' '}
	v1Prefix = []byte("v1,")
)

// verify reports whether any "v1,<base64>" token in header is the HMAC of
// "<id>.<ts>.<body>". Other schemes (v1a, ...) are skipped, as the spec asks.
func (s *Sink) verify(id, ts, body, header []byte) bool {
	m := s.macs.Get().(*macState)
	defer s.macs.Put(m)
	m.mac.Reset()
	m.mac.Write(id)
	m.mac.Write(dot)
	m.mac.Write(ts)
	m.mac.Write(dot)
	m.mac.Write(body)
	base64.StdEncoding.Encode(m.want[:], m.mac.Sum(m.sum[:0]))
	for len(header) > 0 {
		var tok []byte
		tok, header, _ = bytes.Cut(header, space)
		if sig, ok := bytes.CutPrefix(tok, v1Prefix); ok && hmac.Equal(sig, m.want[:]) {
			return true
		}
	}
	return false
}
