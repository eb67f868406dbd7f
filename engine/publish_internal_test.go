package engine

import (
	"testing"
	"time"
)

func TestAppendBody(t *testing.T) {
	ts := time.Date(2026, 11, 23, 10, 0, 0, 123e6, time.FixedZone("CET", 3600))
	f := func(typ, payload, want string) {
		t.Helper()
		var p []byte
		if payload != "" {
			p = []byte(payload)
		}
		if got := string(appendBody([]byte("prefix|"), typ, ts, p)); got != "prefix|"+want {
			t.Errorf("appendBody(%q, %q) = %s, want %s", typ, payload, got, want)
		}
	}
	f("invoice.paid", `{"amount":1200}`, `{"type":"invoice.paid","timestamp":"2026-11-23T09:00:00.123Z","data":{"amount":1200}}`)
	f("x", ` [1, 2] `, `{"type":"x","timestamp":"2026-11-23T09:00:00.123Z","data": [1, 2] }`)
	f("x", ``, `{"type":"x","timestamp":"2026-11-23T09:00:00.123Z","data":null}`)
}
