package verify

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v75/github"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stripe/stripe-go/v85/webhook"
	svix "github.com/svix/svix-webhooks/go"
)

// presetCase is one provider as the shared rejection tests see it.
type presetCase struct {
	cfg Config // without Secrets
	// secrets are the current and the previous secret; wrong is neither.
	secrets [2]string
	wrong   string
	body    []byte
	// sign signs body with secret at the given time the provider's way,
	// with its official library where there is one.
	sign      func(t testing.TB, secret string, body []byte, at time.Time) *Request
	sigHeader string // deleted for the missing_signature case
	tsHeader  string // deleted for missing_timestamp; "" when the timestamp is inside sigHeader
	malformed string // a sigHeader value that cannot parse; "" when none can be
	tol       time.Duration
	signsBody bool
	badCode   string
}

func whsec(seed string) string {
	return "whsec_" + base64.StdEncoding.EncodeToString([]byte("key-"+seed+"-0123456789abcdef"))
}

// metaCase is a Meta preset's case: X-Hub-Signature-256 over a WhatsApp
// payload under an app secret (32 hex digits, as Meta issues them).
func metaCase(t testing.TB, provider, body string) presetCase {
	return presetCase{
		cfg:     Config{Provider: provider, VerifyToken: "meta-verify-token"},
		secrets: [2]string{"0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"},
		wrong:   "00000000000000000000000000000000",
		body:    fixture(t, body),
		sign: func(_ testing.TB, secret string, body []byte, _ time.Time) *Request {
			return newReq(body, "X-Hub-Signature-256", "sha256="+hexMAC(sha256.New, secret, body))
		},
		sigHeader: "X-Hub-Signature-256",
		malformed: "sha256=" + hexMAC(sha1.New, "x", nil),
		signsBody: true,
		badCode:   CodeBadSignature,
	}
}

