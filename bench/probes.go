package bench

import (
	"sync"
	"time"
)

// probeLog follows probe deliveries at the sink: the arrival of attempt 1
// and the gap to the first later attempt, which the sink answers 200.
type probeLog struct {
	mu    sync.Mutex
	want  map[string]time.Duration // accepted probe id -> its retry delay
	first map[string]time.Time     // latest attempt 1: a restart can repeat it
	fired map[string]time.Duration // first retry's arrival minus attempt 1's; <0 if attempt 1 was not seen
	// repeats counts attempts 1 of an id already seen: the delivery's retry
	// record was lost, and it started over.
	repeats int64
}

func newProbeLog() *probeLog {
	return &probeLog{want: map[string]time.Duration{}, first: map[string]time.Time{}, fired: map[string]time.Duration{}}
}

func (l *probeLog) expect(id string, delay time.Duration) {
	l.mu.Lock()
	l.want[id] = delay
	l.mu.Unlock()
}

// seen is how many probes had attempt 1, for the fill's progress line,
// which counts the long endpoints' first attempts.
func (l *probeLog) seen() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.first))
}

// see is the sink's status for a probe delivery.
func (l *probeLog) see(d *Delivery) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if d.Attempt <= 1 {
		if _, ok := l.first[d.ID]; ok {
			l.repeats++
		}
		l.first[d.ID] = d.Received
		return 503
	}
	if _, ok := l.fired[d.ID]; !ok {
		gap := time.Duration(-1)
		if t1, ok := l.first[d.ID]; ok {
			gap = d.Received.Sub(t1)
		}
		l.fired[d.ID] = gap
	}
	return 200
}

type probeSummary struct {
	expected, firstSeen, fired int64
	// A retry is due 0.9..1.1 times its delay after the answer to attempt 1
	// (jitter), so a gap outside [0.9 d, 1.1 d + 1 s] means the wheel fired
	// early, or more than a second late.
	early, late   int64
	repeats       int64
	earliestFirst time.Time
}

func (l *probeLog) summary() probeSummary {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := probeSummary{repeats: l.repeats}
	for id, d := range l.want {
		s.expected++
		if t, ok := l.first[id]; ok {
			s.firstSeen++
			if s.earliestFirst.IsZero() || t.Before(s.earliestFirst) {
				s.earliestFirst = t
			}
		}
		gap, ok := l.fired[id]
		if !ok {
			continue
		}
		s.fired++
		switch {
		case gap < 0:
		case gap < time.Duration(0.9*float64(d))-50*time.Millisecond:
			s.early++
		case gap > time.Duration(1.1*float64(d))+time.Second:
			s.late++
		}
	}
	return s
}
