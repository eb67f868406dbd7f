package transform

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/ohler55/ojg/jp"
	"github.com/tidwall/gjson"
)

// match is one value a path found: where it starts in the body, and its
// bytes.
type match struct {
	at  int
	raw string
}

func (m match) String() string { return fmt.Sprintf("%d:%s", m.at, m.raw) }

func offsetIn(raw string, r gjson.Result) int {
	return int(uintptr(unsafe.Pointer(unsafe.StringData(r.Raw))) - uintptr(unsafe.Pointer(unsafe.StringData(raw))))
}

// fallbackMatches runs a fallback path with the evaluator of fallback.go.
func fallbackMatches(body []byte, p *jsonPath) ([]match, int64, error) {
	d := newDoc(body, 1<<40)
	var ms []match
	err := d.each(p, func(raw string) bool {
		ms = append(ms, match{offsetIn(d.raw, gjson.Result{Raw: raw}), raw})
		return true
	})
	d.release()
	return ms, d.steps, err
}

// locateMatches is how this package evaluated fallback paths before
// issue 12, kept as the reference: ojg's Locate on the decoded body, then
// a walk from the root for each match (so quadratic), sorted into
// document order. Unlike fallback.go it can give a value twice ($[0,0]);
// the copies are dropped here.
func locateMatches(body []byte, x jp.Expr) (ms []match, err error) {
	raw := strings.Trim(string(body), " \t\r\n")
	tree, err := decode(raw)
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	root := gjson.Parse(raw)
	for _, loc := range x.Locate(tree, 0) {
		if r := walk(root, loc[1:]); r.Exists() {
			ms = append(ms, match{offsetIn(raw, r), r.Raw})
		}
	}
	slices.SortFunc(ms, func(a, b match) int { return a.at - b.at })
	return slices.Compact(ms), nil
}

// dupKeys reports whether an object of body has a key twice: there the
// reference's decoded tree keeps one member and fallback.go sees both.
func dupKeys(body []byte) bool {
	var ix index
	if !ix.build(strings.Trim(string(body), " \t\r\n")) {
		return false
	}
	for id := range ix.nodes {
		if ix.nodes[id].kind != '{' {
			continue
		}
		seen := map[string]bool{}
		for c := int32(id) + 1; c < ix.nodes[id].after; c = ix.nodes[c].after {
			k := gjson.Parse(`"` + ix.rawKey(c) + `"`).Str
			if seen[k] {
				return true
			}
			seen[k] = true
		}
	}
	return false
}

// compareWithLocate checks fallback.go against the reference on one body
// and path; it skips what the two are allowed to differ on.
func compareWithLocate(t *testing.T, body []byte, src string) {
	t.Helper()
	p, err := compilePath(src)
	if err != nil || p.mode != modeFallback || !validJSON(body) || dupKeys(body) {
		return
	}
	want, werr := locateMatches(body, p.x)
	got, _, gerr := fallbackMatches(body, &p)
	if werr != nil {
		// ojg panicked (a slice of an empty array, a filter on odd
		// data): the new evaluator may fail too or find nothing.
		return
	}
	if gerr != nil {
		t.Fatalf("%s on %s: %v; Locate found %v", src, body, gerr, want)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s on %s:\n got %v\nwant %v (ojg Locate)", src, body, got, want)
	}
}

var fallbackBodies = []string{
	`{"a":[1,{"b":2,"x":"y"},[3,4]],"b":[true,null],"k}":"v","type":"q","id":7}`,
	`{"x":[0,1,2,3,4,5,6,7,8,9]}`,
	`{"x":[]}`,
	` [ {"n": 1, "tags": ["a","b"]}, {"n": 5, "tags": []}, {"n": "5"}, 7, [ {"n": 2} ] ] `,
	`{"a":{"b":{"a":{"b":1}},"c":[{"a":2},{"b":{"a":[3,{"a":4}]}}]},"a b":{"é":"\u00e9","q\"k":1}}`,
	`{"s":"x\\\"]}[{","t":["\\\\",{"u":"\""}],"":{"":[{"":0}]}}`,
	`{"items":[{"id":1,"price":9.5,"sku":"a"},{"id":2,"price":10,"sku":"b"},{"id":3,"price":1e3,"sku":null}]}`,
	`[[[[[[1]]]]],[[2]],3]`,
	`"just a string"`,
	`12.5e3`,
}

