package httpin_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// tenantDelivery is a row of the tenant-wide delivery log, as compared.
type tenantDelivery struct {
	event, endpoint, status, typ string
}

// walkTenantDeliveries reads path to its end, following next_cursor, and
// calls between(), when not nil, after each page.
func (s *testServer) walkTenantDeliveries(t *testing.T, path, token string, between func()) []tenantDelivery {
	t.Helper()
	var out []tenantDelivery
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	cursor := ""
	for pages := 0; ; pages++ {
		require_True(t, pages < 1000, "no end after %d pages", pages)
		p := path
		if cursor != "" {
			p += sep + "cursor=" + cursor
		}
		status, m, _ := s.do(t, "GET", p, token, "", "")
		require_True(t, status == http.StatusOK, "GET %s: %d %v", p, status, m)
		for _, v := range m["data"].([]any) {
			d := v.(map[string]any)
			out = append(out, tenantDelivery{str(t, d, "event_id"), str(t, d, "endpoint_id"), str(t, d, "status"), str(t, d, "event_type")})
		}
		next, _ := m["next_cursor"].(string)
		if next == "" {
			return out
		}
		cursor = next
		if between != nil {
			between()
		}
	}
}

// TestTenantDeliveriesAPI: GET /v1/tenants/{tenant}/deliveries lists the
// deliveries of all the tenant's endpoints, newest event first and, for
// one event, by endpoint ID, greatest first; pages cover every delivery
// once while new ones arrive; the filters of the per-endpoint log and
// endpoint apply; another tenant's deliveries never show; bad input gets
// its code.
func TestTenantDeliveriesAPI(t *testing.T) {
	s := newTestServer(t)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/gone" {
			w.WriteHeader(http.StatusBadRequest) // a final failure: dead after one attempt
		}
	}))
	t.Cleanup(rcv.Close)
	s.mustCreateTenant(t, "acme")
	s.mustCreateTenant(t, "other")
	// a takes everything and succeeds, b fails invoices for good, c holds
	// invoices (paused); d is the other tenant's.
	a := str(t, s.mustCreateEndpoint(t, "acme", `{"url":"`+rcv.URL+`/ok"}`), "id")
	b := str(t, s.mustCreateEndpoint(t, "acme", `{"url":"`+rcv.URL+`/gone","event_types":["invoice.*"]}`), "id")
	c := str(t, s.mustCreateEndpoint(t, "acme", `{"url":"`+rcv.URL+`/ok","event_types":["invoice.*"],"paused":true}`), "id")
	d := str(t, s.mustCreateEndpoint(t, "other", `{"url":"`+rcv.URL+`/ok"}`), "id")
	publish := func(tenant, typ string) string {
		t.Helper()
		status, m, _ := s.do(t, "POST", "/v1/tenants/"+tenant+"/events", testToken, "application/json", `{"type":"`+typ+`","payload":{}}`)
		require_Equal(t, status, http.StatusAccepted)
		return str(t, m, "id")
	}
	var want []tenantDelivery
	for i := range 6 {
		ev := publish("acme", "invoice.paid")
		want = append(want, tenantDelivery{ev, a, "succeeded", "invoice.paid"},
			tenantDelivery{ev, b, "dead", "invoice.paid"}, tenantDelivery{ev, c, "pending", "invoice.paid"})
		if i%2 == 0 {
			want = append(want, tenantDelivery{publish("acme", "order.created"), a, "succeeded", "order.created"})
		}
		publish("other", "invoice.paid")
	}
	// Newest first; for one event, the greatest endpoint ID first. IDs in
	// their API form sort as their bytes do.
	slices.SortFunc(want, func(x, y tenantDelivery) int {
		if c := strings.Compare(y.event, x.event); c != 0 {
			return c
		}
		return strings.Compare(y.endpoint, x.endpoint)
	})
	require_True(t, a < b && b < c, "endpoint IDs not in creation order: %s %s %s", a, b, c)

	// Wait for a's and b's attempt records.
	const path = "/v1/tenants/acme/deliveries"
	var got []tenantDelivery
	waitFor(t, 30*time.Second, "every attempt of a and b recorded", func() bool {
		got = s.walkTenantDeliveries(t, path+"?limit=1000", testToken, nil)
		return slices.Equal(got, want)
	})
	// The ties of the newest invoice: c, b, a.
	require_True(t, got[0].endpoint == c && got[1].endpoint == b && got[2].endpoint == a && got[0].event == got[2].event,
		"newest rows %v", got[:3])
	status, m, _ := s.do(t, "GET", path+"?limit=1", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	row := m["data"].([]any)[0].(map[string]any)
	require_Equal(t, keysOf(row), "attempts,endpoint_id,event_id,event_type,status")
	row = s.walkTenantDeliveriesRaw(t, path+"?status=dead&limit=1")[0]
	require_Equal(t, keysOf(row), "attempts,endpoint_id,event_id,event_type,last_attempt,status")
	require_Equal(t, row["attempts"], any(1.0))

	// Filters.
	keep := func(f func(d tenantDelivery) bool) []tenantDelivery {
		var out []tenantDelivery
		for _, d := range want {
			if f(d) {
				out = append(out, d)
			}
		}
		return out
	}
	check := func(query string, f func(d tenantDelivery) bool) {
		t.Helper()
		for _, limit := range []string{"1", "2", "1000"} {
			got := s.walkTenantDeliveries(t, path+"?"+query+"&limit="+limit, testToken, nil)
			if !slices.Equal(got, keep(f)) {
				t.Fatalf("%s, limit %s: got %v, want %v", query, limit, got, keep(f))
			}
		}
	}
	check("status=succeeded", func(d tenantDelivery) bool { return d.endpoint == a })
	check("status=dead", func(d tenantDelivery) bool { return d.endpoint == b })
	check("status=pending", func(d tenantDelivery) bool { return d.endpoint == c })
	check("status=retrying", func(tenantDelivery) bool { return false })
	check("endpoint="+a, func(d tenantDelivery) bool { return d.endpoint == a })
	check("endpoint="+c+","+a+","+c, func(d tenantDelivery) bool { return d.endpoint != b })
	check("endpoint="+c+"&endpoint="+b, func(d tenantDelivery) bool { return d.endpoint != a })
	check("endpoint="+b+"&status=succeeded", func(tenantDelivery) bool { return false })
	check("type=order.*", func(d tenantDelivery) bool { return d.typ == "order.created" })
	check("type=invoice.paid&status=pending", func(d tenantDelivery) bool { return d.endpoint == c })
	hourAgo := url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano))
	inHour := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano))
	check("since="+hourAgo+"&until="+inHour, func(tenantDelivery) bool { return true })
	check("since="+inHour, func(tenantDelivery) bool { return false })
	check("until="+hourAgo, func(tenantDelivery) bool { return false })

	// 15 events published, and b's first 3 deaths announced one by one
	// (hookline.delivery.exhausted) just after they were stored: the
	// rejections below must find the wal at rest.
	waitFor(t, time.Minute, "the exhausted events", func() bool {
		c, err := s.log.Count()
		require_NoError(t, err)
		return c.Events == 18
	})

	// The other tenant sees its own deliveries only, and not acme's
	// endpoints; acme cannot name the other's.
	others := s.walkTenantDeliveries(t, "/v1/tenants/other/deliveries", testToken, nil)
	require_Equal(t, len(others), 6)
	for _, o := range others {
		require_Equal(t, o.endpoint, d)
	}
	s.reject(t, "GET", path+"?endpoint="+d, testToken, "", "", 404, "endpoint_not_found")
	s.reject(t, "GET", "/v1/tenants/other/deliveries?endpoint="+a, testToken, "", "", 404, "endpoint_not_found")

	// Pages while new deliveries arrive: each delivery listed once, none
	// missed, none of the new ones (they are above the first page).
	walked := s.walkTenantDeliveries(t, path+"?limit=2", testToken, func() {
		publish("acme", "invoice.paid")
		publish("other", "order.created")
	})
	// (Statuses may move on; positions do not.)
	require_Equal(t, len(walked), len(want))
	for i := range walked {
		require_Equal(t, walked[i].event+" "+walked[i].endpoint, want[i].event+" "+want[i].endpoint)
	}
	status, m, _ = s.do(t, "GET", path+"?limit=1", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_True(t, str(t, m["data"].([]any)[0].(map[string]any), "event_id") > want[0].event, "the new deliveries are not listed first")

	// Bad input; nothing changes (once the new deliveries are made).
	waitFor(t, 30*time.Second, "the new deliveries made", func() bool {
		return len(s.walkTenantDeliveries(t, path+"?status=pending&endpoint="+a+","+b, testToken, nil)) == 0 &&
			len(s.walkTenantDeliveries(t, "/v1/tenants/other/deliveries?status=pending", testToken, nil)) == 0
	})
	f := func(query string, wantStatus int, wantCode string) {
		t.Helper()
		s.reject(t, "GET", path+query, testToken, "", "", wantStatus, wantCode)
	}
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	f("?cursor=%%%", 400, "invalid_cursor")
	f("?cursor="+b64("nope"), 400, "invalid_cursor")
	f("?cursor="+b64(want[0].event), 400, "invalid_cursor") // a per-endpoint cursor: no endpoint
	f("?cursor="+b64(want[0].event+"/"+want[0].event), 400, "invalid_cursor")
	f("?cursor="+b64(want[0].event+"/"+want[0].endpoint+"/x"), 400, "invalid_cursor")
	f("?limit=0", 400, "invalid_limit")
	f("?limit=1001", 400, "invalid_limit")
	f("?limit=ten", 400, "invalid_limit")
	f("?status=lost", 400, "invalid_status")
	f("?type=a%20b", 400, "invalid_type")
	f("?since=yesterday", 400, "invalid_time")
	f("?endpoint=", 400, "invalid_endpoint")
	f("?endpoint="+a+",", 400, "invalid_endpoint")
	f("?endpoint=ep_nope", 404, "endpoint_not_found")
	f("?endpoint="+a+",ep_01JDZZZZZZZZZZZZZZZZZZZZZZ", 404, "endpoint_not_found")
	s.reject(t, "GET", "/v1/tenants/nope/deliveries", testToken, "", "", 404, "tenant_not_found")
	s.reject(t, "POST", path, testToken, "application/json", "{}", 405, "method_not_allowed")

	// Keys: deliveries:read lists its own tenant's; without it, or of
	// another tenant, 403.
	key := func(tenant, scopes string) string {
		status, m, _ := s.do(t, "POST", "/v1/tenants/"+tenant+"/api-keys", testToken, "application/json", `{"scopes":`+scopes+`}`)
		require_Equal(t, status, http.StatusCreated)
		return str(t, m, "key")
	}
	reader := key("acme", `["deliveries:read"]`)
	q := path + "?endpoint=" + a + "&limit=3"
	asReader := s.walkTenantDeliveries(t, q, reader, nil)
	require_True(t, len(asReader) > len(keep(func(d tenantDelivery) bool { return d.endpoint == a })), "the reader sees %d rows", len(asReader))
	require_Equal(t, len(asReader), len(s.walkTenantDeliveries(t, q, testToken, nil)))
	s.reject(t, "GET", path, key("acme", `["endpoints:read","deliveries:replay"]`), "", "", 403, "forbidden")
	s.reject(t, "GET", path, key("other", `["deliveries:read"]`), "", "", 403, "forbidden")

	// A deleted endpoint's history stays listed, by name too (b's dead
	// deliveries); what waited for a first attempt went with its queue
	// (c's).
	bRows := s.walkTenantDeliveries(t, path+"?endpoint="+b, testToken, nil)
	require_True(t, len(bRows) > 0, "b has no deliveries")
	for _, ep := range []string{b, c} {
		status, _, _ = s.do(t, "DELETE", "/v1/tenants/acme/endpoints/"+ep, testToken, "", "")
		require_Equal(t, status, http.StatusNoContent)
	}
	require_True(t, slices.Equal(s.walkTenantDeliveries(t, path+"?endpoint="+b, testToken, nil), bRows), "b's rows changed")
	require_True(t, slices.Equal(s.walkTenantDeliveries(t, path+"?status=dead", testToken, nil), bRows), "dead rows are not b's")
	require_Equal(t, len(s.walkTenantDeliveries(t, path+"?endpoint="+c, testToken, nil)), 0)
	all := s.walkTenantDeliveries(t, path, testToken, nil)
	require_Equal(t, len(keepRows(all, func(d tenantDelivery) bool { return d.endpoint == b })), len(bRows))
	require_Equal(t, len(keepRows(all, func(d tenantDelivery) bool { return d.endpoint == c })), 0)
}

func keepRows(rows []tenantDelivery, f func(tenantDelivery) bool) []tenantDelivery {
	var out []tenantDelivery
	for _, d := range rows {
		if f(d) {
			out = append(out, d)
		}
	}
	return out
}

// walkTenantDeliveriesRaw returns the rows of one page of path, decoded.
func (s *testServer) walkTenantDeliveriesRaw(t *testing.T, path string) []map[string]any {
	t.Helper()
	status, m, _ := s.do(t, "GET", path, testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	var out []map[string]any
	for _, v := range m["data"].([]any) {
		out = append(out, v.(map[string]any))
	}
	return out
}
