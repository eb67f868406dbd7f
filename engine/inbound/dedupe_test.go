package inbound_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"hookline/engine/inbound"
	"hookline/internal/verify"
)

func macOf(h func() hash.Hash, key, msg string) []byte {
	m := hmac.New(h, []byte(key))
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// twilioSig is X-Twilio-Signature for a POST to u with body: a form's
// parameters, sorted by name, follow the URL; a JSON body is covered by
// the bodySHA256 in u.
func twilioSig(secret, u string, form url.Values) string {
	s := u
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		s += k + form.Get(k)
	}
	return base64.StdEncoding.EncodeToString(macOf(sha1.New, secret, s))
}

// replayCase is a preset whose delivery id is not signed and whose
// signature carries no time: req builds one delivery of body with a
// delivery id, signed as the provider signs it.
type replayCase struct {
	name    string
	in      inbound.SourceInput
	body    func(n int) []byte
	req     func(id, secret string, body []byte, delivery string) *inbound.Request
	variant func(r *inbound.Request) *inbound.Request // another spelling of the same signed request, or nil
}

func replayCases() []replayCase {
	jsonBody := func(n int) []byte { return fmt.Appendf(nil, `{"action":"opened","id":%d,"name":"order %d"}`, n, n) }
	const secret = "the-provider-secret-0123456789"
	return []replayCase{
		{
			name: "github", in: inbound.SourceInput{Provider: ptr("github"), Secret: ptr(secret)}, body: jsonBody,
			req: func(id, secret string, body []byte, delivery string) *inbound.Request {
				return githubReq(id, secret, delivery, body)
			},
			// Hex is read in either case: an upper-case signature is the
			// same signature.
			variant: func(r *inbound.Request) *inbound.Request {
				h := r.Header.(hdrs)
				out := append(hdrs(nil), h...)
				for i := range out {
					if out[i][0] == "X-Hub-Signature-256" {
						out[i][1] = "sha256=" + strings.ToUpper(strings.TrimPrefix(out[i][1], "sha256="))
					}
				}
				return request(strings.TrimPrefix(string(r.URL), "http://127.0.0.1:8080/in/"), "", r.Body, out)
			},
		},
		{
			// A mapping of its own: the default type, shopify.{topic},
			// is not an event type for Shopify's topics ("orders/create").
			name: "shopify", body: jsonBody,
			in: inbound.SourceInput{Provider: ptr("shopify"), Secret: ptr(secret),
				Mapping: json.RawMessage(`{"type":"shopify.order","id":"header:X-Shopify-Webhook-Id"}`)},
			req: func(id, secret string, body []byte, delivery string) *inbound.Request {
				return request(id, "", body, hdrs{{"X-Shopify-Topic", "orders/create"}, {"X-Shopify-Webhook-Id", delivery},
					{"X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(macOf(sha256.New, secret, string(body)))}})
			},
		},
		{
			name: "discourse", in: inbound.SourceInput{Provider: ptr("discourse"), Secret: ptr(secret)}, body: jsonBody,
			req: func(id, secret string, body []byte, delivery string) *inbound.Request {
				return request(id, "", body, hdrs{{"X-Discourse-Event", "post_created"}, {"X-Discourse-Event-Id", delivery},
					{"X-Discourse-Event-Signature", "sha256=" + hex.EncodeToString(macOf(sha256.New, secret, string(body)))}})
			},
		},
		{
			// JSON: the URL carries bodySHA256, and the signature covers the URL.
			name: "twilio", in: inbound.SourceInput{Provider: ptr("twilio"), Secret: ptr(secret)}, body: jsonBody,
			req: func(id, secret string, body []byte, delivery string) *inbound.Request {
				sum := sha256.Sum256(body)
				q := "bodySHA256=" + hex.EncodeToString(sum[:])
				r := request(id, q, body, nil)
				sig := twilioSig(secret, string(r.URL), nil)
				return request(id, q, body, hdrs{{"I-Twilio-Idempotency-Token", delivery}, {"X-Twilio-Signature", sig}})
			},
		},
		{
			// A form: Twilio signs the parameters sorted, so their order
			// and spelling in the body are not signed.
			name: "twilio-form",
			in: inbound.SourceInput{Provider: ptr("twilio"), Secret: ptr(secret),
				Mapping: json.RawMessage(`{"type":"twilio.sms","payload":{"form":"body:text"}}`)},
			body: func(n int) []byte {
				return fmt.Appendf(nil, "MessageSid=SM%d&Body=Hello+%d&From=%%2B14155550199", n, n)
			},
			req: func(id, secret string, body []byte, delivery string) *inbound.Request {
				form, err := url.ParseQuery(string(body))
				if err != nil {
					panic(err)
				}
				r := request(id, "", body, nil)
				sig := twilioSig(secret, string(r.URL), form)
				return request(id, "", body, hdrs{{"I-Twilio-Idempotency-Token", delivery}, {"X-Twilio-Signature", sig}})
			},
			variant: func(r *inbound.Request) *inbound.Request {
				parts := strings.Split(string(r.Body), "&")
				sort.Sort(sort.Reverse(sort.StringSlice(parts)))
				body := strings.ReplaceAll(strings.Join(parts, "&"), "+", "%20")
				return &inbound.Request{Request: verify.Request{URL: r.URL, Header: r.Header, Query: r.Query, Body: []byte(body)}, RawHeaders: r.RawHeaders}
			},
		},
	}
}

// TestReplayNewDeliveryID: GitHub, Shopify, Discourse and Twilio sign
// neither their delivery id nor a time, so anyone holding one signed
// request could send it again under a new id and make a new event each
// time. A request with the same signed content (the bytes, or another
// spelling of the same signature and parameters) is now the first event's
// duplicate, whatever its delivery id, also after a restart. The provider's
// retries (same id) are still duplicates, and a new delivery is a new
// event.
func TestReplayNewDeliveryID(t *testing.T) {
	for _, rc := range replayCases() {
		t.Run(rc.name, func(t *testing.T) {
			h := newHarness(t)
			h.tenant("acme")
			src := h.source("acme", rc.in)
			const secret = "the-provider-secret-0123456789"
			recv := func(r *inbound.Request, want string) inbound.Result {
				t.Helper()
				res := h.rc.Receive(src.ID, r)
				require_True(t, res.Status == 200, "%d %s: %s", res.Status, res.Code, res.Message)
				require_Equal(t, res.Outcome, want)
				return res
			}
			first := recv(rc.req(src.ID, secret, rc.body(1), "d-1"), inbound.Accepted)
			for _, d := range []string{"d-1", "d-2", "d-3"} {
				res := recv(rc.req(src.ID, secret, rc.body(1), d), inbound.Duplicate)
				require_Equal(t, res.EventID, first.EventID)
			}
			if rc.variant != nil {
				res := recv(rc.variant(rc.req(src.ID, secret, rc.body(1), "d-4")), inbound.Duplicate)
				require_Equal(t, res.EventID, first.EventID)
			}
			second := recv(rc.req(src.ID, secret, rc.body(2), "d-5"), inbound.Accepted)
			require_True(t, second.EventID != first.EventID, "another body made the first event")

			h.stop(5 * time.Second)
			h.start()
			res := recv(rc.req(src.ID, secret, rc.body(1), "d-6"), inbound.Duplicate)
			require_Equal(t, res.EventID, first.EventID)
			res = recv(rc.req(src.ID, secret, rc.body(2), "d-5"), inbound.Duplicate)
			require_Equal(t, res.EventID, second.EventID)
			c, err := h.log.Count()
			require_NoError(t, err)
			require_Equal(t, c.Events, 2)
		})
	}
}

// TestReplayGitHubSHA1: a source that also takes GitHub's legacy SHA-1
// signature cannot be fooled by dropping the SHA-256 one from a captured
// request: the same body verified either way is the same delivery.
func TestReplayGitHubSHA1(t *testing.T) {
	h := newHarness(t)
	h.tenant("acme")
	src := h.source("acme", inbound.SourceInput{Provider: ptr("github"), Secret: ptr("gh-secret"), GitHub: &verify.GitHubOptions{AllowSHA1: true}})
	body := []byte(`{"action":"opened","n":1}`)
	sha1Sig := "sha1=" + hex.EncodeToString(macOf(sha1.New, "gh-secret", string(body)))
	both := request(src.ID, "", body, hdrs{{"X-GitHub-Event", "issues"}, {"X-GitHub-Delivery", "d-1"},
		{"X-Hub-Signature", sha1Sig}, {"X-Hub-Signature-256", githubSig("gh-secret", body)}})
	first := h.rc.Receive(src.ID, both)
	require_Equal(t, first.Outcome, inbound.Accepted)
	legacy := request(src.ID, "", body, hdrs{{"X-GitHub-Event", "issues"}, {"X-GitHub-Delivery", "d-2"}, {"X-Hub-Signature", sha1Sig}})
	res := h.rc.Receive(src.ID, legacy)
	require_Equal(t, res.Outcome, inbound.Duplicate)
	require_Equal(t, res.EventID, first.EventID)
}
