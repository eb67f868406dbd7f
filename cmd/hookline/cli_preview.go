package main

import (
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/url"
)

// runPreview: `hookline endpoints preview`, the request an endpoint would
// send for an event, sending nothing. With --id it is that endpoint's
// (POST …/endpoints/{id}/preview), the field flags or --data-json a draft
// of changes not saved; without, it is the request of an endpoint not yet
// created from the field flags (POST …/endpoint-preview), creating nothing.
// The event is a stored one (--event-id) or one not published (--type,
// --payload).
func runPreview(r *resource, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("endpoints preview", flag.ContinueOnError)
	var a apiFlags
	a.register(fs)
	id := fs.String("id", "", "the endpoint (ep_...); without it, a draft endpoint made of the field flags")
	eventID := fs.String("event-id", "", "a stored event to render (evt_...; the token needs deliveries:read)")
	typ := fs.String("type", "", "type of an event to render that was not published")
	payload := fs.String("payload", "", "that event's payload, a JSON value (default {})")
	dataJSON := fs.String("data-json", "", "the draft endpoint's fields as a JSON object (as create, or with --id update, takes them); field flags are set on top")
	file := fs.String("f", "", "read the draft endpoint's fields from this file (- for stdin)")
	values, bools := fieldFlags(fs, r)
	if err := parseAPIFlags(fs, &a, args); err != nil {
		return err
	}
	body := map[string]any{}
	switch {
	case *eventID != "" && (*typ != "" || *payload != ""):
		return errors.New("give --event-id for a stored event, or --type and --payload for another, not both")
	case *eventID != "":
		body["event_id"] = *eventID
	case *typ == "" && *payload == "":
		return errors.New("give the event to render: --event-id evt_... or --type X [--payload '{...}']")
	default:
		ev, err := eventFlags(*typ, *payload)
		if err != nil {
			return err
		}
		body["event"] = ev
	}
	draft, err := requestBody(fs, r, *dataJSON, *file, values, bools)
	if err != nil {
		return err
	}
	path := a.tenantPath() + "/endpoints/" + url.PathEscape(*id) + "/preview"
	if *id == "" {
		if len(draft) == 0 {
			return errors.New("give --id ep_... to preview an endpoint, or a draft's fields (--url ... or --data-json) to preview one not yet created")
		}
		path = a.tenantPath() + "/endpoint-preview"
	}
	if len(draft) > 0 {
		body["endpoint"] = draft
	}
	var raw json.RawMessage
	if err := a.call("POST", path, nil, body, &raw); err != nil {
		return err
	}
	return render(stdout, a.output, raw, nil)
}
