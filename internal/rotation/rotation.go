// Package rotation keeps the secrets a rotation replaced valid for an
// overlap, so that the other side can move to the new secret on its own
// schedule: endpoints sign with every unexpired secret, sources accept
// every unexpired one. It holds only the bookkeeping (which secrets, until
// when); what a secret is and how it signs or verifies belongs to its
// user. It imports no other project package.
package rotation

import (
	"fmt"
	"slices"
	"time"
)

// Previous is a rotated-out secret still valid until ExpiresAt.
type Previous struct {
	Secret    string    `json:"secret"`
	ExpiresAt time.Time `json:"expires_at"`
}

// MaxPrevious bounds the old secrets kept besides the current one, and so
// the signatures per delivery, when rotations follow each other within
// their overlaps.
const MaxPrevious = 5

// Rotated is the previous secrets after cur is replaced by next: cur
// first, valid until until, then the older ones, none valid past until (a
// rotation never lengthens an earlier overlap) and next itself dropped if
// it was one of them (a roll-back).
func Rotated(cur string, prev []Previous, next string, until, now time.Time) []Previous {
	out := make([]Previous, 0, MaxPrevious)
	out = append(out, Previous{Secret: cur, ExpiresAt: until})
	for _, p := range prev {
		if p.Secret == next {
			continue
		}
		if p.ExpiresAt.After(until) {
			p.ExpiresAt = until
		}
		out = append(out, p)
	}
	return Unexpired(out[:min(len(out), MaxPrevious)], now)
}

// ParseOverlap parses a rotation's overlap: a Go duration from 0 to max.
func ParseOverlap(s string, max time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("overlap %q is not a duration like \"24h\", \"90m\" or \"0s\"", s)
	}
	if d < 0 || d > max {
		return 0, fmt.Errorf("overlap is %s; it must be from 0s to %s", d, max)
	}
	return d, nil
}

// Unexpired returns the secrets of ps still valid at now; ps itself is
// never modified, so it may be shared with a live config.
func Unexpired(ps []Previous, now time.Time) []Previous {
	valid := func(p Previous) bool { return p.ExpiresAt.After(now) }
	if !slices.ContainsFunc(ps, func(p Previous) bool { return !valid(p) }) {
		return ps
	}
	var out []Previous
	for _, p := range ps {
		if valid(p) {
			out = append(out, p)
		}
	}
	return out
}

// LastExpiry is when the last of ps expires; nil when ps is empty.
func LastExpiry(ps []Previous) *time.Time {
	if len(ps) == 0 {
		return nil
	}
	last := ps[0].ExpiresAt
	for _, p := range ps[1:] {
		if p.ExpiresAt.After(last) {
			last = p.ExpiresAt
		}
	}
	return &last
}

// Pointers points at cur and every previous secret: what a store seals
// at rest. Callers that must not rewrite a record's previous secrets in
// place pass a clone of prev.
func Pointers(cur *string, prev []Previous) []*string {
	ps := make([]*string, 0, 1+len(prev))
	ps = append(ps, cur)
	for i := range prev {
		ps = append(ps, &prev[i].Secret)
	}
	return ps
}
