package wal

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

const (
	recordVersion = 1
	flagZstd      = 1
)

var errCorrupt = errors.New("corrupt record")

// EventRecord is a decoded event. Its byte slices alias the buffer it was
// decoded into: they are valid until that buffer is reused.
type EventRecord struct {
	ID     ID
	TimeMs int64
	Tenant []byte
	Type   []byte
	// Body is the delivery body exactly as sent to endpoints.
	Body []byte
}

// codec compresses event bodies. EncodeAll/DecodeAll of klauspost/compress are
// safe for concurrent use, so one codec serves every goroutine.
type codec struct {
	enc           *zstd.Encoder
	dec           *zstd.Decoder
	compressAbove int
}

func newCodec(compressAbove int) (*codec, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(2))
	if err != nil {
		return nil, fmt.Errorf("cannot create zstd encoder: %w", err)
	}
	// The limit only guards against a corrupt frame header claiming a huge
	// size; it must stay above any body Append accepts.
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(2), zstd.WithDecoderMaxMemory(1<<30))
	if err != nil {
		return nil, fmt.Errorf("cannot create zstd decoder: %w", err)
	}
	return &codec{enc: enc, dec: dec, compressAbove: compressAbove}, nil
}

func (c *codec) close() {
	_ = c.enc.Close()
	c.dec.Close()
}

// appendEvent encodes an event record (without its ID, which is the key).
func (c *codec) appendEvent(dst []byte, timeMs int64, tenant, typ string, body []byte) []byte {
	flags := byte(0)
	compress := c.compressAbove > 0 && len(body) > c.compressAbove
	if compress {
		flags |= flagZstd
	}
	dst = append(dst, recordVersion, flags)
	dst = binary.AppendUvarint(dst, uint64(timeMs))
	dst = appendString(dst, tenant)
	dst = appendString(dst, typ)
	if compress {
		return c.enc.EncodeAll(body, dst)
	}
	return append(dst, body...)
}

// decodeEvent decodes src into r; a compressed body is decompressed into
// scratch, which is returned grown for reuse.
func (c *codec) decodeEvent(src []byte, r *EventRecord, scratch []byte) ([]byte, error) {
	if len(src) < 2 || src[0] != recordVersion {
		return scratch, fmt.Errorf("%w: event record version %v", errCorrupt, firstByte(src))
	}
	flags := src[1]
	src = src[2:]
	ts, n := binary.Uvarint(src)
	if n <= 0 {
		return scratch, fmt.Errorf("%w: event time", errCorrupt)
	}
	r.TimeMs = int64(ts)
	src = src[n:]
	var ok bool
	if r.Tenant, src, ok = readBytes(src); !ok {
		return scratch, fmt.Errorf("%w: event tenant", errCorrupt)
	}
	if r.Type, src, ok = readBytes(src); !ok {
		return scratch, fmt.Errorf("%w: event type", errCorrupt)
	}
	if flags&flagZstd == 0 {
		r.Body = src
		return scratch, nil
	}
	if len(src) == 0 {
		// A compressed body is never empty: zstd writes a frame even for no input.
		return scratch, fmt.Errorf("%w: compressed event body is missing", errCorrupt)
	}
	out, err := c.dec.DecodeAll(src, scratch[:0])
	if err != nil {
		return scratch, fmt.Errorf("%w: cannot decompress event body: %w", errCorrupt, err)
	}
	r.Body = out
	return out, nil
}

// Outcome classes stored in attempt records.
const (
	OutcomeSuccess = 's'
	OutcomeRetry   = 'r'
	OutcomeDead    = 'd'
)

// Attempt is one delivery attempt as logged.
type Attempt struct {
	TimeMs    int64
	Attempt   int
	Outcome   byte
	Status    int    // HTTP status, 0 without a response
	ErrClass  string // "" with a response, else the httpout.ErrClass* or engine value (timeout, refused, ...)
	LatencyUs int64
	NextMs    int64 // when the next attempt is due, 0 if none
	// Headers are the response's logged headers ("Name: value" lines); the
	// engine keeps them for failures only.
	Headers  []byte
	Response []byte
	// Method, URL and Request describe a shaped request (an endpoint with
	// a method, URL template or body template): what was sent, so the log
	// shows it after the endpoint changed. Empty for the standard request,
	// which the endpoint's config describes; Request is the body's first
	// bytes, only when it is not the standard envelope.
	Method  string
	URL     string
	Request []byte
	// Corrected is set on an attempt rendered from a payload given with a
	// replay instead of the event's own.
	Corrected bool
}

