package wal

import (
	"bytes"
	"testing"
)

func attemptSeeds() [][]byte {
	as := []Attempt{
		{},
		{TimeMs: 1_700_000_000_000, Attempt: 1, Outcome: OutcomeSuccess, Status: 200, LatencyUs: 1234, Response: []byte("HTTP/1.1 200 OK\r\n")},
		{TimeMs: 1_700_000_000_001, Attempt: 7, Outcome: OutcomeRetry, ErrClass: "timeout", LatencyUs: 30_000_000, NextMs: 1_700_000_060_000},
		{TimeMs: -1, Attempt: 65535, Outcome: OutcomeDead, Status: 599, ErrClass: "ssrf", LatencyUs: -1, NextMs: -1, Response: bytes.Repeat([]byte{0xff}, 100)},
		{TimeMs: 2, Attempt: 3, Outcome: OutcomeRetry, Status: 429, Headers: []byte("Retry-After: 5\n"), Response: []byte("slow down")},
		{TimeMs: 3, Attempt: 1, Outcome: OutcomeSuccess, Status: 201, Method: "PUT", URL: "https://crm.example/accounts/a%2Fb", Request: []byte(`{"name":"x"}`), Corrected: true, Response: []byte("created")},
		{TimeMs: 4, Attempt: 2, Outcome: OutcomeRetry, Status: 500, Corrected: true},
	}
	var seeds [][]byte
	for i := range as {
		seeds = append(seeds, appendAttempt(nil, &as[i]))
	}
	return seeds
}

func TestDecodeAttemptRoundTrip(t *testing.T) {
	f := func(a Attempt) {
		t.Helper()
		var got Attempt
		require_NoError(t, DecodeAttempt(appendAttempt(nil, &a), &got))
		if len(got.Response) == 0 {
			got.Response = nil
		}
		require_DeepEqual(t, got, a)
	}
	f(Attempt{})
	f(Attempt{TimeMs: 1, Attempt: 2, Outcome: OutcomeRetry, Status: 503, ErrClass: "dns", LatencyUs: 4, NextMs: 5, Response: []byte("x")})
	f(Attempt{TimeMs: -5, Attempt: 1 << 20, Outcome: OutcomeDead, LatencyUs: -7, NextMs: -8})
	f(Attempt{TimeMs: 9, Attempt: 1, Outcome: OutcomeDead, Status: 301, Headers: []byte("Location: https://x/\nContent-Type: text/html\n"), Response: []byte("moved")})
	f(Attempt{TimeMs: 10, Attempt: 1, Outcome: OutcomeDead, Status: 404, Method: "DELETE", URL: "https://x/subscribers/a%40b.example"})
	f(Attempt{TimeMs: 11, Attempt: 1, Outcome: OutcomeSuccess, Status: 200, Request: []byte(`{"text":"hi"}`), Corrected: true, Response: []byte("ok")})
}

// TestAttemptStandardSize: an attempt of the standard request is written
// as version 2, without the shaped request's fields.
func TestAttemptStandardSize(t *testing.T) {
	a := Attempt{TimeMs: 1, Attempt: 1, Outcome: OutcomeSuccess, Status: 200, Response: []byte("ok")}
	std := appendAttempt(nil, &a)
	require_Equal(t, std[0], byte(attemptVersion2))
	a.Method = "PUT"
	shaped := appendAttempt(nil, &a)
	require_Equal(t, shaped[0], byte(attemptVersion3))
	require_Equal(t, len(shaped), len(std)+1+1+len("PUT")+1+1)
}

// TestDecodeAttemptVersion1: records written before headers were logged
// still decode, with no headers.
func TestDecodeAttemptVersion1(t *testing.T) {
	rec := appendAttempt(nil, &Attempt{TimeMs: 1, Attempt: 1, Outcome: OutcomeSuccess, Status: 200, Response: []byte("ok")})
	// Version 1: the same fields without the headers' length.
	v1 := append([]byte{recordVersion}, rec[1:len(rec)-len("ok")-1]...)
	v1 = append(v1, "ok"...)
	var a Attempt
	require_NoError(t, DecodeAttempt(v1, &a))
	require_Equal(t, a.Status, 200)
	require_Equal(t, string(a.Response), "ok")
	require_True(t, a.Headers == nil, "a version 1 record has headers %q", a.Headers)
}

func TestDecodeAttemptTruncated(t *testing.T) {
	f := func(rec []byte) {
		t.Helper()
		var full Attempt
		require_NoError(t, DecodeAttempt(rec, &full))
		fixed := len(rec) - len(full.Response)
		for n := 0; n < len(rec); n++ {
			var a Attempt
			err := DecodeAttempt(rec[:n], &a)
			if n < fixed {
				// Cut inside the fixed fields: an error, never a panic.
				require_Error(t, err, errCorrupt)
				continue
			}
			// Cut inside the response: a shorter response.
			require_NoError(t, err)
			require_Bytes(t, a.Response, rec[fixed:n])
		}
	}
	for _, rec := range attemptSeeds() {
		f(rec)
	}
	g := func(src []byte) {
		t.Helper()
		var a Attempt
		require_Error(t, DecodeAttempt(src, &a), errCorrupt)
	}
	g(nil)
	g([]byte{2, 's'})                                                        // unknown version
	g([]byte{recordVersion, 's', 0x80})                                      // unterminated varint
	g([]byte{recordVersion, 's', 1, 1, 1, 9, 'x'})                           // error class longer than the record
	g([]byte{recordVersion, 's', 1, 1, 1, 0, 1})                             // NextMs missing
	g(append([]byte{recordVersion, 's'}, bytes.Repeat([]byte{0xff}, 11)...)) // varint overflow
}

