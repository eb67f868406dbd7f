package httpin_test

import (
	"math"
	"strings"
	"testing"

	"hookline/httpin"
)

// adminToken is an admin token of the least length allowed.
const adminToken = "0123456789abcdef0123456789abcdef"

// TestOptionsValidate: zero fields but AdminToken take their defaults; a
// value out of bounds is an error naming the option and the value. A body
// bound below the event bound used to be raised to it silently.
func TestOptionsValidate(t *testing.T) {
	f := func(o httpin.Options, wantErr string) {
		t.Helper()
		o.EnsureDefaults()
		err := o.Validate()
		if wantErr == "" {
			require_NoError(t, err)
			return
		}
		require_True(t, err != nil && strings.Contains(err.Error(), wantErr), "options %+v: error %v; want one containing %q", o, err, wantErr)
	}
	f(httpin.Options{AdminToken: adminToken}, "")
	f(httpin.Options{AdminToken: adminToken, MaxEventBytes: 32 << 20}, "") // the body bound's default follows
	f(httpin.Options{AdminToken: adminToken, MaxEventBytes: 100, MaxBodyBytes: 100}, "")
	f(httpin.Options{}, "httpin.Options.AdminToken is empty")
	// The admin token can do everything: at least 32 bytes.
	f(httpin.Options{AdminToken: "x"}, "weak_secret: httpin.Options.AdminToken is 1 bytes; it must be at least 32")
	f(httpin.Options{AdminToken: adminToken[1:]}, "weak_secret: httpin.Options.AdminToken is 31 bytes; it must be at least 32")
	// Metrics: a listener of its own, a token of its own.
	f(httpin.Options{AdminToken: adminToken, MetricsListen: "127.0.0.1:9090", MetricsToken: "0123456789abcdef"}, "")
	f(httpin.Options{AdminToken: adminToken, MetricsToken: "short"}, "weak_secret: httpin.Options.MetricsToken is 5 bytes; it must be at least 16")
	f(httpin.Options{AdminToken: adminToken, MetricsToken: adminToken}, "httpin.Options.MetricsToken is the admin token")
	f(httpin.Options{AdminToken: adminToken, PublicURL: "https://hooks.example.com/", ReplaysPerSecond: -1}, "")
	f(httpin.Options{AdminToken: adminToken, PublicURL: "ftp://hooks.example.com"}, "httpin.Options.PublicURL is \"ftp://hooks.example.com\"")
	f(httpin.Options{AdminToken: adminToken, PublicURL: "https://hooks.example.com/?a=b"}, "httpin.Options.PublicURL is")
	f(httpin.Options{AdminToken: adminToken, PublicURL: "https://user@hooks.example.com"}, "httpin.Options.PublicURL is")
	f(httpin.Options{AdminToken: adminToken, ReplaysPerSecond: -0.5}, "httpin.Options.ReplaysPerSecond is -0.5")
	f(httpin.Options{AdminToken: adminToken, ReplaysPerSecond: math.Inf(1)}, "httpin.Options.ReplaysPerSecond is +Inf")
	f(httpin.Options{AdminToken: adminToken, MetricsListen: "9090"}, `httpin.Options.MetricsListen is "9090"; it must be host:port`)
	f(httpin.Options{AdminToken: adminToken, MetricsListen: "127.0.0.1:8080"}, `httpin.Options.MetricsListen is "127.0.0.1:8080", the same as httpin.Options.Listen`)
	f(httpin.Options{AdminToken: adminToken, Listen: "127.0.0.1:0", MetricsListen: "127.0.0.1:0"}, "")
	f(httpin.Options{AdminToken: adminToken, MaxEventBytes: -1}, "httpin.Options.MaxEventBytes is -1; it must be positive")
	f(httpin.Options{AdminToken: adminToken, MaxEventBytes: 2048, MaxBodyBytes: 1024}, "httpin.Options.MaxBodyBytes is 1024; it must be at least httpin.Options.MaxEventBytes (2048)")
	f(httpin.Options{AdminToken: adminToken, MaxBodyBytes: -1}, "httpin.Options.MaxBodyBytes is -1")
	f(httpin.Options{AdminToken: adminToken, MaxBatchEvents: -3}, "httpin.Options.MaxBatchEvents is -3")
	f(httpin.Options{AdminToken: adminToken, MaxPayloadDepth: 1}, "")
	f(httpin.Options{AdminToken: adminToken, MaxPayloadDepth: httpin.MaxPayloadDepthLimit}, "")
	f(httpin.Options{AdminToken: adminToken, MaxPayloadDepth: -1}, "httpin.Options.MaxPayloadDepth is -1; it must be from 1 to 1024")
	f(httpin.Options{AdminToken: adminToken, MaxPayloadDepth: 1025}, "httpin.Options.MaxPayloadDepth is 1025; it must be from 1 to 1024")
}

// TestOptionsEnsureDefaults: the defaults the field comments promise.
func TestOptionsEnsureDefaults(t *testing.T) {
	var o httpin.Options
	o.EnsureDefaults()
	require_Equal(t, o.Listen, "127.0.0.1:8080")
	require_Equal(t, o.MaxEventBytes, 1<<20)
	require_Equal(t, o.MaxBodyBytes, 16<<20)
	require_Equal(t, o.MaxBatchEvents, 1000)
	require_Equal(t, o.MaxPayloadDepth, 128)
	o = httpin.Options{MaxEventBytes: 32 << 20}
	o.EnsureDefaults()
	require_Equal(t, o.MaxBodyBytes, 32<<20)
}

// TestNewRejectsInvalidOptions: New returns Validate's error.
func TestNewRejectsInvalidOptions(t *testing.T) {
	_, err := httpin.New(nil, nil, nil, httpin.Options{AdminToken: adminToken, MaxEventBytes: 2048, MaxBodyBytes: 1024})
	require_True(t, err != nil && strings.Contains(err.Error(), "MaxBodyBytes is 1024"), "error %v", err)
}
