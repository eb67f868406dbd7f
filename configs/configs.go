// Package configs owns hookline's shipped configuration: the documented
// default config file, embedded into the binary, which internal/config
// reads first. It imports no other hookline package.
package configs

import _ "embed"

// Default is hookline.yaml as shipped: the config `hookline serve` runs with
// when no --config is given.
//
//go:embed hookline.yaml
var Default []byte
