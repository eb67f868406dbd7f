package httpout

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// Result.ErrClass values. They are stable: the engine's retry policy, the
// attempt log and the metrics use them.
const (
	ErrClassTimeout = "timeout"
	ErrClassRefused = "refused"
	ErrClassDNS     = "dns"
	ErrClassTLS     = "tls"
	ErrClassSSRF    = "ssrf"
	ErrClassNetwork = "network"
	// ErrClassInvalidURL: the request line cannot be sent, for its URL or
	// (never for a validated endpoint) its method.
	ErrClassInvalidURL = "invalid_url"
	// ErrClassResponseHeadersTooLarge: the receiver answered, but its
	// status line and headers exceed MaxResponseHeaderBytes, so the status
	// was not read. Unlike "network" it is not a passing fault: the same
	// receiver will answer the same way again.
	ErrClassResponseHeadersTooLarge = "response_headers_too_large"
)

// Standard Webhooks request header names, plus hookline's own attempt
// counter. fasthttp sends them in canonical case (Webhook-Id); HTTP header
// names are case-insensitive.
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
	HeaderAttempt          = "hookline-attempt"
	HeaderEventType        = "hookline-event-type"
)

const (
	// idleConnTimeout closes pooled connections idle this long. It is below
	// the 5 s keep-alive timeout of Node.js servers, the shortest common one,
	// so the client normally closes an idle connection before the server
	// does and the close race (see transport) stays rare.
	idleConnTimeout = 4 * time.Second

	// readBufferSize is each connection's read buffer, which holds most
	// response headers whole (fasthttp's 4 KiB default is too small for
	// some CDN and cookie-heavy responses). A bigger header is read through
	// a bigger reader, up to MaxResponseHeaderBytes (see transport).
	readBufferSize = 8 << 10
)

// Options configures a Sender. The zero value works: in every numeric field
// 0 means the default, written next to the field, and EnsureDefaults is the
// one place those defaults live. A negative value means "none" where the
// field says so and is an error elsewhere; New returns Validate's error rather
// than replacing a bad value.
type Options struct {
	// Allow lists prefixes that pass the guard although they are private,
	// loopback or otherwise refused (e.g. 127.0.0.0/8 for tests and bench).
	Allow []netip.Prefix
	// ConnectTimeout bounds resolving plus TCP connect, and separately the
	// TLS handshake. 0 means 5s.
	ConnectTimeout time.Duration
	// Timeout bounds a whole attempt, including waiting for a free
	// connection, connecting and reading the response. 0 means 15s.
	Timeout time.Duration
	// MaxConnsPerHost caps the connections to one host:port. 0 means 1024.
	MaxConnsPerHost int
	// CaptureBytes is how much of a response body is kept in Result.Body.
	// 0 means 4096; negative: none.
	CaptureBytes int
	// UserAgent is sent as user-agent. "" means "hookline/dev".
	UserAgent string
	// MaxRetryAfter caps the delay a receiver's Retry-After header may ask
	// for (Result.RetryAfter), from 1s to MaxRetryAfterLimit (168h). 0 means
	// DefaultMaxRetryAfter, 24h.
	MaxRetryAfter time.Duration
	// TLSConfig is the base TLS configuration for https endpoints, e.g. to
	// add root CAs. Default: system roots, TLS 1.2 or later. An empty
	// ServerName is set per host from the URL.
	TLSConfig *tls.Config
}

// EnsureDefaults fills zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = 5 * time.Second
	}
	if o.Timeout == 0 {
		o.Timeout = 15 * time.Second
	}
	if o.MaxConnsPerHost == 0 {
		o.MaxConnsPerHost = 1024
	}
	if o.CaptureBytes == 0 {
		o.CaptureBytes = 4096
	}
	if o.UserAgent == "" {
		o.UserAgent = "hookline/dev"
	}
	if o.MaxRetryAfter == 0 {
		o.MaxRetryAfter = DefaultMaxRetryAfter
	}
}

