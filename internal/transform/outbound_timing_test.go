package transform

import "testing"

// The engine renders on every delivery attempt: these are per attempt.

func BenchmarkBodyRender(b *testing.B) {
	event := []byte(leadEvent)
	body := mustBody(b, slackBody)
	var dst []byte
	b.SetBytes(int64(len(event)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if dst, err = body.Render(dst[:0], event); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkURLRender(b *testing.B) {
	event := []byte(leadEvent)
	u := mustURL(b, "https://crm.example.com/accounts/{$.data.account.id}/subscribers/{$.data.profile.email}?score={$.data.lead.score}")
	var dst []byte
	b.SetBytes(int64(len(event)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if dst, err = u.Render(dst[:0], event); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFilterMatch(b *testing.B) {
	event := []byte(leadEvent)
	f := mustFilter(b, `{"all":[{"path":"$.type","in":["lead.won","lead.created"]},{"path":"$.data.lead.score","gte":80}]}`)
	b.SetBytes(int64(len(event)))
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := f.Match(event); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
