package engine

import (
	"testing"

	"hookline/wal"
)

func TestIDForms(t *testing.T) {
	id := wal.NewID()
	require := func(ok bool, format string, args ...any) {
		t.Helper()
		if !ok {
			t.Fatalf(format, args...)
		}
	}
	require(FormatEventID(id) == "evt_"+id.String(), "FormatEventID = %q", FormatEventID(id))
	got, ok := ParseEndpointID("ep_" + id.String())
	require(ok && got == id, "ParseEndpointID round trip: %v %v", got, ok)
	for _, s := range []string{"", "ep_", "ep_x", "evt_" + id.String(), id.String(), "EP_" + id.String(), "ep_" + id.String() + "0"} {
		_, ok := ParseEndpointID(s)
		require(!ok, "ParseEndpointID(%q) accepted", s)
	}
}
