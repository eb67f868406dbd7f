package lint

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// logMethods are the slog.Logger methods whose arguments reach the log.
var logMethods = map[string]bool{"Debug": true, "Info": true, "Warn": true, "Error": true, "Log": true, "LogAttrs": true}

// TestLogURLsRedacted fails on a log call that passes a field named URL (an
// endpoint's, a request's) other than through httpout.RedactURL: URL queries
// often carry the receiver's token, and server logs are kept and shared.
func TestLogURLsRedacted(t *testing.T) {
	files := 0
	const root = "../.." // the module's root
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		files++
		for _, bad := range unredactedLogURLs(t, path) {
			t.Errorf("%s: a log call passes %s; wrap it in httpout.RedactURL", bad.pos, bad.expr)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("looked at only %d Go files", files)
	}
}

type logURL struct{ pos, expr string }

// unredactedLogURLs lists, in the Go file at path, the .URL selectors in the
// arguments of log calls that no RedactURL call wraps.
func unredactedLogURLs(t *testing.T, path string) []logURL {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("cannot parse %s: %v", path, err)
	}
	var out []logURL
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || !logMethods[sel.Sel.Name] {
			return true
		}
		for _, arg := range call.Args {
			ast.Inspect(arg, func(n ast.Node) bool {
				if c, ok := n.(*ast.CallExpr); ok {
					if fn, ok := c.Fun.(*ast.SelectorExpr); ok && fn.Sel.Name == "RedactURL" {
						return false
					}
				}
				if s, ok := n.(*ast.SelectorExpr); ok && strings.EqualFold(s.Sel.Name, "URL") {
					out = append(out, logURL{fset.Position(s.Pos()).String(), exprString(s)})
				}
				return true
			})
		}
		return true
	})
	return out
}

func exprString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprString(e.X) + "." + e.Sel.Name
	}
	return "…"
}

// TestLogURLRuleCatches checks the check on a file with one bad and one
// redacted call.
func TestLogURLRuleCatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.go")
	src := `package x

func f() {
	logger.Warn("endpoint disabled", "url", ep.URL)
	logger.Warn("endpoint disabled", "url", httpout.RedactURL(ep.URL))
	logger.Info("no url here", "id", ep.ID)
}
`
	if err := writeFile(path, src); err != nil {
		t.Fatal(err)
	}
	got := unredactedLogURLs(t, path)
	if len(got) != 1 || got[0].expr != "ep.URL" || !strings.HasSuffix(got[0].pos, ":4:42") {
		t.Fatalf("found %+v; want ep.URL on line 4", got)
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }
