package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// The operations kit: the Grafana dashboard, the Prometheus alert rules and
// the runbook (docs/operations.md). They name metrics by hand, so a renamed
// or removed metric would leave a dashboard panel empty or an alert that
// never fires, without a word: TestOpsKit catches that.

const (
	alertsFile    = "../../configs/prometheus/alerts.yml"
	dashboardFile = "../../configs/grafana/hookline.json"
	runbookFile   = "../../docs/operations.md"
)

type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// promIdent is a metric name of hookline's, the Go runtime's or the
// process's in a PromQL expression.
var promIdent = regexp.MustCompile(`\b(?:hookline|go|process)_[a-zA-Z0-9_]*`)

// promString is a PromQL string literal: label values are not names.
var promString = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)

// promRange is what may stand between [ ]: a duration (with an optional
// subquery step) or a Grafana interval variable.
var promRange = regexp.MustCompile(`^(?:(?:\d+(?:ms|[smhdwy]))+|\$__rate_interval|\$__interval|\$__range)(?::(?:(?:\d+(?:ms|[smhdwy]))+)?)?$`)

// metricNames returns the metric names expr uses.
func metricNames(expr string) []string {
	return promIdent.FindAllString(promString.ReplaceAllString(expr, `""`), -1)
}

// checkPromQL is the syntax check made without promtool: strings closed,
// brackets balanced and nested, every range a duration, no empty
// expression. It catches a broken edit, not every PromQL error.
func checkPromQL(expr string) error {
	if strings.TrimSpace(expr) == "" {
		return fmt.Errorf("empty expression")
	}
	var stack []byte
	rangeStart := -1
	for i := 0; i < len(expr); i++ {
		switch c := expr[i]; c {
		case '"', '\'':
			m := promString.FindStringIndex(expr[i:])
			if m == nil || m[0] != 0 {
				return fmt.Errorf("unclosed string at %d", i)
			}
			i += m[1] - 1
		case '(', '{':
			stack = append(stack, c)
		case '[':
			stack = append(stack, c)
			rangeStart = i + 1
		case ')', '}', ']':
			open := map[byte]byte{')': '(', '}': '{', ']': '['}[c]
			if len(stack) == 0 || stack[len(stack)-1] != open {
				return fmt.Errorf("unbalanced %q at %d", c, i)
			}
			stack = stack[:len(stack)-1]
			if c == ']' && !promRange.MatchString(expr[rangeStart:i]) {
				return fmt.Errorf("range [%s] at %d is not a duration", expr[rangeStart:i], rangeStart)
			}
		}
	}
	if len(stack) > 0 {
		return fmt.Errorf("unclosed %q", stack)
	}
	return nil
}

// TestPromQLCheck: the fallback syntax check refuses what it promises to.
func TestPromQLCheck(t *testing.T) {
	for _, ok := range []string{
		`sum by (le) (rate(hookline_x_bucket{a=~"b|c"}[5m]))`,
		`deriv(hookline_q[15m]) > 0 and hookline_q > 1000`,
		`rate(x{y="a)"}[1d] offset 15m)`,
		`max_over_time(rate(x[$__rate_interval])[1h:1m])`,
	} {
		require_NoError(t, checkPromQL(ok))
	}
	for _, bad := range []string{``, `sum(rate(x[5m])`, `rate(x[5m)]`, `x{a="b}`, `rate(x[5 minutes])`, `x}`} {
		require_True(t, checkPromQL(bad) != nil, "%q passed the check", bad)
	}
	require_Equal(t, strings.Join(metricNames(`go_goroutines + hookline_a_total{l="hookline_not_a_name"} / process_open_fds`), ","),
		"go_goroutines,hookline_a_total,process_open_fds")
}

