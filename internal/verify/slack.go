package verify

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"time"
)

// slack: X-Slack-Signature is "v0=" and the hex HMAC-SHA256 of
// "v0:{X-Slack-Request-Timestamp}:{body}" under the app's signing secret;
// the timestamp is unix seconds and Slack asks for a five-minute window.
//
// Slack checks a new Events API URL with a signed url_verification
// request and expects its challenge echoed back; a verified one is
// answered through Result.Challenge instead of becoming an event.
type slackVerifier struct {
	scheme *macScheme
}

func newSlack(cfg Config) (Verifier, error) {
	s, err := fixedScheme(cfg, macScheme{
		header:   "X-Slack-Signature",
		prefix:   "v0=",
		enc:      encHex,
		content:  mustTemplate("v0:{timestamp}:{body}"),
		tsHeader: "X-Slack-Request-Timestamp",
		tsFormat: tsUnix,
	}, sha256.New)
	if err != nil {
		return nil, err
	}
	return &slackVerifier{scheme: s}, nil
}

var urlVerification = []byte(`"url_verification"`)

// maxSlackChallengeBody is far above the ~150 bytes Slack sends.
const maxSlackChallengeBody = 4 << 10

func (v *slackVerifier) Verify(r *Request, now time.Time) (Result, *Error) {
	if _, err := v.scheme.Verify(r, now); err != nil {
		return Result{}, err
	}
	// A url_verification body is three short fields: a large body is an
	// event and is not scanned. In a small one the substring test keeps
	// events off the JSON decoder, and only the decode decides, since an
	// event's text could hold the word.
	if len(r.Body) > maxSlackChallengeBody || !bytes.Contains(r.Body, urlVerification) {
		return Result{}, nil
	}
	var m struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
	}
	if json.Unmarshal(r.Body, &m) != nil || m.Type != "url_verification" {
		return Result{}, nil
	}
	return Result{Challenge: []byte(m.Challenge), ChallengeContentType: "text/plain"}, nil
}

func init() {
	register(&Preset{
		Name:             "slack",
		New:              newSlack,
		DefaultType:      "slack.{$.event.type}",
		DefaultID:        "$.event_id",
		DefaultTolerance: 5 * time.Minute,
	})
}
