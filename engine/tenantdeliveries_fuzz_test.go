package engine

import (
	"testing"

	"hookline/wal"
)

// FuzzDeliveryCursor: any string either is refused or names a position
// that formats to a cursor naming the same position again.
func FuzzDeliveryCursor(f *testing.F) {
	ev, ep := wal.NewID(), wal.NewID()
	f.Add(formatDeliveryCursor(wal.Position{Event: ev, Endpoint: ep}))
	f.Add(FormatEventID(ev))
	f.Add(FormatEventID(ev) + "/")
	f.Add("/" + endpointPrefix + ep.String())
	f.Add(FormatEventID(ev) + "/" + FormatEventID(ep))
	f.Add("evt_7ZZZZZZZZZZZZZZZZZZZZZZZZZ/ep_00000000000000000000000000")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := parseDeliveryCursor(s)
		if !ok {
			return
		}
		back, ok := parseDeliveryCursor(formatDeliveryCursor(p))
		if !ok || back != p {
			t.Fatalf("%q: position %v formats to %q, which reads back as %v, %v", s, p, formatDeliveryCursor(p), back, ok)
		}
	})
}
