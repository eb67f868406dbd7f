// Package transform owns the mapping from a verified inbound request (raw
// body and headers) to an event: its type, its dedupe id and its payload;
// and, outbound, the templates an endpoint shapes its request with at
// delivery time: a body, a URL and a filter. A source's mapping is a
// Spec, compiled once (Compile) when the source is created or updated;
// Apply then runs it on each request. It imports no other project
// package: engine and engine/inbound use it, not the reverse.
//
// # Spec
//
//	{"type":    "github.{header:X-GitHub-Event}.{$.action}",
//	 "id":      "header:X-GitHub-Delivery",
//	 "payload": {"action": "$.action", "pr": {"number": "$.number"}, "raw": "$"},
//	 "routes":  [{"when": {"header": "X-GitHub-Event", "equals": "ping"}, "drop": true},
//	             {"when": {"path": "$.action", "in": ["opened", "reopened"]}, "type": "github.pr.open"}],
//	 "unmatched": "default"}
//
// A value source is a JSONPath ("$.a.b", "$.a[0]", "$['a b']", "$..id",
// "$.items[?(@.n > 1)]") or "header:Name"; a payload may also use
// "body:text", the body as one JSON string.
//
// Templates (type, and a route's type) are literal event-type text with
// {source} parts. Values are used as text: a JSON string unescaped, a
// number or boolean as written. A part that is absent, null or "" fails
// the template (mapping_failed), except when it is the last part and
// follows a dot: then the dot is dropped, so the template above gives
// "github.push" for a push, which has no action. The result must be an
// event type: 1..128 bytes of [A-Za-z0-9._:-], no leading or trailing dot.
//
// The id is optional; when its source is absent or null the event has no
// dedupe id. An object or array there fails.
//
// The payload is left out (the body itself, byte for byte) or a value
// template (shape.go), the language outbound body templates use too:
//
//   - an object: its fields in the order written, each a template; a
//     field whose source is absent is left out;
//   - an array: element by element, an absent source left out;
//   - a string starting with $: a JSONPath whose value is copied whole,
//     as raw JSON, never re-encoded; a fallback JSONPath that can match
//     many values (wildcard, filter, slice, union, ..) gives the array of
//     its matches, [] for none;
//   - "header:Name" or "body:text": the header (left out when absent or
//     empty) or the whole body, as a JSON string;
//   - any other string is text, and a string template when it holds
//     {source} parts: "PR {$.number}: {$.pull_request.title}". Each
//     value is used as text (a JSON string as the body escaped it, a
//     number or boolean as written, an object or array as its compact
//     JSON, a many-valued path as the array of its matches) and escaped
//     into the string. An absent or null value, or an absent header,
//     fails the request: text with a hole in it is nobody's intent. {{
//     and }} are literal braces, a single { must open a source and a
//     single } is refused. Text that starts with $ is written $$:
//     "$${$.price}" gives "$9.99";
//   - a number, true, false or null: copied as written.
//
// At the top the payload is a source, an object or an array; a string
// constant there is refused (most likely a JSONPath that lost its $).
// An absent top-level source fails. Objects and arrays nest 8 deep; a
// payload holds at most 100 values (fields, elements and {parts}).
//
// Routes are tried in order and the first whose "when" holds decides: its
// type, or "drop": true. With no route matching, "unmatched": "drop" drops
// the request and "default" uses "type"; left out, it is "default" when
// "type" is set and "drop" otherwise.
//
// # Conditions
//
// A test names a value, "path" (JSONPath) or "header", and exactly one of:
//
//	{"path": "$.action", "equals": "opened"}      string, number, boolean or null
//	{"path": "$.x", "in": ["a", "b", 3]}          any of 1..100 such values
//	{"path": "$.x", "exists": true}               present (null counts), or absent for false
//	{"path": "$.ref", "prefix": "refs/tags/"}     text starts with it
//	{"path": "$.ref", "matches": "^refs/heads/(main|dev)$"}   RE2, 256 bytes at most
//	{"path": "$.score", "gte": 80}                a number >= 80; also gt, lt, lte
//
// or combines tests: {"all": [...]}, {"any": [...]}, {"not": {...}}.
// Strings compare unescaped, numbers by value (1 equals 1.0); prefix and
// matches see strings, numbers and booleans as text and never match
// objects, arrays or null. gt, gte, lt and lte take a JSON number and
// hold only for a number value, compared as float64 (so beyond 2^53 two
// integers may compare equal); "80" as a string never holds. Headers are
// text: they compare with strings only (a numeric comparison on a header
// is refused), and an empty header counts as absent. A path that matches many
// values holds when any of them passes. Conditions nest 8 deep at most,
// 256 per mapping.
//
// # Evaluation
//
// JSONPaths that are plain keys and indexes compile to gjson paths and are
// read from the raw body without decoding it; each is one scan from the
// start of the body to the value, so a path whose top-level key is absent
// costs a scan of the whole body. A mapping whose types and id come from
// such paths or from headers allocates only the Type and ID strings.
// Anything beyond them (filters, wildcards, slices, unions, recursive
// descent, negative indexes) runs on an index of the body, made in one
// pass at most once per Apply (index.go, fallback.go): each fragment of
// the path steps from value to value, a filter decodes with ojg only the
// values it tests, and the matches' raw bytes come out in document
// order, each value once. A path costs at most its length times the
// values of the body, plus the bytes it decodes and matches: linear in
// the body, never a walk from the root per match. Every step is counted
// and the fallback paths of one Apply may take DefaultStepBudget steps
// (Mapping.WithStepBudget); past it Apply fails with mapping_failed
// naming the budget, and Result.Steps says what a request took. Two
// shapes whose cost no step count can see are refused at Compile: more
// than one recursive descent in a path, and a filter that reads two
// values that can each be many ([?(@.a[*] == @.b[*])], every pair). As
// in gjson, digits address array elements and object keys alike on the
// gjson paths: $.a[0] on an object selects its key "0"; a key written
// twice in an object is found at its first member. A mapping is
// immutable after Compile and safe for concurrent use.
//
// # Outbound: body templates, URL placeholders and filters
//
// An endpoint's templates read the event as an envelope the engine
// builds per delivery,
//
//	{"id":"evt_...","type":"lead.won","timestamp":"2026-11-23T10:00:00Z","data":<payload as published>}
//
// so paths read $.data.lead.email, $.type, $.id. Nothing outbound reads
// headers or a request body: header: and body:text are refused.
//
// CompileBody takes a body template in the payload's language above:
//
//	{"text": "New lead {$.data.lead.email}, score {$.data.lead.score}",
//	 "score": "$.data.lead.score",
//	 "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*{$.data.lead.company}*"}}]}
//
// Body.Render appends the JSON body to a buffer. CompileURL takes an
// endpoint URL with {$.path} placeholders in its path and query only,
// never in the scheme, userinfo, host, port or fragment. URL.Render
// percent-encodes each value, every byte but A-Z a-z 0-9 - . _ ~ (so
// "/" is %2F, "@" %40, " " %20). A URL value is text (a JSON string
// unescaped, a number or boolean as written); absent, null, an object or
// array, "" and, in the path, "." or ".." fail: no request goes to a
// half-built URL. CompileFilter takes a condition in the syntax above,
// without header tests; Filter.Match reports whether the event passes.
// Compile errors are invalid_template and render errors render_failed,
// with the rule at fault ("body.blocks[2].text", "url",
// "filter.any[0].gte") and, for render, the JSONPath in the message.
// Each render checks that the envelope is valid JSON, strings included
// (an event that is not fails), and its paths have the step budget of
// one Apply. Body.Render, URL.Render and Filter.Match allocate nothing on
// plain paths once the buffer has grown, except gjson's unescaped copy
// of a string value that holds escapes. Compiled templates are immutable
// and safe for concurrent use.
//
// # Validation and non-JSON bodies
//
// Events carry JSON payloads, in UTF-8 and without raw control characters
// in strings (what encoding/json.Valid and utf8.Valid accept together). A
// mapping that reads the body as JSON, or keeps it as the payload, checks
// the structure of the whole body (sonic, SIMD) and refuses a malformed
// one with invalid_json. The string checks cover what leaves: the whole
// body when it is the payload, else the shaped payload and a JSON id, so a
// stray control character in a field nobody maps does not refuse the
// request. A form post or other text body needs a mapping made of headers
// and a payload built from them and "body:text"; otherwise it gets
// invalid_json.
//
// # Errors
//
// Compile returns *Error with code invalid_mapping and the rule at fault
// ("routes[1].when.path"); Apply returns invalid_json or mapping_failed
// with the rule ("type", "routes[0].type", "id", "payload.customer").
// CompileBody, CompileURL and CompileFilter return invalid_template;
// Body.Render, URL.Render and Filter.Match render_failed.
package transform