func presetCases(t testing.TB) map[string]presetCase {
	sha256Body := func(header, prefix string, b64 bool) func(testing.TB, string, []byte, time.Time) *Request {
		return func(_ testing.TB, secret string, body []byte, _ time.Time) *Request {
			sig := prefix + hexMAC(sha256.New, secret, body)
			if b64 {
				sig = prefix + b64MAC(sha256.New, secret, body)
			}
			return newReq(body, header, sig)
		}
	}
	return map[string]presetCase{
		"stripe": {
			cfg:     Config{Provider: "stripe"},
			secrets: [2]string{"whsec_current_0123", "whsec_previous_4567"},
			wrong:   "whsec_wrong",
			body:    fixture(t, "stripe/invoice.paid.json"),
			sign: func(t testing.TB, secret string, body []byte, at time.Time) *Request {
				p := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at})
				return newReq(body, "Stripe-Signature", p.Header)
			},
			sigHeader: "Stripe-Signature",
			malformed: "t=12a,v1=00",
			tol:       300 * time.Second,
			signsBody: true,
			badCode:   CodeBadSignature,
		},
		"github": {
			cfg:     Config{Provider: "github"},
			secrets: [2]string{"gh-current", "gh-previous"},
			wrong:   "gh-wrong",
			body:    fixture(t, "github/pull_request_opened.json"),
			sign: func(t testing.TB, secret string, body []byte, _ time.Time) *Request {
				sig := "sha256=" + hexMAC(sha256.New, secret, body)
				// go-github is the independent check of what crypto/hmac signed.
				if err := github.ValidateSignature(sig, body, []byte(secret)); err != nil {
					t.Fatalf("go-github refuses the test signature: %s", err)
				}
				return newReq(body, "X-Hub-Signature-256", sig, "X-GitHub-Event", "pull_request", "X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
			},
			sigHeader: "X-Hub-Signature-256",
			malformed: "sha1=abc",
			signsBody: true,
			badCode:   CodeBadSignature,
		},
		"shopify": {
			cfg:       Config{Provider: "shopify"},
			secrets:   [2]string{"shpss_current", "shpss_previous"},
			wrong:     "shpss_wrong",
			body:      []byte(`{"id":820982911946154508,"email":"jon@example.com","total_price":"199.00"}`),
			sign:      sha256Body("X-Shopify-Hmac-Sha256", "", true),
			sigHeader: "X-Shopify-Hmac-Sha256",
			malformed: "not base64!",
			signsBody: true,
			badCode:   CodeBadSignature,
		},
		"slack": {
			cfg:     Config{Provider: "slack"},
			secrets: [2]string{"8f742231b10e8888abcd99yyyzzz85a5", "previous-signing-secret"},
			wrong:   "wrong-signing-secret",
			body:    fixture(t, "slack/event_callback_message.json"),
			sign: func(t testing.TB, secret string, body []byte, at time.Time) *Request {
				ts := unix(at)
				sig := "v0=" + hexMAC(sha256.New, secret, []byte("v0:"+ts+":"), body)
				return newReq(body, "X-Slack-Signature", sig, "X-Slack-Request-Timestamp", ts)
			},
			sigHeader: "X-Slack-Signature",
			tsHeader:  "X-Slack-Request-Timestamp",
			malformed: "v1=" + hexMAC(sha256.New, "x", nil),
			tol:       5 * time.Minute,
			signsBody: true,
			badCode:   CodeBadSignature,
		},
		"standard-webhooks": {
			cfg:     Config{Provider: "standard-webhooks"},
			secrets: [2]string{whsec("current"), whsec("previous")},
			wrong:   whsec("wrong"),
			body:    []byte(`{"type":"invoice.paid","timestamp":"2022-11-03T20:26:10.344522Z","data":{"id":"inv_1"}}`),
			sign: func(t testing.TB, secret string, body []byte, at time.Time) *Request {
				wh, err := standardwebhooks.NewWebhook(secret)
				if err != nil {
					t.Fatal(err)
				}
				sig, err := wh.Sign("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", at, body)
				if err != nil {
					t.Fatal(err)
				}
				return newReq(body, "webhook-id", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", "webhook-timestamp", unix(at), "webhook-signature", sig)
			},
			sigHeader: "webhook-signature",
			tsHeader:  "webhook-timestamp",
			malformed: "v1,bm90IDMyIGJ5dGVz",
			tol:       5 * time.Minute,
			signsBody: true,
			badCode:   CodeBadSignature,
		},
		"svix": {
			cfg:     Config{Provider: "svix"},
			secrets: [2]string{whsec("svix-current"), whsec("svix-previous")},
			wrong:   whsec("svix-wrong"),
			body:    []byte(`{"type":"user.created","data":{"id":"u_1"}}`),
			sign: func(t testing.TB, secret string, body []byte, at time.Time) *Request {
				wh, err := svix.NewWebhook(secret)
				if err != nil {
					t.Fatal(err)
				}
				sig, err := wh.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", at, body)
				if err != nil {
					t.Fatal(err)
				}
				return newReq(body, "svix-id", "msg_p5jXN8AQM9LWM0D4loKWxJek", "svix-timestamp", unix(at), "svix-signature", sig)
			},
			sigHeader: "svix-signature",
			tsHeader:  "svix-timestamp",
			malformed: "v1;nocomma",
			tol:       5 * time.Minute,
			signsBody: true,
			badCode:   CodeBadSignature,
		},
		"zendesk": {
			cfg:     Config{Provider: "zendesk"},
			secrets: [2]string{"dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==", "previous-zendesk-secret"},
			wrong:   "wrong-zendesk-secret",
			body:    []byte(`{"type":"zen:event-type:ticket.created","account_id":123456,"id":"cbe4028c-7239-495d-b020-f22348516046","detail":{"id":"35436"}}`),
			sign: func(t testing.TB, secret string, body []byte, at time.Time) *Request {
				ts := at.UTC().Format(time.RFC3339)
				sig := b64MAC(sha256.New, secret, []byte(ts), body)
				return newReq(body, "X-Zendesk-Webhook-Signature", sig, "X-Zendesk-Webhook-Signature-Timestamp", ts, "X-Zendesk-Webhook-Invocation-Id", "8350205582")
			},
			sigHeader: "X-Zendesk-Webhook-Signature",
			tsHeader:  "X-Zendesk-Webhook-Signature-Timestamp",
			malformed: "EiqWE3SXTPQpPulBV6OSuuGziIishZNc1VwNZYqZrH",
			tol:       5 * time.Minute,
			signsBody: true,
			badCode:   CodeBadSignature,
		},
		"discourse": {
			cfg:       Config{Provider: "discourse"},
			secrets:   [2]string{"discourse-current", "discourse-previous"},
			wrong:     "discourse-wrong",
			body:      []byte(`{"ping":"OK"}`),
			sign:      sha256Body("X-Discourse-Event-Signature", "sha256=", false),
			sigHeader: "X-Discourse-Event-Signature",
			malformed: "sha256=xyz",
			signsBody: true,
			badCode:   CodeBadSignature,
		},
		"whatsapp": metaCase(t, "whatsapp", "meta/whatsapp_messages_text.json"),
		"meta":     metaCase(t, "meta", "meta/whatsapp_messages_status.json"),
		"intercom": {
			cfg:     Config{Provider: "intercom"},
			secrets: [2]string{"intercom-client-secret", "intercom-previous"},
			wrong:   "intercom-wrong",
			body:    []byte(`{"type":"notification_event","topic":"conversation.user.created","id":"notif_ccd8a4d0-f965-11e3-a367-c779cae3e1b3"}`),
			sign: func(_ testing.TB, secret string, body []byte, _ time.Time) *Request {
				return newReq(body, "X-Hub-Signature", "sha1="+hexMAC(sha1.New, secret, body))
			},
			sigHeader: "X-Hub-Signature",
			malformed: "sha256=" + hexMAC(sha256.New, "x", nil),
			signsBody: true,
			badCode:   CodeBadSignature,
		},
		"hmac": {
			cfg: Config{Provider: "hmac", HMAC: &HMACConfig{
				Header: "X-Signature", Algorithm: "sha512", Encoding: "base64", Prefix: "sha512=",
				Template: "{timestamp}:{header:X-Delivery}:{body}", TimestampHeader: "X-Timestamp",
			}},
			secrets: [2]string{"generic-current", "generic-previous"},
			wrong:   "generic-wrong",
			body:    fixture(t, "github/push.json"),
			sign: func(_ testing.TB, secret string, body []byte, at time.Time) *Request {
				ts := unix(at)
				sig := "sha512=" + b64MAC(sha512.New, secret, []byte(ts+":d-42:"), body)
				return newReq(body, "X-Signature", sig, "X-Timestamp", ts, "X-Delivery", "d-42")
			},
			sigHeader: "X-Signature",
			tsHeader:  "X-Timestamp",
			malformed: "sha256=AAAA",
			tol:       5 * time.Minute,
			signsBody: true,
			badCode:   CodeBadSignature,
		},
		"basic": {
			cfg:     Config{Provider: "basic"},
			secrets: [2]string{"hook:s3cr3t-current", "hook:s3cr3t-previous"},
			wrong:   "hook:wrong",
			body:    []byte(`{}`),
			sign: func(_ testing.TB, secret string, body []byte, _ time.Time) *Request {
				hr, _ := http.NewRequest("POST", "http://x/", nil)
				user, pass, _ := strings.Cut(secret, ":")
				hr.SetBasicAuth(user, pass)
				return newReq(body, "Authorization", hr.Header.Get("Authorization"))
			},
			sigHeader: "Authorization",
			malformed: "Bearer abc",
			badCode:   CodeBadCredentials,
		},
		"api-key": {
			cfg:     Config{Provider: "api-key", APIKey: &APIKeyConfig{Header: "X-Api-Key"}},
			secrets: [2]string{"key-current-8c1f", "key-previous-77aa"},
			wrong:   "key-wrong",
			body:    []byte(`{}`),
			sign: func(_ testing.TB, secret string, body []byte, _ time.Time) *Request {
				return newReq(body, "X-Api-Key", secret)
			},
			sigHeader: "X-Api-Key",
			badCode:   CodeBadCredentials,
		},
	}
}

