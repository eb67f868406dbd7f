package engine

import (
	"cmp"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"
)

const (
	tenantAttemptsMetric = `hookline_tenant_delivery_attempts_total`
	// tenantOther is the label of the tenants without a series of their own.
	// A tenant ID cannot start with "_", so no tenant can be mistaken for it.
	tenantOther = "_other"
	// DefaultTenantSeries is how many tenants get their own series unless
	// Options.TenantSeries says otherwise; MaxTenantSeries bounds the option.
	DefaultTenantSeries = 20
	MaxTenantSeries     = 1000
)

// tenantMetrics counts delivery attempts by outcome per tenant with a
// bounded number of series: at most n tenants are "labelled" (have series of
// their own); the attempts of the others go to tenant="_other".
//
// Every series is a true counter: an attempt is counted, once, in its tenant's
// series if the tenant is labelled at that moment, else in _other, and
// neither is ever moved back. Who is labelled is decided at each scrape
// (rank): the n tenants with the most attempts recently, with the current
// ones kept on a tie, so an idle labelled tenant keeps its series until a
// busier one takes its place. A tenant that loses its place loses its series
// (Prometheus marks it stale) and keeps its counts: they go on from there if
// it comes back. Until n tenants are labelled a tenant is labelled at its
// first attempt, so with n tenants or fewer _other stays at 0.
//
// The hot path is a sync.Map load and two atomic adds; the ranking walks
// every tenant seen since start, once per scrape.
type tenantMetrics struct {
	n       int
	tenants sync.Map // tenant ID -> *tenantCounts
	other   [outcomeCount]atomic.Uint64

	mu       sync.Mutex // serialises rank and new tenants
	labelled int        // tenants labelled now
}

type tenantCounts struct {
	id       string
	labelled atomic.Bool
	recent   atomic.Uint64 // attempts since the last rank
	outcomes [outcomeCount]atomic.Uint64
	score    float64 // recent volume, halved at each rank; under mu
}

func newTenantMetrics(n int) *tenantMetrics { return &tenantMetrics{n: n} }

// count records one attempt of tenant's that ended in o.
func (t *tenantMetrics) count(tenant string, o outcome) {
	v, ok := t.tenants.Load(tenant)
	if !ok {
		v = t.add(tenant)
	}
	tc := v.(*tenantCounts)
	tc.recent.Add(1)
	if tc.labelled.Load() {
		tc.outcomes[o].Add(1)
	} else {
		t.other[o].Add(1)
	}
}

// add makes the entry of a tenant seen for the first time, labelled while
// there is room.
func (t *tenantMetrics) add(tenant string) *tenantCounts {
	t.mu.Lock()
	defer t.mu.Unlock()
	if v, ok := t.tenants.Load(tenant); ok {
		return v.(*tenantCounts)
	}
	tc := &tenantCounts{id: tenant}
	if t.labelled < t.n {
		tc.labelled.Store(true)
		t.labelled++
	}
	t.tenants.Store(tenant, tc)
	return tc
}

// forget drops a deleted tenant's series and frees its place.
func (t *tenantMetrics) forget(tenant string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if v, ok := t.tenants.LoadAndDelete(tenant); ok && v.(*tenantCounts).labelled.Load() {
		t.labelled--
	}
}

// busierFirst orders by score, highest first; on a tie the labelled tenant
// first (no churn without a reason), then by ID.
func busierFirst(a, b *tenantCounts) int {
	if c := cmp.Compare(b.score, a.score); c != 0 {
		return c
	}
	if al, bl := a.labelled.Load(), b.labelled.Load(); al != bl {
		if al {
			return -1
		}
		return 1
	}
	return strings.Compare(a.id, b.id)
}

// rank decides who is labelled from the attempts since the last rank, and
// returns the labelled tenants by ID. Called with mu held.
func (t *tenantMetrics) rank() []*tenantCounts {
	var all []*tenantCounts
	t.tenants.Range(func(_, v any) bool {
		tc := v.(*tenantCounts)
		tc.score = tc.score/2 + float64(tc.recent.Swap(0))
		all = append(all, tc)
		return true
	})
	slices.SortFunc(all, busierFirst)
	top := all[:min(t.n, len(all))]
	// Unlabel first, then label: the count of labelled stays at most n.
	for _, tc := range all[len(top):] {
		tc.labelled.Store(false)
	}
	for _, tc := range top {
		tc.labelled.Store(true)
	}
	t.labelled = len(top)
	return slices.SortedFunc(slices.Values(top), func(a, b *tenantCounts) int { return strings.Compare(a.id, b.id) })
}

// write writes the series of the labelled tenants and _other, each with
// every outcome, in the Prometheus text format.
func (t *tenantMetrics) write(w io.Writer) {
	t.mu.Lock()
	top := t.rank()
	t.mu.Unlock()
	var buf []byte
	for _, tc := range top {
		buf = appendTenantAttempts(buf, tc.id, &tc.outcomes)
	}
	buf = appendTenantAttempts(buf, tenantOther, &t.other)
	metrics.WriteMetadataIfNeeded(w, tenantAttemptsMetric, "counter")
	_, _ = w.Write(buf)
}

func appendTenantAttempts(dst []byte, tenant string, counts *[outcomeCount]atomic.Uint64) []byte {
	for o, on := range outcomeNames {
		dst = append(dst, tenantAttemptsMetric+`{tenant="`...)
		dst = append(dst, tenant...)
		dst = append(dst, `",outcome="`...)
		dst = append(dst, on...)
		dst = append(dst, `"} `...)
		dst = strconv.AppendUint(dst, counts[o].Load(), 10)
		dst = append(dst, '\n')
	}
	return dst
}