var fallbackPaths = []string{
	"$[*]", "$.*", "$.a[*]", "$.a[*].b", "$.a[*][*]", "$.x[*]", "$..a", "$..b", "$..*", "$..[0]", "$..[-1]",
	"$..a.b", "$..a[*]", "$..['a','b']", "$.a[-1]", "$.a[-2][0]", "$.x[-11]", "$.x[9]",
	"$.x[1:3]", "$.x[:]", "$.x[::2]", "$.x[1::3]", "$.x[-3:]", "$.x[:-7]", "$.x[::-1]", "$.x[8:2:-2]",
	"$.x[-2:-9:-3]", "$.x[5:100]", "$.x[100:]", "$.x[:100:-1]", "$.x[3:3]", "$.x[20::-1]", "$.x[-20:3:-1]",
	"$.x[2,0,2,-1,40]", "$['a','b','a','zz']", "$[0,0,-1]", "$.a[0,'b']",
	"$.items[?(@.price > 9)].id", "$.items[?(@.sku == 'b')]", "$.items[?(@.sku)]", "$..[?(@.n > 1)]",
	"$..[?(@.a)]", "$..a[?(@ > 2)]", "$[?(@.n == 5)].tags[*]", "$[?(@.tags[*] == 'b')]",
	"$.a[?(@.b == 2)].x", "$[''][''][*]", "$..['']", "$.t[*].u", "$['a b'].*", "$.a..a", "$..*.a",
	"$.a[?(@ > 0)]", "$[*][?(@.n)]", "$..c[?(@.a == 2)]",
}

func TestFallbackMatchesLocate(t *testing.T) {
	for _, b := range fallbackBodies {
		for _, p := range fallbackPaths {
			compareWithLocate(t, []byte(b), p)
		}
	}
	for _, name := range []string{"github/pull_request_opened.json", "stripe/invoice.paid.json", "slack/event_callback_message.json"} {
		body := readFixture(t, name)
		for _, p := range []string{"$..login", "$..id", "$.pull_request.labels[*].name", "$..labels[?(@.default == false)].name",
			"$..[?(@.type == 'User')].login", "$.data.object.lines.data[*].amount", "$..*", "$..[-1]", "$.event.blocks[*].elements[0]"} {
			compareWithLocate(t, body, p)
		}
	}
}

// The reference differs on purpose where a key is written twice: each
// member is its own value, and a key picks its first member, as gjson
// does.
func TestFallbackDuplicateKeys(t *testing.T) {
	f := func(body, src, want string) {
		t.Helper()
		p, err := compilePath(src)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := fallbackMatches([]byte(body), &p)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		var raws []string
		for _, m := range got {
			raws = append(raws, m.raw)
		}
		requireEqual(t, src+" on "+body, strings.Join(raws, " "), want)
	}
	body := `{"a":[{"k":1,"k":5},{"k":7}],"a":2}`
	f(body, "$..k", "1 7")
	f(body, "$..*.k", "1 7")
	f(body, "$.a[*].*", "1 5 7")
	f(body, "$.*", `[{"k":1,"k":5},{"k":7}] 2`)
	f(body, "$['a'][*]", `{"k":1,"k":5} {"k":7}`)
	f(body, "$.a[?(@.k > 4)]", `{"k":1,"k":5} {"k":7}`)
	f(body, "$.a[0][?(@ > 4)]", "5")
	f(body, "$..[?(@ == 5)]", "5")
	f(body, "$..[?(@.k == 1)]", "")
}

