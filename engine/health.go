package engine

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"hookline/wal"
)

// Endpoint health: attempts, successes, failures by kind and p50/p95
// latency over the last hour, day and week, and the deliveries behind the
// attempts (started, retried, dead) that tenant stats (stats.go) sum over
// a tenant's endpoints. How it works:
//  1. Each attempt is counted in its lane's current 10-minute bucket
//     (laneHealth.record): one short lock, no allocation.
//  2. Every healthFlushEvery, and at Stop, the flusher recomputes each hour
//     that has changed buckets from the buckets of that hour and writes it
//     to the wal (h <endpoint> <hour>), so a crash loses at most that
//     interval. An hour is whole in memory until 10 minutes after it ends
//     (healthSlots buckets), long after its last flush is due.
//  3. The 1 h window is the buckets that started within the last hour:
//     the last 50 to 60 minutes. The 24 h and 7 d windows are the hours
//     that started within them, from the wal, with the hours still whole
//     in memory taken from there instead (memory is never behind the wal).
//  4. After a restart the hour in progress is partly on disk: it is read
//     back once (laneHealth.base) and added to what the buckets gather, so
//     the next flush does not overwrite it with the newer part only. The 1 h
//     window starts empty after a restart.
//  5. Hours older than healthKeepHours are deleted by the flusher once an
//     hour; deleting an endpoint deletes its hours.

const (
	healthSlotSecs = 600
	slotsPerHour   = 3600 / healthSlotSecs
	// healthSlots is an hour of buckets plus one, so the buckets of an hour
	// are all kept until 10 minutes after it ends.
	healthSlots      = slotsPerHour + 1
	healthFlushEvery = 30 * time.Second
	healthKeepHours  = 8 * 24
	slotMs           = healthSlotSecs * 1000
	hourMs           = 3600 * 1000
)

// laneHealth is one endpoint's recent health. Its buckets exist only while
// the endpoint has attempts (or dead letters): 7 × 96 bytes (a 704-byte allocation), about
// 7.1 MiB for 10,000 endpoints all delivering within the last hour (see
// TestLaneHealthMemory), and nothing for idle ones.
// mu is a leaf lock (see the package comment).
type laneHealth struct {
	mu   sync.Mutex
	ring *[healthSlots]healthSlot // bucket num at num % healthSlots; nil when idle
	// samples counts the responses, for latHist's sampling.
	samples uint32
	// base is the endpoint's hour in progress at engine start as the wal
	// had it (nil when it had none), once baseLoaded.
	base       *healthAgg
	baseLoaded bool
}

// record counts one attempt that ended at t: the delivery's attempt-th,
// which ended in outcome (wal.OutcomeSuccess, OutcomeRetry or OutcomeDead).
// Latency counts only when a response came: a refused connection's
// microseconds would make a dead endpoint look fast, and a timeout's
// latency is the timeout setting. A first attempt (a replayed delivery's
// come later; a backfill's is one) starts a delivery: it counts in first,
// and in firstOk or retried by how it ended.
func (h *laneHealth) record(t time.Time, status int, class string, latency time.Duration, attempt int, outcome byte) {
	ms := t.UnixMilli()
	if ms <= 0 {
		return
	}
	num := uint32(ms / slotMs)
	into := uint32(ms-int64(num)*slotMs) + 1
	ok := outcome == wal.OutcomeSuccess
	var key uint16
	if !ok {
		key = failKey(status, class)
	}
	bin := -1
	if status != 0 {
		bin = latBin(latency)
	}
	h.mu.Lock()
	s := h.slotLocked(num)
	s.attempts++
	if ok {
		s.succeeded++
		s.lastOk = max(s.lastOk, into)
	} else {
		s.lastFail = max(s.lastFail, into)
		s.addFailure(key)
	}
	if attempt == 1 {
		s.first++
		switch outcome {
		case wal.OutcomeSuccess:
			s.firstOk++
		case wal.OutcomeRetry:
			s.retried++
		}
	}
	if outcome == wal.OutcomeDead {
		s.dead++
	}
	if bin >= 0 {
		h.samples++
		s.lat.add(bin, h.samples)
	}
	h.mu.Unlock()
}

// recordDead counts a delivery dead-lettered at t without an attempt
// sent: its event was unreadable or past retention, or its request could
// not be rendered. It is no attempt, so it counts in dead only.
func (h *laneHealth) recordDead(t time.Time) {
	ms := t.UnixMilli()
	if ms <= 0 {
		return
	}
	h.mu.Lock()
	h.slotLocked(uint32(ms/slotMs)).dead++
	h.mu.Unlock()
}

// slotLocked is bucket num, made current and marked dirty.
func (h *laneHealth) slotLocked(num uint32) *healthSlot {
	if h.ring == nil {
		// Once per endpoint, and again after an idle hour.
		h.ring = new([healthSlots]healthSlot)
	}
	s := &h.ring[num%healthSlots]
	if s.num != num {
		// It held the bucket of 70 minutes ago, whose hour was flushed
		// long since (see healthSlots).
		*s = healthSlot{num: num}
	}
	s.dirty = true
	return s
}

// lastHour sums the buckets of the health API's 1h window at now: the
// ones that started within the hour before it.
func (h *laneHealth) lastHour(now time.Time) hourStats {
	nowMs := now.UnixMilli()
	starts, _ := windowStarts(nowMs)
	from := starts[spanHour]
	cur := uint32(nowMs / slotMs)
	var st hourStats
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ring == nil {
		return st
	}
	for i := range h.ring {
		if s := &h.ring[i]; live(s.num, cur) && s.num >= from {
			st.Attempts += uint64(s.attempts)
			st.Failed += uint64(s.attempts - s.succeeded)
		}
	}
	return st
}

// healthState is the engine's side of endpoint health: the clock (a
// test's, or time.Now) and the flusher goroutine.
type healthState struct {
	now       func() time.Time
	startHour uint32 // the hour in progress at New
	flusher   ticker
	// prunedHour is the hour of the last pass deleting old hours; owned by
	// the flusher goroutine, then by Stop.
	prunedHour uint32
}

func (e *Engine) startHealth() {
	hs := &e.health
	hs.now = e.opts.now
	if hs.now == nil {
		hs.now = time.Now
	}
	hs.startHour = uint32(hs.now().UnixMilli() / hourMs)
	hs.flusher.start(healthFlushEvery, func() { e.flushHealth(hs.now()) })
}

// stopHealth stops the flusher and flushes once more; the lanes have
// stopped, so nothing is left out.
func (e *Engine) stopHealth() {
	e.health.flusher.stop()
	e.flushHealth(e.health.now())
}

// flushLane is one hour of one lane, computed for writing.
type flushLane struct {
	ln   *Lane
	hour uint32
}

// flushHealth writes every hour whose buckets changed since the last flush,
// endpoints' and tenants' published counts (published.go), and once an
// hour deletes the hours past keeping.
func (e *Engine) flushHealth(now time.Time) {
	cur := uint32(now.UnixMilli() / slotMs)
	var recs []wal.HealthHour
	var which []flushLane
	for _, ln := range e.allLanes() {
		recs, which = e.collectHealth(ln, cur, recs, which)
	}
	if len(recs) > 0 {
		// Under cfgMu, a lane is deleted either before (it is left out
		// here) or after (its range delete takes these records too).
		e.cfgMu.RLock()
		kept := 0
		for i := range recs {
			if e.lanes[which[i].ln.id] == which[i].ln {
				recs[kept], which[kept] = recs[i], which[i]
				kept++
			}
		}
		err := e.log.PutHealth(recs[:kept])
		e.cfgMu.RUnlock()
		if err != nil {
			if !errors.Is(err, wal.ErrClosed) {
				e.logger.Error("cannot store endpoint health", "err", err)
			}
			for _, w := range which[:kept] {
				w.ln.health.markDirty(w.hour)
			}
		}
	}
	e.flushPublished(cur)
	if hour := cur / slotsPerHour; hour != e.health.prunedHour && hour > healthKeepHours {
		e.health.prunedHour = hour
		if _, err := e.log.DeleteHealthBefore(hour - healthKeepHours); err != nil && !errors.Is(err, wal.ErrClosed) {
			e.logger.Error("cannot delete old endpoint health", "err", err)
		}
		if _, err := e.log.DeletePublishedBefore(hour - healthKeepHours); err != nil && !errors.Is(err, wal.ErrClosed) {
			e.logger.Error("cannot delete old published counts", "err", err)
		}
	}
}

