package engine_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"hookline/engine"
	"hookline/httpout"
	"hookline/wal"
)

// TestFanOut: each endpoint gets exactly the events its event_types match;
// a disabled endpoint gets nothing.
func TestFanOut(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	h.tenant("other")

	type sub struct {
		name     string
		types    []string
		disabled bool
		rc       *receiver
		ep       engine.Endpoint
		want     map[string]bool
	}
	subs := []*sub{
		{name: "prefix", types: []string{"invoice.*"}},
		{name: "exact", types: []string{"invoice.paid", "lead.won"}},
		{name: "all", types: []string{"*"}},
		{name: "disabled", types: []string{"*"}, disabled: true},
	}
	for _, s := range subs {
		s.rc = newReceiver(t, recvConfig{})
		s.ep = h.endpoint("acme", engine.EndpointInput{URL: ptr(s.rc.URL()), EventTypes: &s.types, Disabled: ptr(s.disabled)})
		s.want = map[string]bool{}
	}
	// An endpoint of another tenant subscribed to everything sees nothing of acme.
	otherRC := newReceiver(t, recvConfig{})
	h.endpoint("other", engine.EndpointInput{URL: ptr(otherRC.URL()), EventTypes: &[]string{"*"}})

	types := []string{
		"invoice.paid", "invoice.created", "invoice.paid.late", "lead.won", "lead.lost",
		"invoice", "invoices.x", "invoice.paid", "lead.won", "x",
	}
	match := map[string]func(string) bool{
		"prefix":   func(typ string) bool { return strings.HasPrefix(typ, "invoice.") },
		"exact":    func(typ string) bool { return typ == "invoice.paid" || typ == "lead.won" },
		"all":      func(string) bool { return true },
		"disabled": func(string) bool { return false },
	}
	// Publish some singly and the rest in one batch.
	var evs []engine.PublishEvent
	for i, typ := range types {
		evs = append(evs, engine.PublishEvent{Type: typ, Payload: []byte(fmt.Sprintf(`{"n":%d}`, i))})
	}
	var res []wal.AppendResult
	for i := 0; i < 3; i++ {
		res = append(res, h.publish("acme", evs[i])...)
	}
	res = append(res, h.publish("acme", evs[3:]...)...)
	require_Equal(t, len(res), len(types))

	seen := map[wal.ID]bool{}
	for i, r := range res {
		require_True(t, !r.Duplicate, "event %d reported as duplicate", i)
		require_True(t, !seen[r.ID], "event id %s handed out twice", r.ID)
		seen[r.ID] = true
		for _, s := range subs {
			if match[s.name](types[i]) {
				s.want[engine.FormatEventID(r.ID)] = true
			}
		}
	}
	for _, s := range subs {
		waitFor(t, 10*time.Second, s.name+" deliveries", func() bool { return s.rc.count() >= len(s.want) })
	}
	time.Sleep(quiet) // nothing more may arrive
	for _, s := range subs {
		got := s.rc.ids()
		if len(got) != len(s.want) || s.rc.count() != len(s.want) {
			t.Errorf("endpoint %s (%v) got %d requests for %d ids %v, want exactly %v", s.name, s.types, s.rc.count(), len(got), keys(got), sortedKeys(s.want))
			continue
		}
		for id, n := range got {
			if !s.want[id] || n != 1 {
				t.Errorf("endpoint %s (%v) got %v, want exactly %v", s.name, s.types, keys(got), sortedKeys(s.want))
				break
			}
		}
	}
	require_Equal(t, otherRC.count(), 0)
	require_Equal(t, h.counts().Events, len(types))
	h.requireSettled()
}

