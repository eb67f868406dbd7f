package httpin_test

// Inbound sources over HTTP: the management API under
// /v1/tenants/{t}/sources and the receiver POST /in/{source id}, driven
// as a provider and an operator would, against a real server and a real
// endpoint receiver on 127.0.0.1.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	stripewebhook "github.com/stripe/stripe-go/v85/webhook"

	"hookline/engine"
	"hookline/httpin"
	"hookline/wal"
)

const sourcesPath = "/v1/tenants/acme/sources"

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require_NoError(tb, err)
	return b
}

// waitRequests returns the requests ts got once there are at least n.
func waitRequests(tb testing.TB, ts *testSink, n int) []sinkRequest {
	tb.Helper()
	waitFor(tb, 15*time.Second, fmt.Sprintf("%d deliveries", n), func() bool { return len(ts.requests()) >= n })
	return ts.requests()
}

// outbound is a delivered body as hookline wraps it.
type outbound struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

func decodeOutbound(tb testing.TB, d sinkRequest) outbound {
	tb.Helper()
	var o outbound
	if err := json.Unmarshal(d.body, &o); err != nil {
		tb.Fatalf("delivery is not JSON: %v\n%s", err, short(string(d.body)))
	}
	return o
}

func (s *testServer) createSource(tb testing.TB, tenant, body string) map[string]any {
	tb.Helper()
	status, raw, h := s.doRaw(tb, "POST", "/v1/tenants/"+tenant+"/sources", testToken, "application/json", body)
	if status != http.StatusCreated {
		tb.Fatalf("create source %s: status %d (body %s)", short(body), status, short(raw))
	}
	require_Equal(tb, h.Get("Cache-Control"), "no-store")
	return decodeObject(tb, raw)
}

// send posts a provider's request to a source URL (path and query); extra
// are header name/value pairs.
func (s *testServer) send(tb testing.TB, url string, body []byte, extra ...string) (int, string, http.Header) {
	tb.Helper()
	auth := ""
	var rest []string
	for i := 0; i+1 < len(extra); i += 2 {
		if strings.EqualFold(extra[i], "Authorization") {
			auth = extra[i+1]
			continue
		}
		rest = append(rest, extra[i], extra[i+1])
	}
	if auth != "" && !strings.Contains(auth, " ") {
		tb.Fatalf("send: Authorization %q must hold a scheme", auth)
	}
	return s.doRaw(tb, "POST", url, auth, "application/json", string(body), rest...)
}

// accepted checks a receiver answer of 200 {"id":"evt_…"} and returns the id.
func accepted(tb testing.TB, status int, raw string) string {
	tb.Helper()
	if status != http.StatusOK {
		tb.Fatalf("status %d; want 200 (body %s)", status, short(raw))
	}
	m := decodeObject(tb, raw)
	require_True(tb, len(m) == 1, "answer %s has more than the id", raw)
	id := str(tb, m, "id")
	requireEventID(tb, id)
	return id
}

// rejected checks a receiver error answer and that it wrote no event.
func (s *testServer) rejected(tb testing.TB, url string, body []byte, wantStatus int, wantCode string, extra ...string) {
	tb.Helper()
	before := s.snapshot(tb).counts
	status, raw, h := s.send(tb, url, body, extra...)
	if status != wantStatus {
		tb.Fatalf("POST %s: status %d; want %d (body %s)", url, status, wantStatus, short(raw))
	}
	require_True(tb, strings.HasPrefix(h.Get("Content-Type"), "application/json"), "Content-Type %q", h.Get("Content-Type"))
	requireErrorBody(tb, raw, wantCode)
	after := s.snapshot(tb).counts
	require_Equal(tb, after.Events, before.Events)
	require_Equal(tb, after.Queued, before.Queued)
}

func hmacHex(key, msg []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return hex.EncodeToString(m.Sum(nil))
}

// providerCase is one provider's scheme: how to sign a body with a secret.
type providerCase struct {
	name   string
	create func(secret string) string // the source's JSON
	secret string
	// body is the request; mutate returns another delivery of the same
	// kind with its own id (for tests that need two).
	body     []byte
	wantType string
	// wantData is the payload the event must carry ("" for body itself).
	wantData string
	// sign returns the query (with "?") and headers of a request signed at.
	sign     func(body []byte, secret string, at time.Time) (query string, headers []string)
	badCode  string // wrong secret
	signsTS  bool   // stale timestamps are refused
	signsMsg bool   // a tampered body is refused
	missing  string // the code when the credentials are left out
}

