package main

import (
	"strings"
	"testing"
)

// FuzzVerify feeds verify any signature header: it must not panic, must
// accept a header holding the right v1 signature in any position, and must
// refuse one without a v1 entry.
func FuzzVerify(f *testing.F) {
	key, err := decodeSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		f.Fatal(err)
	}
	const id, ts, body = "msg_1", "1763892000", `{"type":"a.b","data":{}}`
	const good = "v1,6CIPv4YuN+17jF1AD9leAo+F8h7izTWrxruhFqIysZY="
	f.Add(good)
	f.Add("v1a,abc " + good)
	f.Add("v1,AAAA v1,")
	f.Add(",,, v1")
	f.Fuzz(func(t *testing.T, header string) {
		ok := verify(key, id, ts, []byte(body), header)
		hasGood, hasV1 := false, false
		for _, f := range strings.Fields(header) {
			hasGood = hasGood || f == good
			hasV1 = hasV1 || strings.HasPrefix(f, "v1,")
		}
		if hasGood && !ok || ok && !hasV1 {
			t.Fatalf("verify(%q) = %v", header, ok)
		}
	})
}
