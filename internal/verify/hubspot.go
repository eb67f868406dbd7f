package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"strings"
	"time"
)

// HubSpot's v3 signature: X-HubSpot-Signature-v3 is the standard-base64
// HMAC-SHA256, under the app's client secret, of method + URI + body +
// timestamp, where the timestamp is X-HubSpot-Request-Timestamp (unix
// milliseconds, also signed) and the URI is the full URL HubSpot
// called with a fixed set of percent-escapes decoded (hubspotDecoded).
// HubSpot says to reject requests older than 5 minutes.
//
// The method is always POST: Request carries none, and HubSpot posts
// webhooks (the GET-signed CRM-card fetches are not webhooks).
//
// HubSpot posts a JSON array of up to 100 events, so the default type
// is the first event's subscriptionType and there is no default id: a
// batch has no id of its own. A source that must route or dedupe per
// event needs a mapping that splits the array into one event per
// element, with type hubspot.{$.subscriptionType} and id $.eventId.
func init() {
	register(&Preset{
		Name:             "hubspot",
		New:              newHubSpot,
		DefaultType:      "hubspot.{$[0].subscriptionType}",
		DefaultTolerance: 5 * time.Minute,
	})
}

type hubspotVerifier struct {
	macs *macKeys
	tol  time.Duration
}

func newHubSpot(cfg Config) (Verifier, error) {
	macs, err := keyedMACsFor(cfg, sha256.New)
	if err != nil {
		return nil, err
	}
	return &hubspotVerifier{macs: macs, tol: cfg.Tolerance}, nil
}

var hubspotMethod = []byte("POST")

func (v *hubspotVerifier) Verify(r *Request, now time.Time) (Result, *Error) {
	var sig [sha256.Size]byte
	if rerr := readBase64Sig(r, "X-HubSpot-Signature-v3", nil, sig[:]); rerr != nil {
		return Result{}, rerr
	}
	tsRaw := peek(r.Header, "X-HubSpot-Request-Timestamp")
	ts, rerr := timestampOf(tsRaw, true, "X-HubSpot-Request-Timestamp header")
	if rerr != nil {
		return Result{}, rerr
	}
	if rerr := checkSkew(ts, now, v.tol); rerr != nil {
		return Result{}, rerr
	}
	if len(r.URL) == 0 {
		return Result{}, reject(CodeBadSignature, "the request URL, which HubSpot signs, is unknown")
	}
	uri, body := r.URL, r.Body
	write := func(h hash.Hash) {
		h.Write(hubspotMethod)
		writeHubSpotURI(h, uri)
		h.Write(body)
		h.Write(tsRaw)
	}
	if !v.macs.matchWith(write, func(sum []byte) bool { return hmac.Equal(sum, sig[:]) }) {
		return Result{}, reject(CodeBadSignature, "X-HubSpot-Signature-v3 matches no secret")
	}
	return Result{}, nil
}

// hubspotDecoded are the characters HubSpot's v3 scheme signs decoded
// when they arrive percent-escaped (either hex case); other escapes
// stay as sent.
const hubspotDecoded = ":/?@!$'()*,;"

var hubspotDecodedBytes = []byte(hubspotDecoded)

// writeHubSpotURI writes uri with hubspotDecoded's escapes decoded,
// in runs, so no copy of the URL is made.
func writeHubSpotURI(h hash.Hash, uri []byte) {
	start := 0
	for i := 0; i+2 < len(uri); i++ {
		if uri[i] != '%' {
			continue
		}
		c, ok := unhex2(uri[i+1], uri[i+2])
		if !ok {
			continue
		}
		j := strings.IndexByte(hubspotDecoded, c)
		if j < 0 {
			continue
		}
		h.Write(uri[start:i])
		h.Write(hubspotDecodedBytes[j : j+1])
		i += 2
		start = i + 1
	}
	h.Write(uri[start:])
}

func unhex2(a, b byte) (byte, bool) {
	x, ok1 := unhex(a)
	y, ok2 := unhex(b)
	return x<<4 | y, ok1 && ok2
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
