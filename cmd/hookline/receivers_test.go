package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// examplesDir holds the receivers docs/receiving.md shows, one per language.
const examplesDir = "../../docs/examples"

// receiverSample is one of those receivers and how to run it.
type receiverSample struct {
	lang string
	// command runs the sample listening on port; bin is the Go sample built.
	command func(bin, port string) []string
}

var receiverSamples = []receiverSample{
	{"go", func(bin, _ string) []string { return []string{bin} }},
	{"python", func(_, _ string) []string { return []string{"python3", "receiver.py"} }},
	{"node", func(_, _ string) []string { return []string{"node", "receiver.js"} }},
	{"ruby", func(_, _ string) []string { return []string{"ruby", "receiver.rb"} }},
	{"php", func(_, port string) []string { return []string{"php", "-S", "127.0.0.1:" + port, "receiver.php"} }},
}

// TestReceiverSamples runs each sample receiver of docs/examples against a
// real server: real deliveries (one of them signed with an old and a new
// secret during a rotation) must be accepted, and requests crafted with the
// endpoint's secret must be accepted or refused as docs/receiving.md says.
// A language whose interpreter is missing fails: `make interpreters`
// installs them.
func TestReceiverSamples(t *testing.T) {
	srv := startServer(t, t.TempDir(), "--admin-token", testAdminToken)
	a := newAPI(srv.addr, testAdminToken)
	a.mustDo(t, "POST", "/v1/tenants", map[string]any{"id": "acme", "name": "Acme"}, 201, nil)

	goBin := filepath.Join(t.TempDir(), "receiver-go")
	out, err := exec.Command("go", "build", "-o", goBin, filepath.Join(examplesDir, "go")).CombinedOutput()
	require_True(t, err == nil, "cannot build the Go sample: %v\n%s", err, out)

	for _, s := range receiverSamples {
		t.Run(s.lang, func(t *testing.T) {
			args := s.command(goBin, "")
			if _, err := exec.LookPath(args[0]); err != nil {
				t.Fatalf("the %s sample needs %s, which is not installed: run `make interpreters` "+
					"(as root it installs them with apt-get), or `apt-get install ruby php-cli python3 nodejs`", s.lang, args[0])
			}
			testReceiverSample(t, a, s, goBin)
		})
	}
}

