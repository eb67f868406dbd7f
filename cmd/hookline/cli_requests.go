package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
)

// `hookline sources requests|request|replay-request`: a source's request
// log (every request its URL received, accepted or not) and the replay of
// a logged request through the source's current mapping.

// requestVerbs are the sources verbs over its request log.
var requestVerbs = []string{"requests", "request", "replay-request"}

// requestColumns are the columns of `hookline sources requests -o table`.
var requestColumns = []string{"id", "at", "outcome", "status", "event_id", "code"}

func runSourceRequests(verb string, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("sources "+verb, flag.ContinueOnError)
	var a apiFlags
	a.register(fs)
	id := fs.String("id", "", "source id (src_..., required)")
	var request *string
	var limit *int
	if verb == "requests" {
		limit = fs.Int("limit", 100, "most requests to print, newest first; 0 for all (follows cursors)")
	} else {
		request = fs.String("request", "", "logged request id (req_..., required; sources requests lists them)")
	}
	if err := parseAPIFlags(fs, &a, args); err != nil {
		return err
	}
	if *id == "" {
		return fmt.Errorf("--id is required (the source's id, src_...)")
	}
	base := a.tenantPath() + "/sources/" + url.PathEscape(*id) + "/requests"
	var raw json.RawMessage
	var err error
	switch {
	case verb == "requests":
		if *limit < 0 {
			return fmt.Errorf("--limit %d: give 0 (all) or more", *limit)
		}
		if raw, err = listAll(&a, base, *limit); err != nil {
			return err
		}
		return render(stdout, a.output, raw, requestColumns)
	case *request == "":
		return fmt.Errorf("--request is required (req_...; `hookline sources requests --tenant %s --id %s` lists them)", a.tenant, *id)
	case verb == "request":
		err = a.get(base+"/"+url.PathEscape(*request), nil, &raw)
	default: // replay-request
		err = a.call("POST", base+"/"+url.PathEscape(*request)+"/replay", nil, nil, &raw)
	}
	if err != nil {
		return err
	}
	if err := render(stdout, a.output, raw, nil); err != nil {
		return err
	}
	if verb == "replay-request" {
		return replayFailure(raw)
	}
	return nil
}

// replayFailure is the error of a replay the source refused again (the
// API answers 200 with the outcome), so that a script's replay fails.
func replayFailure(raw json.RawMessage) error {
	var res struct{ Outcome, Message string }
	if err := json.Unmarshal(raw, &res); err != nil {
		return err
	}
	if res.Outcome != "rejected" {
		return nil
	}
	return fmt.Errorf("replay rejected: %s", res.Message)
}
