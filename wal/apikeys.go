package wal

import (
	"fmt"
)

// kindAPIKey keys tenant API keys by the SHA-256 of the key: k <hash> ->
// record (JSON, owned by the engine). The key itself is never stored.
const kindAPIKey = 'k'

// PutAPIKey stores the record of the key whose hash is hash.
func (l *Log) PutAPIKey(hash [32]byte, val []byte) error {
	return l.putHashed(kindAPIKey, "API key", hash, val)
}

// DeleteAPIKey removes a key's record.
func (l *Log) DeleteAPIKey(hash [32]byte) error {
	return l.deleteHashed(kindAPIKey, "API key", hash)
}

// ScanAPIKeys calls fn with every key record, for start-up.
func (l *Log) ScanAPIKeys(fn func(hash [32]byte, val []byte)) error {
	return l.scanHashed(kindAPIKey, fn)
}

// putHashed, deleteHashed and scanHashed keep records keyed by the SHA-256
// of a bearer credential: <kind> <hash> -> record.

func (l *Log) putHashed(kind byte, what string, hash [32]byte, val []byte) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	if err := l.setOne(append([]byte{kind}, hash[:]...), val); err != nil {
		return fmt.Errorf("cannot store %s: %w", what, err)
	}
	return nil
}

func (l *Log) deleteHashed(kind byte, what string, hash [32]byte) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	if err := l.deleteOne(append([]byte{kind}, hash[:]...)); err != nil {
		return fmt.Errorf("cannot delete %s: %w", what, err)
	}
	return nil
}

func (l *Log) scanHashed(kind byte, fn func(hash [32]byte, val []byte)) error {
	if !l.enter() {
		return ErrClosed
	}
	defer l.exit()
	return l.scan([]byte{kind}, func(k, v []byte) {
		if len(k) != 33 {
			return
		}
		var h [32]byte
		copy(h[:], k[1:])
		fn(h, v)
	})
}
