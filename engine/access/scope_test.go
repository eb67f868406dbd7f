package access

import "testing"

// TestScopesHas: a set holds its own scopes and, through a write scope,
// that scope's read one; nothing else.
func TestScopesHas(t *testing.T) {
	cases := []struct {
		set  Scopes
		s    Scope
		want bool
	}{
		{Scopes{EndpointsRead}, EndpointsRead, true},
		{Scopes{EndpointsWrite}, EndpointsRead, true},
		{Scopes{SourcesWrite}, SourcesRead, true},
		{Scopes{EventTypesWrite}, EventTypesRead, true},
		{Scopes{EndpointsRead}, EndpointsWrite, false},
		{Scopes{DeliveriesReplay}, DeliveriesRead, false},
		{Scopes{EndpointsWrite}, SourcesRead, false},
		{Scopes{EndpointsWrite}, DeliveriesRead, false},
		{Scopes{PortalCreate}, EndpointsRead, false},
		{nil, EndpointsRead, false},
	}
	for _, c := range cases {
		if got := c.set.Has(c.s); got != c.want {
			t.Errorf("%v.Has(%s) = %v; want %v", c.set, c.s, got, c.want)
		}
	}
	// Every write scope gives exactly its read one.
	for _, s := range AllScopes {
		for _, r := range AllScopes {
			if s != r && s.implies(r) && !(len(s) > 6 && s[len(s)-6:] == ":write" && r == s[:len(s)-6]+":read") {
				t.Errorf("%s implies %s", s, r)
			}
		}
	}
}
