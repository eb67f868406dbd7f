package transform

import (
	"strconv"
	"testing"
)

// The pull_request fixture is 28 KB; the brief asks for 50,000 mappings
// a second on one core, i.e. at most 20 µs an op.
func benchmarkApply(b *testing.B, spec string) {
	body := readFixture(b, "github/pull_request_opened.json")
	h := headers("X-GitHub-Event", "pull_request", "X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	m := mustParse(b, spec)
	var r Result
	var buf []byte
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = m.Apply(body, h, &r, buf); err != nil {
			b.Fatal(err)
		}
	}
	if r.Type != "github.pull_request.opened" {
		b.Fatalf("type %q", r.Type)
	}
}

func BenchmarkApplyGitHubDefault(b *testing.B) {
	benchmarkApply(b, githubSpec)
}

const githubFiveFields = `{"type":"github.{header:X-GitHub-Event}.{$.action}","id":"header:X-GitHub-Delivery",
	"payload":{"number":"$.number","title":"$.pull_request.title","user":"$.pull_request.user.login",
	"repo":"$.repository.full_name","head":"$.pull_request.head.sha"}}`

func BenchmarkApplyGitHubFiveFields(b *testing.B) {
	benchmarkApply(b, githubFiveFields)
}

func BenchmarkApplyGitHubRoutes(b *testing.B) {
	benchmarkApply(b, `{"type":"github.{header:X-GitHub-Event}.{$.action}","routes":[
		{"when":{"header":"X-GitHub-Event","equals":"ping"},"drop":true},
		{"when":{"all":[{"header":"X-GitHub-Event","equals":"push"},{"path":"$.ref","prefix":"refs/tags/"}]},"type":"tag"},
		{"when":{"path":"$.pull_request.draft","equals":true},"type":"draft"}]}`)
}

// The fallback decodes the whole body with ojg: the price of a filter.
func BenchmarkApplyGitHubFilter(b *testing.B) {
	benchmarkApply(b, `{"type":"github.{header:X-GitHub-Event}.{$.action}","id":"header:X-GitHub-Delivery",
		"payload":{"number":"$.number","bugs":"$.pull_request.labels[?(@.name == 'bug')].id"}}`)
}

// The share of validation in every mapping that reads JSON.
func BenchmarkValidJSON(b *testing.B) {
	body := readFixture(b, "github/pull_request_opened.json")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if !validJSON(body) {
			b.Fatal("invalid")
		}
	}
}

// arrayBody is {"x":[0,1,...]} of about size bytes: the largest number
// of values per byte a realistic body has, so the most matches for $.x[*].
func arrayBody(size int) []byte {
	b := append(make([]byte, 0, size+8), `{"x":[`...)
	for i := 0; len(b) < size-8; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(i%1000), 10)
	}
	return append(b, "]}"...)
}

// A fallback path over a big array: its cost must grow with the body,
// not with its square (issue 12: 83 s of CPU for $.x[*] on 128 KB).
func BenchmarkApplyFallbackArray(b *testing.B) {
	m := mustParse(b, `{"type":"t","payload":{"items":"$.x[*]"}}`)
	for _, size := range []int{128 << 10, 512 << 10, 1 << 20} {
		body := arrayBody(size)
		b.Run(strconv.Itoa(size>>10)+"KB", func(b *testing.B) {
			var r Result
			var buf []byte
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = m.Apply(body, nil, &r, buf); err != nil {
					b.Fatal(err)
				}
			}
			if len(r.Payload) < len(body)-16 {
				b.Fatalf("payload of %d bytes for a body of %d", len(r.Payload), len(body))
			}
		})
	}
}