func (e *Engine) allLanes() []*Lane {
	e.cfgMu.RLock()
	defer e.cfgMu.RUnlock()
	lanes := make([]*Lane, 0, len(e.lanes))
	for _, ln := range e.lanes {
		lanes = append(lanes, ln)
	}
	return lanes
}

// live reports whether bucket num is still in the ring at bucket cur: the
// ring holds the last healthSlots buckets, and any later one an attempt
// racing this clock reading has just started.
func live(num, cur uint32) bool { return num+healthSlots > cur }

// hourWhole reports whether no bucket of hour can have been dropped yet.
func hourWhole(hour, cur uint32) bool { return live(hour*slotsPerHour, cur) }

// collectHealth appends the records of ln's changed hours to recs, and
// frees the buckets of a lane idle for an hour.
func (e *Engine) collectHealth(ln *Lane, cur uint32, recs []wal.HealthHour, which []flushLane) ([]wal.HealthHour, []flushLane) {
	h := &ln.health
	start := e.health.startHour
	h.mu.Lock()
	needBase := h.ring != nil && !h.baseLoaded && h.dirtyLocked(start)
	h.mu.Unlock()
	if needBase && e.baseMatters(cur) {
		// A failure is logged; the hour then waits for the next flush.
		_ = e.loadHealthBase(ln)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ring == nil {
		return recs, which
	}
	var hours [healthSlots]uint32
	n, idle := 0, true
	for i := range h.ring {
		s := &h.ring[i]
		if live(s.num, cur) {
			idle = false
		}
		hour := s.num / slotsPerHour
		if !s.dirty || hour == start && !h.baseLoaded {
			continue
		}
		s.dirty = false
		// Hours before the start are on disk whole (this process has none
		// of their buckets); an hour no longer whole in memory would be
		// written short. Neither happens unless the clock jumps or the
		// flusher stalls for ten minutes.
		if hour < start || !hourWhole(hour, cur) || slices.Contains(hours[:n], hour) {
			continue
		}
		hours[n] = hour
		n++
	}
	for _, hour := range hours[:n] {
		var a healthAgg
		h.sumHourLocked(&a, hour, cur)
		if hour == start && h.base != nil {
			a.add(h.base)
		}
		recs = append(recs, wal.HealthHour{Endpoint: ln.id, Hour: hour, Value: a.appendRecord(nil)})
		which = append(which, flushLane{ln, hour})
	}
	if idle {
		h.ring = nil
	}
	if !e.baseMatters(cur) {
		h.base = nil
	}
	return recs, which
}

// sumHourLocked adds the buckets of hour to a.
func (h *laneHealth) sumHourLocked(a *healthAgg, hour, cur uint32) {
	for i := range h.ring {
		if s := &h.ring[i]; s.num/slotsPerHour == hour && live(s.num, cur) {
			a.addSlot(s)
		}
	}
}

func (h *laneHealth) dirtyLocked(hour uint32) bool {
	for i := range h.ring {
		if h.ring[i].dirty && h.ring[i].num/slotsPerHour == hour {
			return true
		}
	}
	return false
}

// markDirty has hour written again by the next flush, after a failed one.
func (h *laneHealth) markDirty(hour uint32) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ring == nil {
		return
	}
	for i := range h.ring {
		if h.ring[i].num/slotsPerHour == hour {
			h.ring[i].dirty = true
		}
	}
}

// baseMatters reports whether the start hour is still whole in memory, so
// its stored part must be added to its buckets.
func (e *Engine) baseMatters(cur uint32) bool { return hourWhole(e.health.startHour, cur) }