func keys(m map[string]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestSignatureAndBody: every request verifies with the official Standard
// Webhooks library, carries webhook-id "evt_"+ID, and its body is
// {"type","timestamp","data"} with data byte-exact as published.
func TestSignatureAndBody(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rcGen := newReceiver(t, recvConfig{})
	epGen := h.endpoint("acme", engine.EndpointInput{URL: ptr(rcGen.URL())})
	ownSecret, err := httpout.NewSecret()
	require_NoError(t, err)
	rcOwn := newReceiver(t, recvConfig{})
	epOwn := h.endpoint("acme", engine.EndpointInput{URL: ptr(rcOwn.URL()), Secret: &ownSecret})
	require_Equal(t, epOwn.Secret, ownSecret)
	_, err = httpout.ParseSecret(epGen.Secret)
	require_NoError(t, err)

	// The stored view never shows the secret again.
	got, err := h.e.GetEndpoint("acme", epGen.ID)
	require_NoError(t, err)
	require_Equal(t, got.Secret, "")

	big := `{"blob":"` + strings.Repeat("0123456789abcdef", 800) + `"}` // above the wal's compression threshold
	payloads := []string{
		`{"amount": 1200, "currency":"EUR" ,"nested":{"a":[1,2,3],"b":null}}`,
		`{"name":"\u00e9l\u00e8ve \"quoted\"","emoji":"☃","esc":"a\/b"}`,
		`[1,2.50,3e10]`,
		`"just a string"`,
		`42`,
		`true`,
		`null`,
		``, // no payload: data is null
		big,
	}
	evs := make([]engine.PublishEvent, len(payloads))
	for i, p := range payloads {
		evs[i] = engine.PublishEvent{Type: "invoice.paid", Payload: []byte(p)}
		if p == "" {
			evs[i].Payload = nil
		}
	}
	before := time.Now()
	res := h.publish("acme", evs...)
	after := time.Now()
	byID := map[string]int{}
	for i, r := range res {
		byID["evt_"+r.ID.String()] = i
	}

	for _, c := range []struct {
		name   string
		rc     *receiver
		secret string
	}{{"generated secret", rcGen, epGen.Secret}, {"own secret", rcOwn, ownSecret}} {
		waitFor(t, 10*time.Second, c.name+" deliveries", func() bool { return c.rc.count() >= len(payloads) })
		wh, err := standardwebhooks.NewWebhook(c.secret)
		require_NoError(t, err)
		other, err := httpout.NewSecret()
		require_NoError(t, err)
		whOther, err := standardwebhooks.NewWebhook(other)
		require_NoError(t, err)

		ds := c.rc.deliveries()
		require_Equal(t, len(ds), len(payloads))
		for _, d := range ds {
			i, ok := byID[d.id]
			require_True(t, ok, "%s: webhook-id %q is not evt_ + a published event ID", c.name, d.id)
			if err := wh.Verify(d.body, d.header); err != nil {
				t.Errorf("%s: event %d does not verify: %v (headers %v)", c.name, i, err, d.header)
			}
			require_True(t, whOther.Verify(d.body, d.header) != nil, "%s: event %d verifies with an unrelated secret", c.name, i)
			tampered := append(bytes.Clone(d.body[:len(d.body)-1]), ' ', '}')
			require_True(t, wh.Verify(tampered, d.header) != nil, "%s: a tampered body verifies", c.name)

			require_Equal(t, d.header.Get("Content-Type"), "application/json")
			require_True(t, strings.HasPrefix(d.header.Get("User-Agent"), "hookline/"), "user-agent %q", d.header.Get("User-Agent"))
			require_Equal(t, d.attempt, 1)
			ts, err := strconv.ParseInt(d.header.Get("webhook-timestamp"), 10, 64)
			require_NoError(t, err)
			require_True(t, ts >= before.Unix() && ts <= time.Now().Unix(), "webhook-timestamp %d outside the test's run", ts)

			want := payloads[i]
			if want == "" {
				want = "null"
			}
			require_True(t, bytes.Contains(d.body, []byte(`"data":`+want+`}`)), "%s: body of event %d does not carry the payload byte-exact: %.200s", c.name, i, d.body)
			require_True(t, bytes.HasSuffix(d.body, []byte(`"data":`+want+`}`)), "%s: body of event %d does not end with data: %.200s", c.name, i, d.body)

			var fields map[string]json.RawMessage
			require_NoError(t, json.Unmarshal(d.body, &fields))
			require_Equal(t, len(fields), 3)
			var body struct {
				Type      string          `json:"type"`
				Timestamp time.Time       `json:"timestamp"`
				Data      json.RawMessage `json:"data"`
			}
			require_NoError(t, json.Unmarshal(d.body, &body))
			require_Equal(t, body.Type, "invoice.paid")
			require_True(t, string(body.Data) == want, "%s: decoded data of event %d is %.200s, want %.200s", c.name, i, body.Data, want)
			require_True(t, !body.Timestamp.Before(before.Truncate(time.Millisecond)) && !body.Timestamp.After(after), "body timestamp %s outside [%s, %s]", body.Timestamp, before, after)
			require_Equal(t, body.Timestamp.Location(), time.UTC)
		}
	}
}

// TestIdempotency: the same key twice yields the same ID, Duplicate on the
// second, and one delivery.
func TestIdempotency(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	h.tenant("other")
	rc := newReceiver(t, recvConfig{})
	h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})

	ev := engine.PublishEvent{Type: "invoice.paid", Payload: []byte(`{"n":1}`), IdempotencyKey: "key-1"}
	first := h.publish("acme", ev)[0]
	require_True(t, !first.Duplicate, "first publish reported as duplicate")
	second := h.publish("acme", ev)[0]
	require_Equal(t, second, wal.AppendResult{ID: first.ID, Duplicate: true})

	// In one batch: the repeated key returns the first event's ID.
	batch := h.publish("acme",
		engine.PublishEvent{Type: "invoice.paid", IdempotencyKey: "key-2"},
		engine.PublishEvent{Type: "invoice.paid", IdempotencyKey: "key-2"},
		engine.PublishEvent{Type: "invoice.paid", IdempotencyKey: "key-1"},
		engine.PublishEvent{Type: "invoice.paid"},
		engine.PublishEvent{Type: "invoice.paid"},
	)
	require_True(t, !batch[0].Duplicate, "key-2 first use reported as duplicate")
	require_Equal(t, batch[1], wal.AppendResult{ID: batch[0].ID, Duplicate: true})
	require_Equal(t, batch[2], wal.AppendResult{ID: first.ID, Duplicate: true})
	require_True(t, !batch[3].Duplicate && !batch[4].Duplicate && batch[3].ID != batch[4].ID, "events without a key deduped: %+v", batch[3:])

	// Keys are per tenant.
	otherRes := h.publish("other", ev)[0]
	require_True(t, !otherRes.Duplicate && otherRes.ID != first.ID, "key of another tenant deduped: %+v", otherRes)

	want := map[string]int{
		engine.FormatEventID(first.ID):    1,
		engine.FormatEventID(batch[0].ID): 1,
		engine.FormatEventID(batch[3].ID): 1,
		engine.FormatEventID(batch[4].ID): 1,
	}
	waitFor(t, 10*time.Second, "4 deliveries", func() bool { return rc.count() >= len(want) })
	time.Sleep(quiet)
	require_DeepEqual(t, rc.ids(), want)
	// The last outcome is recorded after the receiver answered.
	waitFor(t, 5*time.Second, "an empty queue", func() bool { return h.counts().Queued == 0 })
	c := h.counts()
	require_Equal(t, c.Events, 5) // 4 of acme, 1 of other
	require_Equal(t, c.IdempotencyKeys, 3)
}

