package engine

import (
	"strings"

	"hookline/wal"
)

// ID prefixes: IDs are shown as prefix + ULID so their kind is readable.
const (
	eventPrefix    = "evt_"
	endpointPrefix = "ep_"
)

// FormatEventID returns the API form of an event ID.
func FormatEventID(id wal.ID) string { return eventPrefix + id.String() }

// ParseEndpointID parses the API form of an endpoint ID.
func ParseEndpointID(s string) (wal.ID, bool) { return ParsePrefixedID(s, endpointPrefix) }

// ParsePrefixedID parses an API ID: prefix + ULID.
func ParsePrefixedID(s, prefix string) (wal.ID, bool) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return wal.ID{}, false
	}
	id, err := wal.ParseID(rest)
	return id, err == nil
}

// ParseEventID parses the API form of an event ID.
func ParseEventID(s string) (wal.ID, bool) { return ParsePrefixedID(s, eventPrefix) }