// Validate reports the first option out of its bounds, naming it and its
// value. It expects EnsureDefaults to have run.
func (o *Options) Validate() error {
	for i, p := range o.Allow {
		// The zero Prefix matches no address: an allow-list entry that
		// silently allows nothing is a mistake worth reporting.
		if !p.IsValid() {
			return fmt.Errorf("httpout.Options.Allow[%d] is %s; it must be a valid prefix such as 127.0.0.0/8", i, p)
		}
	}
	switch {
	case o.ConnectTimeout <= 0:
		return fmt.Errorf("httpout.Options.ConnectTimeout is %s; it must be positive", o.ConnectTimeout)
	case o.Timeout <= 0:
		return fmt.Errorf("httpout.Options.Timeout is %s; it must be positive", o.Timeout)
	case o.MaxConnsPerHost <= 0:
		return fmt.Errorf("httpout.Options.MaxConnsPerHost is %d; it must be positive", o.MaxConnsPerHost)
	case o.MaxRetryAfter < minMaxRetryAfter || o.MaxRetryAfter > MaxRetryAfterLimit:
		return fmt.Errorf("httpout.Options.MaxRetryAfter is %s; it must be from %s to %s", o.MaxRetryAfter, minMaxRetryAfter, MaxRetryAfterLimit)
	}
	return nil
}

// Sender delivers webhook attempts over one fasthttp.Client, which keeps a
// pool of connections per host. It is safe for concurrent use.
type Sender struct {
	client        *fasthttp.Client
	guard         *Guard
	dialer        *dialer
	timeout       time.Duration
	maxRetryAfter time.Duration
}

// NewSender is New for options fixed in code, such as tests' and the bench's:
// it panics when they are invalid. Options that come from a user go through
// New, which returns the error.
func NewSender(opts Options) *Sender {
	s, err := New(opts)
	if err != nil {
		panic(fmt.Sprintf("BUG: invalid httpout options: %s", err))
	}
	return s
}

// New returns a Sender configured by opts, or Validate's error.
func New(opts Options) (*Sender, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	g := NewGuard(opts.Allow)
	d := newDialer(g, opts.ConnectTimeout)
	var baseTLS *tls.Config
	if opts.TLSConfig != nil {
		baseTLS = opts.TLSConfig.Clone()
	} else {
		baseTLS = &tls.Config{}
	}
	if baseTLS.MinVersion == 0 {
		baseTLS.MinVersion = tls.VersionTLS12
	}
	if baseTLS.ClientSessionCache == nil {
		// Resumed sessions make reconnecting to busy endpoints cheap.
		baseTLS.ClientSessionCache = tls.NewLRUClientSessionCache(1024)
	}
	s := &Sender{guard: g, dialer: d, timeout: opts.Timeout, maxRetryAfter: opts.MaxRetryAfter}
	s.client = &fasthttp.Client{
		Name:                      opts.UserAgent,
		Transport:                 newTransport(max(opts.CaptureBytes, 0)), // negative: none
		DialTimeout:               d.hostDialer(nil),
		MaxConnsPerHost:           opts.MaxConnsPerHost,
		MaxConnWaitTimeout:        opts.Timeout,
		MaxIdleConnDuration:       idleConnTimeout,
		MaxIdemponentCallAttempts: 2,
		RetryIfErr:                retryMarked,
		ReadBufferSize:            readBufferSize,
		// The path is sent exactly as the endpoint owner wrote it.
		DisablePathNormalizing: true,
		ConfigureClient: func(hc *fasthttp.HostClient) error {
			// fasthttp calls this once per host and scheme; it is where the
			// dialer learns whether to run a TLS handshake and for which name.
			var cfg *tls.Config
			if hc.IsTLS {
				cfg = hostTLSConfig(baseTLS, hc.Addr)
			}
			hc.DialTimeout = d.hostDialer(cfg)
			return nil
		},
	}
	return s, nil
}

// retryMarked lets HostClient.Do retry exactly the attempts the transport
// marked as retryable (a pooled connection closed before any response byte).
func retryMarked(_ *fasthttp.Request, _ int, _ error) (resetTimeout, retry bool) {
	return false, true
}

// Guard returns the guard the Sender's dialer uses, so URLs can be checked
// against the same allow list.
func (s *Sender) Guard() *Guard {
	return s.guard
}

// Request is one delivery attempt. Send only reads it, and none of its
// fields needs building per attempt beyond the signature: Headers is the
// endpoint's slice, shared by its attempts.
type Request struct {
	// Method is POST (""), PUT, PATCH or DELETE (see CheckMethod).
	Method    string
	URL       string
	MsgID     string // webhook-id
	Timestamp int64  // webhook-timestamp (unix seconds)
	EventType string // hookline-event-type; not sent when ""
	// Signature is the whole signature header value (Signer.AppendSignatures),
	// sent in SignatureHeader ("" means webhook-signature). No signature
	// header is sent when it is empty (scheme none).
	Signature       []byte
	SignatureHeader string
	// Headers are the endpoint's static and auth headers, checked by
	// CheckHeaders and AuthConfig.Validate; they are sent after hookline's
	// own. A Content-Type among them replaces application/json.
	Headers []Header
	Attempt int // sent as hookline-attempt
	// Body is sent as it is, except that a DELETE without one sends no
	// body and no content-type (fasthttp still writes Content-Length: 0,
	// which RFC 9110 permits and receivers read as no content).
	Body []byte
}

