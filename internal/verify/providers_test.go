package verify

import (
	"crypto/sha1"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v75/github"
	"github.com/slack-go/slack"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stripe/stripe-go/v85/webhook"
	svix "github.com/svix/svix-webhooks/go"
)

// TestStripeLibraryAgrees: what stripe-go signs passes here, and what
// passes here stripe-go also validates, for every stripe fixture.
func TestStripeLibraryAgrees(t *testing.T) {
	now := time.Now()
	const secret = "whsec_test_secret"
	v := mustNew(t, Config{Provider: "stripe", Secrets: []string{secret}})
	for _, name := range []string{"charge.failed", "checkout.session.completed", "customer.created", "customer.subscription.updated", "invoice.paid", "payment_intent.succeeded"} {
		body := fixture(t, "stripe/"+name+".json")
		p := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: now})
		requireOK(t, v, newReq(body, "Stripe-Signature", p.Header), now)
		if err := webhook.ValidatePayload(body, p.Header, secret); err != nil {
			t.Fatalf("%s: stripe-go: %s", name, err)
		}
	}
}

// TestStripeRolledSecret: while a secret is rolled Stripe sends one v1
// per secret (and may add v0 or unknown keys); any v1 may match.
func TestStripeRolledSecret(t *testing.T) {
	now := time.Now()
	body := fixture(t, "stripe/customer.created.json")
	ts := unix(now)
	oldSig := hexMAC(sha256.New, "whsec_old", []byte(ts+"."), body)
	newSig := hexMAC(sha256.New, "whsec_new", []byte(ts+"."), body)
	f := func(secrets []string, header, code string) {
		t.Helper()
		v := mustNew(t, Config{Provider: "stripe", Secrets: secrets})
		r := newReq(body, "Stripe-Signature", header)
		if code == "" {
			requireOK(t, v, r, now)
		} else {
			requireCode(t, v, r, now, code)
		}
	}
	f([]string{"whsec_old"}, "t="+ts+",v1="+newSig+",v1="+oldSig+",v0=deadbeef", "")
	f([]string{"whsec_new"}, "t="+ts+",v1="+newSig+",v1="+oldSig, "")
	f([]string{"whsec_new"}, "v1="+oldSig+",scheme=x,t="+ts+",v1="+newSig, "")
	f([]string{"whsec_new"}, "t="+ts+",v1=zz,v1="+newSig, "") // an undecodable v1 is skipped
	f([]string{"whsec_other"}, "t="+ts+",v1="+newSig+",v1="+oldSig, CodeBadSignature)
	f([]string{"whsec_new"}, "v1="+newSig, CodeMissingTimestamp)
	f([]string{"whsec_new"}, "t="+ts+",t="+ts+",v1="+newSig, CodeMalformedSignature)
	f([]string{"whsec_new"}, "t="+ts+",v0="+newSig, CodeMalformedSignature)
	f([]string{"whsec_new"}, "t="+ts+",v1=zz", CodeMalformedSignature)
	f([]string{"whsec_new"}, "t="+ts+",v1", CodeMalformedSignature)
	f([]string{"whsec_new"}, "t=-"+ts+",v1="+newSig, CodeMalformedSignature)
}

// TestGitHubLibraryAgrees: every github fixture signed with crypto/hmac
// passes go-github's ValidateSignature and this verifier alike, for both
// the sha256 header and the legacy sha1 one.
func TestGitHubLibraryAgrees(t *testing.T) {
	now := time.Now()
	const secret = "It's a Secret to Everybody"
	v := mustNew(t, Config{Provider: "github", Secrets: []string{secret}, GitHub: &GitHubOptions{AllowSHA1: true}})
	for _, name := range []string{"check_run_completed", "installation_created", "issue_comment_created", "issues_opened", "ping", "pull_request_opened", "push", "release_published"} {
		body := fixture(t, "github/"+name+".json")
		for _, sig := range []struct{ header, value string }{
			{"X-Hub-Signature-256", "sha256=" + hexMAC(sha256.New, secret, body)},
			{"X-Hub-Signature", "sha1=" + hexMAC(sha1.New, secret, body)},
		} {
			if err := github.ValidateSignature(sig.value, body, []byte(secret)); err != nil {
				t.Fatalf("%s %s: go-github: %s", name, sig.header, err)
			}
			requireOK(t, v, newReq(body, sig.header, sig.value), now)
		}
	}
}

// TestGitHubDocsExample is the example of GitHub's "Validating webhook
// deliveries" page: secret "It's a Secret to Everybody", payload
// "Hello, World!".
func TestGitHubDocsExample(t *testing.T) {
	v := mustNew(t, Config{Provider: "github", Secrets: []string{"It's a Secret to Everybody"}})
	requireOK(t, v, newReq([]byte("Hello, World!"), "X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"), time.Now())
}

