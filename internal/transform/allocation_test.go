package transform

import "testing"

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