// attemptVersion2 adds Headers; version 1 records have none.
const attemptVersion2 = 2

// attemptVersion3 adds a flags byte (attemptCorrected), Method, URL and
// Request. appendAttempt writes it only when one of them is set, so the
// standard attempt record keeps its size.
const attemptVersion3 = 3

const attemptCorrected = 1 << 0

func appendAttempt(dst []byte, a *Attempt) []byte {
	version := byte(attemptVersion2)
	if a.shaped() {
		version = attemptVersion3
	}
	dst = append(dst, version, a.Outcome)
	dst = binary.AppendUvarint(dst, uint64(a.TimeMs))
	dst = binary.AppendUvarint(dst, uint64(a.Attempt))
	dst = binary.AppendUvarint(dst, uint64(a.Status))
	dst = appendString(dst, a.ErrClass)
	dst = binary.AppendUvarint(dst, uint64(a.LatencyUs))
	dst = binary.AppendUvarint(dst, uint64(a.NextMs))
	dst = binary.AppendUvarint(dst, uint64(len(a.Headers)))
	dst = append(dst, a.Headers...)
	if version == attemptVersion3 {
		var flags byte
		if a.Corrected {
			flags |= attemptCorrected
		}
		dst = append(dst, flags)
		dst = appendString(dst, a.Method)
		dst = appendString(dst, a.URL)
		dst = binary.AppendUvarint(dst, uint64(len(a.Request)))
		dst = append(dst, a.Request...)
	}
	return append(dst, a.Response...)
}

func (a *Attempt) shaped() bool {
	return a.Corrected || a.Method != "" || a.URL != "" || len(a.Request) > 0
}

// DecodeAttempt decodes an attempt record; Response aliases src.
func DecodeAttempt(src []byte, a *Attempt) error {
	if len(src) < 2 || src[0] < recordVersion || src[0] > attemptVersion3 {
		return fmt.Errorf("%w: attempt record version %v", errCorrupt, firstByte(src))
	}
	version := src[0]
	a.Outcome = src[1]
	src = src[2:]
	var vals [3]uint64
	for i := range vals {
		v, n := binary.Uvarint(src)
		if n <= 0 {
			return fmt.Errorf("%w: attempt field %d", errCorrupt, i)
		}
		vals[i] = v
		src = src[n:]
	}
	a.TimeMs, a.Attempt, a.Status = int64(vals[0]), int(vals[1]), int(vals[2])
	cls, rest, ok := readBytes(src)
	if !ok {
		return fmt.Errorf("%w: attempt error class", errCorrupt)
	}
	a.ErrClass = string(cls)
	src = rest
	for i, dst := range []*int64{&a.LatencyUs, &a.NextMs} {
		v, n := binary.Uvarint(src)
		if n <= 0 {
			return fmt.Errorf("%w: attempt field %d", errCorrupt, 3+i)
		}
		*dst = int64(v)
		src = src[n:]
	}
	a.Headers, a.Method, a.URL, a.Request, a.Corrected = nil, "", "", nil, false
	if version >= attemptVersion2 {
		h, rest, ok := readBytes(src)
		if !ok {
			return fmt.Errorf("%w: attempt headers", errCorrupt)
		}
		if len(h) > 0 {
			a.Headers = h
		}
		src = rest
	}
	if version == attemptVersion3 {
		if len(src) == 0 {
			return fmt.Errorf("%w: attempt flags", errCorrupt)
		}
		a.Corrected = src[0]&attemptCorrected != 0
		src = src[1:]
		var parts [3][]byte
		for i := range parts {
			b, rest, ok := readBytes(src)
			if !ok {
				return fmt.Errorf("%w: attempt request field %d", errCorrupt, i)
			}
			parts[i], src = b, rest
		}
		a.Method, a.URL = string(parts[0]), string(parts[1])
		if len(parts[2]) > 0 {
			a.Request = parts[2]
		}
	}
	a.Response = src
	return nil
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func readBytes(src []byte) (b, rest []byte, ok bool) {
	n, k := binary.Uvarint(src)
	if k <= 0 || n > uint64(len(src)-k) {
		return nil, src, false
	}
	end := k + int(n)
	return src[k:end:end], src[end:], true
}

func firstByte(b []byte) any {
	if len(b) == 0 {
		return "none"
	}
	return b[0]
}
