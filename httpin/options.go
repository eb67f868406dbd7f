package httpin

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"hookline/internal/dashboard"
)

// Options configure a Server. The zero value works but for AdminToken: in
// every other field 0 (or "") means the default, written next to the field,
// and EnsureDefaults is the one place those defaults live. Negative means
// "none" where a field says so and is an error elsewhere; New returns
// Validate's error rather than replacing a bad value.
type Options struct {
	Listen string // "" means 127.0.0.1:8080
	// Cluster, in cluster mode, names each tenant's owner, to which
	// requests for the tenant are forwarded (cluster.go); nil on a single
	// node.
	Cluster ClusterRouter
	// AdminToken is required, at least MinAdminTokenBytes long.
	AdminToken string
	// MaxEventBytes bounds one event's JSON object. 0 means 1 MiB.
	MaxEventBytes int
	// MaxBodyBytes bounds any request body, batches included, so it is at
	// least MaxEventBytes. 0 means 16 MiB, or MaxEventBytes if that is more.
	MaxBodyBytes int
	// MaxBatchEvents bounds the events of one batch. 0 means 1000.
	MaxBatchEvents int
	// MaxBodyBytesInFlight bounds the request body bytes held at once by
	// every request being read or handled; a request that would pass it
	// gets 503 server_busy with Retry-After before its body is read, so a
	// flood of large declared bodies costs no memory. Requests to the
	// inbound receiver may hold half of it. At least MaxBodyBytes and twice
	// MaxEventBytes; 0 means 64 MiB, or the least allowed if that is more.
	MaxBodyBytesInFlight int64
	// MaxConnsPerIP bounds the open connections from one client address.
	// 0 means 1024; -1: no bound.
	MaxConnsPerIP int
	// MaxPayloadDepth bounds how deep an event's payload nests, each object
	// or array one level (a delivery's envelope adds one). Deeper payloads
	// get 400 payload_too_deep: common receiver parsers fail on deep
	// documents (Python's json near 1000 levels, less on a busy stack), and
	// an accepted event no receiver can parse is worse than a 400. 0 means
	// 128; at most MaxPayloadDepthLimit.
	MaxPayloadDepth int
	// MetricsListen, when set, is the address of a second listener that
	// serves /metrics, /healthz and /readyz alone, e.g. 127.0.0.1:9090
	// (metrics_listener.go); /metrics on Listen then needs a token. ""
	// means none: /metrics is served on Listen only.
	MetricsListen string
	// MetricsToken, when set, is a bearer token /metrics takes besides
	// the admin token, on either listener, and /metrics then refuses a
	// request with neither (401). At least MinMetricsTokenBytes, and not
	// the admin token. "" means none: /metrics needs no token on the
	// metrics listener, nor on Listen when there is no metrics listener.
	MetricsToken string
	// PublicURL is the base URL customers reach the server at, such as
	// https://hooks.example.com, without a path: a portal session's url
	// starts with it. "" means the scheme and Host header of the request
	// that creates the session.
	PublicURL string
	// ReplaysPerSecond bounds the single-delivery replays that tenant
	// credentials (API keys, portal sessions) ask of one endpoint, burst
	// 1; past it 429 replay_rate_limited. The admin token and bulk
	// replay jobs are not limited. 0 means 1; -1: no bound.
	ReplaysPerSecond float64
	// FrameAncestors are the origins (https://app.example.com) whose pages
	// may frame the dashboard, to embed the customer view; none: no page
	// may. Each must pass dashboard.CheckFrameOrigin.
	FrameAncestors []string
	// NoDashboard turns the dashboard off: /, /portal and /assets/ answer
	// 404 as unknown paths do.
	NoDashboard bool
	// TLSCertFile and TLSKeyFile, both or neither, name the PEM
	// certificate (chain) and key the main listener serves HTTPS with;
	// Server.ReloadTLS reads them again. "" means plain HTTP. The metrics
	// listener stays plain HTTP.
	TLSCertFile, TLSKeyFile string
	// TLSMinVersion is the least TLS version accepted: "1.2" or "1.3".
	// "" means "1.2".
	TLSMinVersion string
	// AccessLog logs each API request at info: method, route, status,
	// latency, tenant and actor; never a body or a token.
	AccessLog bool
	Logger    *slog.Logger
	Metrics   *metrics.Set // the engine's set; /metrics writes it

	// readTimeout bounds reading one request, head and body; 0 means
	// defaultReadTimeout. Tests shorten it (export_test.go).
	readTimeout time.Duration
}

