package engine

import (
	"errors"
	"testing"
	"time"
)

// FuzzJobInput: any request either is refused with an invalid-input error
// carrying a code, or yields a job whose range, rate and status filter are
// ones the runner can work with.
func FuzzJobInput(f *testing.F) {
	f.Add("replay", "", "", int64(0), int64(0), 0)
	f.Add("replay", "all", "invoice.*", int64(-3600_000), int64(-60_000), 50)
	f.Add("backfill", "", "a.b", int64(-1), int64(0), 10_000)
	f.Add("cancel", "retrying", "*", int64(5), int64(-5), -1)
	f.Add("delete", "dead", "a..b", int64(1<<62), int64(-1<<62), 1<<40)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, kind, status, typ string, sinceMs, untilMs int64, rate int) {
		in := JobInput{Kind: kind, Status: status, Type: typ, RatePerSecond: rate}
		if sinceMs != 0 {
			in.Since = now.Add(time.Duration(sinceMs) * time.Millisecond)
		}
		if untilMs != 0 {
			in.Until = now.Add(time.Duration(untilMs) * time.Millisecond)
		}
		j := Job{Kind: kind, Type: typ, Until: now.Add(time.Millisecond)}
		err := checkJobInput(&j, in, now)
		if err != nil {
			var ee *Error
			if !errors.As(err, &ee) || ee.Kind != KindInvalid || ee.Code == "" || ee.Message == "" {
				t.Fatalf("%+v: error %v is not an invalid-input error with a code", in, err)
			}
			return
		}
		if j.Since != nil && !j.Since.Before(j.Until) {
			t.Fatalf("%+v: accepted since %s not before until %s", in, j.Since, j.Until)
		}
		if j.Until.After(now.Add(time.Millisecond)) {
			t.Fatalf("%+v: until %s is in the future", in, j.Until)
		}
		if j.RatePerSecond < 0 || j.RatePerSecond > MaxJobRate || (kind != JobCancel && j.RatePerSecond == 0) {
			t.Fatalf("%+v: rate %d", in, j.RatePerSecond)
		}
		if kind == JobBackfill && j.Since == nil {
			t.Fatalf("%+v: backfill without since", in)
		}
		if kind == JobReplay && !map[string]bool{"dead": true, "succeeded": true, "cancelled": true, "all": true}[j.Status] {
			t.Fatalf("%+v: replay status %q", in, j.Status)
		}
		if typ != "" && !validPattern(typ) {
			t.Fatalf("%+v: accepted type %q", in, typ)
		}
	})
}
