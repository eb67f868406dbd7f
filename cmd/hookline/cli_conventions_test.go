package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestCLIHelp: -h and --help exit 0 for every command and every verb, and
// a verb's flags are its own.
func TestCLIHelp(t *testing.T) {
	for cmd, verbs := range completionVerbs() {
		if cmd == "completion" {
			verbs = nil // its verbs take no flags
		}
		for _, h := range []string{"-h", "--help"} {
			out, errOut, code := runCLI(t, cmd, h)
			require_True(t, code == 0, "hookline %s %s: exit %d\n%s%s", cmd, h, code, out, errOut)
			require_True(t, strings.Contains(out+errOut, "hookline") || strings.Contains(out+errOut, "-"), "hookline %s %s printed nothing", cmd, h)
			for _, v := range verbs {
				_, errOut, code := runCLI(t, cmd, v, h)
				require_True(t, code == 0, "hookline %s %s %s: exit %d\n%s", cmd, v, h, code, errOut)
			}
		}
	}
	_, errOut, code := runCLI(t, "deliveries", "get", "-h")
	require_Equal(t, code, 0)
	require_True(t, strings.Contains(errOut, "-event") && !strings.Contains(errOut, "-status"), "deliveries get flags: %s", errOut)
	_, errOut, _ = runCLI(t, "jobs", "list", "-h")
	require_True(t, !strings.Contains(errOut, "-job") && !strings.Contains(errOut, "-wait"), "jobs list flags: %s", errOut)
	_, errOut, _ = runCLI(t, "endpoints", "get", "-h")
	require_True(t, !strings.Contains(errOut, "-url") && !strings.Contains(errOut, "-data-json"), "endpoints get flags: %s", errOut)
	_, errOut, _ = runCLI(t, "listen", "-h")
	require_True(t, strings.Contains(errOut, "--allow-net 127.0.0.0/8"), "listen -h: %s", errOut)
	out, _, code := runCLI(t, "endpoints", "--help")
	require_Equal(t, code, 0)
	require_True(t, strings.Contains(out, "endpoints health"), "endpoints --help: %s", out)
}

// TestCLIToken: the token is taken from --token, $HOOKLINE_TOKEN (a tenant
// key), $HOOKLINE_ADMIN_TOKEN, or the admin.token the server saved in its
// data directory, in that order; --server takes host:port or a URL.
func TestCLIToken(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	srv := startServer(t, data) // no token given: it generates one in data/admin.token
	b, err := os.ReadFile(filepath.Join(data, "admin.token"))
	require_NoError(t, err)
	admin := strings.TrimSpace(string(b))

	// Next to the server: ./data/admin.token.
	next := cliRun{dir: dir}
	out, errOut, code := next.run(t, "tenants", "create", "--server", srv.addr, "--id", "acme")
	require_True(t, code == 0 && strings.Contains(out, `"id":"acme"`), "exit %d: %s%s", code, out, errOut)
	// --data elsewhere.
	_, errOut, code = cliRun{dir: t.TempDir()}.run(t, "tenants", "get", "--server", "http://"+srv.addr, "--data", data, "--id", "acme")
	require_True(t, code == 0, "--data: exit %d: %s", code, errOut)
	// Nowhere: says where a token comes from.
	_, errOut, code = cliRun{dir: t.TempDir()}.run(t, "tenants", "list", "--server", srv.addr)
	require_Equal(t, code, 1)
	require_True(t, strings.Contains(errOut, "no token: give --token, set $HOOKLINE_TOKEN"), "stderr %q", errOut)

	// $HOOKLINE_ADMIN_TOKEN, then $HOOKLINE_TOKEN before it.
	elsewhere := t.TempDir()
	_, errOut, code = cliRun{dir: elsewhere, env: []string{"HOOKLINE_ADMIN_TOKEN=" + admin}}.run(t, "tenants", "list", "--server", srv.addr)
	require_True(t, code == 0, "$HOOKLINE_ADMIN_TOKEN: exit %d: %s", code, errOut)
	out, _, _ = cliRun{dir: elsewhere, env: []string{"HOOKLINE_ADMIN_TOKEN=" + admin}}.run(t, "api-keys", "create", "--server", srv.addr, "--tenant", "acme", "--scopes", "endpoints:read")
	key := between(out, `"key":"`, `"`)
	require_True(t, strings.HasPrefix(key, "hlk_"), "key in %q", out)
	keyEnv := cliRun{dir: elsewhere, env: []string{"HOOKLINE_TOKEN=" + key, "HOOKLINE_ADMIN_TOKEN=" + admin}}
	out, errOut, code = keyEnv.run(t, "endpoints", "list", "--server", srv.addr, "--tenant", "acme")
	require_True(t, code == 0 && strings.Contains(out, `"data":[]`), "a key's read: exit %d: %s%s", code, out, errOut)
	_, errOut, code = keyEnv.run(t, "tenants", "list", "--server", srv.addr)
	require_Equal(t, code, 1)
	require_True(t, strings.Contains(errOut, "forbidden") && strings.Contains(errOut, "hint:"), "the key, not the admin token, was used: %q", errOut)
	// --token wins over both.
	_, errOut, code = keyEnv.run(t, "tenants", "list", "--server", srv.addr, "--token", admin)
	require_True(t, code == 0, "--token: exit %d: %s", code, errOut)

	// A server that is not there: says what to check.
	_, errOut, code = next.run(t, "tenants", "list", "--server", "127.0.0.1:1")
	require_Equal(t, code, 1)
	require_True(t, strings.Contains(errOut, "is the server running there?"), "stderr %q", errOut)
}

// between is the text of s after from and before to.
func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}

// TestCLICompletion: the bash script completes commands and verbs; the
// zsh one loads it through bashcompinit.
func TestCLICompletion(t *testing.T) {
	script := filepath.Join(t.TempDir(), "hookline.bash")
	out, _, code := runCLI(t, "completion", "bash")
	require_Equal(t, code, 0)
	require_NoError(t, os.WriteFile(script, []byte(out), 0o600))
	complete := func(words ...string) string {
		t.Helper()
		line := "source " + script + "; COMP_WORDS=(" + strings.Join(words, " ") + "); COMP_CWORD=" + strconv.Itoa(len(words)-1) + "; _hookline; echo \"${COMPREPLY[*]}\""
		b, err := exec.Command("bash", "-c", line).CombinedOutput()
		require_NoError(t, err)
		return strings.TrimSpace(string(b))
	}
	require_Equal(t, complete("hookline", "ten"), "tenants")
	require_Equal(t, complete("hookline", "event-types", "up"), "update")
	require_Equal(t, complete("hookline", "endpoints", "h"), "health")
	require_Equal(t, complete("hookline", "p"), "portal-sessions publish")
	out, _, code = runCLI(t, "completion", "zsh")
	require_Equal(t, code, 0)
	require_True(t, strings.HasPrefix(out, "#compdef hookline\n") && strings.Contains(out, "bashcompinit") && strings.Contains(out, "complete -F _hookline hookline"), "zsh: %s", out)
	_, errOut, code := runCLI(t, "completion", "fish")
	require_Equal(t, code, 1)
	require_True(t, strings.Contains(errOut, "usage: hookline completion bash|zsh"), "stderr %q", errOut)
}