// Result is the outcome of one Send. Callers reuse it; Send overwrites every
// field and appends the captured body into Body[:0].
type Result struct {
	// Status is the HTTP status, 0 when no response arrived or its header
	// could not be read (ErrClassResponseHeadersTooLarge).
	Status int
	// ErrClass is "" when a response was read, else one of the ErrClass*
	// constants.
	ErrClass string
	Err      error
	Latency  time.Duration
	// RetryAfter comes from a Retry-After header (delta seconds or
	// HTTP-date); 0 when absent or invalid, at most Options.MaxRetryAfter.
	RetryAfter time.Duration
	// Body holds the first CaptureBytes of the response body.
	Body        []byte
	ContentType string
	// Headers holds the safe subset of a non-2xx response's headers (see
	// loggedHeaders) as "Name: value" lines, for the attempt log.
	Headers []byte
}

// loggedHeaders are the response headers worth keeping with an attempt:
// they explain a failure (where a redirect pointed, how long to wait, what
// the body is, the receiver's request id) and carry no credentials.
var loggedHeaders = []string{"Content-Type", "Retry-After", "Location", "X-Request-Id"}

// maxLoggedHeaderValue caps each kept header value.
const maxLoggedHeaderValue = 256

func appendLoggedHeaders(dst []byte, h *fasthttp.ResponseHeader) []byte {
	for _, name := range loggedHeaders {
		v := h.Peek(name)
		if len(v) == 0 {
			continue
		}
		dst = append(dst, name...)
		dst = append(dst, ": "...)
		dst = append(dst, v[:min(len(v), maxLoggedHeaderValue)]...)
		dst = append(dst, '\n')
	}
	return dst
}

// setContentType stores b without allocating when it equals the previous
// value, which is the common case for a reused Result and one endpoint.
func (r *Result) setContentType(b []byte) {
	if string(b) != r.ContentType {
		r.ContentType = string(b)
	}
}

// Send sends req.Body to req.URL with req.Method (POST by default) and the
// headers content-type: application/json, webhook-id, webhook-timestamp,
// the signature header, user-agent, hookline-attempt, hookline-event-type
// and req.Headers, and fills res.
//
// A response of any status is a response: redirects are not followed (a 3xx
// is just its status), and a response whose body breaks off after the header
// keeps its status. Every failure to get a response sets ErrClass and Err. A
// URL holding a space or a control character is not sent (ErrClass
// "invalid_url").
// The whole attempt takes at most Options.Timeout. Every address dialed
// passes the guard (ErrClass "ssrf" otherwise, with no connection attempted).
//
// In the steady state (a pooled connection, a reused Result) Send does not
// allocate.
func (s *Sender) Send(req *Request, res *Result) {
	start := time.Now()
	res.Status, res.ErrClass, res.Err, res.RetryAfter = 0, "", nil, 0
	res.Body = res.Body[:0]
	res.Headers = res.Headers[:0]

	freq := fasthttp.AcquireRequest()
	fresp := fasthttp.AcquireResponse()
	err := s.do(req, res, freq, fresp)
	res.Latency = time.Since(start)
	if err != nil {
		res.ErrClass = classify(err)
		res.Err = err
		res.Body = res.Body[:0]
		res.ContentType = ""
	} else {
		res.Status = fresp.StatusCode()
		res.RetryAfter = parseRetryAfter(fresp.Header.Peek(fasthttp.HeaderRetryAfter), start.Add(res.Latency), s.maxRetryAfter)
		res.setContentType(fresp.Header.ContentType())
		if res.Status < 200 || res.Status > 299 {
			// Kept for answers that are not successes: their headers
			// explain them, and a success's would only cost time here.
			res.Headers = appendLoggedHeaders(res.Headers, &fresp.Header)
		}
	}
	// It is forbidden to access freq and fresp after returning them to the
	// pool; nothing in res points into them.
	fasthttp.ReleaseResponse(fresp)
	fasthttp.ReleaseRequest(freq)
}

