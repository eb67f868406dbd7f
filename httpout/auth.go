package httpout

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
)

// AuthConfig.Type values.
const (
	AuthBearer = "bearer" // Authorization: Bearer <token>
	AuthBasic  = "basic"  // Authorization: Basic base64(<username>:<password>)
	AuthHeader = "header" // <name>: <value>
)

// AuthConfig is how an endpoint authenticates to its receiver: besides the
// signature, or instead of it with scheme "none" (APIs that take a token, not
// a signed request). Its JSON form is the endpoint's "auth" field.
//
// The credentials (Token, Username, Password, Value) are write-only: API
// answers, logs, the audit trail and the attempt log show Masked.
type AuthConfig struct {
	Type     string `json:"type"`
	Token    string `json:"token,omitempty"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	Name     string `json:"name,omitempty"`
	Value    string `json:"value,omitempty"`
}

// Validate reports the first problem, naming the field ("auth.token"). A
// field the type does not use must be empty: a username given to a bearer
// auth is a mistake its author wants to hear about, not a value to drop.
func (a *AuthConfig) Validate() error {
	var used []string
	switch a.Type {
	case AuthBearer:
		used = []string{"token"}
		if a.Token == "" {
			return fmt.Errorf("auth.token is empty; type bearer sends Authorization: Bearer <token>")
		}
		// No spaces: "Bearer a b" is not one token to the receiver (RFC
		// 6750's b64token has none either).
		for i := 0; i < len(a.Token); i++ {
			if c := a.Token[i]; c <= ' ' || c >= 0x7f {
				return fmt.Errorf("auth.token has %q at byte %d; a bearer token is visible ASCII without spaces", c, i)
			}
		}
		if n := len("Bearer ") + len(a.Token); n > MaxHeaderValueLen {
			return fmt.Errorf("auth.token is %d bytes long; at most %d are allowed", len(a.Token), MaxHeaderValueLen-len("Bearer "))
		}
	case AuthBasic:
		used = []string{"username", "password"}
		switch {
		case a.Username == "":
			return fmt.Errorf("auth.username is empty; type basic needs a username (the password may be empty)")
		case strings.IndexByte(a.Username, ':') >= 0:
			// RFC 7617, section 2: the first colon ends the user-id.
			return fmt.Errorf("auth.username has a colon, which basic auth cannot carry (the first colon ends the username)")
		}
		if err := checkCredentialText("auth.username", a.Username); err != nil {
			return err
		}
		if err := checkCredentialText("auth.password", a.Password); err != nil {
			return err
		}
		if n := len("Basic ") + base64.StdEncoding.EncodedLen(len(a.Username)+1+len(a.Password)); n > MaxHeaderValueLen {
			return fmt.Errorf("auth.username and auth.password make a %d-byte header value; at most %d are allowed", n, MaxHeaderValueLen)
		}
	case AuthHeader:
		used = []string{"name", "value"}
		if err := checkHeaderName("auth.name", a.Name); err != nil {
			return err
		}
		if strings.EqualFold(a.Name, "content-type") {
			return fmt.Errorf("auth.name %q is not a credential header", a.Name)
		}
		if a.Value == "" {
			return fmt.Errorf("auth.value is empty; type header sends <name>: <value>")
		}
		if err := checkHeaderValue("auth.value", a.Value); err != nil {
			return err
		}
	case "":
		return fmt.Errorf("auth.type is empty; use bearer, basic or header")
	default:
		return fmt.Errorf("auth.type %q is not supported; use bearer, basic or header", a.Type)
	}
	for _, f := range [...]struct{ name, v string }{
		{"token", a.Token}, {"username", a.Username}, {"password", a.Password}, {"name", a.Name}, {"value", a.Value},
	} {
		if f.v != "" && !slices.Contains(used, f.name) {
			return fmt.Errorf("auth.%s is not used by type %s, which takes %s", f.name, a.Type, strings.Join(used, " and "))
		}
	}
	return nil
}

// checkCredentialText refuses control characters in a basic auth part: the
// receiver decodes them from base64 and could not match them to what its
// owner typed.
func checkCredentialText(field, s string) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c == 0x7f {
			return fmt.Errorf("%s has control character %q at byte %d", field, c, i)
		}
	}
	return nil
}

// Header is the header a valid AuthConfig sends, built once per endpoint
// config; the zero Header for an invalid one.
func (a *AuthConfig) Header() Header {
	switch a.Type {
	case AuthBearer:
		return Header{Name: "Authorization", Value: "Bearer " + a.Token}
	case AuthBasic:
		return Header{Name: "Authorization", Value: "Basic " + base64.StdEncoding.EncodeToString([]byte(a.Username+":"+a.Password))}
	case AuthHeader:
		return Header{Name: a.Name, Value: a.Value}
	}
	return Header{}
}

// maskedValue replaces a credential in views.
const maskedValue = "****"

// Masked returns a copy to show in place of a: type and header name as
// they are, every credential replaced. A token, username or value of at
// least 16 bytes keeps its last 4 (as "****wxyz") so its owner can tell
// which credential is configured; 4 characters of a 16-character random
// token leave 12 unknown, and a shorter one, which is likelier to be a word,
// shows none. A password never shows any. An empty credential stays empty.
func (a AuthConfig) Masked() AuthConfig {
	a.Token = maskTail(a.Token)
	a.Username = maskTail(a.Username)
	a.Value = maskTail(a.Value)
	if a.Password != "" {
		a.Password = maskedValue
	}
	return a
}

func maskTail(s string) string {
	switch {
	case s == "":
		return ""
	case len(s) < 16:
		return maskedValue
	}
	tail := s[len(s)-4:]
	for i := 0; i < len(tail); i++ {
		if tail[i] < '!' || tail[i] > '~' {
			// Part of a multi-byte character or a space: show nothing
			// rather than half a character.
			return maskedValue
		}
	}
	return maskedValue + tail
}
