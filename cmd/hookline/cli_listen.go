package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

const listenHelp = `listen opens a receiver on this machine and creates a temporary endpoint
that delivers to it; each delivery is printed and, with --forward-to,
passed on to a local receiver with the same headers and body, whose answer
goes back to the server (so a failing receiver sees retries). The endpoint
is deleted on exit (Ctrl-C). The server must be allowed to deliver to
loopback addresses: start it with --allow-net 127.0.0.0/8.
`

// hopHeaders are not forwarded: they describe one connection, not the
// delivery.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade", "Te", "Trailer", "Content-Length", "Host"}

// runListen: `hookline listen`.
func runListen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("listen", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: hookline listen --tenant T [--forward-to URL] [--events PATTERNS] [flags]\n\n"+listenHelp+"\n")
		fs.PrintDefaults()
	}
	var a apiFlags
	a.register(fs)
	forward := fs.String("forward-to", "", "local URL each delivery is forwarded to (e.g. http://localhost:3000/hook); none: answer 200")
	events := fs.String("events", "", `event types or patterns, comma-separated ("invoice.*"); default all`)
	addr := fs.String("listen", "127.0.0.1:0", "address of the receiver the endpoint delivers to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := a.check(); err != nil {
		return err
	}
	if *forward != "" {
		if u, err := url.Parse(*forward); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--forward-to %q: give an http:// or https:// URL", *forward)
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("cannot open the local receiver: %w", err)
	}
	defer ln.Close()
	ep := map[string]any{"url": "http://" + ln.Addr().String() + "/", "description": "hookline listen (temporary)"}
	if *events != "" {
		ep["event_types"], _ = fieldValue(field{kind: kList}, *events)
	}
	var created struct{ ID, Secret string }
	if err := a.call("POST", a.tenantPath()+"/endpoints", nil, ep, &created); err != nil {
		return fmt.Errorf("cannot create the temporary endpoint: %w", err)
	}
	epPath := a.tenantPath() + "/endpoints/" + url.PathEscape(created.ID)
	fmt.Fprintf(stderr, "listening: endpoint %s delivers to %s (signing secret %s); Ctrl-C deletes it\n", created.ID, ep["url"], created.Secret)

	f := &forwarder{to: *forward, out: stdout, client: &http.Client{Timeout: 30 * time.Second}}
	srv := &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case <-sig:
	case err = <-served:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	if derr := a.call("DELETE", epPath, nil, nil, nil); derr != nil {
		return fmt.Errorf("cannot delete the temporary endpoint %s (delete it with `hookline endpoints delete --tenant %s --id %s`): %w", created.ID, a.tenant, created.ID, derr)
	}
	fmt.Fprintf(stderr, "deleted endpoint %s\n", created.ID)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// forwarder prints each delivery as one JSON line and forwards it.
type forwarder struct {
	to     string
	client *http.Client
	mu     sync.Mutex // serialises writes to out
	out    io.Writer
}

// listenLine is what listen prints for each delivery.
type listenLine struct {
	ID        string          `json:"webhook_id"`
	Timestamp string          `json:"webhook_timestamp"`
	Body      json.RawMessage `json:"body,omitempty"`
	RawBody   string          `json:"raw_body,omitempty"`
	Forwarded int             `json:"forwarded_status,omitempty"`
	Error     string          `json:"forward_error,omitempty"`
}

func (f *forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	line := listenLine{ID: r.Header.Get("webhook-id"), Timestamp: r.Header.Get("webhook-timestamp")}
	if json.Valid(body) {
		line.Body = body
	} else {
		line.RawBody = string(body)
	}
	status, answer := http.StatusOK, []byte{}
	if f.to != "" {
		status, answer, err = f.forward(r, body)
		if err != nil {
			line.Error = err.Error()
			status = http.StatusBadGateway
		} else {
			line.Forwarded = status
		}
	}
	b, _ := json.Marshal(line)
	f.mu.Lock()
	fmt.Fprintf(f.out, "%s\n", b)
	f.mu.Unlock()
	w.WriteHeader(status)
	_, _ = w.Write(answer)
}

// forward sends the delivery on with its headers and body, returning the
// local receiver's status and (some of) its answer.
func (f *forwarder) forward(r *http.Request, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, f.to, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for k, vs := range r.Header {
		skip := false
		for _, h := range hopHeaders {
			skip = skip || strings.EqualFold(k, h)
		}
		if !skip {
			req.Header[k] = vs
		}
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, answer, nil
}