func testReceiverSample(t *testing.T, a *api, s receiverSample, goBin string) {
	port := freePort(t)
	types := []string{s.lang + ".invoice.*"}
	ep := a.createEndpoint(t, "acme", "http://127.0.0.1:"+port+"/hook", types)
	sample := startSample(t, s, goBin, port, ep.Secret)

	// Real deliveries. Odd spacing, escapes, non-ASCII text and a number
	// past float64 catch a sample that verifies a re-encoded body.
	payloads := []string{
		`{"invoice":"in_1","amount":4200}`,
		`{ "note":"caf\u00e9 \"quoted\" €", "amount":12345678901234567890,"tags":[ "a" ] }`,
	}
	for i, p := range payloads {
		typ := fmt.Sprintf("%s.invoice.paid%d", s.lang, i)
		id := publishTo(t, a, typ, p)
		waitDelivered(t, a, ep.ID, id)
		sample.waitLine(t, "received "+id+" "+typ)
	}

	// A rotation's overlap: deliveries carry a signature with the new
	// secret and one with the old, which the sample still holds.
	var rotated endpointCreated
	a.mustDo(t, "POST", "/v1/tenants/acme/endpoints/"+ep.ID+"/rotate-secret", map[string]any{"overlap": "1h"}, 200, &rotated)
	typ := s.lang + ".invoice.rotated"
	id := publishTo(t, a, typ, `{"invoice":"in_2"}`)
	waitDelivered(t, a, ep.ID, id)
	sample.waitLine(t, "received "+id+" "+typ)

	// Crafted requests, signed with the Standard Webhooks library itself.
	url := "http://127.0.0.1:" + port + "/hook"
	body := []byte(`{"type":"` + s.lang + `.invoice.crafted","timestamp":"2026-11-23T10:00:00.000Z","data":{"n":1}}`)
	now := time.Now().Unix()
	wrong := newSecret(t)
	cases := []struct {
		name    string
		id      string
		ts      int64
		sigs    []string // secrets to sign with, in header order
		body    []byte   // sent instead of the signed body when set
		header  string   // webhook-signature as is, instead of sigs
		want    int
		printed string // the line the sample prints for it
	}{
		{name: "valid", id: "msg_valid", ts: now, sigs: []string{ep.Secret}, want: 204, printed: "received msg_valid"},
		{name: "the same webhook-id again", id: "msg_valid", ts: now, sigs: []string{ep.Secret}, want: 204, printed: "duplicate msg_valid"},
		{name: "rotated: new and old", id: "msg_rot1", ts: now, sigs: []string{rotated.Secret, ep.Secret}, want: 204, printed: "received msg_rot1"},
		{name: "rotated: old, then one it does not hold", id: "msg_rot2", ts: now, sigs: []string{ep.Secret, wrong}, want: 204, printed: "received msg_rot2"},
		{name: "tampered body", id: "msg_tampered", ts: now, sigs: []string{ep.Secret}, body: bytes.Replace(body, []byte(`"n":1`), []byte(`"n":2`), 1), want: 401},
		{name: "re-encoded body", id: "msg_reencoded", ts: now, sigs: []string{ep.Secret}, body: bytes.ReplaceAll(body, []byte(`,"`), []byte(`, "`)), want: 401},
		{name: "stale timestamp", id: "msg_stale", ts: now - 10*60, sigs: []string{ep.Secret}, want: 401},
		{name: "future timestamp", id: "msg_future", ts: now + 10*60, sigs: []string{ep.Secret}, want: 401},
		{name: "wrong secret", id: "msg_wrong", ts: now, sigs: []string{wrong}, want: 401},
		{name: "the new secret alone", id: "msg_new", ts: now, sigs: []string{rotated.Secret}, want: 401},
		{name: "unknown version", id: "msg_v9", ts: now, header: "v9," + sign(t, ep.Secret, "msg_v9", now, body)[3:], want: 401},
		{name: "no signature", id: "msg_nosig", ts: now, header: "", want: 400},
	}
	for _, c := range cases {
		header := c.header
		if c.sigs != nil {
			var parts []string
			for _, secret := range c.sigs {
				parts = append(parts, sign(t, secret, c.id, c.ts, body))
			}
			header = strings.Join(parts, " ")
		}
		sent := body
		if c.body != nil {
			sent = c.body
		}
		req, err := http.NewRequest("POST", url, bytes.NewReader(sent))
		require_NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("webhook-id", c.id)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(c.ts, 10))
		if header != "" {
			req.Header.Set("webhook-signature", header)
		}
		resp, err := http.DefaultClient.Do(req)
		require_NoError(t, err)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Fatalf("%s: the %s sample answered %d; want %d\n%s", c.name, s.lang, resp.StatusCode, c.want, sample.output.String())
		}
		if c.printed != "" {
			sample.waitLine(t, c.printed+" "+s.lang+".invoice.crafted")
		}
	}
	// Nothing refused above was taken for an event.
	for _, c := range cases {
		if c.want != 204 && strings.Contains(sample.output.String(), " "+c.id+" ") {
			t.Fatalf("%s: the %s sample printed the refused %s as an event:\n%s", c.name, s.lang, c.id, sample.output.String())
		}
	}
}

// sampleProc is a running sample receiver.
type sampleProc struct {
	output *lockedBuffer
}