// Steps grow with the body, not with its square, whatever the shape of
// the path; and each step of a path costs the nodes it looks at.
func TestFallbackStepsLinear(t *testing.T) {
	f := func(spec string, body func(n int) []byte) {
		t.Helper()
		m := mustParse(t, spec)
		var per []float64
		for _, n := range []int{1 << 10, 1 << 13, 1 << 16} {
			b := body(n)
			var r Result
			if _, err := m.Apply(b, nil, &r, nil); err != nil {
				t.Fatalf("%s on %d bytes: %v", spec, len(b), err)
			}
			if r.Steps == 0 {
				t.Fatalf("%s: no steps counted", spec)
			}
			per = append(per, float64(r.Steps)/float64(len(b)))
		}
		// From 1 KB to 64 KB the steps per byte may not grow more than
		// the noise of the bodies' edges: a quadratic evaluator's would
		// grow 64 times.
		t.Logf("%s: steps per byte %.3f at 1 KB, %.3f at 8 KB, %.3f at 64 KB", spec, per[0], per[1], per[2])
		if per[2] > per[0]*1.25 || per[2] > 16 {
			t.Fatalf("%s: steps per byte %.3f at 1 KB, %.3f at 8 KB, %.3f at 64 KB", spec, per[0], per[1], per[2])
		}
	}
	nested := func(n int) []byte { // [{"a":{"a":...{"b":1}...}},...], 100 deep
		one := strings.Repeat(`{"a":`, 100) + `{"b":1}` + strings.Repeat(`}`, 100)
		return []byte("[" + strings.Repeat(one+",", n/len(one)) + one + "]")
	}
	objects := func(n int) []byte {
		var b strings.Builder
		b.WriteString(`{"items":[`)
		for i := 0; b.Len() < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":%d,"tags":["x","y"],"sub":{"id":%d,"ok":%t}}`, i, i*7, i%3 == 0)
		}
		b.WriteString(`]}`)
		return []byte(b.String())
	}
	f(`{"type":"t","payload":{"items":"$.x[*]"}}`, arrayBody)
	f(`{"type":"t","payload":{"last":"$.x[-1]","some":"$.x[10:20]","u":"$.x[1,-2]"}}`, arrayBody)
	f(`{"type":"t","payload":{"ids":"$..id","all":"$.items[*].sub.ok"}}`, objects)
	f(`{"type":"t","payload":{"ok":"$.items[?(@.sub.ok == true)].id","deep":"$..[?(@.ok)].id"}}`, objects)
	f(`{"type":"t","routes":[{"when":{"path":"$..tags[*]","equals":"z"},"type":"u"}]}`, objects)
	f(`{"type":"t","payload":{"b":"$..b","one":"$..[?(@.b == 1)]","a":"$..a[?(@.b)]"}}`, nested)
}

// A mapping that would take more than its budget fails with
// mapping_failed naming the budget, having spent about the budget.
func TestFallbackBudget(t *testing.T) {
	body := arrayBody(1 << 20)
	f := func(spec, rule string, budget int64) {
		t.Helper()
		m := mustParse(t, spec).WithStepBudget(budget)
		var r Result
		_, err := m.Apply(body, nil, &r, nil)
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeMappingFailed || !strings.HasPrefix(e.Rule, rule) {
			t.Fatalf("%s: want mapping_failed at %s, got %v", spec, rule, err)
		}
		if !strings.Contains(e.Message, fmt.Sprintf("over the budget of %d steps", budget)) {
			t.Fatalf("%s: message %q does not name the budget", spec, e.Message)
		}
		// It stops at the first count past the budget: a step of a
		// path may count a value's children at once, or a match's
		// bytes, never more.
		if r.Steps <= budget || r.Steps > budget+int64(len(body)) {
			t.Fatalf("%s: stopped after %d steps, budget %d", spec, r.Steps, budget)
		}
	}
	// 100 fields each copying the whole array would build a 100 MiB payload.
	var fields []string
	for i := range 100 {
		fields = append(fields, fmt.Sprintf(`"f%d":"$.x[*]"`, i))
	}
	f(`{"type":"t","payload":{`+strings.Join(fields, ",")+`}}`, "payload.f", DefaultStepBudget)
	f(`{"type":"t","payload":{"items":"$.x[*]"}}`, "payload.items", 1000)
	f(`{"type":"t","routes":[{"when":{"path":"$..[?(@ > 998)]","exists":true},"type":"u"}]}`, "routes[0].when", 100000)
	f(`{"type":"{$.x[-1]}"}`, "type", 10)

	// Within the budget the same mapping works, and says what it cost.
	m := mustParse(t, `{"type":"t","payload":{"items":"$.x[*]"}}`)
	r := apply(t, m, body, nil)
	if r.Steps < int64(len(body)) || r.Steps > 2*int64(len(body)) {
		t.Fatalf("$.x[*] on %d bytes: %d steps", len(body), r.Steps)
	}
}

