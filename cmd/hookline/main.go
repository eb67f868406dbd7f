// Command hookline is the webhook engine's single binary: `serve` runs the
// server, `sink` a receiver that prints and verifies deliveries, `bench` the
// load test, `keys rotate-master` re-encrypts the stored secrets under a new
// master key (keys.go), and the other sub-commands are clients of the
// server's HTTP API: the resources (cli_resources.go; a source's request
// log in cli_requests.go, endpoint previews in cli_preview.go), publish
// and stats (cli_publish.go), listen (cli_listen.go), docs (cli_docs.go), the
// delivery log, replay and jobs (client.go, jobs.go). This package parses
// flags, wires the packages together in serve.go and talks to the API; it
// holds no engine logic.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

const version = "0.1.0-dev"

const usage = `hookline %s: self-hosted webhook engine

Usage:
  hookline serve [flags]   run the server (hookline serve -h for flags)
  hookline sink  [flags]   run a receiver that prints and verifies deliveries
  hookline bench [flags]   load-test: spawn a server, sink and publishers; print a table
  hookline tenants|endpoints|sources|event-types create|list|get|update|delete [flags]
  hookline api-keys|portal-sessions create|list|get|delete [flags]
                           manage the API's resources; --data-json or -f FILE
                           give a whole body, field flags set common fields
  hookline endpoints pause|resume|rotate-secret|test --tenant T --id ep_...
  hookline sources rotate-secret|test --tenant T --id src_... [--data-json '{...}']
                           an endpoint's or a source's actions (endpoints test
                           exits 1 unless its test delivery succeeded)
  hookline endpoints preview --tenant T [--id ep_...] (--event-id evt_... | --type X [--payload '{...}'])
                           the request an endpoint (with --id) or a draft made of
                           the field flags would send for an event; sends nothing
  hookline sources requests|request|replay-request --tenant T --id src_... [--request req_...]
                           a source's request log, one logged request, or its
                           replay through the current mapping
  hookline audit list [--tenant T]
                           the audit log, newest first
  hookline publish --tenant T --type X --payload '{...}'
  hookline publish --tenant T --file F.ndjson (or NDJSON on stdin)
                           publish one event, or a batch
  hookline stats --tenant T [--window 24h]
                           the tenant's delivery statistics
  hookline listen --tenant T --forward-to http://localhost:3000/hook [--events 'invoice.*']
                           a temporary endpoint that prints each delivery and
                           forwards it to a local receiver (the server needs
                           --allow-net 127.0.0.0/8)
  hookline docs events --tenant T [--out FILE]
                           Markdown reference of the tenant's event types
  hookline deliveries list|get [flags]
                           an endpoint's delivery log (NDJSON or CSV; without
                           --endpoint, every endpoint's), or one delivery
  hookline events get [flags]
                           an event with its payload and its deliveries
  hookline replay|cancel --event evt_... [flags]
                           replay one delivery, or cancel its pending retry
  hookline replay|backfill|cancel [--status S] [--type T] [--since T] [--until T] [--rate N] [--wait]
                           a job over an endpoint's deliveries: replay them, send a
                           new endpoint the events it missed, cancel pending retries
  hookline jobs list|get|stop [flags]
                           the tenant's jobs and their progress
  hookline endpoints health [flags]
                           an endpoint's delivery health over 1h, 24h and 7d
  hookline keys rotate-master [--data DIR] [--secret-key-file FILE]
                           re-encrypt every stored secret under a new master key
                           (stop the server first)
  hookline completion bash|zsh
                           a shell completion script (source it)
  hookline version         print the version

API commands share --server (host:port or URL, default 127.0.0.1:8080),
--token (else $HOOKLINE_TOKEN, $HOOKLINE_ADMIN_TOKEN, or <data>/admin.token
with --data, default ./data) and -o table|json|yaml (table on a terminal,
else json). Every command and verb takes -h.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintf(os.Stderr, usage, version)
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	// `hookline <cmd> -h` before any verb: the command's lines of usage;
	// a command without verbs shows its flags itself.
	if len(args) > 0 && isHelpArg(args[0]) && len(completionVerbs()[cmd]) > 0 {
		fmt.Print(commandUsage(cmd))
		return
	}
	var err error
	switch cmd {
	case "serve":
		err = runServe(args)
	case "sink":
		err = runSink(args)
	case "bench":
		err = runBench(args)
	case "deliveries":
		err = runDeliveries(args, os.Stdout)
	case "events":
		err = runEvents(args, os.Stdout)
	case "replay", "backfill", "cancel":
		err = runJobCommand(cmd, args, os.Stdout, os.Stderr)
	case "jobs":
		err = runJobs(args, os.Stdout, os.Stderr)
	case "endpoints":
		if len(args) > 0 && args[0] == "health" {
			err = runEndpoints(args, os.Stdout)
		} else {
			err = runResource(findResource(cmd), args, os.Stdout)
		}
	case "tenants", "sources", "event-types", "api-keys", "portal-sessions":
		err = runResource(findResource(cmd), args, os.Stdout)
	case "publish":
		err = runPublish(args, os.Stdin, os.Stdout)
	case "stats":
		err = runStats(args, os.Stdout)
	case "listen":
		err = runListen(args, os.Stdout, os.Stderr)
	case "docs":
		err = runDocs(args, os.Stdout)
	case "completion":
		err = runCompletion(args, os.Stdout)
	case "audit":
		err = runAudit(args, os.Stdout)
	case "keys":
		err = runKeys(args, os.Stdout)
	case "version", "--version", "-v":
		fmt.Println("hookline", version)
	case "help", "-h", "--help":
		fmt.Printf(usage, version)
	default:
		fmt.Fprintf(os.Stderr, "hookline: unknown command %q\n\n"+usage, cmd, version)
		os.Exit(2)
	}
	if errors.Is(err, flag.ErrHelp) {
		return // the flag set printed the verb's flags
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hookline:", err)
		os.Exit(1)
	}
}

func isHelpArg(s string) bool {
	return s == "-h" || s == "--help" || s == "-help" || s == "help"
}

// commandUsage is the part of the usage text about cmd.
func commandUsage(cmd string) string {
	var b strings.Builder
	in := false
	for _, line := range strings.Split(usage, "\n") {
		if strings.HasPrefix(line, "  hookline ") {
			words := strings.Fields(line)
			in = len(words) > 1 && containsWord(words[1], cmd)
		} else if !strings.HasPrefix(line, "    ") {
			in = false
		}
		if in {
			b.WriteString(line + "\n")
		}
	}
	if b.Len() == 0 {
		return fmt.Sprintf(usage, version)
	}
	return "Usage:\n" + b.String() + "\n(hookline " + cmd + " <verb> -h lists a verb's flags)\n"
}

// containsWord reports whether cmd is one of the |-separated names in w.
func containsWord(w, cmd string) bool {
	for _, p := range strings.Split(w, "|") {
		if p == cmd {
			return true
		}
	}
	return false
}
