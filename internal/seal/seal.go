// Package seal encrypts the secrets hookline keeps in its store (endpoint
// signing secrets, source secrets, and outbound credentials to come) with
// AES-256-GCM under a master key kept outside the store, so a copy of the
// data files (a backup, a stolen disk) does not give them away.
//
// A sealed value is text, so it can stand where the plaintext stood in a
// JSON record:
//
//	hlseal1.<key id>.<base64url(nonce | ciphertext | tag)>
//
// The key id is the first 8 hex digits of SHA-256 of the key: a store
// sealed under another key is told apart (a wrong key file is an error
// naming both ids, never garbage), and a key rotation knows which values
// are still to re-encrypt. The nonce is 12 random bytes per value. Each
// value is bound to what it belongs to (the additional data, e.g. an
// endpoint id), so a sealed secret copied into another record does not
// open there.
//
// Values without the prefix are plaintext written before sealing existed:
// Keyring.Open returns them as they are, and reports it, so their owner
// can seal them at its next write.
//
// It imports no other project package.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Prefix starts every sealed value.
const Prefix = "hlseal1."

// KeySize is the master key's size: AES-256.
const KeySize = 32

const nonceSize = 12

// Key is one master key.
type Key struct {
	id   string
	aead cipher.AEAD
}

// NewKey makes a Key of raw, which must be KeySize bytes.
func NewKey(raw []byte) (*Key, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("a key is %d bytes; this one has %d", KeySize, len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("cannot make an AES cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("cannot make AES-GCM: %w", err)
	}
	return &Key{id: KeyID(raw), aead: aead}, nil
}

// KeyID is the id of the key raw: 8 hex digits of its SHA-256.
func KeyID(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:4])
}

// ID returns the key's id.
func (k *Key) ID() string { return k.id }

// Keyring seals under its current key and opens values sealed under any of
// its keys. It is safe for concurrent use.
type Keyring struct {
	cur  *Key
	keys map[string]*Key
}

// NewKeyring makes a keyring sealing under cur and opening under cur and
// others (older keys during a rotation).
func NewKeyring(cur *Key, others ...*Key) *Keyring {
	kr := &Keyring{cur: cur, keys: map[string]*Key{cur.id: cur}}
	for _, k := range others {
		kr.keys[k.id] = k
	}
	return kr
}

// CurrentID is the id of the key new values are sealed under.
func (kr *Keyring) CurrentID() string { return kr.cur.id }

// Seal encrypts plaintext bound to ad under the current key. The empty
// string stays empty: there is nothing to hide, and "no secret" must stay
// recognisable.
func (kr *Keyring) Seal(plaintext, ad string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	buf := make([]byte, nonceSize, nonceSize+len(plaintext)+kr.cur.aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("cannot make a nonce: %w", err)
	}
	buf = kr.cur.aead.Seal(buf, buf[:nonceSize], []byte(plaintext), []byte(ad))
	return Prefix + kr.cur.id + "." + base64.RawURLEncoding.EncodeToString(buf), nil
}

// Sealed reports whether v is a sealed value (well formed or not).
func Sealed(v string) bool { return strings.HasPrefix(v, Prefix) }

// UnknownKeyError is a value sealed under a key the keyring does not hold:
// the wrong key file, or a lost one.
type UnknownKeyError struct {
	ID string
}

func (e *UnknownKeyError) Error() string {
	return fmt.Sprintf("sealed under key %s, which the key file does not hold", e.ID)
}

// ErrCorrupt is a sealed value that is malformed or fails authentication
// under its key: the bytes were changed, or it was moved from another
// record.
var ErrCorrupt = errors.New("sealed value is corrupt or belongs to another record")

// Open returns the plaintext of v, sealed with ad. A value without the
// sealed prefix is plaintext from before sealing: it is returned as it
// is, with plain true. A value under a key the ring lacks is an
// *UnknownKeyError; a damaged one ErrCorrupt.
func (kr *Keyring) Open(v, ad string) (plaintext string, plain bool, err error) {
	id, rest, err := Parse(v)
	if err != nil {
		return "", false, err
	}
	if id == "" {
		return v, v != "", nil
	}
	k := kr.keys[id]
	if k == nil {
		return "", false, &UnknownKeyError{ID: id}
	}
	if len(rest) < nonceSize+k.aead.Overhead() {
		return "", false, ErrCorrupt
	}
	out, err := k.aead.Open(nil, rest[:nonceSize], rest[nonceSize:], []byte(ad))
	if err != nil {
		return "", false, ErrCorrupt
	}
	return string(out), false, nil
}

// Parse splits a sealed value into its key id and its decoded bytes; a
// value without the prefix gives an empty id and no error.
func Parse(v string) (id string, raw []byte, err error) {
	body, ok := strings.CutPrefix(v, Prefix)
	if !ok {
		return "", nil, nil
	}
	id, enc, ok := strings.Cut(body, ".")
	if !ok || len(id) != 8 || strings.Trim(id, "0123456789abcdef") != "" {
		return "", nil, ErrCorrupt
	}
	raw, err = base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", nil, ErrCorrupt
	}
	return id, raw, nil
}

// NeedsReseal reports whether v is plaintext or sealed under another key
// than the current one: what a rotation or a migration rewrites.
func (kr *Keyring) NeedsReseal(v string) bool {
	if v == "" {
		return false
	}
	id, _, err := Parse(v)
	return err == nil && id != kr.cur.id
}

// SealAll replaces each of vs with its value sealed bound to ad. A nil
// keyring leaves them as they are (a store without sealing: tests).
func (kr *Keyring) SealAll(ad string, vs ...*string) error {
	if kr == nil {
		return nil
	}
	for _, v := range vs {
		s, err := kr.Seal(*v, ad)
		if err != nil {
			return err
		}
		*v = s
	}
	return nil
}

// OpenAll replaces each of vs, sealed bound to ad, with its plaintext, and
// reports whether any of them was plaintext or under another key than the
// current one (the record is to be sealed again). A nil keyring opens
// nothing: a sealed value is then an *UnknownKeyError.
func (kr *Keyring) OpenAll(ad string, vs ...*string) (stale bool, err error) {
	for _, v := range vs {
		if kr == nil {
			if id, _, err := Parse(*v); err != nil || id != "" {
				return false, &UnknownKeyError{ID: id}
			}
			continue
		}
		stale = stale || kr.NeedsReseal(*v)
		s, _, err := kr.Open(*v, ad)
		if err != nil {
			return false, err
		}
		*v = s
	}
	return stale, nil
}
