package httpout

import (
	"time"

	"github.com/valyala/fasthttp"
)

// MaxRetryAfter caps Result.RetryAfter: a server must not be able to park a
// delivery for longer than the retry schedule itself lasts.
const MaxRetryAfter = 24 * time.Hour

// parseRetryAfter returns the delay a Retry-After header value asks for
// (RFC 9110 section 10.2.3): delta seconds or an HTTP-date relative to now.
// It returns 0 for an empty, malformed or past value and caps the result at
// MaxRetryAfter.
func parseRetryAfter(v []byte, now time.Time) time.Duration {
	v = trimOWS(v)
	if len(v) == 0 {
		return 0
	}
	if v[0] >= '0' && v[0] <= '9' {
		return parseDeltaSeconds(v)
	}
	t, err := fasthttp.ParseHTTPDate(v)
	if err != nil {
		return 0
	}
	d := t.Sub(now)
	if d <= 0 {
		return 0
	}
	return min(d, MaxRetryAfter)
}

// parseDeltaSeconds parses 1*DIGIT without overflowing: a value beyond
// MaxRetryAfter is only scanned for validity.
func parseDeltaSeconds(v []byte) time.Duration {
	const maxSecs = int64(MaxRetryAfter / time.Second)
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0
		}
		if n <= maxSecs {
			n = n*10 + int64(c-'0')
		}
	}
	if n > maxSecs {
		return MaxRetryAfter
	}
	return time.Duration(n) * time.Second
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
