package main

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// completionVerbs are the verbs each command takes; the flags are left to
// -h (they differ per verb).
func completionVerbs() map[string][]string {
	m := map[string][]string{
		"deliveries": {"list", "get"},
		"events":     {"get"},
		"jobs":       {"list", "get", "stop"},
		"keys":       {"rotate-master"},
		"docs":       {"events"},
		"completion": {"bash", "zsh"},
		"audit":      {"list"},
	}
	for _, r := range resources {
		m[r.name] = append([]string(nil), r.verbs...)
	}
	m["endpoints"] = append(m["endpoints"], "health")
	for _, c := range []string{"serve", "sink", "bench", "publish", "stats", "listen", "replay", "backfill", "cancel", "version", "help"} {
		m[c] = nil
	}
	return m
}

// runCompletion: `hookline completion bash|zsh` prints a script to source.
func runCompletion(args []string, stdout io.Writer) error {
	if len(args) != 1 || (args[0] != "bash" && args[0] != "zsh") {
		return errors.New("usage: hookline completion bash|zsh (then: source <(hookline completion bash))")
	}
	verbs := completionVerbs()
	cmds := make([]string, 0, len(verbs))
	for c := range verbs {
		cmds = append(cmds, c)
	}
	sort.Strings(cmds)
	var cases strings.Builder
	for _, c := range cmds {
		if len(verbs[c]) > 0 {
			fmt.Fprintf(&cases, "    %s) words=%q ;;\n", c, strings.Join(verbs[c], " "))
		}
	}
	body := fmt.Sprintf(`_hookline() {
  local cur words
  cur="${COMP_WORDS[COMP_CWORD]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    words=%q
  elif [ "$COMP_CWORD" -eq 2 ]; then
    case "${COMP_WORDS[1]}" in
%s    *) words="" ;;
    esac
  else
    words="--server --token --tenant --data -o -h"
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
`, strings.Join(cmds, " "), cases.String())
	if args[0] == "zsh" {
		// zsh runs bash completion functions through bashcompinit.
		_, err := fmt.Fprintf(stdout, "#compdef hookline\nautoload -U +X bashcompinit && bashcompinit\n%scomplete -F _hookline hookline\n", body)
		return err
	}
	_, err := fmt.Fprintf(stdout, "# bash completion for hookline: source <(hookline completion bash)\n%scomplete -F _hookline hookline\n", body)
	return err
}