// TestGitHubSHA1: the legacy header counts only when the source opts in,
// and never rescues a bad sha256 signature.
func TestGitHubSHA1(t *testing.T) {
	now := time.Now()
	const secret = "gh-secret"
	body := fixture(t, "github/push.json")
	sha1Sig := "sha1=" + hexMAC(sha1.New, secret, body)
	sha256Sig := "sha256=" + hexMAC(sha256.New, secret, body)
	strict := mustNew(t, Config{Provider: "github", Secrets: []string{secret}})
	legacy := mustNew(t, Config{Provider: "github", Secrets: []string{secret}, GitHub: &GitHubOptions{AllowSHA1: true}})

	requireCode(t, strict, newReq(body, "X-Hub-Signature", sha1Sig), now, CodeMissingSignature)
	requireOK(t, legacy, newReq(body, "X-Hub-Signature", sha1Sig), now)
	requireOK(t, strict, newReq(body, "X-Hub-Signature", sha1Sig, "X-Hub-Signature-256", sha256Sig), now)
	requireCode(t, legacy, newReq(body, "X-Hub-Signature", sha1Sig, "X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64)), now, CodeBadSignature)
	requireCode(t, legacy, newReq(body, "X-Hub-Signature", "sha1=xyz"), now, CodeMalformedSignature)
	requireCode(t, legacy, newReq(body), now, CodeMissingSignature)
	requireCode(t, strict, newReq(body), now, CodeMissingSignature)
}

// TestSlackLibraryAgrees: slack-go's SecretsVerifier accepts what passes
// here, for each slack fixture.
func TestSlackLibraryAgrees(t *testing.T) {
	now := time.Now()
	const secret = "8f742231b10e8888abcd99yyyzzz85a5"
	v := mustNew(t, Config{Provider: "slack", Secrets: []string{secret}})
	sign := presetCases(t)["slack"].sign
	for _, name := range []string{"event_callback_app_mention", "event_callback_message", "url_verification"} {
		body := fixture(t, "slack/"+name+".json")
		r := sign(t, secret, body, now)
		requireOK(t, v, r, now)
		sv, err := slack.NewSecretsVerifier(httpHeader(r), secret)
		if err != nil {
			t.Fatalf("%s: slack-go: %s", name, err)
		}
		sv.Write(body)
		if err := sv.Ensure(); err != nil {
			t.Fatalf("%s: slack-go: %s", name, err)
		}
	}
}

// TestSlackDocsExample is the worked example of Slack's "Verifying
// requests from Slack" page.
func TestSlackDocsExample(t *testing.T) {
	body := []byte("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
	r := newReq(body, "X-Slack-Request-Timestamp", "1531420618", "X-Slack-Signature", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")
	v := mustNew(t, Config{Provider: "slack", Secrets: []string{"8f742231b10e8888abcd99yyyzzz85a5"}})
	requireOK(t, v, r, time.Unix(1531420618, 0))
}

func TestSlackChallenge(t *testing.T) {
	now := time.Now()
	const secret = "slack-secret"
	v := mustNew(t, Config{Provider: "slack", Secrets: []string{secret}})
	sign := presetCases(t)["slack"].sign

	res := requireOK(t, v, sign(t, secret, fixture(t, "slack/url_verification.json"), now), now)
	if string(res.Challenge) != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" || res.ChallengeContentType != "text/plain" {
		t.Fatalf("challenge %q %q", res.Challenge, res.ChallengeContentType)
	}
	// An event that merely mentions the word is an event.
	body := []byte(`{"type":"event_callback","event_id":"Ev1","event":{"type":"message","text":"\"url_verification\""},"note":"url_verification"}`)
	if res := requireOK(t, v, sign(t, secret, body, now), now); res.Challenge != nil {
		t.Fatalf("event answered as a challenge: %q", res.Challenge)
	}
	// An unsigned challenge is refused like any request.
	r := sign(t, "wrong", fixture(t, "slack/url_verification.json"), now)
	requireCode(t, v, r, now, CodeBadSignature)
}

// TestStandardWebhooksLibraryAgrees: both official libraries verify what
// passes here and sign what passes here, rotation lists included.
func TestStandardWebhooksLibraryAgrees(t *testing.T) {
	now := time.Now()
	body := []byte(`{"type":"contact.created","timestamp":"2022-11-03T20:26:10.344522Z","data":{"id":"1f81eb52-5198-4599-803e-771906343485"}}`)
	cur, prev := whsec("cur"), whsec("prev")
	std := mustNew(t, Config{Provider: "standard-webhooks", Secrets: []string{cur}})
	sv := mustNew(t, Config{Provider: "svix", Secrets: []string{cur}})

	whCur, _ := standardwebhooks.NewWebhook(cur)
	whPrev, _ := standardwebhooks.NewWebhook(prev)
	sigCur, _ := whCur.Sign("msg_1", now, body)
	sigPrev, _ := whPrev.Sign("msg_1", now, body)
	// A rotating sender lists both, plus an asymmetric v1a we skip.
	list := sigPrev + " v1a,c29tZSBlZDI1NTE5IHNpZ25hdHVyZQ== " + sigCur
	r := newReq(body, "webhook-id", "msg_1", "webhook-timestamp", unix(now), "webhook-signature", list)
	requireOK(t, std, r, now)
	if err := whCur.Verify(body, httpHeader(r)); err != nil {
		t.Fatalf("standard-webhooks library: %s", err)
	}

	svCur, _ := svix.NewWebhook(cur)
	sig, _ := svCur.Sign("msg_2", now, body)
	r = newReq(body, "svix-id", "msg_2", "svix-timestamp", unix(now), "svix-signature", sig)
	requireOK(t, sv, r, now)
	if err := svCur.Verify(body, httpHeader(r)); err != nil {
		t.Fatalf("svix library: %s", err)
	}
	// Each preset reads only its own headers.
	requireCode(t, std, r, now, CodeMissingSignature)

	f := func(v Verifier, kv []string, code string) {
		t.Helper()
		requireCode(t, v, newReq(body, kv...), now, code)
	}
	f(std, []string{"webhook-timestamp", unix(now), "webhook-signature", sigCur}, CodeMissingSignature)
	f(std, []string{"webhook-id", "msg_1", "webhook-timestamp", unix(now), "webhook-signature", "v2,abc"}, CodeMalformedSignature)
	f(std, []string{"webhook-id", "msg_1", "webhook-timestamp", "17e8", "webhook-signature", sigCur}, CodeMalformedSignature)
	f(std, []string{"webhook-id", "msg_other", "webhook-timestamp", unix(now), "webhook-signature", sigCur}, CodeBadSignature)
}

func TestStandardWebhooksSecret(t *testing.T) {
	requireConfigError(t, Config{Provider: "standard-webhooks", Secrets: []string{"whsec_not*base64"}}, CodeInvalidSecret, "secrets[0]")
	requireConfigError(t, Config{Provider: "svix", Secrets: []string{whsec("a"), "whsec_!!"}}, CodeInvalidSecret, "secrets[1]")
	// The libraries take the key without its prefix too.
	mustNew(t, Config{Provider: "svix", Secrets: []string{strings.TrimPrefix(whsec("a"), "whsec_")}})
}

// TestZendeskTimestamp: the timestamp is RFC 3339, signed as sent.
func TestZendeskTimestamp(t *testing.T) {
	now := time.Date(2021, 3, 25, 5, 9, 27, 0, time.UTC)
	body := []byte(`{"type":"zen:event-type:ticket.created"}`)
	v := mustNew(t, Config{Provider: "zendesk", Secrets: []string{"zendesk-secret"}})
	for _, ts := range []string{"2021-03-25T05:09:27Z", "2021-03-25T06:09:27+01:00"} {
		r := newReq(body, "X-Zendesk-Webhook-Signature", b64MAC(sha256.New, "zendesk-secret", []byte(ts), body), "X-Zendesk-Webhook-Signature-Timestamp", ts)
		requireOK(t, v, r, now)
	}
	r := newReq(body, "X-Zendesk-Webhook-Signature", b64MAC(sha256.New, "zendesk-secret", []byte("1616648967"), body), "X-Zendesk-Webhook-Signature-Timestamp", "1616648967")
	requireCode(t, v, r, now, CodeMalformedSignature)
}

// TestDiscourseSpecVector is the ping of Discourse's own test of its web
// hook job (spec/jobs/emit_web_hook_event_spec.rb), whose fabricated
// hook has the secret "my_lovely_secret_for_web_hook".
func TestDiscourseSpecVector(t *testing.T) {
	v := mustNew(t, Config{Provider: "discourse", Secrets: []string{"my_lovely_secret_for_web_hook"}})
	r := newReq([]byte(`{"ping":"OK"}`), "X-Discourse-Event-Signature", "sha256=162f107f6b5022353274eb1a7197885cfd35744d8d08e5bcea025d309386b7d6")
	requireOK(t, v, r, time.Now())
}
