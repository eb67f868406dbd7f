package transform

import (
	"errors"
	"strings"
	"testing"
)

// On gjson paths Apply allocates only the Type and ID strings.
func TestApplyAllocations(t *testing.T) {
	body := readFixture(t, "github/pull_request_opened.json")
	h := headers("X-GitHub-Event", "pull_request", "X-GitHub-Delivery", "72d3162e")
	f := func(spec string, want float64) {
		t.Helper()
		m := mustParse(t, spec)
		var r Result
		buf := make([]byte, 0, 4096)
		n := testing.AllocsPerRun(100, func() {
			if _, err := m.Apply(body, h, &r, buf); err != nil {
				t.Fatal(err)
			}
		})
		if n > want {
			t.Fatalf("%s: %v allocations per Apply, want at most %v", spec, n, want)
		}
	}
	f(githubSpec, 2)
	f(githubFiveFields, 2)
	f(`{"type":"github.pr","payload":{"n":"$.number","u":"header:X-GitHub-Delivery"},"routes":[
		{"when":{"any":[{"path":"$.action","matches":"^clo"},{"header":"X-GitHub-Event","in":["push","ping"]}]},"type":"x"}]}`, 0)
}

// slackBody is a body template of 5 fields, two of them string templates.
const slackBody = `{"channel":"#sales","text":"New lead {$.data.lead.email} ({$.data.lead.company}), score {$.data.lead.score}",` +
	`"score":"$.data.lead.score","account":"$.data.account.id","summary":"{$.type} at {$.timestamp}"}`

// Rendering on plain paths allocates nothing once dst has grown: the
// engine renders every delivery. gjson unescapes every string it
// returns, so a value read that holds escapes (the company below, with
// its \"AE\") costs that copy, one allocation, although the body
// copies its raw bytes.
func TestOutboundAllocations(t *testing.T) {
	escaped := []byte(leadEvent)
	plain := []byte(strings.Replace(leadEvent, `\"AE\" `, "", 1))
	body := mustBody(t, slackBody)
	u := mustURL(t, "https://crm.example.com/accounts/{$.data.account.region}/{$.data.profile.email}?score={$.data.lead.score}")
	flt := mustFilter(t, `{"all":[{"path":"$.type","equals":"lead.won"},{"path":"$.data.lead.score","gte":80}]}`)
	dst := make([]byte, 0, 1024)
	f := func(what string, want float64, fn func() error) {
		t.Helper()
		n := testing.AllocsPerRun(100, func() {
			if err := fn(); err != nil {
				t.Fatal(err)
			}
		})
		if n != want {
			t.Fatalf("%s: %v allocations, want %v", what, n, want)
		}
	}
	f("Body.Render", 0, func() (err error) { dst, err = body.Render(dst[:0], plain); return err })
	f("Body.Render, escaped value", 1, func() (err error) { dst, err = body.Render(dst[:0], escaped); return err })
	f("URL.Render", 0, func() (err error) { dst, err = u.Render(dst[:0], escaped); return err })
	f("Filter.Match", 0, func() error {
		ok, err := flt.Match(escaped)
		if !ok && err == nil {
			err = errors.New("no match")
		}
		return err
	})
}