func (s *Sender) do(req *Request, res *Result, freq *fasthttp.Request, fresp *fasthttp.Response) error {
	// CheckURL refuses these bytes, but a URL stored before it did must not
	// go out raw either: fasthttp writes the path as it is, so a space would
	// split the request line and CR/LF would inject headers.
	for i := 0; i < len(req.URL); i++ {
		if c := req.URL[i]; c <= ' ' || c == 0x7f {
			return &classError{class: ErrClassInvalidURL, err: fmt.Errorf("cannot send: the URL has %q at byte %d, which cannot be sent in a request line; percent-encode it", c, i)}
		}
	}
	freq.SetRequestURI(req.URL)
	uri := freq.URI()
	if scheme := uri.Scheme(); string(scheme) != "http" && string(scheme) != "https" {
		return &classError{class: ErrClassInvalidURL, err: fmt.Errorf("cannot send to %q: scheme %q is not http or https", req.URL, scheme)}
	}
	if len(uri.Host()) == 0 {
		return &classError{class: ErrClassInvalidURL, err: fmt.Errorf("cannot send to %q: URL has no host", req.URL)}
	}
	method := req.Method
	switch method {
	case "":
		method = MethodPost
	case MethodPost, MethodPut, MethodPatch, MethodDelete:
	default:
		return &classError{class: ErrClassInvalidURL, err: fmt.Errorf("cannot send to host %q: method %q is not one of POST, PUT, PATCH, DELETE", uri.Host(), req.Method)}
	}
	setRequest(freq, req, method)
	freq.SetUserValue(resultKey{}, res)
	// An absent content-type stays "" instead of fasthttp's default.
	fresp.Header.SetNoDefaultContentType(true)

	if err := s.client.DoTimeout(freq, fresp, s.timeout); err != nil {
		// The host, not the URL: query strings often carry tokens.
		return fmt.Errorf("cannot %s to host %q: %w", method, uri.Host(), err)
	}
	return nil
}

// setRequest sets freq's method, headers and body for req; method is
// req.Method checked, POST for "".
func setRequest(freq *fasthttp.Request, req *Request, method string) {
	freq.Header.SetMethod(method)
	hasBody := len(req.Body) > 0 || method != MethodDelete
	freq.Header.SetContentType("application/json")
	freq.Header.Set(HeaderWebhookID, req.MsgID)
	var num [20]byte
	freq.Header.SetBytesV(HeaderWebhookTimestamp, strconv.AppendInt(num[:0], req.Timestamp, 10))
	if len(req.Signature) > 0 {
		name := req.SignatureHeader
		if name == "" {
			name = HeaderWebhookSignature
		}
		freq.Header.SetBytesV(name, req.Signature)
	}
	freq.Header.SetBytesV(HeaderAttempt, strconv.AppendInt(num[:0], int64(req.Attempt), 10))
	if req.EventType != "" {
		freq.Header.Set(HeaderEventType, req.EventType)
	}
	for i := range req.Headers {
		// fasthttp turns CR and LF into spaces here, so even a header that
		// skipped CheckHeaders cannot inject another.
		freq.Header.Set(req.Headers[i].Name, req.Headers[i].Value)
	}
	if hasBody {
		// SetBodyRaw does not copy: req.Body is read-only for Send and
		// outlives freq.
		freq.SetBodyRaw(req.Body)
	} else {
		// Also drops a Content-Type from req.Headers: there is no content.
		freq.Header.SetContentTypeBytes(nil)
	}
}

// PreviewHeaders lists the headers Send would set for req (besides Host
// and Content-Length, which the connection writes), in the order set, for
// showing a request without sending it.
func (s *Sender) PreviewHeaders(req *Request) []Header {
	method := req.Method
	if method == "" {
		method = MethodPost
	}
	freq := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(freq)
	setRequest(freq, req, method)
	// fasthttp sends the client's name only when the request has no
	// User-Agent of its own (an endpoint's header may set one).
	ua := s.client.Name
	if v := freq.Header.UserAgent(); len(v) > 0 {
		ua = string(v)
	}
	out := []Header{{Name: "User-Agent", Value: ua}}
	if ct := freq.Header.ContentType(); len(ct) > 0 {
		out = append(out, Header{Name: "Content-Type", Value: string(ct)})
	}
	for k, v := range freq.Header.All() {
		switch string(k) {
		case "Content-Type", "User-Agent", "Host", "Content-Length":
			continue
		}
		out = append(out, Header{Name: string(k), Value: string(v)})
	}
	return out
}

// classify maps an error from do to a Result.ErrClass.
func classify(err error) string {
	var ce *classError
	switch {
	case errors.As(err, &ce):
		return ce.class
	case isTimeout(err):
		return ErrClassTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrClassRefused
	}
	return ErrClassNetwork
}

// CloseIdle closes the idle pooled connections, e.g. at shutdown. Requests in
// flight are not interrupted.
func (s *Sender) CloseIdle() {
	s.client.CloseIdleConnections()
}