// defaultReadTimeout bounds reading one request, its head and body.
const defaultReadTimeout = 30 * time.Second

// MinAdminTokenBytes is the least length of the admin token. It can do
// everything, to every tenant, for as long as the server runs, and it is
// chosen by the operator: at least 32 bytes, the length of a 256-bit key
// (and of the HMAC-SHA256 output RFC 2104 sizes keys by); the token
// hookline generates is 46. Twice the minimum of the secrets operators
// invent for sources (verify.MinSecretBytes), which each open one source.
const MinAdminTokenBytes = 32

// MinMetricsTokenBytes is the least length of the metrics token: like a
// secret an operator invents for a source (verify.MinSecretBytes), it
// opens one thing, and reading metrics changes nothing.
const MinMetricsTokenBytes = 16

// maxHeaderBytes bounds a request's line and headers together, the blank
// line included; past it the answer is 431 request_headers_too_large.
// fasthttp's read buffer is its header limit, and at its default of 4 KiB
// clients with big cookies or long tokens got a bare 400 bad_request; 16
// KiB is Node's default (--max-http-header-size). Each open connection
// holds a read buffer of this size.
const maxHeaderBytes = 16 << 10

// Defaults that ParseLimits shares with Options.
const (
	defaultMaxEventBytes   = 1 << 20
	defaultMaxBatchEvents  = 1000
	defaultMaxPayloadDepth = 128
)

// EnsureDefaults fills zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.Listen == "" {
		o.Listen = "127.0.0.1:8080"
	}
	if o.MaxEventBytes == 0 {
		o.MaxEventBytes = defaultMaxEventBytes
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = max(16<<20, o.MaxEventBytes)
	}
	if o.MaxBatchEvents == 0 {
		o.MaxBatchEvents = defaultMaxBatchEvents
	}
	if o.MaxBodyBytesInFlight == 0 {
		o.MaxBodyBytesInFlight = max(64<<20, int64(o.MaxBodyBytes), 2*int64(o.MaxEventBytes))
	}
	if o.MaxConnsPerIP == 0 {
		o.MaxConnsPerIP = 1024
	}
	if o.MaxPayloadDepth == 0 {
		o.MaxPayloadDepth = defaultMaxPayloadDepth
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	if o.ReplaysPerSecond == 0 {
		o.ReplaysPerSecond = defaultReplaysPerSecond
	}
	if o.TLSMinVersion == "" {
		o.TLSMinVersion = "1.2"
	}
	if o.readTimeout == 0 {
		o.readTimeout = defaultReadTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewSet()
	}
}

