package transform_test

import (
	"strings"
	"testing"

	"hookline/engine"
	"hookline/internal/transform"
)

// transform repeats the engine's event-type rule because engine will
// import transform; this keeps the two from drifting apart.
func TestValidEventTypeMatchesEngine(t *testing.T) {
	for _, s := range []string{"", "a", "a.b", ".a", "a.", "a..b", "a b", "A_b:c-d.9", "é", "a*", "a/b",
		strings.Repeat("x", 128), strings.Repeat("x", 129), "github.push", "x\x00"} {
		if got, want := transform.ValidEventType(s), engine.ValidEventType(s); got != want {
			t.Errorf("ValidEventType(%q) = %v, engine says %v", s, got, want)
		}
	}
}
