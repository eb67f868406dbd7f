package lint

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// leaves are the leaf mechanisms under internal/ that any package may use:
// they import no other project package but each other.
var leaves = []string{"internal/dashboard", "internal/rotation", "internal/seal", "internal/transform", "internal/verify"}

// allowed lists, for every project package, the project packages its
// non-test files may import. Dependencies point one way:
//
//	cmd -> httpin, bench, internal/config -> engine/inbound, engine/access
//	-> engine -> wal, httpout, engine/wheel; internal leaves anywhere.
//
// The engine core must not import its feature packages, the feature
// packages not each other, and wal and httpout nothing of the project. A
// package missing from this table fails the test: say where it belongs.
var allowed = map[string][]string{
	"configs":              nil,
	"wal":                  nil,
	"httpout":              nil,
	"engine/wheel":         nil,
	"internal/lint":        nil,
	"internal/dashboard":   nil,
	"internal/rotation":    nil,
	"internal/seal":        nil,
	"internal/transform":   nil,
	"internal/verify":      {"internal/transform"},
	"internal/testcert":    nil,     // certificates generated for tests; no product code imports it
	"internal/replicatest": {"wal"}, // runs suites on a replicated store; only tests import it
	"internal/testproxy":   nil,     // a TCP proxy tests cut; only tests import it
	"docs/examples/go":     nil,     // a receiver sample: the standard library only, so a reader can copy it out
	"engine":               append([]string{"wal", "httpout", "engine/wheel"}, leaves...),
	"engine/inbound":       append([]string{"engine", "wal", "httpout"}, leaves...),
	"engine/cluster":       {"wal"}, // the replicated log and membership (docs/cluster.md); it knows the store, not the engine, which it serves through cmd/hookline
	"engine/access":        append([]string{"engine", "wal"}, leaves...),
	"httpin":               append([]string{"engine", "engine/inbound", "engine/access", "wal", "httpout"}, leaves...),
	"bench":                append([]string{"wal", "httpout"}, leaves...),
	"internal/config":      append([]string{"configs", "engine", "engine/inbound", "engine/access", "httpin", "wal", "httpout"}, leaves...),
	"cmd/hookline":         {"*"},
}

const module = "hookline/"

// TestImports fails when a package imports a project package its row of
// allowed does not name, like Pebble's TestForbiddenImports.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}:{{join .Imports \" \"}}", module+"...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	seen := 0
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		pkg = strings.TrimPrefix(pkg, module)
		may, ok := allowed[pkg]
		if !ok {
			t.Errorf("package %s is not in the import rules: add it to allowed in %s with the packages it may import", pkg, "internal/lint/imports_test.go")
			continue
		}
		seen++
		for _, imp := range strings.Fields(imports) {
			dep, ok := strings.CutPrefix(imp, module)
			if !ok || slices.Contains(may, "*") || slices.Contains(may, dep) {
				continue
			}
			t.Errorf("%s imports %s, which it must not (allowed: %v)", pkg, dep, may)
		}
	}
	if seen < 10 {
		t.Fatalf("go list named only %d project packages:\n%s", seen, out)
	}
}

// TestImportRuleCatches checks the check: a package importing what its row
// does not name is reported.
func TestImportRuleCatches(t *testing.T) {
	f := func(pkg, dep string, want bool) {
		t.Helper()
		may := allowed[pkg]
		got := slices.Contains(may, "*") || slices.Contains(may, dep)
		if got != want {
			t.Fatalf("%s importing %s allowed = %v, want %v", pkg, dep, got, want)
		}
	}
	f("engine", "engine/inbound", false)
	f("engine", "engine/access", false)
	f("engine", "httpin", false)
	f("engine/inbound", "engine/access", false)
	f("engine/access", "engine/inbound", false)
	f("wal", "engine", false)
	f("httpout", "wal", false)
	f("internal/verify", "engine", false)
	f("httpin", "bench", false)
	f("engine", "wal", true)
	f("httpin", "engine/inbound", true)
	f("cmd/hookline", "bench", true)
}
