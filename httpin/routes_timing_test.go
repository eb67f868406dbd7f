package httpin

import "testing"

// BenchmarkRouterMatch is the route table's share of a request: the match
// and the method's row.
func BenchmarkRouterMatch(b *testing.B) {
	f := func(name, method, path string) {
		b.Run(name, func(b *testing.B) {
			m := []byte(method)
			b.ReportAllocs()
			for b.Loop() {
				pr, _ := routes.match(path)
				if pr == nil || pr.find(m) == nil {
					b.Fatal("no match")
				}
			}
		})
	}
	f("publish", "POST", "/v1/tenants/acme/events")
	f("batch", "POST", "/v1/tenants/acme/events/batch")
	f("replay", "POST", "/v1/tenants/acme/endpoints/ep_01JZ/deliveries/evt_01JZ/replay")
	f("inbound", "POST", "/in/src_01JZ")
}
