package bench

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"hash"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

// githubPullRequestOpened is GitHub's documented pull_request "opened"
// delivery (28 KB): the size of a real busy webhook, not a toy body.
//
//go:embed payloads/github_pull_request_opened.json
var githubPullRequestOpened []byte

// Providers the inbound scenario signs for.
const (
	providerGitHub = "github"
	providerStripe = "stripe"
)

// stripeTail completes a Stripe-like invoice.paid event after its "t" and
// "id" fields to about 1 KB. The leading "t" (send time in ns) is not
// Stripe's: it lets the sink time publish-to-receive when the event is
// delivered, as the other scenarios' payloads do.
const stripeTail = `,"object":"event","api_version":"2024-06-20","created":1763900000,` +
	`"type":"invoice.paid","livemode":false,"pending_webhooks":1,` +
	`"request":{"id":null,"idempotency_key":null},"data":{"object":{` +
	`"id":"in_1QBenchInvoice000000000","object":"invoice",` +
	`"amount_due":2000,"amount_paid":2000,"amount_remaining":0,` +
	`"attempt_count":1,"attempted":true,"billing_reason":"subscription_cycle",` +
	`"collection_method":"charge_automatically","currency":"eur",` +
	`"customer":"cus_QBenchCustomer01","customer_email":"billing@example.com",` +
	`"customer_name":"Example Customer",` +
	`"lines":{"object":"list","data":[{"id":"il_1QBenchLine0000000000","object":"line_item",` +
	`"amount":2000,"currency":"eur","description":"1 × Pro plan",` +
	`"period":{"end":1766492000,"start":1763900000},"price":{"id":"price_1QBenchPrice00000",` +
	`"product":"prod_QBenchProduct","unit_amount":2000},` +
	`"quantity":1,"type":"subscription"}],"has_more":false,"total_count":1},` +
	`"number":"BENCH-0001","paid":true,"status":"paid","subscription":"sub_1QBenchSubscription0",` +
	`"subtotal":2000,"tax":0,"total":2000}}}`

// inboundKind is what a phase posts: the provider's signature scheme and
// where its dedupe id travels (GitHub: the X-GitHub-Delivery header;
// Stripe: the event's "id" in the body, which its signature covers).
type inboundKind struct {
	provider string
	// eventType is the type the provider's default mapping gives.
	eventType string
}

var (
	githubPR      = inboundKind{provider: providerGitHub, eventType: "github.pull_request.opened"}
	stripeInvoice = inboundKind{provider: providerStripe, eventType: "stripe.invoice.paid"}
)

// inboundSigner builds one worker's signed requests. It is not safe for
// concurrent use: each worker has its own, and reuses its buffers and its
// HMAC state across requests.
type inboundSigner struct {
	kind inboundKind
	mac  hash.Hash
	body []byte
	sig  []byte
	sum  []byte
}

func newInboundSigner(kind inboundKind, secret string) *inboundSigner {
	return &inboundSigner{kind: kind, mac: hmac.New(sha256.New, []byte(secret))}
}

// fill makes req a POST to url carrying the provider's request for
// delivery key (its dedupe id), signed at now, as the provider would sign
// it: the HMAC is computed here, per request, never reused.
func (s *inboundSigner) fill(req *fasthttp.Request, url string, key []byte, now time.Time) {
	req.Reset()
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetRequestURI(url)
	req.Header.SetContentType("application/json")
	s.mac.Reset()
	switch s.kind.provider {
	case providerGitHub:
		// GitHub signs the body alone. Each delivery's body is its own, as
		// a real one's is (the server takes a byte-identical signed body
		// under a new delivery id for a replay of the first): the delivery
		// key goes in front of the documented payload's fields.
		s.body = append(s.body[:0], `{"bench_delivery":"`...)
		s.body = append(s.body, key...)
		s.body = append(s.body, `",`...)
		s.body = append(s.body, githubPullRequestOpened[1:]...)
		s.mac.Write(s.body)
		s.sig = append(s.sig[:0], "sha256="...)
		s.sum = s.mac.Sum(s.sum[:0])
		s.sig = hex.AppendEncode(s.sig, s.sum)
		req.Header.Set("User-Agent", "GitHub-Hookshot/bench")
		req.Header.Set("X-GitHub-Event", "pull_request")
		req.Header.SetBytesV("X-GitHub-Delivery", key)
		req.Header.SetBytesV("X-Hub-Signature-256", s.sig)
		req.SetBodyRaw(s.body)
	case providerStripe:
		s.body = append(s.body[:0], `{"t":`...)
		s.body = strconv.AppendInt(s.body, now.UnixNano(), 10)
		s.body = append(s.body, `,"id":"`...)
		s.body = append(s.body, key...)
		s.body = append(s.body, '"')
		s.body = append(s.body, stripeTail...)
		s.sig = append(s.sig[:0], "t="...)
		s.sig = strconv.AppendInt(s.sig, now.Unix(), 10)
		ts := s.sig[len("t="):]
		s.mac.Write(ts)
		s.mac.Write([]byte{'.'})
		s.mac.Write(s.body)
		s.sum = s.mac.Sum(s.sum[:0])
		s.sig = append(s.sig, ",v1="...)
		s.sig = hex.AppendEncode(s.sig, s.sum)
		req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
		req.Header.SetBytesV("Stripe-Signature", s.sig)
		req.SetBodyRaw(s.body)
	default:
		panic("BUG: no signer for provider " + s.kind.provider)
	}
}

// appendDeliveryKey appends a delivery id unique to (tag, worker, seq):
// UUID-shaped as GitHub's X-GitHub-Delivery, "evt_"-prefixed as Stripe's
// event ids.
func appendDeliveryKey(dst []byte, provider string, tag uint32, worker int, seq int64) []byte {
	if provider == providerStripe {
		dst = append(dst, "evt_"...)
	}
	dst = appendHex(dst, uint64(tag), 8)
	dst = append(dst, '-')
	dst = appendHex(dst, uint64(worker), 4)
	dst = append(dst, "-4000-8000-"...)
	return appendHex(dst, uint64(seq), 12)
}

func appendHex(dst []byte, v uint64, digits int) []byte {
	const hexDigits = "0123456789abcdef"
	for i := digits - 1; i >= 0; i-- {
		dst = append(dst, hexDigits[(v>>(4*uint(i)))&0xf])
	}
	return dst
}

// parseInboundAnswer reads the receiver's 200 answer: {"id":"evt_…"} for
// a new event, {"id":"evt_…","duplicate":true} for a repeat. ok is false
// for anything else (a dropped request's {"dropped":true} included).
func parseInboundAnswer(body []byte) (id []byte, duplicate, ok bool) {
	const prefix = `{"id":"`
	if !bytes.HasPrefix(body, []byte(prefix)) {
		return nil, false, false
	}
	rest := body[len(prefix):]
	end := bytes.IndexByte(rest, '"')
	if end <= 0 {
		return nil, false, false
	}
	id, rest = rest[:end], rest[end+1:]
	switch string(rest) {
	case "}":
		return id, false, true
	case `,"duplicate":true}`:
		return id, true, true
	}
	return nil, false, false
}
