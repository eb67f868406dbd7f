package wal

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestKindsDistinct: every key kind is its own byte. Two kinds sharing
// one would read, prune and range-delete each other's keys (a tenant's
// deletion would take another kind's keys that start with its name).
func TestKindsDistinct(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	decl := regexp.MustCompile(`\b(kind[A-Z]\w*)\s*=\s*'(.)'`)
	seen := map[string]string{}
	for _, f := range files {
		if filepath.Ext(f) != ".go" || len(f) > 8 && f[len(f)-8:] == "_test.go" {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
			if other, ok := seen[m[2]]; ok {
				t.Errorf("%s and %s are both kind %q", other, m[1], m[2])
			}
			seen[m[2]] = m[1]
		}
	}
	if len(seen) < 20 {
		t.Fatalf("found only %d kinds: %v", len(seen), seen)
	}
}
