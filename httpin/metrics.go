package httpin

import (
	"fmt"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

type routeID int

const (
	routeOther routeID = iota
	routeHealth
	routeMetrics
	routeTenants
	routeTenant
	routeEndpoints
	routeEndpoint
	routePublish
	routePublishBatch
	routeDeliveries
	routeEndpointTest
	routeAudit
	routeEventTypes
	routeJobs
	routeEndpointHealth
	routeFeed
	routeInbound
	routeSources
	routeStats
	routeDashboard
	routeCount
)

var routeNames = [routeCount]string{"other", "health", "metrics", "tenants", "tenant", "endpoints", "endpoint", "publish", "publish_batch", "deliveries", "endpoint_test", "audit", "event_types", "jobs", "endpoint_health", "feed", "inbound", "sources", "stats", "dashboard"}

// durationBuckets are the request duration histogram's upper bounds
// (seconds). A publish waits for its group commit's fsync: typically a few
// milliseconds on local SSDs.
var durationBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// serverMetrics are created once; a request only looks its route's up by index.
type serverMetrics struct {
	duration [routeCount]*metrics.PrometheusHistogram
	requests [routeCount][6]*metrics.Counter // by status class 0 (unknown) and 1xx..5xx
	// bodiesRefused counts requests answered 503 server_busy because the
	// bodies in flight had spent Options.MaxBodyBytesInFlight.
	bodiesRefused *metrics.Counter
}

func newServerMetrics(set *metrics.Set) *serverMetrics {
	m := &serverMetrics{bodiesRefused: set.NewCounter(`hookline_http_body_budget_refused_total`)}
	for r, name := range routeNames {
		m.duration[r] = set.NewPrometheusHistogramExt(fmt.Sprintf(`hookline_http_request_duration_seconds{route=%q}`, name), durationBuckets)
		for c := 1; c <= 5; c++ {
			m.requests[r][c] = set.NewCounter(fmt.Sprintf(`hookline_http_requests_total{route=%q,status_class="%dxx"}`, name, c))
		}
	}
	return m
}

func (m *serverMetrics) observe(r routeID, status int, start time.Time) {
	m.duration[r].UpdateDuration(start)
	if c := status / 100; c >= 1 && c <= 5 {
		m.requests[r][c].Inc()
	}
}