// TestPresets runs every preset through the same cases: its own signed
// request passes; a tampered body, a wrong secret, a stale or future
// timestamp, a missing or malformed header are rejected with their
// code; the previous secret of a rotation still passes.
func TestPresets(t *testing.T) {
	now := time.Now()
	for name, pc := range presetCases(t) {
		t.Run(name, func(t *testing.T) {
			cfg := pc.cfg
			cfg.Secrets = pc.secrets[:]
			v := mustNew(t, cfg)
			sign := func(secret string, at time.Time) *Request { return pc.sign(t, secret, pc.body, at) }

			t.Run("accepted", func(t *testing.T) { requireOK(t, v, sign(pc.secrets[0], now), now) })
			t.Run("previous_secret", func(t *testing.T) { requireOK(t, v, sign(pc.secrets[1], now), now) })
			t.Run("wrong_secret", func(t *testing.T) { requireCode(t, v, sign(pc.wrong, now), now, pc.badCode) })
			t.Run("previous_secret_dropped", func(t *testing.T) {
				cfg := cfg
				cfg.Secrets = pc.secrets[:1]
				requireCode(t, mustNew(t, cfg), sign(pc.secrets[1], now), now, pc.badCode)
			})
			t.Run("missing", func(t *testing.T) {
				r := sign(pc.secrets[0], now)
				delHeader(r, pc.sigHeader)
				requireCode(t, v, r, now, CodeMissingSignature)
			})
			if pc.signsBody {
				t.Run("tampered_body", func(t *testing.T) {
					r := sign(pc.secrets[0], now)
					r.Body = append([]byte(nil), r.Body...)
					r.Body[len(r.Body)/2] ^= 1
					requireCode(t, v, r, now, CodeBadSignature)
				})
			}
			if pc.malformed != "" {
				t.Run("malformed", func(t *testing.T) {
					r := sign(pc.secrets[0], now)
					setHeader(r, pc.sigHeader, pc.malformed)
					requireCode(t, v, r, now, CodeMalformedSignature)
				})
			}
			if pc.tol > 0 {
				t.Run("stale", func(t *testing.T) {
					requireCode(t, v, sign(pc.secrets[0], now.Add(-pc.tol-time.Second)), now, CodeStaleTimestamp)
				})
				t.Run("future", func(t *testing.T) {
					requireCode(t, v, sign(pc.secrets[0], now.Add(pc.tol+time.Second)), now, CodeStaleTimestamp)
				})
				t.Run("within_tolerance", func(t *testing.T) {
					requireOK(t, v, sign(pc.secrets[0], now.Add(-pc.tol+time.Second)), now)
				})
			}
			if pc.tsHeader != "" {
				t.Run("missing_timestamp", func(t *testing.T) {
					r := sign(pc.secrets[0], now)
					delHeader(r, pc.tsHeader)
					requireCode(t, v, r, now, CodeMissingTimestamp)
				})
			}
			t.Run("no_secret_in_errors", func(t *testing.T) {
				for _, r := range []*Request{sign(pc.wrong, now), sign(pc.secrets[0], now.Add(-time.Hour))} {
					if _, err := v.Verify(r, now); err != nil {
						for _, s := range pc.secrets {
							if strings.Contains(err.Message, s) {
								t.Fatalf("%q shows a secret", err.Message)
							}
						}
					}
				}
			})
		})
	}
}

