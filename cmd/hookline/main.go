// Command hookline is the webhook engine's single binary: `serve` runs the
// server, `sink` runs a receiver that prints and verifies deliveries. This
// package parses flags and wires packages together; it holds no logic of its own.
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
