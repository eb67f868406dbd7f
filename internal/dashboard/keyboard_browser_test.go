package dashboard_test

import (
	"testing"
	"time"
)

// TestKeyboardFocusAndFailingEndpoint: the skip link comes first in the
// tab order and moves the focus to the page; a page change gives the new
// page the focus; an endpoint whose circuit opened on failures reads
// "failing since" in the list (not "active"), its low success rate marked.
func TestKeyboardFocusAndFailingEndpoint(t *testing.T) {
	s := startServer(t, "--config", writeConfig(t, "delivery:\n  circuit_breaker:\n    consecutive_failures: 3\n    open_for: 1h\n"))
	rcv := newReceiver(t)
	rcv.setStatus(500)
	s.api(t, "POST", "/v1/tenants", "", map[string]any{"id": "acme"}, 201, nil)
	var ep struct {
		ID string `json:"id"`
	}
	s.api(t, "POST", "/v1/tenants/acme/endpoints", "", map[string]any{"url": rcv.URL + "/down", "max_in_flight": 1, "retry_schedule": []string{}}, 201, &ep)
	for range 3 {
		s.api(t, "POST", "/v1/tenants/acme/events", "", map[string]any{"type": "a.b", "payload": map[string]any{}}, 202, nil)
	}
	waitFor(t, 30*time.Second, "the endpoint failing", func() bool {
		var got struct {
			FailingSince string `json:"failing_since"`
		}
		s.api(t, "GET", "/v1/tenants/acme/endpoints/"+ep.ID, "", nil, 200, &got)
		return got.FailingSince != ""
	})

	b := newBrowser(t)
	b.signIn(s)
	// The skip link is the first stop; it hands the focus to the page.
	b.eval(`document.activeElement && document.activeElement.blur(), true`)
	b.eval(`document.querySelector(".skip").focus(), true`)
	b.waitJS("the skip link shown", `document.activeElement.classList.contains("skip") && document.querySelector(".skip").getBoundingClientRect().top >= 0`)
	b.eval(`document.querySelector(".skip").click(), true`)
	b.waitJS("the focus on the page", `document.activeElement.id === "main"`)

	b.eval(`document.activeElement.blur(), true`)
	b.click(".side a", "Tenants")
	b.go_("#/t/acme/endpoints")
	b.waitText("h1", "Endpoints")
	b.waitJS("the new page focused", `document.activeElement.id === "main"`)
	b.waitText("table", "failing since")
	b.waitJS("the low rate marked", `document.querySelector("table .rate-bad")`)
	if evalJS[bool](b, `[...document.querySelectorAll("table .badge")].some(e => e.innerText.trim() === "active")`) {
		t.Fatal("a failing endpoint reads active")
	}
	b.shot("endpoints-failing")
}