// loadHealthBase reads, once, what the wal held of the start hour. The
// flusher writes that hour only after this, so whoever reads first reads
// the hour as the previous process left it.
func (e *Engine) loadHealthBase(ln *Lane) error {
	h := &ln.health
	h.mu.Lock()
	loaded := h.baseLoaded
	h.mu.Unlock()
	if loaded {
		return nil
	}
	var base *healthAgg
	start := e.health.startHour
	err := e.log.ScanHealth(ln.id, start, start+1, func(_ uint32, val []byte) {
		a, err := decodeRecord(val)
		if err != nil {
			e.logger.Error("skipping corrupt endpoint health record", "endpoint", ln.config().ep.ID, "hour", start, "err", err)
			return
		}
		base = a
	})
	if err != nil {
		if !errors.Is(err, wal.ErrClosed) {
			e.logger.Error("cannot read endpoint health", "endpoint", ln.config().ep.ID, "err", err)
		}
		return err // not loaded: the start hour is not written until it is
	}
	h.mu.Lock()
	if !h.baseLoaded {
		h.base, h.baseLoaded = base, true
	}
	h.mu.Unlock()
	return nil
}

// EndpointHealth is an endpoint's delivery health as the API shows it.
type EndpointHealth struct {
	EndpointID    string        `json:"endpoint_id"`
	LastSuccessAt *time.Time    `json:"last_success_at"`
	LastFailureAt *time.Time    `json:"last_failure_at"`
	Windows       HealthWindows `json:"windows"`
}

// HealthWindows are the three spans an endpoint's health is shown over.
type HealthWindows struct {
	Hour HealthWindow `json:"1h"`
	Day  HealthWindow `json:"24h"`
	Week HealthWindow `json:"7d"`
}

// HealthWindow sums the attempts made since Since: whole 10-minute buckets
// for 1h, whole hours for 24h and 7d, never older than the window's name.
type HealthWindow struct {
	Since     time.Time `json:"since"`
	Attempts  uint64    `json:"attempts"`
	Succeeded uint64    `json:"succeeded"`
	Failed    uint64    `json:"failed"`
	// SuccessRate is Succeeded/Attempts, null without attempts.
	SuccessRate *float64 `json:"success_rate"`
	// LatencyMs is over the attempts that got a response.
	LatencyMs HealthLatency `json:"latency_ms"`
	// Failures counts failed attempts by HTTP status ("503") or, without
	// a response, by error class ("timeout", "refused", ...); "other" for
	// kinds past the few a 10-minute bucket tells apart.
	Failures map[string]uint64 `json:"failures"`
}

// HealthLatency is a window's response time quantiles in milliseconds,
// within 19% (see latBins); null without responses.
type HealthLatency struct {
	P50 *float64 `json:"p50"`
	P95 *float64 `json:"p95"`
}

// EndpointHealth returns the delivery health of tenant's endpoint epID.
func (e *Engine) EndpointHealth(tenant, epID string) (EndpointHealth, error) {
	e.cfgMu.RLock()
	ln, err := e.lookupLaneLocked(tenant, epID)
	e.cfgMu.RUnlock()
	if err != nil {
		return EndpointHealth{}, err
	}
	return e.endpointHealth(ln, e.health.now())
}

func (e *Engine) endpointHealth(ln *Lane, now time.Time) (EndpointHealth, error) {
	var sums healthSums
	if err := e.sumHealth(ln, now, spanWeek, &sums); err != nil {
		return EndpointHealth{}, err
	}
	w1h, w24h, w7d := &sums.w[spanHour], &sums.w[spanDay], &sums.w[spanWeek]
	out := EndpointHealth{EndpointID: ln.config().ep.ID}
	// The 1 h buckets are in the 7 d hours too, except right after a
	// restart, when the newest hours may come from the wal only.
	w7d.lastOkMs = max(w7d.lastOkMs, w1h.lastOkMs)
	w7d.lastFailMs = max(w7d.lastFailMs, w1h.lastFailMs)
	out.LastSuccessAt, out.LastFailureAt = msTime(w7d.lastOkMs), msTime(w7d.lastFailMs)
	out.Windows.Hour = w1h.window(sums.sinceMs[spanHour])
	out.Windows.Day = w24h.window(sums.sinceMs[spanDay])
	out.Windows.Week = w7d.window(sums.sinceMs[spanWeek])
	return out, nil
}

// healthSpan names a window health and stats are shown over.
type healthSpan int

const (
	spanHour healthSpan = iota // the 10-minute buckets that started within the last hour
	spanDay                    // the hours that started within the last 24 h
	spanWeek                   // the hours that started within the last 7 d
	spanCount
)

