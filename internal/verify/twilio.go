package verify

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"hash"
	"slices"
	"sync"
	"time"
)

// Twilio signs the URL it called: X-Twilio-Signature is the
// standard-base64 HMAC-SHA1, under the account's auth token, of
//   - for application/x-www-form-urlencoded bodies: the full URL
//     followed by every POST parameter, sorted by name, as name+value;
//   - for JSON bodies: the full URL alone, which then carries a
//     bodySHA256 query parameter, the hex SHA-256 of the body.
//
// Nothing signed carries a time, so there is no tolerance. Twilio's
// own validators also accept the URL with the scheme's default port
// added or removed (its signing side is inconsistent about it), and so
// does this one.
//
// Form bodies have no JSON to read a type from, so the default type is
// a constant; a source for one Twilio product (voice, messaging) sets
// its own. The default id is the I-Twilio-Idempotency-Token header,
// which Twilio keeps across retries of one webhook. It is not signed, so
// Result.ReplayID is the signature itself: it covers the URL and the
// parameters as canonicalised, so reordering or re-encoding a captured
// form does not make another request of it.
func init() {
	register(&Preset{
		Name:        "twilio",
		New:         newTwilio,
		DefaultType: "twilio.webhook",
		DefaultID:   "header:I-Twilio-Idempotency-Token",
		UnsignedID:  true,
	})
}

type twilioVerifier struct {
	macs  *macKeys
	forms sync.Pool // *twilioForm, so canonicalising a body allocates nothing once warm
}

func newTwilio(cfg Config) (Verifier, error) {
	macs, err := keyedMACsFor(cfg, sha1.New)
	if err != nil {
		return nil, err
	}
	v := &twilioVerifier{macs: macs}
	v.forms.New = func() any { return new(twilioForm) }
	return v, nil
}

var bodySHA256Param = []byte("bodySHA256")

func (v *twilioVerifier) Verify(r *Request, _ time.Time) (Result, *Error) {
	var sig [sha1.Size]byte
	if rerr := readBase64Sig(r, "X-Twilio-Signature", nil, sig[:]); rerr != nil {
		return Result{}, rerr
	}
	u := r.URL
	if len(u) == 0 {
		return Result{}, reject(CodeBadSignature, "the request URL, which Twilio signs, is unknown")
	}
	bodySHA := queryParam(u, bodySHA256Param)
	var form *twilioForm
	if bodySHA == nil {
		form = v.forms.Get().(*twilioForm)
		defer v.forms.Put(form)
		if !form.parse(r.Body) {
			return Result{}, reject(CodeBadSignature, "the body is not application/x-www-form-urlencoded and the URL has no bodySHA256")
		}
	}
	head, port, tail, toggled := twilioPortToggle(u)
	alt := false
	write := func(h hash.Hash) {
		if alt {
			h.Write(head)
			h.Write(port)
			h.Write(tail)
		} else {
			h.Write(u)
		}
		if form != nil {
			form.write(h)
		}
	}
	equal := func(sum []byte) bool { return hmac.Equal(sum, sig[:]) }
	ok := v.macs.matchWith(write, equal)
	if !ok && toggled {
		alt = true
		ok = v.macs.matchWith(write, equal)
	}
	if !ok {
		return Result{}, reject(CodeBadSignature, "X-Twilio-Signature matches no secret")
	}
	if bodySHA != nil {
		sum := sha256.Sum256(r.Body)
		var hx [2 * sha256.Size]byte
		hex.Encode(hx[:], sum[:])
		if subtle.ConstantTimeCompare(hx[:], bodySHA) != 1 {
			return Result{}, reject(CodeBadSignature, "the body does not match the signed bodySHA256")
		}
	}
	var res Result
	copy(res.ReplayID[:], sig[:])
	return res, nil
}

// queryParam returns the raw value of name in u's query string, nil
// when absent (an empty value is a non-nil empty slice).
func queryParam(u, name []byte) []byte {
	q := u
	if i := bytes.IndexByte(q, '#'); i >= 0 {
		q = q[:i]
	}
	i := bytes.IndexByte(q, '?')
	if i < 0 {
		return nil
	}
	q = q[i+1:]
	for len(q) > 0 {
		var kv []byte
		kv, q = cutByte(q, '&')
		k, val := cutByte(kv, '=')
		if bytes.Equal(k, name) {
			if val == nil {
				return kv[len(kv):]
			}
			return val
		}
	}
	return nil
}

