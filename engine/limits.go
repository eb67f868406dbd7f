package engine

// Bounds on API input.

import "hookline/internal/transform"

const (
	maxTenantIDLen = 64
	// MaxNameLen bounds a name (tenant, source, API key).
	MaxNameLen        = 200
	maxDescriptionLen = 1000
	maxEventTypes     = 100
	maxTypeLen        = transform.MaxTypeLen
	maxInFlightLimit  = 1000
	maxRateLimit      = 100000
)

// MaxPageLimit bounds the rows of one page of a log listing: deliveries,
// inbound requests, audit records.
const MaxPageLimit = 1000

// CheckPageLimit refuses a page size outside 1..MaxPageLimit.
func CheckPageLimit(limit int) error {
	if limit < 1 || limit > MaxPageLimit {
		return Invalid("invalid_limit", "limit is %d; it must be 1-%d", limit, MaxPageLimit)
	}
	return nil
}