func providerCases(tb testing.TB) []providerCase {
	tb.Helper()
	ghBody := fixture(tb, "github/pull_request_opened.json")
	require_True(tb, len(ghBody) > 27<<10, "the github fixture is %d bytes", len(ghBody))
	whSecret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	return []providerCase{
		{
			name:     "stripe",
			create:   func(secret string) string { return `{"name":"billing","provider":"stripe","secret":"` + secret + `"}` },
			secret:   "whsec_stripe_test_secret",
			body:     fixture(tb, "stripe/invoice.paid.json"),
			wantType: "stripe.invoice.paid",
			sign: func(body []byte, secret string, at time.Time) (string, []string) {
				p := stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at})
				return "", []string{"Stripe-Signature", p.Header}
			},
			badCode: "bad_signature", signsTS: true, signsMsg: true, missing: "missing_signature",
		},
		{
			name:     "github",
			create:   func(secret string) string { return `{"provider":"github","secret":"` + secret + `"}` },
			secret:   "gh-hook-secret",
			body:     ghBody,
			wantType: "github.pull_request.opened",
			sign: func(body []byte, secret string, _ time.Time) (string, []string) {
				return "", []string{"X-GitHub-Event", "pull_request", "X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958",
					"X-Hub-Signature-256", "sha256=" + hmacHex([]byte(secret), body)}
			},
			badCode: "bad_signature", signsMsg: true, missing: "missing_signature",
		},
		{
			name:     "slack",
			create:   func(secret string) string { return `{"provider":"slack","secret":"` + secret + `"}` },
			secret:   "8f742231b10e8888abcd99yyyzzz85a5",
			body:     fixture(tb, "slack/event_callback_message.json"),
			wantType: "slack.message",
			sign: func(body []byte, secret string, at time.Time) (string, []string) {
				ts := strconv.FormatInt(at.Unix(), 10)
				return "", []string{"X-Slack-Request-Timestamp", ts, "X-Slack-Signature", "v0=" + hmacHex([]byte(secret), []byte("v0:"+ts+":"+string(body)))}
			},
			badCode: "bad_signature", signsTS: true, signsMsg: true, missing: "missing_signature",
		},
		{
			name:     "standard-webhooks",
			create:   func(secret string) string { return `{"provider":"standard-webhooks","secret":"` + secret + `"}` },
			secret:   whSecret,
			body:     []byte(`{"type":"invoice.paid","data":{"invoice":"in_1","amount":4200}}`),
			wantType: "invoice.paid",
			sign: func(body []byte, secret string, at time.Time) (string, []string) {
				wh, err := standardwebhooks.NewWebhook(secret)
				require_NoError(tb, err)
				sig, err := wh.Sign("msg_2c3Xw", at, body)
				require_NoError(tb, err)
				return "", []string{"webhook-id", "msg_2c3Xw", "webhook-timestamp", strconv.FormatInt(at.Unix(), 10), "webhook-signature", sig}
			},
			badCode: "bad_signature", signsTS: true, signsMsg: true, missing: "missing_signature",
		},
		{
			name: "basic",
			create: func(secret string) string {
				return `{"provider":"basic","secret":"` + secret + `","mapping":{"type":"crm.{$.kind}","id":"$.id","payload":{"lead":"$.lead"}}}`
			},
			secret:   "crm:s3cret-pass",
			body:     []byte(`{"id":"d_1","kind":"lead_won","lead":{"name":"Acme","value":12}}`),
			wantType: "crm.lead_won",
			wantData: `{"lead":{"name":"Acme","value":12}}`,
			sign: func(_ []byte, secret string, _ time.Time) (string, []string) {
				return "", []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(secret))}
			},
			badCode: "bad_credentials", missing: "missing_signature",
		},
		{
			name: "api-key",
			create: func(secret string) string {
				return `{"provider":"api-key","secret":"` + secret + `","api_key":{"query":"key"},"mapping":{"type":"forms.{$.form}.submitted","id":"$.submission"}}`
			},
			secret:   "k3y-0f-the-form-tool",
			body:     []byte(`{"submission":"s_77","form":"contact","fields":{"email":"a@example.com"}}`),
			wantType: "forms.contact.submitted",
			sign: func(_ []byte, secret string, _ time.Time) (string, []string) {
				return "?source=forms&key=" + secret, nil
			},
			badCode: "bad_credentials", missing: "missing_signature",
		},
	}
}

// TestInboundProviders: for each provider, a signed request becomes an
// event with the mapped type and payload that reaches a real endpoint;
// bad credentials, a tampered body, a stale timestamp and a missing header
// are refused with the verifier's code; a repeated delivery answers the
// first event and is delivered once.
func TestInboundProviders(t *testing.T) {
	for _, pc := range providerCases(t) {
		t.Run(pc.name, func(t *testing.T) {
			s := newTestServer(t)
			k := newTestSink(t, http.StatusNoContent, "")
			s.mustCreateTenant(t, "acme")
			s.mustCreateEndpoint(t, "acme", `{"url":"`+k.srv.URL+`/hook"}`)
			src := s.createSource(t, "acme", pc.create(pc.secret))
			require_Equal(t, str(t, src, "secret"), pc.secret)
			url := str(t, src, "url")
			require_Equal(t, url, "/in/"+str(t, src, "id"))
			now := time.Now()

			// Refusals first: nothing reaches the endpoint.
			wrong := "wrong-" + pc.secret
			if pc.name == "standard-webhooks" {
				wrong = "whsec_" + base64.StdEncoding.EncodeToString([]byte("another key of 32 bytes, exactly"))
			}
			q, h := pc.sign(pc.body, wrong, now)
			s.rejected(t, url+q, pc.body, 401, pc.badCode, h...)
			if pc.signsMsg {
				q, h = pc.sign(pc.body, pc.secret, now)
				tampered := []byte(strings.Replace(string(pc.body), "a", "b", 1))
				s.rejected(t, url+q, tampered, 401, "bad_signature", h...)
			}
			if pc.signsTS {
				q, h = pc.sign(pc.body, pc.secret, now.Add(-time.Hour))
				s.rejected(t, url+q, pc.body, 401, "stale_timestamp", h...)
			}
			s.rejected(t, url, pc.body, 401, pc.missing)

			q, h = pc.sign(pc.body, pc.secret, now)
			status, raw, rh := s.send(t, url+q, pc.body, h...)
			id := accepted(t, status, raw)
			require_True(t, strings.HasPrefix(rh.Get("Hookline-Request-Id"), "req_"), "Hookline-Request-Id %q", rh.Get("Hookline-Request-Id"))
			d := waitRequests(t, k, 1)[0]
			require_Equal(t, d.header.Get("webhook-id"), id)
			o := decodeOutbound(t, d)
			require_Equal(t, o.Type, pc.wantType)
			want := pc.wantData
			if want == "" {
				// The body byte for byte, but for the fixture's final newline.
				want = strings.TrimRight(string(pc.body), "\n")
			}
			require_True(t, string(o.Data) == want, "payload is not the mapped body:\n%s\nwant\n%s", short(string(o.Data)), short(want))

			// The provider delivers again: same event, nothing new.
			before := s.snapshot(t).counts
			status, raw, _ = s.send(t, url+q, pc.body, h...)
			require_Equal(t, status, http.StatusOK)
			m := decodeObject(t, raw)
			require_Equal(t, str(t, m, "id"), id)
			require_Equal(t, m["duplicate"], any(true))
			after := s.snapshot(t).counts
			require_Equal(t, after.Events, before.Events)
			waitFor(t, 10*time.Second, "the queue to drain", func() bool { return s.snapshot(t).counts.Queued == 0 })
			require_Equal(t, len(k.requests()), 1)

			// Every request is in the log, newest first.
			_, lm, _ := s.do(t, "GET", sourcesPath+"/"+str(t, src, "id")+"/requests", testToken, "", "")
			var outcomes []string
			for _, e := range lm["data"].([]any) {
				outcomes = append(outcomes, e.(map[string]any)["outcome"].(string))
			}
			want = "duplicate,accepted,rejected,rejected"
			if pc.signsMsg {
				want += ",rejected"
			}
			if pc.signsTS {
				want += ",rejected"
			}
			require_Equal(t, strings.Join(outcomes, ","), want)
		})
	}
}

