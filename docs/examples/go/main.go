// Command receiver is a hookline webhook receiver using only Go's standard
// library: it verifies each delivery's Standard Webhooks signature (v1,
// HMAC-SHA256) and timestamp, dedupes on webhook-id, answers 204 and prints
// the event type.
//
//	WEBHOOK_SECRET=whsec_... PORT=3000 go run .
//
// See docs/receiving.md for why each step is there.
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// tolerance is how far webhook-timestamp may be from this machine's clock:
// a captured request cannot be replayed after it.
const tolerance = 5 * time.Minute

// maxBody bounds what one delivery may make us read.
const maxBody = 1 << 20

func main() {
	key, err := decodeSecret(os.Getenv("WEBHOOK_SECRET"))
	if err != nil {
		log.Fatalf("WEBHOOK_SECRET: %v", err)
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	host := os.Getenv("HOST") // 0.0.0.0 to take deliveries from other machines
	if host == "" {
		host = "127.0.0.1"
	}
	addr := host + ":" + port
	r := &receiver{key: key, seen: map[string]bool{}}
	log.Printf("listening on %s", addr)
	log.Fatal(http.ListenAndServe(addr, r))
}

// decodeSecret turns "whsec_<base64>" into the HMAC key: the decoded bytes,
// not the text.
func decodeSecret(secret string) ([]byte, error) {
	if !strings.HasPrefix(secret, "whsec_") {
		return nil, fmt.Errorf("want the endpoint's whsec_... secret")
	}
	return base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
}

type receiver struct {
	key []byte

	mu   sync.Mutex
	seen map[string]bool // webhook-ids handled; use your database in production
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	// Verify the raw bytes as they arrived: a body decoded and encoded
	// again (key order, spacing, escapes) no longer matches its signature.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	id := r.Header.Get("webhook-id")
	ts := r.Header.Get("webhook-timestamp")
	sigs := r.Header.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		reject(w, http.StatusBadRequest, "missing webhook-id, webhook-timestamp or webhook-signature")
		return
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		reject(w, http.StatusBadRequest, "webhook-timestamp is not unix seconds")
		return
	}
	if d := time.Since(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		reject(w, http.StatusUnauthorized, "webhook-timestamp outside the tolerance")
		return
	}
	if !verify(rc.key, id, ts, body, sigs) {
		reject(w, http.StatusUnauthorized, "no valid signature")
		return
	}

	var event struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &event); err != nil {
		reject(w, http.StatusBadRequest, "body is not a JSON event")
		return
	}
	// Deliveries are at least once: the same webhook-id may come again.
	rc.mu.Lock()
	dup := rc.seen[id]
	rc.seen[id] = true
	rc.mu.Unlock()
	if dup {
		fmt.Printf("duplicate %s %s\n", id, event.Type)
	} else {
		// Answer fast: hand slow work to a queue of your own.
		fmt.Printf("received %s %s\n", id, event.Type)
	}
	w.WriteHeader(http.StatusNoContent)
}

// verify reports whether any of the space-separated "v1,<base64>" signatures
// (more than one while the endpoint's secret is being rotated) is the
// HMAC-SHA256 of "<id>.<timestamp>.<body>".
func verify(key []byte, id, ts string, body []byte, header string) bool {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, sig := range strings.Fields(header) {
		version, value, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue // v1a (ed25519) or a version this receiver does not know
		}
		got, err := base64.StdEncoding.DecodeString(value)
		// hmac.Equal takes the same time wherever the bytes differ.
		if err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

func reject(w http.ResponseWriter, status int, reason string) {
	fmt.Fprintf(os.Stderr, "rejected: %s\n", reason)
	http.Error(w, reason, status)
}
