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
			name: "whatsapp",
			create: func(secret string) string {
				return `{"provider":"whatsapp","secret":"` + secret + `","verify_token":"meta-verify-token"}`
			},
			secret:   "0123456789abcdef0123456789abcdef",
			body:     fixture(tb, "meta/whatsapp_messages_text.json"),
			wantType: "whatsapp.messages",
			sign: func(body []byte, secret string, _ time.Time) (string, []string) {
				return "", []string{"X-Hub-Signature-256", "sha256=" + hmacHex([]byte(secret), body)}
			},
			badCode: "bad_signature", signsMsg: true, missing: "missing_signature",
		},
		{
			name: "basic",
			create: func(secret string) string {
				return `{"provider":"basic","secret":"` + secret + `","mapping":{"type":"crm.{$.kind}","id":"$.id","payload":{"lead":"$.lead"}}}`
			},
			secret:   "crm:s3cret-pass-of-the-crm",
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
	// GET is Meta's handshake; a provider without one takes POSTs only.
	s.reject(t, "GET", url, "", "", "", 405, "no_handshake")
	s.reject(t, "PUT", url, "", "", "", 405, "method_not_allowed")
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