func FuzzDecodeAttempt(f *testing.F) {
	for _, s := range attemptSeeds() {
		f.Add(s)
	}
	f.Add([]byte{})
	f.Add([]byte{recordVersion})
	f.Add([]byte{recordVersion, 's', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, src []byte) {
		var a Attempt
		if err := DecodeAttempt(src, &a); err != nil {
			return
		}
		// Whatever decodes re-encodes to a record that decodes the same.
		var b Attempt
		require_NoError(t, DecodeAttempt(appendAttempt(nil, &a), &b))
		require_Equal(t, b.TimeMs, a.TimeMs)
		require_Equal(t, b.Attempt, a.Attempt)
		require_Equal(t, b.Outcome, a.Outcome)
		require_Equal(t, b.Status, a.Status)
		require_Equal(t, b.ErrClass, a.ErrClass)
		require_Equal(t, b.LatencyUs, a.LatencyUs)
		require_Equal(t, b.NextMs, a.NextMs)
		require_Bytes(t, b.Response, a.Response)
	})
}

func eventSeeds(c *codec) [][]byte {
	return [][]byte{
		c.appendEvent(nil, 0, "", "", nil),
		c.appendEvent(nil, 1_700_000_000_000, "acme", "order.created", []byte(`{"id":1}`)),
		c.appendEvent(nil, -1, "t", "x", compressible(600)), // compressed with the fuzz codec's threshold
		c.appendEvent(nil, 42, "tenant", "type", bytes.Repeat([]byte{0}, 2000)),
	}
}

func TestDecodeEventTruncated(t *testing.T) {
	c, err := newCodec(512)
	require_NoError(t, err)
	defer c.close()
	f := func(rec []byte) {
		t.Helper()
		var full EventRecord
		_, err := c.decodeEvent(rec, &full, nil)
		require_NoError(t, err)
		compressed := rec[1]&flagZstd != 0
		header := len(rec) - len(full.Body)
		if compressed {
			header = 2 + uvarintLen(uint64(full.TimeMs)) + uvarintLen(uint64(len(full.Tenant))) + len(full.Tenant) + uvarintLen(uint64(len(full.Type))) + len(full.Type)
		}
		for n := 0; n < len(rec); n++ {
			var r EventRecord
			_, err := c.decodeEvent(rec[:n], &r, nil)
			switch {
			case n < header:
				require_Error(t, err, errCorrupt)
			case compressed && n > header:
				// A cut zstd frame never decodes.
				require_Error(t, err, errCorrupt)
			case !compressed:
				require_NoError(t, err)
				require_Bytes(t, r.Body, rec[header:n])
			}
		}
	}
	for _, rec := range eventSeeds(c) {
		f(rec)
	}
	g := func(src []byte) {
		t.Helper()
		var r EventRecord
		_, err := c.decodeEvent(src, &r, nil)
		require_Error(t, err, errCorrupt)
	}
	g(nil)
	g([]byte{recordVersion})
	g([]byte{0, 0, 0, 0, 0})                                        // unknown version
	g([]byte{recordVersion, 0, 0x80})                               // unterminated time
	g([]byte{recordVersion, 0, 1, 3, 'a', 'b'})                     // tenant longer than the record
	g([]byte{recordVersion, 0, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}) // huge type length
	g([]byte{recordVersion, flagZstd, 1, 0, 0, 'n', 'o', 'p', 'e'}) // not a zstd frame
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func FuzzDecodeEvent(f *testing.F) {
	c, err := newCodec(512)
	if err != nil {
		f.Fatal(err)
	}
	defer c.close()
	for _, s := range eventSeeds(c) {
		f.Add(s)
	}
	f.Add([]byte{})
	f.Add([]byte{recordVersion, flagZstd, 0, 0, 0, 0x28, 0xb5, 0x2f, 0xfd})
	f.Add([]byte{recordVersion, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	plain, err := newCodec(-1)
	if err != nil {
		f.Fatal(err)
	}
	defer plain.close()
	f.Fuzz(func(t *testing.T, src []byte) {
		var r EventRecord
		scratch, err := c.decodeEvent(src, &r, nil)
		tenant, typ, herr := eventHead(src)
		if err != nil {
			return
		}
		// The head reader agrees with the full decoder on every record
		// the decoder takes.
		require_NoError(t, herr)
		require_Bytes(t, tenant, r.Tenant)
		require_Bytes(t, typ, r.Type)
		if src[1]&flagZstd != 0 && len(r.Body) > 0 {
			// A decompressed body lives in the returned scratch for reuse.
			require_True(t, &scratch[:1][0] == &r.Body[:1][0], "decompressed body is not in the returned scratch")
		}
		// Whatever decodes re-encodes (uncompressed) to a record that decodes the same.
		rec := plain.appendEvent(nil, r.TimeMs, string(r.Tenant), string(r.Type), r.Body)
		var r2 EventRecord
		_, err = plain.decodeEvent(rec, &r2, nil)
		require_NoError(t, err)
		require_Equal(t, r2.TimeMs, r.TimeMs)
		require_Bytes(t, r2.Tenant, r.Tenant)
		require_Bytes(t, r2.Type, r.Type)
		require_Bytes(t, r2.Body, r.Body)
	})
}
