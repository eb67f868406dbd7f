package engine

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"hookline/wal"
)

// Events published: how many events each tenant had accepted into its
// stream (through the API, inbound sources, and hookline's own system and
// test events; an event answered for a repeated idempotency key is no new
// one), in the buckets of endpoint health (health.go) so tenant stats show
// it over the same windows:
//  1. publish adds a batch's accepted events to the tenant's current
//     10-minute bucket with an atomic add: no lock, no allocation, one add
//     per Publish call, however many events it holds (about 10 ns with two
//     publishers on one tenant, BenchmarkPublishedAddParallel, plus a clock
//     read; BenchmarkPublishSingle/Batch100 showed no change past noise).
//  2. The health flusher writes every hour whose count changed since its
//     last write (o <tenant> <hour>), so a crash loses at most that
//     interval; the hourly pass deletes hours past healthKeepHours, and
//     deleting a tenant deletes its hours.
//  3. Windows read as health's: the 1 h window from the buckets, 24 h and
//     7 d from the wal with the hours still whole in memory taken from
//     there. After a restart the hour in progress is read back once
//     (base) and added, so the next write does not overwrite it.

// pubShift splits a bucket's word: its number (unix ms / slotMs, 24 bits,
// enough until the year 2289) above, its count (40 bits) below. One word
// lets a bucket be claimed and counted without a lock.
const (
	pubShift     = 40
	pubCountMask = 1<<pubShift - 1
)

// tenantPublished is one tenant's recent published counts.
type tenantPublished struct {
	ring [healthSlots]atomic.Uint64 // bucket num at num % healthSlots

	// mu guards base and baseLoaded; a leaf lock, never taken by publish.
	mu         sync.Mutex
	base       uint64 // the start hour's count as the wal had it, once baseLoaded
	baseLoaded bool
	// written are the counts last stored for the (at most two) hours the
	// ring holds; owned by the flusher (flushHealth's caller).
	written [2]pubHour
}

type pubHour struct {
	hour uint32
	n    uint64
}

// add counts n events accepted at t.
func (p *tenantPublished) add(t time.Time, n uint64) {
	ms := t.UnixMilli()
	if ms <= 0 || n == 0 {
		return
	}
	num := uint64(ms / slotMs)
	s := &p.ring[num%healthSlots]
	for {
		old := s.Load()
		if old>>pubShift >= num {
			// The current bucket (or, for a clock read before another's
			// claimed the slot 70 minutes on, which no real clock does, the
			// newer one: the count stays in the total).
			s.Add(n)
			return
		}
		// The slot holds the bucket of 70 minutes ago, whose hour was
		// written long since (see healthSlots): claim it.
		if s.CompareAndSwap(old, num<<pubShift|n) {
			return
		}
	}
}

// snapshot is the ring's live buckets at bucket cur: numbers and counts.
func (p *tenantPublished) snapshot(cur uint32) (nums [healthSlots]uint32, ns [healthSlots]uint64) {
	for i := range p.ring {
		v := p.ring[i].Load()
		if num := uint32(v >> pubShift); v != 0 && live(num, cur) {
			nums[i], ns[i] = num, v&pubCountMask
		}
	}
	return nums, ns
}

// loadPublishedBase reads, once, what the wal held of the start hour, as
// loadHealthBase does for an endpoint.
func (e *Engine) loadPublishedBase(tenant string, ts *tenantState) error {
	p := &ts.published
	p.mu.Lock()
	loaded := p.baseLoaded
	p.mu.Unlock()
	if loaded {
		return nil
	}
	var base uint64
	start := e.health.startHour
	if err := e.log.ScanPublished(tenant, start, start+1, func(_ uint32, n uint64) { base = n }); err != nil {
		if !errors.Is(err, wal.ErrClosed) {
			e.logger.Error("cannot read published counts", "tenant", tenant, "err", err)
		}
		return err
	}
	p.mu.Lock()
	if !p.baseLoaded {
		p.base, p.baseLoaded = base, true
	}
	p.mu.Unlock()
	return nil
}

func (p *tenantPublished) loadedBase() (uint64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.base, p.baseLoaded
}