// dashboardExprs returns every PromQL expression in the dashboard: its
// panels' targets and its query variables.
func dashboardExprs(t *testing.T, raw []byte) []string {
	var dash struct {
		UID        string `json:"uid"`
		Templating struct {
			List []struct {
				Name  string          `json:"name"`
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []json.RawMessage `json:"panels"`
	}
	require_NoError(t, json.Unmarshal(raw, &dash))
	require_True(t, dash.UID != "", "the dashboard has no uid")
	var exprs []string
	datasourceVar := false
	for _, v := range dash.Templating.List {
		switch v.Type {
		case "datasource":
			var q string
			require_NoError(t, json.Unmarshal(v.Query, &q))
			datasourceVar = datasourceVar || q == "prometheus" && v.Name == "datasource"
		case "query":
			var q struct {
				Query string `json:"query"`
			}
			require_NoError(t, json.Unmarshal(v.Query, &q))
			inner := strings.TrimSuffix(strings.TrimPrefix(q.Query, "label_values("), ")")
			exprs = append(exprs, strings.Split(inner, ",")[0])
		}
	}
	require_True(t, datasourceVar, "the dashboard has no Prometheus data source variable named datasource")
	ids := map[int]bool{}
	for _, p := range dash.Panels {
		var panel struct {
			ID         int    `json:"id"`
			Type       string `json:"type"`
			Title      string `json:"title"`
			Datasource struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		}
		require_NoError(t, json.Unmarshal(p, &panel))
		require_True(t, !ids[panel.ID], "panel id %d twice", panel.ID)
		ids[panel.ID] = true
		if panel.Type == "row" {
			continue
		}
		require_True(t, panel.Datasource.UID == "${datasource}", "panel %q does not use the datasource variable", panel.Title)
		require_True(t, len(panel.Targets) > 0, "panel %q has no query", panel.Title)
		for _, tg := range panel.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	return exprs
}

// runbookAnchors returns the GitHub anchors of the runbook's headings.
func runbookAnchors(doc string) map[string]bool {
	anchors := map[string]bool{}
	drop := regexp.MustCompile(`[^a-z0-9 _-]`)
	for _, line := range strings.Split(doc, "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			a := drop.ReplaceAllString(strings.ToLower(strings.TrimSpace(h)), "")
			anchors[strings.ReplaceAll(a, " ", "-")] = true
		}
	}
	return anchors
}

// TestOpsKit loads the alert rules and the dashboard, checks their syntax
// (promtool for the rules when it is installed), starts the real server,
// makes traffic so the labelled series exist (a delivery, an endpoint
// with a queue, a tenant's attempts), and checks that every metric the two
// files name is on /metrics and that every alert has its runbook section.
func TestOpsKit(t *testing.T) {
	rawRules, err := os.ReadFile(alertsFile)
	require_NoError(t, err)
	var rules alertRules
	require_NoError(t, yaml.Unmarshal(rawRules, &rules))
	rawDash, err := os.ReadFile(dashboardFile)
	require_NoError(t, err)
	doc, err := os.ReadFile(runbookFile)
	require_NoError(t, err)
	anchors := runbookAnchors(string(doc))

	if promtool, err := exec.LookPath("promtool"); err == nil {
		out, err := exec.Command(promtool, "check", "rules", alertsFile).CombinedOutput()
		require_True(t, err == nil, "promtool check rules: %v\n%s", err, out)
	} else {
		t.Logf("promtool is not installed: the rules' syntax is checked by checkPromQL")
	}

	used := map[string][]string{} // metric name -> where
	seen := map[string]bool{}
	require_True(t, len(rules.Groups) > 0, "no rule groups in %s", alertsFile)
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			where := "alert " + r.Alert
			require_True(t, r.Alert != "" && !seen[r.Alert], "rule %q: no name or a name used twice", r.Alert)
			seen[r.Alert] = true
			if err := checkPromQL(r.Expr); err != nil {
				t.Errorf("%s: %v in %q", where, err, r.Expr)
			}
			if r.For != "" {
				_, err := time.ParseDuration(r.For)
				require_True(t, err == nil, "%s: for %q: %v", where, r.For, err)
			}
			require_True(t, r.Labels["severity"] != "", "%s has no severity", where)
			require_True(t, r.Annotations["summary"] != "", "%s has no summary", where)
			anchor, ok := strings.CutPrefix(r.Annotations["runbook_url"], "docs/operations.md#")
			require_True(t, ok && anchor == strings.ToLower(r.Alert), "%s: runbook_url %q; want docs/operations.md#%s", where, r.Annotations["runbook_url"], strings.ToLower(r.Alert))
			require_True(t, anchors[anchor], "%s has no section in docs/operations.md (## %s)", where, r.Alert)
			for _, n := range metricNames(r.Expr) {
				used[n] = append(used[n], where)
			}
		}
	}
	for _, alert := range []string{"HooklineQueueGrowing", "HooklineDeliveryFailureRate", "HooklineDeadLetters", "HooklineEndpointFailing24h", "HooklineIngestStopped", "HooklineDiskNearlyFull", "HooklineFsyncSlow"} {
		require_True(t, seen[alert], "no %s alert", alert)
	}
	for _, e := range dashboardExprs(t, rawDash) {
		if err := checkPromQL(e); err != nil {
			t.Errorf("dashboard: %v in %q", err, e)
		}
		for _, n := range metricNames(e) {
			used[n] = append(used[n], "dashboard")
		}
	}

	srv, a, rc := startWithEndpoint(t)
	// A paused endpoint keeps its deliveries queued: the per-endpoint depth.
	a.mustDo(t, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": rc.srv.URL + "/paused", "paused": true}, 201, nil)
	a.mustDo(t, "POST", "/v1/tenants/acme/events", map[string]any{"type": "invoice.paid", "payload": map[string]any{"n": 1}}, 202, nil)
	var page string
	waitFor(t, 30*time.Second, "the delivery counted and the paused queue shown", func() bool {
		page = scrapeMetrics(t, srv.addr)
		return metricValue(page, `hookline_tenant_delivery_attempts_total{tenant="acme",outcome="success"}`) == 1 &&
			strings.Contains(page, "\nhookline_queue_endpoint_depth_deliveries{")
	})
	names := map[string]bool{}
	for _, line := range strings.Split(page, "\n") {
		if m := seriesLine.FindStringSubmatch(line); m != nil {
			names[m[1]] = true
		}
	}
	var missing []string
	for n, where := range used {
		family := n
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(n, suffix); ok && names[base+"_count"] {
				family = base
			}
		}
		if !names[family] && !names[family+"_count"] {
			missing = append(missing, fmt.Sprintf("%s (%s)", n, strings.Join(where, ", ")))
		}
	}
	sort.Strings(missing)
	require_True(t, len(missing) == 0, "metrics named but not on /metrics:\n%s", strings.Join(missing, "\n"))
	require_True(t, len(used) >= 25, "only %d metrics named: the extraction is broken", len(used))
	srv.stop()
}
