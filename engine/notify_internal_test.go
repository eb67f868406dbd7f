package engine

import (
	"testing"
	"time"
)

// TestBodyType: the type is read back from every body appendBody makes,
// and nothing from one it did not make.
func TestBodyType(t *testing.T) {
	f := func(body, want string) {
		t.Helper()
		if got := bodyType([]byte(body)); got != want {
			t.Fatalf("bodyType(%q) = %q, want %q", body, got, want)
		}
	}
	for _, typ := range []string{"invoice.paid", "a", EventDeliveryExhausted, "x:y-z_1"} {
		f(string(appendBody(nil, typ, time.Now(), []byte(`{"type":"other"}`))), typ)
	}
	f("", "")
	f(`{"type":"unterminated`, "")
	f(`{"data":1,"type":"late"}`, "")
	f(`{"type":""}`, "")
}