// Validate reports the first option out of its bounds, naming it and its
// value. It expects EnsureDefaults to have run.
func (o *Options) Validate() error {
	switch {
	case o.AdminToken == "":
		return errors.New("httpin.Options.AdminToken is empty; an admin token is required")
	case len(o.AdminToken) < MinAdminTokenBytes:
		return fmt.Errorf("weak_secret: httpin.Options.AdminToken is %d bytes; it must be at least %d (generate one, e.g. with `openssl rand -base64 32`)", len(o.AdminToken), MinAdminTokenBytes)
	case o.MaxEventBytes <= 0:
		return fmt.Errorf("httpin.Options.MaxEventBytes is %d; it must be positive", o.MaxEventBytes)
	case o.MaxBodyBytes < o.MaxEventBytes:
		// A body smaller than one event would refuse events the event bound
		// accepts; this used to be raised to MaxEventBytes silently.
		return fmt.Errorf("httpin.Options.MaxBodyBytes is %d; it must be at least httpin.Options.MaxEventBytes (%d)", o.MaxBodyBytes, o.MaxEventBytes)
	case o.MaxBatchEvents <= 0:
		return fmt.Errorf("httpin.Options.MaxBatchEvents is %d; it must be positive", o.MaxBatchEvents)
	case o.MaxBodyBytesInFlight < max(int64(o.MaxBodyBytes), 2*int64(o.MaxEventBytes)):
		// A budget below one body would refuse every body that large, and
		// the inbound receiver's half must hold one event.
		return fmt.Errorf("httpin.Options.MaxBodyBytesInFlight is %d; it must be at least httpin.Options.MaxBodyBytes (%d) and twice httpin.Options.MaxEventBytes (%d)", o.MaxBodyBytesInFlight, o.MaxBodyBytes, o.MaxEventBytes)
	case o.MaxConnsPerIP < 0 && o.MaxConnsPerIP != -1:
		return fmt.Errorf("httpin.Options.MaxConnsPerIP is %d; it must be positive, or -1 for no bound", o.MaxConnsPerIP)
	case o.MetricsToken != "" && len(o.MetricsToken) < MinMetricsTokenBytes:
		return fmt.Errorf("weak_secret: httpin.Options.MetricsToken is %d bytes; it must be at least %d (generate one, e.g. with `openssl rand -hex 16`)", len(o.MetricsToken), MinMetricsTokenBytes)
	case o.MetricsToken != "" && o.MetricsToken == o.AdminToken:
		// Every scraper's config would hold a token that can do everything.
		return errors.New("httpin.Options.MetricsToken is the admin token; give the metrics a token of their own")
	case o.MaxPayloadDepth <= 0 || o.MaxPayloadDepth > MaxPayloadDepthLimit:
		return fmt.Errorf("httpin.Options.MaxPayloadDepth is %d; it must be from 1 to %d", o.MaxPayloadDepth, MaxPayloadDepthLimit)
	case math.IsNaN(o.ReplaysPerSecond) || math.IsInf(o.ReplaysPerSecond, 0) || o.ReplaysPerSecond < 0 && o.ReplaysPerSecond != -1:
		return fmt.Errorf("httpin.Options.ReplaysPerSecond is %g; it must be positive, or -1 for no bound", o.ReplaysPerSecond)
	}
	if (o.TLSCertFile == "") != (o.TLSKeyFile == "") {
		return fmt.Errorf("httpin.Options.TLSCertFile is %q and httpin.Options.TLSKeyFile is %q; give both for HTTPS, or neither", o.TLSCertFile, o.TLSKeyFile)
	}
	if _, ok := tlsVersions[o.TLSMinVersion]; !ok {
		return fmt.Errorf("httpin.Options.TLSMinVersion is %q; it must be \"1.2\" or \"1.3\"", o.TLSMinVersion)
	}
	for _, origin := range o.FrameAncestors {
		if err := dashboard.CheckFrameOrigin(origin); err != nil {
			return fmt.Errorf("httpin.Options.FrameAncestors: %w", err)
		}
	}
	if o.PublicURL != "" {
		u, err := url.Parse(o.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" ||
			u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return fmt.Errorf("httpin.Options.PublicURL is %q; it must be an http or https URL without a path, like https://hooks.example.com", o.PublicURL)
		}
	}
	if o.MetricsListen != "" {
		_, port, err := net.SplitHostPort(o.MetricsListen)
		if err != nil {
			return fmt.Errorf("httpin.Options.MetricsListen is %q; it must be host:port, like 127.0.0.1:9090", o.MetricsListen)
		}
		if o.MetricsListen == o.Listen && port != "0" {
			return fmt.Errorf("httpin.Options.MetricsListen is %q, the same as httpin.Options.Listen; give another port, or leave it empty to serve /metrics on httpin.Options.Listen", o.MetricsListen)
		}
	}
	return nil
}
