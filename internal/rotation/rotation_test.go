package rotation

import (
	"testing"
	"time"
)

func TestRotated(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return now.Add(time.Duration(h) * time.Hour) }
	f := func(cur string, prev []Previous, next string, until time.Time, want ...Previous) {
		t.Helper()
		got := Rotated(cur, prev, next, until, now)
		if len(got) != len(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("got %v, want %v", got, want)
			}
		}
	}
	// The replaced secret comes first, valid for the overlap.
	f("a", nil, "b", at(24), Previous{"a", at(24)})
	// An older one keeps its expiry when it is earlier...
	f("b", []Previous{{"a", at(2)}}, "c", at(24), Previous{"b", at(24)}, Previous{"a", at(2)})
	// ...and is cut to the new overlap when it is later.
	f("b", []Previous{{"a", at(48)}}, "c", at(1), Previous{"b", at(1)}, Previous{"a", at(1)})
	// Overlap 0 drops every old secret at once.
	f("b", []Previous{{"a", at(48)}}, "c", now)
	// Rolling back to a previous secret removes it from the list.
	f("b", []Previous{{"a", at(48)}}, "a", at(24), Previous{"b", at(24)})
	// At most MaxPrevious are kept.
	var many []Previous
	for i := range 10 {
		many = append(many, Previous{string(rune('c' + i)), at(10)})
	}
	if got := Rotated("b", many, "z", at(24), now); len(got) != MaxPrevious {
		t.Fatalf("kept %d previous secrets, want %d", len(got), MaxPrevious)
	}
}

func TestParseOverlap(t *testing.T) {
	f := func(s string, want time.Duration, ok bool) {
		t.Helper()
		got, err := ParseOverlap(s, 7*24*time.Hour)
		if (err == nil) != ok || got != want {
			t.Fatalf("ParseOverlap(%q) = %v, %v; want %v, ok %v", s, got, err, want, ok)
		}
	}
	f("0s", 0, true)
	f("24h", 24*time.Hour, true)
	f("168h", 168*time.Hour, true)
	f("169h", 0, false)
	f("-1s", 0, false)
	f("soon", 0, false)
	f("", 0, false)
}

func TestUnexpiredAndLastExpiry(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	ps := []Previous{{"a", now.Add(time.Hour)}, {"b", now}, {"c", now.Add(2 * time.Hour)}}
	got := Unexpired(ps, now)
	if len(got) != 2 || got[0].Secret != "a" || got[1].Secret != "c" {
		t.Fatalf("Unexpired = %v", got)
	}
	if ps[1].Secret != "b" {
		t.Fatalf("Unexpired changed its input: %v", ps)
	}
	if last := LastExpiry(got); last == nil || !last.Equal(now.Add(2*time.Hour)) {
		t.Fatalf("LastExpiry = %v", last)
	}
	if LastExpiry(nil) != nil {
		t.Fatal("LastExpiry(nil) is not nil")
	}
}
