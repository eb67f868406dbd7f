package engine

import (
	"fmt"

	"github.com/VictoriaMetrics/metrics"
)

// Metrics are created once and kept here so the hot path only increments.
type Metrics struct {
	set *metrics.Set

	eventsIngested   *metrics.Counter
	eventsDuplicate  *metrics.Counter
	fanoutDeliveries *metrics.Counter
	// attempts[outcome][class]
	attempts        [3][5]*metrics.Counter
	attemptDuration *metrics.Histogram
	inFlight        *metrics.Counter // used as an up/down gauge
	retriesLoaded   *metrics.Counter
}

var (
	outcomeNames = [3]string{"success", "retry", "dead"}
	classNames   = [5]string{"2xx", "3xx", "4xx", "5xx", "error"}
)

func newMetrics(set *metrics.Set) *Metrics {
	m := &Metrics{
		set:              set,
		eventsIngested:   set.NewCounter(`hookline_ingest_events_total`),
		eventsDuplicate:  set.NewCounter(`hookline_ingest_duplicate_events_total`),
		fanoutDeliveries: set.NewCounter(`hookline_ingest_deliveries_queued_total`),
		attemptDuration:  set.NewHistogram(`hookline_delivery_attempt_duration_seconds`),
		inFlight:         set.NewCounter(`hookline_delivery_in_flight_attempts`),
		retriesLoaded:    set.NewCounter(`hookline_retry_loaded_from_disk_total`),
	}
	for o, on := range outcomeNames {
		for c, cn := range classNames {
			m.attempts[o][c] = set.NewCounter(fmt.Sprintf(`hookline_delivery_attempts_total{outcome=%q,status_class=%q}`, on, cn))
		}
	}
	return m
}

func (m *Metrics) countAttempt(outcome int, class string) {
	for c, cn := range classNames {
		if cn == class {
			m.attempts[outcome][c].Inc()
			return
		}
	}
}
