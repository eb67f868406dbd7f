package main

import (
	"strings"
	"testing"
	"time"
)

// TestServeRejectsBadFlags: the binary exits non-zero with a clear message.
func TestServeRejectsBadFlags(t *testing.T) {
	f := func(want string, args ...string) {
		t.Helper()
		p := startProc(t, append([]string{"serve", "--data", t.TempDir(), "--admin-token", "x"}, args...), nil)
		select {
		case <-p.exited:
		case <-time.After(20 * time.Second):
			t.Fatalf("serve %v did not exit", args)
		}
		if p.err == nil || !strings.Contains(p.output.String(), want) {
			t.Fatalf("serve %v: exit %v, output %q; want an error containing %q", args, p.err, p.output.String(), want)
		}
	}
	f("retry schedule delay 2", "--retry-schedule", "5s,soon")
	f("allow-net", "--allow-net", "nope")
	f("cannot listen", "--listen", "256.0.0.1:1")
	f("takes no arguments", "extra")
}
