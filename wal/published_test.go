package wal

import (
	"fmt"
	"testing"
)

func publishedHours(t testing.TB, l *Log, tenant string, from, to uint32) string {
	t.Helper()
	var out string
	require_NoError(t, l.ScanPublished(tenant, from, to, func(hour uint32, n uint64) {
		out += fmt.Sprintf("%d=%d ", hour, n)
	}))
	return out
}

// TestPublishedPutScanDelete: hours are kept per tenant in hour order, a
// put replaces the hour, a scan sees only its tenant (not one whose name
// it prefixes) and range, the periodic pass deletes every tenant's old
// hours and nothing else, and deleting a tenant deletes its hours.
func TestPublishedPutScanDelete(t *testing.T) {
	l, dir := openLog(t, nil)
	var hours []PublishedHour
	for h := uint32(100); h < 110; h++ {
		hours = append(hours, PublishedHour{Tenant: "a", Hour: h, Count: uint64(h)})
		if h%2 == 0 {
			hours = append(hours, PublishedHour{Tenant: "ab", Hour: h, Count: uint64(h) * 1000})
		}
	}
	hours = append(hours, PublishedHour{Tenant: "b", Hour: 1 << 31, Count: 1 << 40})
	require_NoError(t, l.PutPublished(hours))
	require_NoError(t, l.PutPublished([]PublishedHour{{Tenant: "a", Hour: 105, Count: 7}}))

	require_Equal(t, publishedHours(t, l, "a", 104, 107), "104=104 105=7 106=106 ")
	require_Equal(t, publishedHours(t, l, "ab", 0, 1<<32-1), "100=100000 102=102000 104=104000 106=106000 108=108000 ")
	require_Equal(t, publishedHours(t, l, "a", 107, 107), "")
	require_Equal(t, publishedHours(t, l, "", 0, 1<<32-1), "")

	n, err := l.DeletePublishedBefore(105)
	require_NoError(t, err)
	require_Equal(t, n, 5+3)
	require_Equal(t, publishedHours(t, l, "a", 0, 1<<32-1), "105=7 106=106 107=107 108=108 109=109 ")
	require_Equal(t, publishedHours(t, l, "ab", 0, 1<<32-1), "106=106000 108=108000 ")
	require_Equal(t, publishedHours(t, l, "b", 0, 1<<32-1), fmt.Sprintf("%d=%d ", uint32(1<<31), uint64(1<<40)))
	n, err = l.DeletePublishedBefore(105)
	require_NoError(t, err)
	require_Equal(t, n, 0)

	require_NoError(t, l.DeleteTenant("a"))
	require_Equal(t, publishedHours(t, l, "a", 0, 1<<32-1), "")
	require_NoError(t, l.Close())
	l = reopenLog(t, dir, nil)
	require_Equal(t, publishedHours(t, l, "a", 0, 1<<32-1), "")
	require_Equal(t, publishedHours(t, l, "ab", 0, 1<<32-1), "106=106000 108=108000 ")
}
