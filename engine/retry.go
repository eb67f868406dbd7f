package engine

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"hookline/httpout"
	"hookline/wal"
)

const (
	maxScheduleLen   = 50
	maxScheduleDelay = 7 * 24 * time.Hour
)

// ParseRetrySchedule parses "5s,5m,30m": the delays before attempts 2..N.
func ParseRetrySchedule(s string) ([]time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("retry schedule is empty")
	}
	return parseDelays(strings.Split(s, ","))
}

func parseDelays(parts []string) ([]time.Duration, error) {
	if len(parts) > maxScheduleLen {
		return nil, fmt.Errorf("retry schedule has %d delays; at most %d allowed", len(parts), maxScheduleLen)
	}
	out := make([]time.Duration, 0, len(parts))
	for i, p := range parts {
		d, err := time.ParseDuration(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("retry schedule delay %d (%q) is not a duration like 5s or 2h", i+1, p)
		}
		if d <= 0 || d > maxScheduleDelay {
			return nil, fmt.Errorf("retry schedule delay %d (%s) must be above 0 and at most %s", i+1, d, maxScheduleDelay)
		}
		out = append(out, d)
	}
	return out, nil
}

// verdict is what an attempt's result means for the delivery.
type verdict int

const (
	verdictSuccess verdict = iota
	verdictRetry           // worth another attempt if the schedule has one
	verdictFinal           // failed for good: dead-letter now
)

// classify sorts an attempt's result. Network errors, timeouts, 408, 429 and
// 5xx are worth retrying; other statuses are the receiver's final word, and an
// address refused by the SSRF guard will not become acceptable by waiting.
//
// Response headers past httpout.MaxResponseHeaderBytes are final too. The
// receiver did answer, so it most likely acted on the delivery, and its
// stack (a framework's cookies, a CDN) will send the same headers to every
// retry: retrying would only deliver duplicates, which is how a cookie-heavy
// 200 used to be treated. As for a 4xx, Stripe and Svix retry only what may
// pass; here the dead letter keeps the class, and a replay re-sends the
// delivery once the receiver trims its headers. Like other final failures,
// it does not count against the circuit.
func classify(res *httpout.Result) verdict {
	switch s := res.Status; {
	case s >= 200 && s < 300:
		return verdictSuccess
	case s == 408 || s == 429 || s >= 500 && s < 600:
		return verdictRetry
	case s != 0:
		return verdictFinal
	}
	switch res.ErrClass {
	case httpout.ErrClassSSRF, httpout.ErrClassInvalidURL, httpout.ErrClassResponseHeadersTooLarge:
		return verdictFinal
	}
	return verdictRetry
}

// jitter spreads d over ±10%, so deliveries that failed together (an
// endpoint's outage) do not all retry in the same instant and hit the
// recovering receiver as one wave.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}

// nextStep is the retry decision for attempt number attempt (1-based)
// whose result was sorted as v: the outcome to record, when a retry is
// due (unix ms; 0 for none), and the outcome's metric label. A retryable
// failure with no delay left in schedule is dead-lettered.
func nextStep(v verdict, attempt int, schedule []time.Duration, retryAfter time.Duration) (byte, int64, outcome) {
	switch v {
	case verdictSuccess:
		return wal.OutcomeSuccess, 0, outcomeSuccess
	case verdictRetry:
		if attempt-1 >= len(schedule) {
			return wal.OutcomeDead, 0, outcomeDead
		}
		// Delays count from the answer, as Retry-After does (RFC 9110
		// 10.2.3): a slow 429 must not shorten the wait it asked for.
		delay := max(jitter(schedule[attempt-1]), retryAfter)
		return wal.OutcomeRetry, time.Now().Add(delay).UnixMilli(), outcomeRetry
	}
	return wal.OutcomeDead, 0, outcomeFinal
}
