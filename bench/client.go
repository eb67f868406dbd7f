package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// client talks to a hookline server's API.
type client struct {
	base  string
	token string
	hc    *fasthttp.Client
}

func newClient(addr, token string) *client {
	return &client{
		base:  "http://" + addr,
		token: token,
		hc: &fasthttp.Client{
			MaxConnsPerHost:     1024,
			ReadTimeout:         60 * time.Second,
			WriteTimeout:        60 * time.Second,
			MaxIdleConnDuration: 30 * time.Second,
		},
	}
}

// do sends one request; out, when not nil, receives the decoded JSON answer.
func (c *client) do(method, path, contentType string, body []byte, wantStatus int, out any) error {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(method)
	req.SetRequestURI(c.base + path)
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.SetContentType(contentType)
	}
	req.SetBodyRaw(body)
	if err := c.hc.Do(req, resp); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode() != wantStatus {
		return fmt.Errorf("%s %s: status %d (want %d): %.300s", method, path, resp.StatusCode(), wantStatus, resp.Body())
	}
	if out != nil {
		if err := json.Unmarshal(resp.Body(), out); err != nil {
			return fmt.Errorf("%s %s: cannot decode %.200q: %w", method, path, resp.Body(), err)
		}
	}
	return nil
}

// createTenant creates tenant id with the highest endpoint limit a tenant
// may have (the server's default, 1,000, is below many-endpoints').
func (c *client) createTenant(id string) error {
	return c.do("POST", "/v1/tenants", "application/json", []byte(`{"id":"`+id+`","max_endpoints":100000}`), 201, nil)
}

type endpointSpec struct {
	URL           string   `json:"url"`
	EventTypes    []string `json:"event_types"`
	MaxInFlight   int      `json:"max_in_flight,omitempty"`
	RetrySchedule []string `json:"retry_schedule,omitempty"`
	Secret        string   `json:"secret"`
	// Request shaping (shaped.go); absent for the standard request.
	Auth   json.RawMessage `json:"auth,omitempty"`
	Body   json.RawMessage `json:"body,omitempty"`
	Filter json.RawMessage `json:"filter,omitempty"`
}

// createEndpoints creates specs concurrently: 10,000 endpoints one by one
// would cost as many sequential fsyncs.
func (c *client) createEndpoints(tenant string, specs []endpointSpec) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ferr error
		next = make(chan int)
	)
	for range min(32, len(specs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				body, _ := json.Marshal(specs[i])
				if err := c.do("POST", "/v1/tenants/"+tenant+"/endpoints", "application/json", body, 201, nil); err != nil {
					mu.Lock()
					ferr = err
					mu.Unlock()
				}
			}
		}()
	}
	for i := range specs {
		next <- i
	}
	close(next)
	wg.Wait()
	return ferr
}

type publishAnswer struct {
	ID  string   `json:"id"`
	IDs []string `json:"ids"`
}

// publish sends one event (batch 1) or an NDJSON batch and returns the ids.
// ids may be nil: then the answer is only checked for its 202.
func (c *client) publish(tenant string, body []byte, batch int, ids *publishAnswer) error {
	var out any
	if ids != nil {
		out = ids
	}
	if batch <= 1 {
		return c.do("POST", "/v1/tenants/"+tenant+"/events", "application/json", body, 202, out)
	}
	return c.do("POST", "/v1/tenants/"+tenant+"/events/batch", "application/x-ndjson", body, 202, out)
}

// eventBuilder renders events of about payloadBytes whose payload starts
// with the send time, so the sink can measure publish-to-receive latency.
type eventBuilder struct {
	filler string
}

func newEventBuilder(payloadBytes int) *eventBuilder {
	// {"t":1763900000000000000,"seq":123456789,"filler":"..."}: ~50 bytes besides the filler.
	n := max(0, payloadBytes-50)
	return &eventBuilder{filler: string(bytes.Repeat([]byte("x"), n))}
}

func (b *eventBuilder) append(dst []byte, typ string, seq int64, now time.Time) []byte {
	dst = append(dst, `{"type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, `","payload":{"t":`...)
	dst = strconv.AppendInt(dst, now.UnixNano(), 10)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, `,"filler":"`...)
	dst = append(dst, b.filler...)
	return append(dst, `"}}`...)
}

// sentAt extracts the send time a delivery body carries in data.t.
func sentAt(body []byte) (time.Time, bool) {
	i := bytes.Index(body, []byte(`"data":{"t":`))
	if i < 0 {
		return time.Time{}, false
	}
	i += len(`"data":{"t":`)
	var ns int64
	j := i
	for ; j < len(body) && body[j] >= '0' && body[j] <= '9'; j++ {
		ns = ns*10 + int64(body[j]-'0')
	}
	if j == i {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}
