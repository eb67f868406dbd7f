package wal

import (
	"fmt"
	"testing"
)

// healthHours returns ep's stored hours in [from, to) as "hour=value" pairs.
func healthHours(t testing.TB, l *Log, ep ID, from, to uint32) string {
	t.Helper()
	var out string
	require_NoError(t, l.ScanHealth(ep, from, to, func(hour uint32, val []byte) {
		out += fmt.Sprintf("%d=%s ", hour, val)
	}))
	return out
}

// TestHealthPutScanDelete: hours are kept per endpoint in hour order, a put
// replaces the hour, a scan sees only its endpoint and range, and the
// periodic pass deletes the old hours of every endpoint and nothing else.
func TestHealthPutScanDelete(t *testing.T) {
	l, dir := openLog(t, nil)
	a, b, c := testEndpoint(1), testEndpoint(2), testEndpoint(3)
	var hours []HealthHour
	for h := uint32(100); h < 110; h++ {
		hours = append(hours, HealthHour{Endpoint: a, Hour: h, Value: []byte(fmt.Sprint("a", h))})
		if h%2 == 0 {
			hours = append(hours, HealthHour{Endpoint: b, Hour: h, Value: []byte(fmt.Sprint("b", h))})
		}
	}
	hours = append(hours, HealthHour{Endpoint: c, Hour: 1 << 31, Value: []byte("c")})
	require_NoError(t, l.PutHealth(hours))
	require_NoError(t, l.PutHealth([]HealthHour{{Endpoint: a, Hour: 105, Value: []byte("A105")}}))

	require_Equal(t, healthHours(t, l, a, 104, 107), "104=a104 105=A105 106=a106 ")
	require_Equal(t, healthHours(t, l, b, 0, 1<<32-1), "100=b100 102=b102 104=b104 106=b106 108=b108 ")
	require_Equal(t, healthHours(t, l, a, 107, 107), "")
	require_Equal(t, healthHours(t, l, testEndpoint(9), 0, 1<<32-1), "")

	n, err := l.DeleteHealthBefore(105)
	require_NoError(t, err)
	require_Equal(t, n, 5+3)
	require_Equal(t, healthHours(t, l, a, 0, 1<<32-1), "105=A105 106=a106 107=a107 108=a108 109=a109 ")
	require_Equal(t, healthHours(t, l, b, 0, 1<<32-1), "106=b106 108=b108 ")
	require_Equal(t, healthHours(t, l, c, 0, 1<<32-1), fmt.Sprintf("%d=c ", uint32(1<<31)))
	n, err = l.DeleteHealthBefore(105)
	require_NoError(t, err)
	require_Equal(t, n, 0)

	// Deleting an endpoint takes its hours with it, and they stay gone
	// after a restart.
	require_NoError(t, l.DeleteEndpoint(a))
	require_Equal(t, healthHours(t, l, a, 0, 1<<32-1), "")
	require_NoError(t, l.Close())
	l = reopenLog(t, dir, nil)
	require_Equal(t, healthHours(t, l, a, 0, 1<<32-1), "")
	require_Equal(t, healthHours(t, l, b, 0, 1<<32-1), "106=b106 108=b108 ")
}