// TestPresetsRegistered checks every preset of the brief is registered
// with the mapping a source of it starts with.
func TestPresetsRegistered(t *testing.T) {
	f := func(name, typ, id string, tol time.Duration) {
		t.Helper()
		p, ok := Lookup(name)
		if !ok {
			t.Fatalf("preset %q not registered", name)
		}
		if p.DefaultType != typ || p.DefaultID != id || p.DefaultTolerance != tol {
			t.Fatalf("%s: got %q %q %v, want %q %q %v", name, p.DefaultType, p.DefaultID, p.DefaultTolerance, typ, id, tol)
		}
	}
	f("stripe", "stripe.{$.type}", "$.id", 300*time.Second)
	f("github", "github.{header:X-GitHub-Event}.{$.action}", "header:X-GitHub-Delivery", 0)
	f("shopify", "shopify.{header:X-Shopify-Topic}", "header:X-Shopify-Webhook-Id", 0)
	f("slack", "slack.{$.event.type}", "$.event_id", 5*time.Minute)
	f("standard-webhooks", "{$.type}", "header:webhook-id", 5*time.Minute)
	f("svix", "{$.type}", "header:svix-id", 5*time.Minute)
	f("zendesk", "{$.type}", "header:X-Zendesk-Webhook-Invocation-Id", 5*time.Minute)
	f("discourse", "discourse.{header:X-Discourse-Event}", "header:X-Discourse-Event-Id", 0)
	f("intercom", "intercom.{$.topic}", "$.id", 0)
	f("hmac", "", "", 5*time.Minute)
	f("basic", "", "", 0)
	f("api-key", "", "", 0)
	f("none", "", "", 0)
}

// TestNoSecret: every preset but none refuses a config without secrets,
// with an empty one, or with a negative tolerance.
func TestNoSecret(t *testing.T) {
	for _, pc := range presetCases(t) {
		cfg := pc.cfg
		requireConfigError(t, cfg, CodeInvalidSecret, "secrets")
		cfg.Secrets = []string{pc.secrets[0], ""}
		requireConfigError(t, cfg, CodeInvalidSecret, "secrets[1]")
		cfg.Secrets = pc.secrets[:]
		cfg.Tolerance = -time.Second
		requireConfigError(t, cfg, CodeInvalidVerification, "tolerance")
	}
}

func TestNone(t *testing.T) {
	v := mustNew(t, Config{Provider: "none"})
	requireOK(t, v, &Request{}, time.Now())
	requireOK(t, v, newReq([]byte("anything")), time.Now())
}
