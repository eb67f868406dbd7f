package engine

import "hookline/internal/transform"

const (
	maxTenantIDLen    = 64
	maxNameLen        = 200
	maxDescriptionLen = 1000
	maxEventTypes     = 100
	maxTypeLen        = transform.MaxTypeLen
	maxInFlightLimit  = 1000
	maxRateLimit      = 100000
)
