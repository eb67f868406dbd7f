package dashboard_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// TestAuditLinksToResources: an audit entry's resource opens its page
// (an endpoint's, an event's for a delivery replay, a source's logged
// request), and a credential that cannot read the page gets plain text.
func TestAuditLinksToResources(t *testing.T) {
	s := startServer(t)
	rcv := newReceiver(t)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme"}, 201, nil)
	ep := createEndpoint(t, s, map[string]any{"url": rcv.URL + "/audited"})
	evt := publish(t, s, "invoice.paid", map[string]any{"n": 1})
	waitDeliveries(t, s, url.Values{"status": {"succeeded"}}, 1)
	s.api(t, "POST", "/v1/tenants/acme/endpoints/"+ep+"/deliveries/"+evt+"/replay", "", nil, 202, nil)

	b := newBrowser(t)
	b.signIn(s)
	b.go_("#/t/acme/audit")
	b.click("#audit-table a", evt) // the replay's resource is {endpoint}/{event}
	b.waitJS("the event's page", `location.hash === "#/t/acme/events/`+evt+`"`)
	b.waitText(".content", ep)
	b.go_("#/t/acme/audit")
	b.waitText("#audit-table", "endpoint.create")
	b.eval(fmt.Sprintf(`[...document.querySelectorAll("#audit-table a")].find(a => a.innerText === %q).click()`, ep))
	b.waitText("h1", "Endpoint")
	b.waitText(".content", rcv.URL+"/audited")

	// A portal session with audit but not endpoints: the id is text.
	var sess struct{ URL string }
	s.api(t, "POST", "/v1/tenants/acme/portal-sessions", "", map[string]any{"scopes": []string{"audit:read", "deliveries:read"}}, 201, &sess)
	pb := newBrowser(t)
	pb.open(s, sess.URL[strings.Index(sess.URL, "/portal"):])
	pb.go_("#/t/acme/audit")
	pb.waitText("#audit-table", ep)
	if n := evalJS[int](pb, fmt.Sprintf(`[...document.querySelectorAll("#audit-table a")].filter(a => a.innerText === %q).length`, ep)); n != 0 {
		t.Fatalf("the portal without endpoints:read links the endpoint %d times", n)
	}
	pb.click("#audit-table a", evt)
	pb.waitJS("the event's page", `location.hash === "#/t/acme/events/`+evt+`"`)
}

// TestDeliveryLinksToEventAndEndpoint: the delivery panel's event and
// endpoint ids open their pages; without endpoints:read the endpoint
// stays text.
func TestDeliveryLinksToEventAndEndpoint(t *testing.T) {
	s := startServer(t)
	rcv := newReceiver(t)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme"}, 201, nil)
	ep := createEndpoint(t, s, map[string]any{"url": rcv.URL + "/linked"})
	evt := publish(t, s, "invoice.paid", map[string]any{"n": 1})
	waitDeliveries(t, s, url.Values{"status": {"succeeded"}}, 1)

	b := newBrowser(t)
	b.signIn(s)
	b.go_("#/t/acme/deliveries")
	b.click("table.log tbody tr.selectable", evt)
	b.click("#delivery-event-link", evt)
	b.waitJS("the event's page", `location.hash === "#/t/acme/events/`+evt+`"`)
	b.go_("#/t/acme/deliveries")
	b.click("table.log tbody tr.selectable", evt)
	b.click("#delivery-endpoint-link", ep)
	b.waitText(".content", rcv.URL+"/linked")

	var sess struct{ URL string }
	s.api(t, "POST", "/v1/tenants/acme/portal-sessions", "", map[string]any{"scopes": []string{"deliveries:read"}}, 201, &sess)
	pb := newBrowser(t)
	pb.open(s, sess.URL[strings.Index(sess.URL, "/portal"):])
	pb.go_("#/t/acme/deliveries")
	pb.click("table.log tbody tr.selectable", evt)
	pb.waitText("#delivery-detail", ep)
	if evalJS[bool](pb, `!!document.querySelector("#delivery-endpoint-link")`) {
		t.Fatal("a session without endpoints:read gets a link to the endpoint")
	}
	pb.click("#delivery-event-link", evt)
	pb.waitJS("the event's page", `location.hash === "#/t/acme/events/`+evt+`"`)
}

// TestJobEndpointLinkFollowsScopes: a job's endpoint links to its page
// for a credential that can read endpoints, and is plain text for one
// that cannot (the link led to a "forbidden" page).
func TestJobEndpointLinkFollowsScopes(t *testing.T) {
	s := startServer(t)
	rcv := newReceiver(t)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme"}, 201, nil)
	ep := createEndpoint(t, s, map[string]any{"url": rcv.URL + "/jobs"})
	s.api(t, "POST", "/v1/tenants/acme/endpoints/"+ep+"/replay", "", map[string]any{"status": "dead"}, 202, nil)

	b := newBrowser(t)
	b.signIn(s)
	b.go_("#/t/acme/jobs")
	b.click("#jobs-table a", ep)
	b.waitText(".content", rcv.URL+"/jobs")

	var sess struct{ URL string }
	s.api(t, "POST", "/v1/tenants/acme/portal-sessions", "", map[string]any{"scopes": []string{"deliveries:read"}}, 201, &sess)
	pb := newBrowser(t)
	pb.open(s, sess.URL[strings.Index(sess.URL, "/portal"):])
	pb.go_("#/t/acme/jobs")
	pb.waitText("#jobs-table", ep)
	if evalJS[bool](pb, `!!document.querySelector("#jobs-table a")`) {
		t.Fatal("a session without endpoints:read gets a link to the endpoint")
	}
}
