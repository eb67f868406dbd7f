package main

import (
	"net"
	"strings"
	"testing"
	"time"
)

// TestSinkShowsVerifiedDelivery runs the quickstart: `hookline sink` with the
// endpoint's secret prints each delivery with a valid signature.
func TestSinkShowsVerifiedDelivery(t *testing.T) {
	const token = testAdminToken
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	srv := startServer(t, t.TempDir(), "--admin-token", token)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require_NoError(t, err)
	sinkAddr := ln.Addr().String()
	ln.Close()
	sink := startProc(t, []string{"sink", "--listen", sinkAddr, "--secret", secret}, nil)
	waitFor(t, 10*time.Second, "sink to listen", func() bool {
		c, err := net.Dial("tcp", sinkAddr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	a := newAPI(srv.addr, token)
	a.mustDo(t, "POST", "/v1/tenants", map[string]any{"id": "acme"}, 201, nil)
	a.mustDo(t, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": "http://" + sinkAddr + "/", "secret": secret}, 201, nil)
	var res struct{ ID string }
	a.mustDo(t, "POST", "/v1/tenants/acme/events", map[string]any{"type": "invoice.paid", "payload": map[string]any{"amount": 42}}, 202, &res)

	deadline := time.After(eventually)
	for {
		select {
		case line := <-sink.lines:
			if strings.Contains(line, res.ID) {
				if !strings.Contains(line, "invoice.paid") || !strings.Contains(line, "valid") || strings.Contains(line, "invalid") {
					t.Fatalf("sink line %q does not show a valid invoice.paid delivery", line)
				}
				return
			}
		case <-deadline:
			t.Fatalf("sink printed no line for %s", res.ID)
		}
	}
}