func startSample(t *testing.T, s receiverSample, goBin, port, secret string) *sampleProc {
	t.Helper()
	args := s.command(goBin, port)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = filepath.Join(examplesDir, s.lang)
	cmd.Env = append(os.Environ(), "PORT="+port, "WEBHOOK_SECRET="+secret, "WEBHOOK_SEEN_DIR="+t.TempDir())
	// Its own process group, so an interpreter's children go with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &sampleProc{output: &lockedBuffer{}}
	cmd.Stdout, cmd.Stderr = p.output, p.output
	require_NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		if t.Failed() {
			t.Logf("output of the %s sample %v:\n%s", s.lang, args, p.output.String())
		}
	})
	waitFor(t, 10*time.Second, "the "+s.lang+" sample to listen", func() bool {
		select {
		case <-exited:
			t.Fatalf("the %s sample exited:\n%s", s.lang, p.output.String())
		default:
		}
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	return p
}

func (p *sampleProc) waitLine(t *testing.T, line string) {
	t.Helper()
	waitFor(t, 10*time.Second, fmt.Sprintf("the sample to print %q", line), func() bool {
		return strings.Contains(p.output.String(), line+"\n")
	})
}

// publishTo publishes one event to acme, its payload sent as given.
func publishTo(t *testing.T, a *api, typ, payload string) string {
	t.Helper()
	var res struct{ ID string }
	status, err := a.do("POST", "/v1/tenants/acme/events", "application/json", []byte(`{"type":"`+typ+`","payload":`+payload+`}`), &res)
	require_NoError(t, err)
	require_Equal(t, status, 202)
	return res.ID
}

// waitDelivered waits for the delivery's attempt and requires it succeeded.
func waitDelivered(t *testing.T, a *api, endpoint, event string) {
	t.Helper()
	path := "/v1/tenants/acme/endpoints/" + endpoint + "/deliveries/" + event
	var d struct {
		Status   string `json:"status"`
		Attempts []struct {
			Status     int    `json:"status"`
			ErrorClass string `json:"error_class"`
		} `json:"attempt_log"`
	}
	// Wait for the delivery to leave the queue, not for its first attempt
	// record: GET reads the status and then the attempt log, not in one
	// snapshot, so a read between them can show the attempt with the
	// status from before it. Read in this order, a status that has moved
	// on comes with a log at least as new.
	waitFor(t, 30*time.Second, "the attempt of "+event, func() bool {
		status, err := a.do("GET", path, "", nil, &d)
		return err == nil && status == 200 && len(d.Attempts) > 0 &&
			d.Status != "pending" && d.Status != "in_flight"
	})
	if d.Status != "succeeded" || d.Attempts[0].Status != 204 {
		t.Fatalf("delivery of %s: %+v; want succeeded with 204", event, d)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require_NoError(t, err)
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func newSecret(t *testing.T) string {
	b := make([]byte, 32)
	_, err := rand.Read(b)
	require_NoError(t, err)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// sign is "v1,<signature>" of a request, made by the Standard Webhooks library.
func sign(t *testing.T, secret, id string, ts int64, body []byte) string {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	require_NoError(t, err)
	sig, err := wh.Sign(id, time.Unix(ts, 0), body)
	require_NoError(t, err)
	return sig
}

// TestReceivingDocExample checks the worked example of docs/receiving.md:
// the signature it shows is the one its secret gives its delivery, so a
// reader checking their code against it is not misled.
func TestReceivingDocExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(examplesDir, "..", "receiving.md"))
	require_NoError(t, err)
	header := func(name string) string {
		_, rest, ok := strings.Cut(string(doc), "\n"+name+": ")
		require_True(t, ok, "docs/receiving.md shows no %s header", name)
		line, _, _ := strings.Cut(rest, "\n")
		return line
	}
	_, rest, ok := strings.Cut(string(doc), "\n{\"type\":")
	require_True(t, ok, "docs/receiving.md shows no delivery body")
	body, _, _ := strings.Cut(`{"type":`+rest, "\n")
	_, rest, ok = strings.Cut(string(doc), "signed with\nthe secret `")
	require_True(t, ok, "docs/receiving.md names no example secret")
	secret, _, _ := strings.Cut(rest, "`")

	id, sig := header("webhook-id"), header("webhook-signature")
	ts, err := strconv.ParseInt(header("webhook-timestamp"), 10, 64)
	require_NoError(t, err)
	require_Equal(t, sign(t, secret, id, ts, []byte(body)), sig)
	require_True(t, strings.Contains(string(doc), "`"+strings.TrimPrefix(sig, "v1,")+"`"), "the text does not repeat the signature %s", sig)
}