// twilioPortToggle splits u so that head+port+tail is u with its port
// removed when it has one, or with the scheme's default port added when
// it has none; ok is false when u is not scheme://host….
func twilioPortToggle(u []byte) (head, port, tail []byte, ok bool) {
	i := bytes.Index(u, []byte("://"))
	if i <= 0 {
		return nil, nil, nil, false
	}
	hostStart := i + 3
	end := len(u)
	if j := bytes.IndexAny(u[hostStart:], "/?#"); j >= 0 {
		end = hostStart + j
	}
	host := hostStart
	if at := bytes.LastIndexByte(u[hostStart:end], '@'); at >= 0 {
		host = hostStart + at + 1
	}
	if host == end {
		return nil, nil, nil, false
	}
	auth := u[host:end]
	colon := bytes.LastIndexByte(auth, ':')
	if colon >= 0 && bytes.IndexByte(auth[colon:], ']') < 0 {
		return u[:host+colon], nil, u[end:], true
	}
	if bytes.EqualFold(u[:i], []byte("https")) {
		return u[:end], httpsPort, u[end:], true
	}
	return u[:end], httpPort, u[end:], true
}

var (
	httpsPort = []byte(":443")
	httpPort  = []byte(":80")
)

// twilioForm is a form body canonicalised for Twilio's signature:
// names and values percent-decoded into buf, pairs sorted by name then
// value.
type twilioForm struct {
	buf   []byte
	pairs []formPair
}

type formPair struct{ k0, k1, v0, v1 int } // name buf[k0:k1], value buf[v0:v1]

// parse decodes body as application/x-www-form-urlencoded ('+' is a
// space, %XX a byte) and sorts it; false when an escape is broken, as
// Go's url.ParseQuery (and so Twilio's Go validator) would refuse it.
// It never panics on any input (fuzzed).
func (f *twilioForm) parse(body []byte) bool {
	f.buf, f.pairs = f.buf[:0], f.pairs[:0]
	for len(body) > 0 {
		var kv []byte
		kv, body = cutByte(body, '&')
		if len(kv) == 0 {
			continue
		}
		k, val := cutByte(kv, '=')
		var p formPair
		var ok bool
		p.k0 = len(f.buf)
		if f.buf, ok = appendFormUnescaped(f.buf, k); !ok {
			return false
		}
		p.k1, p.v0 = len(f.buf), len(f.buf)
		if f.buf, ok = appendFormUnescaped(f.buf, val); !ok {
			return false
		}
		p.v1 = len(f.buf)
		f.pairs = append(f.pairs, p)
	}
	buf := f.buf
	slices.SortFunc(f.pairs, func(a, b formPair) int {
		if c := bytes.Compare(buf[a.k0:a.k1], buf[b.k0:b.k1]); c != 0 {
			return c
		}
		return bytes.Compare(buf[a.v0:a.v1], buf[b.v0:b.v1])
	})
	return true
}

// write appends each pair as name+value. A name given more than once
// contributes each distinct value, in sorted order, as twilio-python's
// validator does; twilio-go's keeps only the first value, so such a
// request may verify here and fail there (Twilio's own parameters are
// not repeated).
func (f *twilioForm) write(h hash.Hash) {
	for i, p := range f.pairs {
		k, val := f.buf[p.k0:p.k1], f.buf[p.v0:p.v1]
		if i > 0 {
			q := f.pairs[i-1]
			if bytes.Equal(k, f.buf[q.k0:q.k1]) && bytes.Equal(val, f.buf[q.v0:q.v1]) {
				continue
			}
		}
		h.Write(k)
		h.Write(val)
	}
}

func appendFormUnescaped(dst, s []byte) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			dst = append(dst, ' ')
		case '%':
			if i+2 >= len(s) {
				return dst, false
			}
			b, ok := unhex2(s[i+1], s[i+2])
			if !ok {
				return dst, false
			}
			dst = append(dst, b)
			i += 2
		default:
			dst = append(dst, c)
		}
	}
	return dst, true
}
