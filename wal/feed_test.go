package wal

import (
	"context"
	"testing"
)

func feedIDs(t *testing.T, l *Log, tenant string, after ID, max int) []ID {
	t.Helper()
	var out []ID
	require_NoError(t, l.ReadFeed(tenant, after, max, func(r *EventRecord) bool {
		require_Equal(t, string(r.Tenant), tenant)
		out = append(out, r.ID)
		return true
	}))
	return out
}

// TestReadFeed: each tenant's events in order, from a cursor, bounded;
// other tenants' events (even a tenant whose name is a prefix) are not in
// it; a deleted tenant's feed is empty; retention cuts it per tenant.
func TestReadFeed(t *testing.T) {
	l, _ := openLog(t, nil)
	var a, ab []ID
	for i := range 6 {
		a = append(a, appendOne(t, l, mkEvent("a", []byte(`{"n":1}`))).ID)
		if i%2 == 0 {
			ab = append(ab, appendOne(t, l, mkEvent("ab", []byte(`{}`))).ID)
		}
	}
	got := feedIDs(t, l, "a", ID{}, 100)
	require_Equal(t, len(got), 6)
	for i := range a {
		require_Equal(t, got[i], a[i])
	}
	got = feedIDs(t, l, "a", a[1], 3)
	require_Equal(t, len(got), 3)
	require_Equal(t, got[0], a[2])
	require_Equal(t, len(feedIDs(t, l, "a", a[5], 100)), 0)
	gotAB := feedIDs(t, l, "ab", ID{}, 100)
	require_Equal(t, len(gotAB), 3)
	require_Equal(t, gotAB[2], ab[2])
	require_Equal(t, len(feedIDs(t, l, "nobody", ID{}, 100)), 0)
	last, err := l.LastFeedID("a")
	require_NoError(t, err)
	require_Equal(t, last, a[5])
	last, err = l.LastFeedID("nobody")
	require_NoError(t, err)
	require_True(t, last.IsZero(), "a tenant without events has no last ID")

	cutoff := cutoffBetween()
	late := appendOne(t, l, mkEvent("a", []byte(`{}`))).ID
	_, err = l.Expire(context.Background(), cutoff)
	require_NoError(t, err)
	got = feedIDs(t, l, "a", ID{}, 100)
	require_Equal(t, len(got), 1)
	require_Equal(t, got[0], late)
	require_Equal(t, len(feedIDs(t, l, "ab", ID{}, 100)), 0)

	// A deleted tenant's feed goes with its events, in the background.
	require_NoError(t, l.DeleteTenant("a"))
	purgeAll(t, l)
	require_Equal(t, len(feedIDs(t, l, "a", ID{}, 100)), 0)
}
