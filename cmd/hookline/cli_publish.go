package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
)

// runPublish: `hookline publish`. With --type and --payload it publishes
// one event (POST /events); with --file, or NDJSON on stdin when neither
// is given, it sends the lines as one batch (POST /events/batch), which the
// server takes whole or not at all.
func runPublish(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("publish", flag.ContinueOnError)
	var a apiFlags
	a.register(fs)
	typ := fs.String("type", "", "event type (one event)")
	payload := fs.String("payload", "", "the event's payload, a JSON value (one event)")
	key := fs.String("idempotency-key", "", "the event's idempotency key (one event)")
	file := fs.String("file", "", `NDJSON file of events, one {"type":...,"payload":...} per line (- for stdin)`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := a.check(); err != nil {
		return err
	}
	var raw json.RawMessage
	if *typ != "" || *payload != "" {
		if *file != "" {
			return errors.New("give --type and --payload for one event, or --file for a batch, not both")
		}
		ev, err := eventFlags(*typ, *payload)
		if err != nil {
			return err
		}
		if *key != "" {
			ev["idempotency_key"] = *key
		}
		if err := a.call("POST", a.tenantPath()+"/events", nil, ev, &raw); err != nil {
			return err
		}
		return render(stdout, a.output, raw, nil)
	}
	var body []byte
	var err error
	if *file == "" || *file == "-" {
		body, err = io.ReadAll(stdin)
	} else {
		body, err = readInput(*file)
	}
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return errors.New("nothing to publish: give --type and --payload, --file, or NDJSON on stdin")
	}
	if err := a.send("POST", a.tenantPath()+"/events/batch", nil, "application/x-ndjson", body, &raw); err != nil {
		return err
	}
	return render(stdout, a.output, raw, nil)
}

// eventFlags is the event of --type and --payload: {"type", "payload"},
// the payload {} when not given.
func eventFlags(typ, payload string) (map[string]any, error) {
	if typ == "" {
		return nil, errors.New("--type is required with --payload")
	}
	if payload == "" {
		payload = "{}"
	}
	if !json.Valid([]byte(payload)) {
		return nil, fmt.Errorf("--payload is not JSON: %q", payload)
	}
	return map[string]any{"type": typ, "payload": json.RawMessage(payload)}, nil
}

// runStats: `hookline stats`.
func runStats(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("stats", flag.ContinueOnError)
	var a apiFlags
	a.register(fs)
	window := fs.String("window", "", "the window: 1h, 24h or 7d (default the server's, 24h)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := a.check(); err != nil {
		return err
	}
	q := url.Values{}
	if *window != "" {
		q.Set("window", *window)
	}
	var raw json.RawMessage
	if err := a.get(a.tenantPath()+"/stats", q, &raw); err != nil {
		return err
	}
	if a.output == "table" {
		return renderStatsTable(stdout, raw)
	}
	return render(stdout, a.output, raw, nil)
}

// renderStatsTable prints the totals, then one row per endpoint.
func renderStatsTable(w io.Writer, raw json.RawMessage) error {
	var s struct {
		Total     json.RawMessage `json:"total"`
		Endpoints json.RawMessage `json:"endpoints"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return err
	}
	if err := render(w, "table", s.Total, nil); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if len(s.Endpoints) == 0 {
		return nil
	}
	return render(w, "table", s.Endpoints, []string{"endpoint_id", "url", "sent", "first_attempt_success_rate", "retried", "dead"})
}
