// Command hookline is the webhook engine's single binary: `serve` runs the
// server, `sink` a receiver that prints and verifies deliveries, `bench` the
// load test, `keys rotate-master` re-encrypts the stored secrets under a new
// master key (keys.go), and the other sub-commands (deliveries, events, replay,
// backfill, cancel, jobs, endpoints health) are clients of the server's
// HTTP API. This package parses flags, wires the packages together in
// serve.go and talks to the API in client.go; it holds no engine logic.
package main

import (
	"fmt"
	"os"
)

const version = "0.1.0-dev"

const usage = `hookline %s: self-hosted webhook engine

Usage:
  hookline serve [flags]   run the server (hookline serve -h for flags)
  hookline sink  [flags]   run a receiver that prints and verifies deliveries
  hookline bench [flags]   load-test: spawn a server, sink and publishers; print a table
  hookline deliveries list|get [flags]
                           an endpoint's delivery log (NDJSON or CSV), or one delivery
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
  hookline version         print the version
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintf(os.Stderr, usage, version)
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
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
		err = runEndpoints(args, os.Stdout)
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
	if err != nil {
		fmt.Fprintln(os.Stderr, "hookline:", err)
		os.Exit(1)
	}
}