// TestInboundReceiverRefusals: unknown source, wrong method, oversize body.
func TestInboundReceiverRefusals(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	src := s.createSource(t, "acme", `{"provider":"none","mapping":{"type":"x.{$.t}"}}`)
	url := str(t, src, "url")
	s.rejected(t, "/in/src_01JDZZZZZZZZZZZZZZZZZZZZZZ", []byte(`{"t":"a"}`), 404, "source_not_found")
	s.rejected(t, "/in/nope", []byte(`{"t":"a"}`), 404, "source_not_found")
	s.rejected(t, "/in/", []byte(`{"t":"a"}`), 404, "source_not_found")
	s.rejected(t, url+"/x", []byte(`{"t":"a"}`), 404, "source_not_found")
	big := []byte(`{"t":"a","pad":"` + strings.Repeat("x", maxEventBytes) + `"}`)
	s.rejected(t, url, big, 413, "body_too_large")
	s.reject(t, "GET", url, "", "", "", 405, "method_not_allowed")
	status, raw, _ := s.send(t, url, []byte(`{"t":"a"}`))
	accepted(t, status, raw)
}

// TestSlackURLVerification: Slack's handshake is answered with the bare
// challenge as text/plain and makes no event; an event_callback after it
// is an event.
func TestSlackURLVerification(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	const secret = "8f742231b10e8888abcd99yyyzzz85a5"
	src := s.createSource(t, "acme", `{"provider":"slack","secret":"`+secret+`"}`)
	url := str(t, src, "url")
	sign := func(body []byte) []string {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		return []string{"X-Slack-Request-Timestamp", ts, "X-Slack-Signature", "v0=" + hmacHex([]byte(secret), []byte("v0:"+ts+":"+string(body)))}
	}
	body := fixture(t, "slack/url_verification.json")
	var uv struct{ Challenge string }
	require_NoError(t, json.Unmarshal(body, &uv))
	before := s.snapshot(t).counts
	status, raw, h := s.send(t, url, body, sign(body)...)
	require_True(t, status == http.StatusOK, "status %d: %s", status, raw)
	require_Equal(t, raw, uv.Challenge)
	require_True(t, strings.HasPrefix(h.Get("Content-Type"), "text/plain"), "Content-Type %q", h.Get("Content-Type"))
	require_Equal(t, s.snapshot(t).counts.Events, before.Events)
	// Unsigned, the handshake is refused like anything else.
	s.rejected(t, url, body, 401, "missing_signature")

	ev := fixture(t, "slack/event_callback_message.json")
	status, raw, _ = s.send(t, url, ev, sign(ev)...)
	id := accepted(t, status, raw)
	_, m, _ := s.do(t, "GET", "/v1/tenants/acme/events/"+id, testToken, "", "")
	require_Equal(t, str(t, m, "type"), "slack.message")

	// The handshake is logged, and cannot be replayed into an event.
	_, lm, _ := s.do(t, "GET", sourcesPath+"/"+str(t, src, "id")+"/requests", testToken, "", "")
	data := lm["data"].([]any)
	require_Equal(t, len(data), 3)
	hs := data[2].(map[string]any)
	require_Equal(t, hs["outcome"], any("challenge"))
	s.reject(t, "POST", sourcesPath+"/"+str(t, src, "id")+"/requests/"+hs["id"].(string)+"/replay", testToken, "", "", 409, "not_an_event")
}

