//go:build torture

package main

import "testing"

// TestCrashTorture20 is the full crash torture of issue 4 (20 kill -9 /
// restart cycles) in each ingest durability mode; it takes about a minute,
// so `make torture` runs it rather than `make test`.
func TestCrashTorture20(t *testing.T) {
	for _, durability := range []string{"fsync", "os"} {
		t.Run(durability, func(t *testing.T) { runCrashTorture(t, 20, durability) })
	}
}
