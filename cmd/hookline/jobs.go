package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"time"
)

// jobView is the part of a job the CLI reads.
type jobView struct {
	ID       string `json:"id"`
	State    string `json:"state"`
	Progress struct {
		Scanned, Matched, Done, Skipped int64
		Position                        string
	} `json:"progress"`
	Error *struct{ Code, Message string } `json:"error"`
}

// runJobCommand: `hookline replay|backfill|cancel`. With --event, replay
// and cancel act on one delivery at once; otherwise they start a job on
// the endpoint's deliveries that the filters select, and --wait follows
// it to its end.
func runJobCommand(kind string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(kind, flag.ContinueOnError)
	var a apiFlags
	a.register(fs)
	endpoint := fs.String("endpoint", "", "endpoint id (ep_...; required)")
	event := fs.String("event", "", "one delivery's event id (evt_...) instead of a job")
	status := fs.String("status", "", "replay: dead (default), succeeded, cancelled or all")
	typ := fs.String("type", "", `event type or "prefix.*"`)
	since := fs.String("since", "", "first event time, RFC 3339 (required for backfill)")
	until := fs.String("until", "", "events before this time, RFC 3339 (default: now)")
	rate := fs.Int("rate", 0, "deliveries per second (default 100; cancel: unpaced)")
	wait := fs.Bool("wait", false, "follow the job until it ends, printing its progress")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := a.check(); err != nil {
		return err
	}
	if *endpoint == "" {
		return fmt.Errorf("--endpoint is required")
	}
	epPath := "/v1/tenants/" + url.PathEscape(a.tenant) + "/endpoints/" + url.PathEscape(*endpoint)
	if *event != "" {
		if kind == "backfill" {
			return fmt.Errorf("backfill takes no --event")
		}
		var d json.RawMessage
		if err := a.call("POST", epPath+"/deliveries/"+url.PathEscape(*event)+"/"+kind, nil, nil, &d); err != nil {
			return err
		}
		err := render(stdout, a.output, d, nil)
		return err
	}
	req := map[string]any{}
	for k, v := range map[string]string{"status": *status, "type": *typ, "since": *since, "until": *until} {
		if v != "" {
			req[k] = v
		}
	}
	if *rate != 0 {
		req["rate_per_second"] = *rate
	}
	var raw json.RawMessage
	if err := a.call("POST", epPath+"/"+kind, nil, req, &raw); err != nil {
		return err
	}
	if !*wait {
		err := render(stdout, a.output, raw, nil)
		return err
	}
	var j jobView
	if err := json.Unmarshal(raw, &j); err != nil {
		return err
	}
	return a.follow(j.ID, stdout, stderr)
}

// follow polls a job once a second until it ends, then prints it.
func (a *apiFlags) follow(id string, stdout, stderr io.Writer) error {
	path := "/v1/tenants/" + url.PathEscape(a.tenant) + "/jobs/" + url.PathEscape(id)
	for {
		var raw json.RawMessage
		if err := a.get(path, nil, &raw); err != nil {
			return err
		}
		var j jobView
		if err := json.Unmarshal(raw, &j); err != nil {
			return err
		}
		p := j.Progress
		if p.Position == "" {
			p.Position = "-"
		}
		fmt.Fprintf(stderr, "%s %s: scanned %d, matched %d, done %d, skipped %d, at %s\n", j.ID, j.State, p.Scanned, p.Matched, p.Done, p.Skipped, p.Position)
		if j.State != "running" {
			if err := render(stdout, a.output, raw, nil); err != nil {
				return err
			}
			if j.Error != nil {
				return fmt.Errorf("job %s failed: %s: %s", j.ID, j.Error.Code, j.Error.Message)
			}
			return nil
		}
		time.Sleep(time.Second)
	}
}

// runJobs: `hookline jobs list|get|stop`.
func runJobs(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "get" && args[0] != "stop") {
		return fmt.Errorf("usage: hookline jobs list|get|stop --tenant T [--job job_...] [--wait]")
	}
	fs := flag.NewFlagSet("jobs "+args[0], flag.ContinueOnError)
	var a apiFlags
	a.register(fs)
	// Each verb has only its own flags.
	id, wait := new(string), new(bool)
	if args[0] != "list" {
		fs.StringVar(id, "job", "", "job id (job_...)")
	}
	if args[0] == "get" {
		fs.BoolVar(wait, "wait", false, "follow the job until it ends")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if err := a.check(); err != nil {
		return err
	}
	path := "/v1/tenants/" + url.PathEscape(a.tenant) + "/jobs"
	if args[0] != "list" {
		if *id == "" {
			return fmt.Errorf("--job is required")
		}
		path += "/" + url.PathEscape(*id)
	}
	var raw json.RawMessage
	var err error
	switch {
	case args[0] == "get" && *wait:
		return a.follow(*id, stdout, stderr)
	case args[0] == "stop":
		err = a.call("POST", path+"/stop", nil, nil, &raw)
	default:
		err = a.get(path, nil, &raw)
	}
	if err != nil {
		return err
	}
	err = render(stdout, a.output, raw, jobColumns)
	return err
}