// TestSourceCRUD: create, list, get, patch, delete; secrets appear only in
// the answers to create and rotate, never in the audit log.
func TestSourceCRUD(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	const secret = "whsec_crud_secret_value"
	src := s.createSource(t, "acme", `{"name":"Stripe live","provider":"stripe","secret":"`+secret+`","tolerance":"10m"}`)
	id := str(t, src, "id")
	require_True(t, strings.HasPrefix(id, "src_"), "id %q", id)
	require_Equal(t, str(t, src, "secret"), secret)
	require_Equal(t, str(t, src, "provider"), "stripe")
	require_Equal(t, str(t, src, "tenant"), "acme")
	other := s.createSource(t, "acme", `{"provider":"none","mapping":{"type":"x"}}`)

	for _, p := range []string{sourcesPath, sourcesPath + "/" + id} {
		status, raw, _ := s.doRaw(t, "GET", p, testToken, "", "")
		require_Equal(t, status, http.StatusOK)
		require_True(t, !strings.Contains(raw, secret), "GET %s shows the secret: %s", p, raw)
		require_True(t, !strings.Contains(raw, `"secret"`), "GET %s has a secret field: %s", p, raw)
	}
	_, m, _ := s.do(t, "GET", sourcesPath, testToken, "", "")
	data := m["data"].([]any)
	require_Equal(t, len(data), 2)
	require_Equal(t, data[0].(map[string]any)["id"], any(id))
	require_Equal(t, data[1].(map[string]any)["id"], any(str(t, other, "id")))

	status, m, _ := s.do(t, "PATCH", sourcesPath+"/"+id, testToken, "application/json", `{"name":"Stripe (live)","mapping":{"type":"billing.{$.type}","id":"$.id"}}`)
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, str(t, m, "name"), "Stripe (live)")
	require_Equal(t, str(t, m, "tolerance"), "10m")
	_, hasSecret := m["secret"]
	require_True(t, !hasSecret, "PATCH shows the secret: %v", m)
	_, m, _ = s.do(t, "GET", sourcesPath+"/"+id, testToken, "", "")
	require_Equal(t, str(t, m, "name"), "Stripe (live)")
	require_Equal(t, string(mustJSON(t, m["mapping"])), `{"id":"$.id","type":"billing.{$.type}"}`)

	// The mapping goes back to the provider's default with null.
	status, m, _ = s.do(t, "PATCH", sourcesPath+"/"+id, testToken, "application/json", `{"mapping":null}`)
	require_Equal(t, status, http.StatusOK)
	_, hasMapping := m["mapping"]
	require_True(t, !hasMapping, "mapping still set after null: %v", m["mapping"])

	status, m, _ = s.do(t, "POST", sourcesPath+"/"+id+"/rotate-secret", testToken, "application/json", `{"secret":"whsec_crud_next","overlap":"1h"}`)
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, str(t, m, "secret"), "whsec_crud_next")
	require_True(t, m["previous_secret_expires_at"] != nil, "no previous_secret_expires_at: %v", m)
	status, raw, _ := s.doRaw(t, "GET", sourcesPath+"/"+id, testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_True(t, !strings.Contains(raw, "whsec_crud"), "GET shows a secret after rotation: %s", raw)

	status, _, _ = s.doRaw(t, "DELETE", sourcesPath+"/"+str(t, other, "id"), testToken, "", "")
	require_Equal(t, status, http.StatusNoContent)
	s.reject(t, "GET", sourcesPath+"/"+str(t, other, "id"), testToken, "", "", 404, "source_not_found")
	s.rejected(t, str(t, other, "url"), []byte(`{}`), 404, "source_not_found")

	status, raw, _ = s.doRaw(t, "GET", "/v1/tenants/acme/audit", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_True(t, !strings.Contains(raw, "whsec_crud"), "a secret is in the audit log: %s", raw)
	_, m, _ = s.do(t, "GET", "/v1/tenants/acme/audit", testToken, "", "")
	var actions []string
	for _, e := range m["data"].([]any) {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	require_Equal(t, strings.Join(actions, ","), "source.delete,source.rotate_secret,source.update,source.update,source.create,source.create,tenant.create")
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	require_NoError(tb, err)
	return b
}

// TestSourceRejects: every bad create or patch has its status and code
// and writes nothing.
func TestSourceRejects(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	s.mustCreateTenant(t, "other")
	src := s.createSource(t, "acme", `{"provider":"github","secret":"s"}`)
	id := str(t, src, "id")
	otherSrc := s.createSource(t, "other", `{"provider":"github","secret":"s"}`)

	create := func(body string, wantStatus int, wantCode string) string {
		t.Helper()
		return s.reject(t, "POST", sourcesPath, testToken, "application/json", body, wantStatus, wantCode)
	}
	create(`{"secret":"x"}`, 400, "missing_provider")
	create(`{"provider":"stripe-ish","secret":"x"}`, 400, "invalid_provider")
	create(`{"provider":"stripe"}`, 400, "missing_secret")
	create(`{"provider":"stripe","secret":""}`, 400, "missing_secret")
	create(`{"provider":"stripe","secret":"x","tolerance":"soon"}`, 400, "invalid_tolerance")
	create(`{"provider":"stripe","secret":"x","tolerance":"0s"}`, 400, "invalid_tolerance")
	create(`{"provider":"stripe","secret":"x","tolerance":"48h"}`, 400, "invalid_tolerance")
	create(`{"provider":"stripe","secret":"`+strings.Repeat("x", 4097)+`"}`, 400, "invalid_secret")
	create(`{"provider":"stripe","secret":"x","name":"`+strings.Repeat("n", 201)+`"}`, 400, "invalid_name")
	create(`{"provider":"basic","secret":"no-colon","mapping":{"type":"x"}}`, 400, "invalid_secret")
	create(`{"provider":"standard-webhooks","secret":"whsec_!!!"}`, 400, "invalid_secret")
	create(`{"provider":"api-key","secret":"k","mapping":{"type":"x"}}`, 400, "invalid_verification")
	create(`{"provider":"api-key","secret":"k","api_key":{"header":"bad header"},"mapping":{"type":"x"}}`, 400, "invalid_verification")
	create(`{"provider":"hmac","secret":"k","mapping":{"type":"x"}}`, 400, "invalid_verification")
	create(`{"provider":"hmac","secret":"k","hmac":{"header":"X-Sig","algorithm":"md5"},"mapping":{"type":"x"}}`, 400, "invalid_verification")
	for _, p := range []string{"hmac", "basic", "api-key", "none"} {
		body := `{"provider":"` + p + `","secret":"u:p","hmac":{"header":"X-Sig"},"api_key":{"header":"X-Key"}}`
		msg := create(body, 400, "missing_mapping")
		require_True(t, strings.Contains(msg, "mapping.type"), "message %q does not say what to give", msg)
	}
	msg := create(`{"provider":"none","mapping":{"type":"x","routes":[{"when":{"path":"$.a"},"type":"y"}]}}`, 400, "invalid_mapping")
	require_True(t, strings.Contains(msg, "routes[0].when"), "message %q does not name the rule", msg)
	msg = create(`{"provider":"none","mapping":{"type":"x.{$.a"}}`, 400, "invalid_mapping")
	require_True(t, strings.Contains(msg, "type"), "message %q does not name the rule", msg)
	create(`{"provider":"none","mapping":{"type":"x","colour":"red"}}`, 400, "invalid_mapping")
	create(`{"provider":"none","mapping":"x"}`, 400, "invalid_mapping")
	create(`{"provider":"github","secret":"s","hue":1}`, 400, "unknown_field")
	create(`{"provider":1}`, 400, "invalid_field")
	create(`[]`, 400, "invalid_json")
	s.reject(t, "POST", "/v1/tenants/nope/sources", testToken, "application/json", `{"provider":"github","secret":"s"}`, 404, "tenant_not_found")
	s.reject(t, "PUT", sourcesPath, testToken, "application/json", `{}`, 405, "method_not_allowed")

	p := sourcesPath + "/" + id
	patch := func(path, body string, wantStatus int, wantCode string) {
		t.Helper()
		s.reject(t, "PATCH", path, testToken, "application/json", body, wantStatus, wantCode)
	}
	patch(p, `{"secret":"new"}`, 400, "secret_not_patchable")
	patch(p, `{"provider":"stripe"}`, 400, "provider_not_patchable")
	patch(p, `{"tolerance":"-1s"}`, 400, "invalid_tolerance")
	patch(p, `{"mapping":{"routes":[{"when":{"path":"$.a","exists":true}}]}}`, 400, "invalid_mapping")
	patch(p, `{"name":"`+strings.Repeat("n", 201)+`"}`, 400, "invalid_name")
	patch(sourcesPath+"/src_01JDZZZZZZZZZZZZZZZZZZZZZZ", `{"name":"x"}`, 404, "source_not_found")
	patch(sourcesPath+"/"+str(t, otherSrc, "id"), `{"name":"x"}`, 404, "source_not_found")
	// A provider without a default mapping cannot lose its mapping.
	none := s.createSource(t, "acme", `{"provider":"none","mapping":{"type":"x"}}`)
	patch(sourcesPath+"/"+str(t, none, "id"), `{"mapping":null}`, 400, "missing_mapping")

	f := func(method, path, body string, wantStatus int, wantCode string) {
		t.Helper()
		s.reject(t, method, path, testToken, "application/json", body, wantStatus, wantCode)
	}
	for _, q := range []string{"", "/rotate-secret", "/test", "/requests", "/requests/req_01JDZZZZZZZZZZZZZZZZZZZZZZ"} {
		method, body := "GET", ""
		if q == "/rotate-secret" || q == "/test" {
			method, body = "POST", `{"secret":"n","body":{}}`
		}
		if q == "/rotate-secret" {
			body = `{"secret":"n"}`
		}
		if q == "/test" {
			body = `{"body":{}}`
		}
		f(method, sourcesPath+"/src_01JDZZZZZZZZZZZZZZZZZZZZZZ"+q, body, 404, "source_not_found")
		f(method, sourcesPath+"/"+str(t, otherSrc, "id")+q, body, 404, "source_not_found")
	}
	f("DELETE", sourcesPath+"/"+str(t, otherSrc, "id"), "", 404, "source_not_found")
	f("GET", p+"/requests/req_01JDZZZZZZZZZZZZZZZZZZZZZZ", "", 404, "request_not_found")
	f("GET", p+"/requests/nope", "", 404, "request_not_found")
	f("POST", p+"/requests/nope/replay", "", 404, "request_not_found")
	f("GET", p+"/requests?limit=0", "", 400, "invalid_limit")
	f("GET", p+"/requests?cursor=bm9wZQ", "", 400, "invalid_cursor")
	f("POST", p+"/rotate-secret", `{}`, 400, "missing_secret")
	f("POST", p+"/rotate-secret", `{"secret":"s"}`, 400, "secret_unchanged")
	f("POST", p+"/rotate-secret", `{"secret":"n","overlap":"forever"}`, 400, "invalid_overlap")
	f("POST", p+"/test", `{}`, 400, "invalid_test")
	f("POST", p+"/test", `{"body":{},"raw_body":"x"}`, 400, "invalid_test")
	f("GET", p+"/rotate-secret", "", 405, "method_not_allowed")
	f("DELETE", p+"/requests", "", 405, "method_not_allowed")
	f("PUT", p, "", 405, "method_not_allowed")
	f("GET", p+"/nope", "", 404, "not_found")

	// A tenant key reads its sources but manages none.
	status, m, _ := s.do(t, "POST", "/v1/tenants/acme/api-keys", testToken, "application/json", `{"name":"ci"}`)
	require_Equal(t, status, http.StatusCreated)
	key := str(t, m, "key")
	status, raw, _ := s.doRaw(t, "GET", sourcesPath, key, "", "")
	require_Equal(t, status, http.StatusOK)
	require_True(t, strings.Contains(raw, id) && !strings.Contains(raw, `"secret"`), "tenant key list: %s", raw)
	status, _, _ = s.doRaw(t, "GET", p, key, "", "")
	require_Equal(t, status, http.StatusOK)
	g := func(method, path, body string) {
		t.Helper()
		s.reject(t, method, path, key, "application/json", body, 403, "forbidden")
	}
	g("POST", sourcesPath, `{"provider":"github","secret":"s"}`)
	g("PATCH", p, `{"name":"x"}`)
	g("DELETE", p, ``)
	g("POST", p+"/rotate-secret", `{"secret":"n"}`)
	g("POST", p+"/test", `{"body":{}}`)
	g("GET", "/v1/tenants/other/sources", ``)
	g("GET", "/v1/tenants/other/sources/"+str(t, otherSrc, "id"), ``)
}

// TestSourceMappingAndReplay: a mapping shapes the payload and routes by
// type or drops; a request the mapping cannot handle is refused 422 and
// logged, and replayed after the mapping is fixed it makes the event.
func TestSourceMappingAndReplay(t *testing.T) {
	s := newTestServer(t)
	k := newTestSink(t, http.StatusNoContent, "")
	s.mustCreateTenant(t, "acme")
	s.mustCreateEndpoint(t, "acme", `{"url":"`+k.srv.URL+`/hook","event_types":["shop.*"]}`)
	const secret = "shop-secret"
	mapping := `{"type":"shop.{$.topic}.v1","id":"header:X-Delivery","payload":{"order":"$.order.id","total":"$.order.total","who":{"email":"$.customer.email"}},` +
		`"routes":[{"when":{"path":"$.topic","equals":"ping"},"drop":true},{"when":{"path":"$.order.total","exists":true},"type":"shop.order.{$.topic}"}]}`
	src := s.createSource(t, "acme", `{"provider":"hmac","secret":"`+secret+`","hmac":{"header":"X-Sig","prefix":"sha256="},"mapping":`+mapping+`}`)
	srcPath := sourcesPath + "/" + str(t, src, "id")
	url := str(t, src, "url")
	sign := func(body, delivery string) []string {
		return []string{"X-Sig", "sha256=" + hmacHex([]byte(secret), []byte(body)), "X-Delivery", delivery}
	}

	body := `{"topic":"paid","order":{"id":"o_1","total":99.5,"lines":[1,2]},"customer":{"email":"a@example.com","phone":"1"}}`
	status, raw, _ := s.send(t, url, []byte(body), sign(body, "d1")...)
	id := accepted(t, status, raw)
	o := decodeOutbound(t, waitRequests(t, k, 1)[0])
	require_Equal(t, o.Type, "shop.order.paid")
	require_Equal(t, string(o.Data), `{"order":"o_1","total":99.5,"who":{"email":"a@example.com"}}`)

	before := s.snapshot(t).counts
	ping := `{"topic":"ping"}`
	status, raw, _ = s.send(t, url, []byte(ping), sign(ping, "d2")...)
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, raw, `{"dropped":true}`)
	require_Equal(t, s.snapshot(t).counts.Events, before.Events)

	// No topic: the type cannot be made.
	bad := `{"kind":"refund","order":{"id":"o_2"}}`
	status, raw, h := s.send(t, url, []byte(bad), sign(bad, "d3")...)
	require_Equal(t, status, http.StatusUnprocessableEntity)
	msg := requireErrorBody(t, raw, "mapping_failed")
	require_True(t, strings.Contains(msg, "type"), "message %q does not name the rule", msg)
	require_Equal(t, s.snapshot(t).counts.Events, before.Events)
	reqID := h.Get("Hookline-Request-Id")
	_, m, _ := s.do(t, "GET", srcPath+"/requests/"+reqID, testToken, "", "")
	require_Equal(t, str(t, m, "outcome"), "rejected")
	require_Equal(t, str(t, m, "code"), "mapping_failed")
	require_Equal(t, m["status"], any(float64(422)))
	require_Equal(t, m["verified"], any(true))
	require_Equal(t, str(t, m, "body"), bad)

	status, _, _ = s.doRaw(t, "PATCH", srcPath, testToken, "application/json",
		`{"mapping":{"type":"shop.{$.kind}","id":"header:X-Delivery","payload":{"order":"$.order.id"}}}`)
	require_Equal(t, status, http.StatusOK)
	status, m, _ = s.do(t, "POST", srcPath+"/requests/"+reqID+"/replay", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, str(t, m, "outcome"), "accepted")
	evID := str(t, m, "event_id")
	require_True(t, evID != id, "the replay answered the first event")
	replayReq := str(t, m, "request_id")
	o = decodeOutbound(t, waitRequests(t, k, 2)[1])
	require_Equal(t, o.Type, "shop.refund")
	require_Equal(t, string(o.Data), `{"order":"o_2"}`)
	_, m, _ = s.do(t, "GET", srcPath+"/requests/"+replayReq, testToken, "", "")
	require_Equal(t, str(t, m, "replay_of"), reqID)
	require_Equal(t, str(t, m, "event_id"), evID)
	// Replayed again: the dedupe id holds, no second event.
	status, m, _ = s.do(t, "POST", srcPath+"/requests/"+reqID+"/replay", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, str(t, m, "outcome"), "duplicate")
	require_Equal(t, str(t, m, "event_id"), evID)

	// An unverified request is never replayed.
	status, _, h = s.send(t, url, []byte(body), "X-Sig", "sha256="+strings.Repeat("0", 64))
	require_Equal(t, status, http.StatusUnauthorized)
	s.reject(t, "POST", srcPath+"/requests/"+h.Get("Hookline-Request-Id")+"/replay", testToken, "", "", 409, "not_verified")
	waitFor(t, 10*time.Second, "the queue to drain", func() bool { return s.snapshot(t).counts.Queued == 0 })
	require_Equal(t, len(k.requests()), 2)
}

// TestSourceSecretRotation: during the overlap both secrets are accepted;
// with overlap 0s the old one is refused at once; an expired old secret
// stops being accepted without any other change to the source.
func TestSourceSecretRotation(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	src := s.createSource(t, "acme", `{"provider":"github","secret":"old"}`)
	url, p := str(t, src, "url"), sourcesPath+"/"+str(t, src, "id")
	n := 0
	send := func(secret string) (int, string) {
		n++
		body := fmt.Sprintf(`{"action":"created","n":%d}`, n)
		status, raw, _ := s.send(t, url, []byte(body), "X-GitHub-Event", "star", "X-GitHub-Delivery", strconv.Itoa(n),
			"X-Hub-Signature-256", "sha256="+hmacHex([]byte(secret), []byte(body)))
		return status, raw
	}
	ok := func(secret string) {
		t.Helper()
		status, raw := send(secret)
		accepted(t, status, raw)
	}
	refused := func(secret string) {
		t.Helper()
		status, raw := send(secret)
		require_Equal(t, status, http.StatusUnauthorized)
		requireErrorBody(t, raw, "bad_signature")
	}
	rotate := func(body string) {
		t.Helper()
		status, raw, _ := s.doRaw(t, "POST", p+"/rotate-secret", testToken, "application/json", body)
		require_Equal(t, status, http.StatusOK)
		require_True(t, strings.Contains(raw, `"secret"`), "rotation does not show the new secret: %s", raw)
	}
	ok("old")
	rotate(`{"secret":"new","overlap":"1h"}`)
	ok("old")
	ok("new")
	refused("other")
	rotate(`{"secret":"newer","overlap":"0s"}`)
	ok("newer")
	refused("new")
	refused("old") // cut short by the 0s rotation

	rotate(`{"secret":"newest","overlap":"1s"}`)
	ok("newer")
	ok("newest")
	// The old secret expires with no request in between: the next one
	// rebuilds the verifier without it.
	var status int
	waitFor(t, 10*time.Second, "the old secret to expire", func() bool {
		status, _ = send("newer")
		return status == http.StatusUnauthorized
	})
	ok("newest")
	refused("newer")
	_, m, _ := s.do(t, "GET", p, testToken, "", "")
	_, still := m["previous_secret_expires_at"]
	require_True(t, !still, "previous_secret_expires_at after expiry: %v", m)
}

// TestSourceRequestLog: the log lists newest first in pages, shows one
// request with headers and body, keeps non-UTF-8 bodies in base64, cuts
// bodies over 64 KiB (and refuses to replay them), and redacts
// credentials in headers and in the URL.
func TestSourceRequestLog(t *testing.T) {
	s := newTestServerHTTP(t, func(o *httpin.Options) { o.MaxEventBytes = 256 << 10 })
	s.mustCreateTenant(t, "acme")
	src := s.createSource(t, "acme", `{"provider":"api-key","secret":"the-key","api_key":{"header":"X-Api-Key","query":"token"},`+
		`"mapping":{"type":"t.{header:X-Kind}","payload":{"raw":"body:text"}}}`)
	url, p := str(t, src, "url"), sourcesPath+"/"+str(t, src, "id")

	var ids []string
	for i := range 5 {
		status, _, h := s.send(t, url, fmt.Appendf(nil, `{"n":%d}`, i), "X-Api-Key", "the-key", "X-Kind", "k")
		require_Equal(t, status, http.StatusOK)
		ids = append(ids, h.Get("Hookline-Request-Id"))
	}
	var listed []string
	cursor := ""
	for pages := 0; ; pages++ {
		require_True(t, pages < 5, "too many pages")
		q := "?limit=2"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		_, m, _ := s.do(t, "GET", p+"/requests"+q, testToken, "", "")
		for _, e := range m["data"].([]any) {
			en := e.(map[string]any)
			_, hasBody := en["body"]
			require_True(t, !hasBody, "a list entry has its body: %v", en)
			listed = append(listed, en["id"].(string))
		}
		if m["next_cursor"] == nil {
			break
		}
		cursor = m["next_cursor"].(string)
	}
	require_Equal(t, strings.Join(listed, ","), strings.Join([]string{ids[4], ids[3], ids[2], ids[1], ids[0]}, ","))

	_, m, _ := s.do(t, "GET", p+"/requests/"+ids[2], testToken, "", "")
	require_Equal(t, str(t, m, "body"), `{"n":2}`)
	require_Equal(t, str(t, m, "outcome"), "accepted")
	headers := str(t, m, "headers")
	require_True(t, strings.Contains(headers, "X-Kind: k"), "headers %q", headers)
	require_True(t, strings.Contains(headers, "X-Api-Key: [redacted]") && !strings.Contains(headers, "the-key"), "headers %q", headers)

	// The key in the query, and an Authorization header, are redacted.
	status, _, h := s.send(t, url+"?a=1&token=the-key&b=2", []byte(`{}`), "X-Kind", "q", "Authorization", "Bearer top-secret")
	require_Equal(t, status, http.StatusOK)
	status, raw, _ := s.doRaw(t, "GET", p+"/requests/"+h.Get("Hookline-Request-Id"), testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_True(t, !strings.Contains(raw, "the-key") && !strings.Contains(raw, "top-secret"), "a credential is logged: %s", raw)
	m = decodeObject(t, raw)
	require_True(t, strings.HasSuffix(str(t, m, "url"), url+"?a=1&token=[redacted]&b=2"), "url %q", m["url"])
	require_True(t, strings.Contains(str(t, m, "headers"), "Authorization: [redacted]"), "headers %q", m["headers"])
	// Even in a query the standard library cannot parse.
	for _, q := range []string{"?a=1;b=2&token=the-key", "?a=%zz&token=the-key", "?tok%65n=the-key", "?token=the-key&token=x", "?at=10:00&token=the-key"} {
		status, _, h = s.send(t, url+q, []byte(`{}`), "X-Kind", "q")
		require_Equal(t, status, http.StatusOK)
		status, raw, _ = s.doRaw(t, "GET", p+"/requests/"+h.Get("Hookline-Request-Id"), testToken, "", "")
		require_Equal(t, status, http.StatusOK)
		require_True(t, !strings.Contains(raw, "the-key"), "the key is logged for query %s: %s", q, raw)
	}

	// A body that is not UTF-8 is kept in base64.
	bin := []byte("\xff\xfe binary \x00 body")
	status, raw, h = s.send(t, url, bin, "X-Api-Key", "the-key", "X-Kind", "bin")
	accepted(t, status, raw) // body:text makes a JSON string of any bytes
	_, m, _ = s.do(t, "GET", p+"/requests/"+h.Get("Hookline-Request-Id"), testToken, "", "")
	require_Equal(t, m["body_base64"], any(true))
	dec, err := base64.StdEncoding.DecodeString(str(t, m, "body"))
	require_NoError(t, err)
	require_Equal(t, string(dec), string(bin))

	// Over 64 KiB: accepted whole, logged in part, not replayable.
	big := []byte(`{"pad":"` + strings.Repeat("x", 80<<10) + `"}`)
	status, raw, h = s.send(t, url, big, "X-Api-Key", "the-key", "X-Kind", "big")
	evID := accepted(t, status, raw)
	_, m, _ = s.do(t, "GET", p+"/requests/"+h.Get("Hookline-Request-Id"), testToken, "", "")
	require_Equal(t, m["truncated"], any(true))
	require_Equal(t, m["body_bytes"], any(float64(len(big))))
	require_Equal(t, len(str(t, m, "body")), 64<<10)
	s.reject(t, "POST", p+"/requests/"+h.Get("Hookline-Request-Id")+"/replay", testToken, "", "", 409, "body_truncated")
	status, raw, _ = s.doRaw(t, "GET", "/v1/tenants/acme/events/"+evID, testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_True(t, len(raw) > 80<<10, "the event lost its payload: %d bytes", len(raw))
}

// TestSourceDryRun: …/test says what a request would become, or why not,
// and writes nothing.
func TestSourceDryRun(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	const secret = "gh-secret"
	src := s.createSource(t, "acme", `{"provider":"github","secret":"`+secret+`"}`)
	p := sourcesPath + "/" + str(t, src, "id") + "/test"
	dry := func(body string) map[string]any {
		t.Helper()
		before := s.snapshot(t)
		status, raw, _ := s.doRaw(t, "POST", p, testToken, "application/json", body)
		require_Equal(t, status, http.StatusOK)
		requireSameState(t, before, s.snapshot(t))
		return decodeObject(t, raw)
	}
	m := dry(`{"body":{"action":"opened","number":7},"headers":{"X-GitHub-Event":"issues","X-GitHub-Delivery":"d-1"}}`)
	require_Equal(t, str(t, m, "outcome"), "event")
	ev := m["event"].(map[string]any)
	require_Equal(t, str(t, ev, "type"), "github.issues.opened")
	require_Equal(t, str(t, ev, "dedupe_id"), "d-1")
	require_Equal(t, string(mustJSON(t, ev["payload"])), `{"action":"opened","number":7}`)

	m = dry(`{"body":{"action":"opened"}}`)
	require_Equal(t, str(t, m, "outcome"), "rejected")
	require_Equal(t, str(t, m, "code"), "mapping_failed")

	body := `{"action":"opened"}`
	sig := "sha256=" + hmacHex([]byte(secret), []byte(body))
	m = dry(`{"raw_body":` + string(mustJSON(t, body)) + `,"verify":true,"headers":{"X-GitHub-Event":"issues","X-Hub-Signature-256":"` + sig + `"}}`)
	require_Equal(t, str(t, m, "outcome"), "event")
	require_Equal(t, m["verified"], any(true))
	m = dry(`{"raw_body":` + string(mustJSON(t, body+" ")) + `,"verify":true,"headers":{"X-GitHub-Event":"issues","X-Hub-Signature-256":"` + sig + `"}}`)
	require_Equal(t, str(t, m, "outcome"), "rejected")
	require_Equal(t, str(t, m, "code"), "bad_signature")
	require_Equal(t, m["verified"], any(false))
}

// TestInboundEventFlows: an inbound event is an event like a published
// one: an endpoint subscribed to github.* receives it signed, and the
// events API shows it.
func TestInboundEventFlows(t *testing.T) {
	s := newTestServer(t)
	gh, other := newTestSink(t, http.StatusNoContent, ""), newTestSink(t, http.StatusNoContent, "")
	s.mustCreateTenant(t, "acme")
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"`+gh.srv.URL+`/gh","event_types":["github.*"]}`)
	s.mustCreateEndpoint(t, "acme", `{"url":"`+other.srv.URL+`/other","event_types":["stripe.*"]}`)
	const secret = "gh-secret"
	src := s.createSource(t, "acme", `{"provider":"github","secret":"`+secret+`"}`)
	body := fixture(t, "github/pull_request_opened.json")
	status, raw, _ := s.send(t, str(t, src, "url"), body, "X-GitHub-Event", "pull_request", "X-GitHub-Delivery", "d-9",
		"X-Hub-Signature-256", "sha256="+hmacHex([]byte(secret), body))
	id := accepted(t, status, raw)

	d := waitRequests(t, gh, 1)[0]
	wh, err := standardwebhooks.NewWebhook(str(t, ep, "secret"))
	require_NoError(t, err)
	require_NoError(t, wh.Verify(d.body, d.header))
	require_Equal(t, d.header.Get("webhook-id"), id)
	require_Equal(t, decodeOutbound(t, d).Type, "github.pull_request.opened")

	_, m, _ := s.do(t, "GET", "/v1/tenants/acme/events/"+id, testToken, "", "")
	require_Equal(t, str(t, m, "type"), "github.pull_request.opened")
	require_Equal(t, len(m["deliveries"].([]any)), 1)
	waitFor(t, 10*time.Second, "the queue to drain", func() bool { return s.snapshot(t).counts.Queued == 0 })
	require_Equal(t, len(other.requests()), 0)
}

// TestSourcesDeleted: deleting a source removes its log and its URL;
// deleting the tenant removes its sources.
func TestSourcesDeleted(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	a := s.createSource(t, "acme", `{"provider":"none","mapping":{"type":"a"}}`)
	b := s.createSource(t, "acme", `{"provider":"none","mapping":{"type":"b"}}`)
	for _, src := range []map[string]any{a, b} {
		status, raw, _ := s.send(t, str(t, src, "url"), []byte(`{}`))
		accepted(t, status, raw)
	}
	require_Equal(t, s.snapshot(t).inbound[str(t, a, "id")], 1)
	status, _, _ := s.doRaw(t, "DELETE", sourcesPath+"/"+str(t, a, "id"), testToken, "", "")
	require_Equal(t, status, http.StatusNoContent)
	s.rejected(t, str(t, a, "url"), []byte(`{}`), 404, "source_not_found")
	aID, ok := engine.ParseSourceID(str(t, a, "id"))
	require_True(t, ok, "source id %q", a["id"])
	n := 0
	require_NoError(t, s.log.ScanInbound(aID, wal.ID{}, func(wal.ID, []byte) bool { n++; return true }))
	require_Equal(t, n, 0)

	status, _, _ = s.doRaw(t, "DELETE", "/v1/tenants/acme", testToken, "", "")
	require_Equal(t, status, http.StatusNoContent)
	s.rejected(t, str(t, b, "url"), []byte(`{}`), 404, "source_not_found")
	s.mustCreateTenant(t, "acme")
	srcs, err := s.eng.ListSources("acme")
	require_NoError(t, err)
	require_Equal(t, len(srcs), 0)
}
