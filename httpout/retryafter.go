package httpout

import (
	"time"

	"github.com/valyala/fasthttp"
)

// Bounds of Options.MaxRetryAfter, which caps Result.RetryAfter: a receiver
// must not be able to park a delivery for longer than the operator allows.
const (
	// DefaultMaxRetryAfter is Options.MaxRetryAfter's default: about the
	// length of the default retry schedule (~27 h), so a receiver can ask
	// to be left alone for a day but not for the whole retention period.
	DefaultMaxRetryAfter = 24 * time.Hour
	// MaxRetryAfterLimit bounds Options.MaxRetryAfter: a week, the longest
	// delay a retry schedule may hold (engine's maxScheduleDelay).
	MaxRetryAfterLimit = 7 * 24 * time.Hour
	// minMaxRetryAfter is its floor: Retry-After counts whole seconds, so a
	// shorter cap would silently ignore the header.
	minMaxRetryAfter = time.Second
)

// parseRetryAfter returns the delay a Retry-After header value asks for
// (RFC 9110 section 10.2.3): delta seconds or an HTTP-date relative to now.
// It returns 0 for an empty, malformed or past value and caps the result at
// maxDelay.
func parseRetryAfter(v []byte, now time.Time, maxDelay time.Duration) time.Duration {
	v = trimOWS(v)
	if len(v) == 0 {
		return 0
	}
	if v[0] >= '0' && v[0] <= '9' {
		return parseDeltaSeconds(v, maxDelay)
	}
	t, err := fasthttp.ParseHTTPDate(v)
	if err != nil {
		return 0
	}
	d := t.Sub(now)
	if d <= 0 {
		return 0
	}
	return min(d, maxDelay)
}

// parseDeltaSeconds parses 1*DIGIT without overflowing: a value beyond
// maxDelay is only scanned for validity.
func parseDeltaSeconds(v []byte, maxDelay time.Duration) time.Duration {
	maxSecs := int64(maxDelay / time.Second)
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0
		}
		if n <= maxSecs {
			n = n*10 + int64(c-'0')
		}
	}
	return min(time.Duration(n)*time.Second, maxDelay)
}

// trimOWS drops the optional whitespace (SP, HTAB) around a field value.
func trimOWS(v []byte) []byte {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}