// Deep nesting makes "$..*" match values inside values: its output, not
// its search, grows with depth times size, and the budget bounds it.
// (Bodies nest 4,096 deep at most: sonic refuses deeper ones.)
func TestFallbackBudgetNested(t *testing.T) {
	one := strings.Repeat("[", 4000) + strings.Repeat("]", 4000)
	body := []byte("[" + one + "," + one + "]")
	m := mustParse(t, `{"type":"t","payload":{"all":"$..*"}}`)
	var r Result
	_, err := m.Apply(body, nil, &r, nil)
	e := requireCode(t, err, CodeMappingFailed, "payload.all")
	if !strings.Contains(e.Message, "budget") || r.Steps > DefaultStepBudget+int64(len(body)) {
		t.Fatalf("got %q after %d steps", e.Message, r.Steps)
	}
}

// A filter that compares two many-valued paths would try every pair for
// each candidate, which no step count sees; it is refused at compile.
func TestFilterCrossProductRefused(t *testing.T) {
	bad := []string{"$.x[?(@.a[*] == @.b[*])]", "$.x[?(@.a[*] == 1 && @.b[0:2] == 2)]", "$.x[?(@.c[?(@..a == @.b[*])])]",
		"$.x[?(length(@.a[*]) == @.b[*])]"}
	for _, src := range bad {
		if _, err := compilePath(src); err == nil || !strings.Contains(err.Error(), "at most one value that matches many") {
			t.Fatalf("%s: want refused, got %v", src, err)
		}
	}
	good := []string{"$.x[?(@.a[*] == 1)]", "$.x[?(@.a)]", "$.x[?(!@.a)]", "$.x[?(@.b[?(@.c == 1)])]",
		"$.x[?(count(@.a[*]) > 1 && @.b[*] == 2)]", "$.x[?(@.a == 'x' || @.b > 2)]", "$.x[?(@.a =~ /^x/)]"}
	for _, src := range good {
		if _, err := compilePath(src); err != nil {
			t.Fatalf("%s: %v", src, err)
		}
	}
	var e *Error
	_, _, err := ParseSpec([]byte(`{"type":"t","payload":{"x":"$.x[?(@.a[*] == @.b[*])]"}}`))
	if !errors.As(err, &e) || e.Code != CodeInvalidMapping || e.Rule != "payload.x" {
		t.Fatalf("want invalid_mapping at payload.x, got %v", err)
	}
}

func FuzzFallback(f *testing.F) {
	for _, b := range fallbackBodies {
		for _, p := range []string{"$..*", "$..[?(@.n > 1)]", "$.x[1:3]", "$['a','b'][*]"} {
			f.Add([]byte(b), p)
		}
	}
	for _, p := range fallbackPaths {
		f.Add([]byte(fallbackBodies[0]), p)
	}
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		if len(body) > 4096 {
			return
		}
		compareWithLocate(t, body, path)
	})
}