// flushPublished writes the hours whose counts changed since they were
// last written; a failed write is tried again by the next flush.
func (e *Engine) flushPublished(cur uint32) {
	// By name: ts.t changes under cfgMu, the map's key does not.
	type named struct {
		name string
		ts   *tenantState
	}
	e.cfgMu.RLock()
	tss := make([]named, 0, len(e.tenants))
	for name, ts := range e.tenants {
		tss = append(tss, named{name, ts})
	}
	e.cfgMu.RUnlock()
	start := e.health.startHour
	var recs []wal.PublishedHour
	var which []*tenantState
	for _, nt := range tss {
		ts := nt.ts
		p := &ts.published
		nums, ns := p.snapshot(cur)
		var sums [2]pubHour // the ring spans at most two hours
		for i, num := range nums {
			if ns[i] == 0 {
				continue
			}
			hour := num / slotsPerHour
			// As collectHealth: hours before the start are on disk whole,
			// and an hour no longer whole in memory would be written short.
			if hour < start || !hourWhole(hour, cur) {
				continue
			}
			for j := range sums {
				if sums[j].n == 0 || sums[j].hour == hour {
					sums[j].hour = hour
					sums[j].n += ns[i]
					break
				}
			}
		}
		for _, h := range sums {
			if h.n == 0 {
				continue
			}
			if h.hour == start && e.baseMatters(cur) {
				if e.loadPublishedBase(nt.name, ts) != nil {
					continue // logged; the next flush tries again
				}
				base, _ := p.loadedBase()
				h.n += base
			}
			if p.wasWritten(h) {
				continue
			}
			recs = append(recs, wal.PublishedHour{Tenant: nt.name, Hour: h.hour, Count: h.n})
			which = append(which, ts)
		}
	}
	if len(recs) == 0 {
		return
	}
	// Under cfgMu, a tenant is deleted either before (it is left out here)
	// or after (its range delete takes these records too).
	e.cfgMu.RLock()
	kept := 0
	for i := range recs {
		if e.tenants[recs[i].Tenant] == which[i] {
			recs[kept], which[kept] = recs[i], which[i]
			kept++
		}
	}
	err := e.log.PutPublished(recs[:kept])
	e.cfgMu.RUnlock()
	if err != nil {
		if !errors.Is(err, wal.ErrClosed) {
			e.logger.Error("cannot store published counts", "err", err)
		}
		return
	}
	for i, r := range recs[:kept] {
		which[i].published.setWritten(pubHour{r.Hour, r.Count})
	}
}

func (p *tenantPublished) wasWritten(h pubHour) bool {
	return p.written[0] == h || p.written[1] == h
}

// setWritten records h as stored, in place of the same hour's earlier
// count or else of the older hour.
func (p *tenantPublished) setWritten(h pubHour) {
	i := 0
	if p.written[1].hour == h.hour || p.written[0].hour != h.hour && p.written[1].hour < p.written[0].hour {
		i = 1
	}
	p.written[i] = h
}

// sumPublished adds the published counts of tenant (its state ts) at now over the window span to
// series (one element per bucket of the window, see TenantStats) and
// returns their sum.
func (e *Engine) sumPublished(tenant string, ts *tenantState, now time.Time, span healthSpan, series []uint64) (uint64, error) {
	nowMs := now.UnixMilli()
	cur := uint32(nowMs / slotMs)
	from, _ := windowStarts(nowMs)
	start := e.health.startHour
	memFrom := max(start, (cur+slotsPerHour-healthSlots)/slotsPerHour)
	var total uint64
	add := func(i uint32, n uint64) {
		total += n
		series[min(int(i), len(series)-1)] += n
	}
	nums, ns := ts.published.snapshot(cur)
	for i, num := range nums {
		switch {
		case ns[i] == 0:
		case span == spanHour:
			if num >= from[spanHour] {
				add(num-from[spanHour], ns[i])
			}
		case num/slotsPerHour >= memFrom:
			add(num/slotsPerHour-from[span], ns[i])
		}
	}
	if span == spanHour {
		return total, nil
	}
	if e.baseMatters(cur) {
		if err := e.loadPublishedBase(tenant, ts); err != nil {
			return 0, publishedReadError(tenant, err)
		}
		if base, _ := ts.published.loadedBase(); base > 0 && start >= memFrom {
			add(start-from[span], base)
		}
	}
	err := e.log.ScanPublished(tenant, from[span], memFrom, func(hour uint32, n uint64) {
		add(hour-from[span], n)
	})
	if err != nil {
		return 0, publishedReadError(tenant, err)
	}
	return total, nil
}

func publishedReadError(tenant string, err error) error {
	if errors.Is(err, wal.ErrClosed) {
		return Unavailable("shutting_down", "the server is shutting down")
	}
	return fmt.Errorf("cannot read published counts of tenant %s: %w", tenant, err)
}