// healthSums are one endpoint's sums over each window, and where each
// window starts (unix ms). With series set (one element per bucket of the
// widest window, see seriesAdd), sumHealth adds each bucket there too.
type healthSums struct {
	w       [spanCount]healthAgg
	sinceMs [spanCount]int64
	series  []healthAgg
}

// sumHealth adds up ln's health at now over the windows up to widest;
// wider ones are left empty, so a 1 h sum reads no wal and a 24 h sum
// only a day of hours.
func (e *Engine) sumHealth(ln *Lane, now time.Time, widest healthSpan, out *healthSums) error {
	nowMs := now.UnixMilli()
	cur := uint32(nowMs / slotMs)
	from, since := windowStarts(nowMs)
	out.sinceMs = since
	from1h, from24h, from7d := from[spanHour], from[spanDay], from[spanWeek]
	fromHour := from7d
	if widest < spanWeek {
		fromHour = from24h
	}
	hours := widest > spanHour
	start := e.health.startHour
	// Hours from memFrom on are read from memory: whole there, and
	// never behind what the wal has of them.
	memFrom := max(start, (cur+slotsPerHour-healthSlots)/slotsPerHour)
	if hours && e.baseMatters(cur) {
		if err := e.loadHealthBase(ln); err != nil {
			return readError(ln, err)
		}
	}

	var ring [healthSlots]healthSlot
	h := &ln.health
	h.mu.Lock()
	if h.ring != nil {
		ring = *h.ring
	}
	base := h.base
	h.mu.Unlock()

	w := &out.w
	// Tenant stats, which sum a series, read the widest window only.
	day := widest == spanDay || out.series == nil
	addHour := func(hour uint32, a *healthAgg) {
		if hour >= from7d && widest >= spanWeek {
			w[spanWeek].add(a)
		}
		if hour >= from24h && day {
			w[spanDay].add(a)
		}
		if hour >= from[widest] {
			out.seriesAdd(hour-from[widest], a)
		}
	}
	for i := range ring {
		s := &ring[i]
		if !live(s.num, cur) {
			continue
		}
		if s.num >= from1h {
			w[spanHour].addSlot(s)
			if !hours {
				out.seriesAddSlot(s.num-from1h, s)
			}
		}
		if hour := s.num / slotsPerHour; hours && hour >= memFrom {
			var a healthAgg
			a.addSlot(s)
			addHour(hour, &a)
		}
	}
	if !hours {
		return nil
	}
	if base != nil && start >= memFrom {
		addHour(start, base)
	}
	var decodeErr error
	var a healthAgg
	err := e.log.ScanHealth(ln.id, fromHour, memFrom, func(hour uint32, val []byte) {
		if err := a.decode(val); err != nil {
			decodeErr = err
			return
		}
		addHour(hour, &a)
	})
	if err != nil {
		return readError(ln, err)
	}
	if decodeErr != nil {
		e.logger.Error("skipping corrupt endpoint health record", "endpoint", ln.config().ep.ID, "err", decodeErr)
	}
	return nil
}

func readError(ln *Lane, err error) error {
	if errors.Is(err, wal.ErrClosed) {
		return Unavailable("shutting_down", "the server is shutting down")
	}
	return fmt.Errorf("cannot read health of endpoint %s: %w", ln.config().ep.ID, err)
}

func (a *healthAgg) window(sinceMs int64) HealthWindow {
	w := HealthWindow{
		Since:     time.UnixMilli(sinceMs).UTC(),
		Attempts:  a.attempts,
		Succeeded: a.succeeded,
		Failed:    a.attempts - a.succeeded,
		Failures:  make(map[string]uint64, len(a.fails)),
	}
	if a.attempts > 0 {
		r := math.Round(float64(a.succeeded)/float64(a.attempts)*1e4) / 1e4
		w.SuccessRate = &r
	}
	w.LatencyMs.P50, w.LatencyMs.P95 = a.quantile(0.5), a.quantile(0.95)
	for _, f := range a.fails {
		if f.n > 0 {
			w.Failures[failKeyName(f.key)] += f.n
		}
	}
	return w
}

func msTime(ms int64) *time.Time {
	if ms <= 0 {
		return nil
	}
	t := time.UnixMilli(ms).UTC()
	return &t
}