// TestMaxInFlight: a lane keeps at most max_in_flight requests open, and
// does use the concurrency it is allowed.
func TestMaxInFlight(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{sleep: 100 * time.Millisecond})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), MaxInFlight: ptr(3)})
	require_Equal(t, ep.MaxInFlight, 3)

	evs := make([]engine.PublishEvent, 30)
	for i := range evs {
		evs[i] = engine.PublishEvent{Type: "invoice.paid", Payload: []byte(strconv.Itoa(i))}
	}
	h.publish("acme", evs[:10]...)
	for i := 10; i < 30; i++ {
		h.publish("acme", evs[i])
	}
	waitFor(t, 20*time.Second, "30 deliveries", func() bool { return rc.count() >= 30 })
	waitFor(t, 5*time.Second, "an empty queue", func() bool { return h.counts().Queued == 0 })
	peak := rc.peak.Load()
	require_True(t, peak <= 3, "receiver saw %d concurrent requests; max_in_flight is 3", peak)
	require_True(t, peak >= 2, "receiver saw at most %d concurrent request; deliveries did not run concurrently", peak)
	require_Equal(t, len(rc.ids()), 30)
}

// TestMaxInFlightOneKeepsOrder: with max_in_flight 1 a healthy endpoint gets
// events in publish order, one at a time.
func TestMaxInFlightOneKeepsOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{sleep: 2 * time.Millisecond})
	h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), MaxInFlight: ptr(1)})
	var want []string
	for i := 0; i < 20; i++ {
		r := h.publish("acme", engine.PublishEvent{Type: "lead.won"}, engine.PublishEvent{Type: "lead.won"})
		want = append(want, engine.FormatEventID(r[0].ID), engine.FormatEventID(r[1].ID))
	}
	waitFor(t, 10*time.Second, "40 deliveries", func() bool { return rc.count() >= 40 })
	var got []string
	for _, d := range rc.deliveries() {
		got = append(got, d.id)
	}
	require_DeepEqual(t, got, want)
	require_Equal(t, rc.peak.Load(), int32(1))
}
