package main

import (
	"encoding/json"
	"fmt"
	"strings"
)

// errorHints say what to do about an API error code, for the codes a CLI
// user meets most; the server's message says what was wrong.
var errorHints = map[string]string{
	"missing_token":      "give --token, set $HOOKLINE_TOKEN or $HOOKLINE_ADMIN_TOKEN, or run next to the server's data directory (--data)",
	"invalid_token":      "check --token, $HOOKLINE_TOKEN and $HOOKLINE_ADMIN_TOKEN; the admin token is in <data>/admin.token",
	"forbidden":          "the token lacks the scope this needs: use the admin token or a key with that scope (`hookline api-keys create --scopes ...`)",
	"tenant_not_found":   "list the tenants with `hookline tenants list`, or create it with `hookline tenants create --id ...`",
	"endpoint_not_found": "list the tenant's endpoints with `hookline endpoints list --tenant T`",
	"source_not_found":   "list the tenant's sources with `hookline sources list --tenant T`",
	"event_not_found":    "the event may be past retention; list recent deliveries with `hookline deliveries list`",
	"request_not_found":  "list the source's logged requests with `hookline sources requests --tenant T --id src_...`",
	"job_not_found":      "list the tenant's jobs with `hookline jobs list --tenant T`",
	"invalid_json":       "check the body given with --data-json or -f: it must be one JSON object",
	"unknown_field":      "the body names a field the API does not take: see /v1/openapi.json",
	"endpoint_limit":     "the tenant is at its max_endpoints: delete an endpoint or raise it with `hookline tenants update --id T --max-endpoints N`",
	"https_required":     "give an https:// URL; plain http goes only into networks the server allow-lists (serve --allow-net)",
	"url_not_allowed":    "the server refuses this target address: start it with --allow-net covering the address (e.g. 127.0.0.0/8 for local testing)",
}

// apiError turns the server's error answer into an error naming its code,
// its message and, where known, what to do.
func apiError(status string, raw []byte) error {
	var e struct {
		Error struct{ Code, Message string }
	}
	if json.Unmarshal(raw, &e) != nil || e.Error.Code == "" {
		return fmt.Errorf("server answered %s (is --server a hookline server?)", status)
	}
	msg := fmt.Sprintf("%s: %s", e.Error.Code, e.Error.Message)
	if h := errorHints[e.Error.Code]; h != "" {
		msg += "\n  hint: " + h
	} else if strings.HasPrefix(e.Error.Code, "invalid_") || strings.HasPrefix(e.Error.Code, "missing_") {
		msg += "\n  hint: see the command's --help for its flags"
	}
	return fmt.Errorf("%s", msg)
}
