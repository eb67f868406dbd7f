package httpout

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestOptionsValidate: zero fields take their defaults; a value out of
// bounds makes New fail with an error naming the option and the value. These
// used to be replaced by the defaults without a word.
func TestOptionsValidate(t *testing.T) {
	f := func(o Options, wantErr string) {
		t.Helper()
		s, err := New(o)
		if wantErr == "" {
			if err != nil {
				t.Fatalf("options %+v: %v", o, err)
			}
			s.CloseIdle()
			return
		}
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("options %+v: error %v; want one containing %q", o, err, wantErr)
		}
	}
	f(Options{}, "")
	f(Options{CaptureBytes: -1}, "") // negative: none
	f(Options{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, "")
	f(Options{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), {}}}, "httpout.Options.Allow[1] is invalid Prefix")
	f(Options{ConnectTimeout: -time.Second}, "httpout.Options.ConnectTimeout is -1s; it must be positive")
	f(Options{Timeout: -1}, "httpout.Options.Timeout is -1ns")
	f(Options{MaxConnsPerHost: -4}, "httpout.Options.MaxConnsPerHost is -4")
	f(Options{MaxRetryAfter: time.Second}, "")
	f(Options{MaxRetryAfter: 168 * time.Hour}, "")
	f(Options{MaxRetryAfter: 169 * time.Hour}, "httpout.Options.MaxRetryAfter is 169h0m0s; it must be from 1s to 168h0m0s")
	f(Options{MaxRetryAfter: 500 * time.Millisecond}, "httpout.Options.MaxRetryAfter is 500ms; it must be from 1s to 168h0m0s")
	f(Options{MaxRetryAfter: -time.Hour}, "httpout.Options.MaxRetryAfter is -1h0m0s")
}

// TestNewSenderPanicsOnInvalidOptions: options written in code that are out
// of bounds are a bug, not something to run with.
func TestNewSenderPanicsOnInvalidOptions(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), "BUG: invalid httpout options: httpout.Options.Timeout") {
			t.Fatalf("recover() = %v; want a BUG panic naming Timeout", r)
		}
	}()
	NewSender(Options{Timeout: -time.Second})
}

// TestOptionsEnsureDefaults: the defaults the field comments promise.
func TestOptionsEnsureDefaults(t *testing.T) {
	var o Options
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Options{ConnectTimeout: 5 * time.Second, Timeout: 15 * time.Second, MaxConnsPerHost: 1024, CaptureBytes: 4096, UserAgent: "hookline/dev", MaxRetryAfter: 24 * time.Hour}
	if o.ConnectTimeout != want.ConnectTimeout || o.Timeout != want.Timeout || o.MaxConnsPerHost != want.MaxConnsPerHost ||
		o.CaptureBytes != want.CaptureBytes || o.UserAgent != want.UserAgent || o.MaxRetryAfter != want.MaxRetryAfter {
		t.Fatalf("defaults %+v; want %+v", o, want)
	}
}
