package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"hookline/bench"
)

func runBench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var o bench.Options
	fs.StringVar(&o.Scenario, "scenario", "all", "scenarios to run: all ("+strings.Join(bench.Scenarios, ", ")+"), or a comma-separated list of those and "+strings.Join(bench.ExtraScenarios, ", "))
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "publishing time of each measured phase")
	fs.IntVar(&o.PayloadBytes, "payload", 600, "payload bytes per event")
	fs.IntVar(&o.Publishers, "publishers", 256, "concurrent single-event publishers (group commit needs many requests in flight to fill an fsync)")
	fs.IntVar(&o.BatchPublishers, "batch-publishers", 4, "concurrent batch publishers")
	fs.IntVar(&o.BatchSize, "batch", 100, "events per batch")
	fs.IntVar(&o.Fanout, "fanout", 100, "endpoints per event in the fanout scenario")
	fs.IntVar(&o.Endpoints, "endpoints", 10000, "endpoints in the many-endpoints scenario")
	fs.DurationVar(&o.SlowDelay, "slow-delay", 10*time.Second, "answer delay of the slow endpoint")
	fs.Int64Var(&o.MaxBacklog, "max-backlog", 20000, "pause publishers while more deliveries than this are outstanding")
	fs.DurationVar(&o.DrainTimeout, "drain-timeout", 60*time.Second, "how long to wait for deliveries after publishing")
	fs.IntVar(&o.Retries, "retries", 1000000, "pending retries the retry-backlog scenario builds up")
	fs.IntVar(&o.BurstEvents, "burst-events", 200000, "burst: events published at once, then drained (1000000 for the 1M variant)")
	fs.DurationVar(&o.ProbeDelay, "probe-delay", 20*time.Second, "retry-backlog: probe retries wait 1x-2x this (3x across the restart)")
	fs.StringVar(&o.HeapProfile, "heap-profile", "", "retry-backlog: save the server's heap profile at the full backlog to this file (and FILE.restart after the restart)")
	fs.StringVar(&o.Durability, "durability", "", "ingest durability of the spawned servers: fsync (the default) or os")
	fs.StringVar(&o.Target, "target", "", "run against this server (host:port) instead of spawning one; it must --allow-net 127.0.0.0/8")
	fs.StringVar(&o.Token, "token", "", "admin token of the --target server")
	out := fs.String("out", "", "also write the results as JSON to this file")
	quiet := fs.Bool("quiet", false, "no progress line")
	markdown := fs.Bool("markdown", false, "print the results as a Markdown table (for bench/RESULTS.md)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench takes no arguments; got %q", fs.Args())
	}
	if o.Target == "" {
		bin, err := os.Executable()
		if err != nil {
			return fmt.Errorf("cannot find the hookline binary to spawn: %w", err)
		}
		o.ServerBinary = bin
	}
	if !*quiet {
		o.Progress = os.Stderr
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()

	started := time.Now()
	results, err := bench.Run(ctx, o)
	if len(results) > 0 {
		write := bench.WriteTable
		if *markdown {
			write = bench.WriteMarkdown
		}
		if werr := write(os.Stdout, results); werr != nil && err == nil {
			err = werr
		}
	}
	if *out != "" && len(results) > 0 {
		rep := &bench.Report{
			Started: started,
			Command: "hookline " + strings.Join(append([]string{"bench"}, args...), " "),
			Machine: bench.ReadMachine(),
			Options: o,
			Results: results,
		}
		f, ferr := os.Create(*out)
		if ferr != nil {
			return fmt.Errorf("cannot write results: %w", ferr)
		}
		if werr := bench.WriteJSON(f, rep); werr != nil && err == nil {
			err = werr
		}
		if cerr := f.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	return err
}
