package httpout

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// drainBytes is how much of a response body beyond the captured prefix is
// read and dropped so the connection can carry the next request. A bigger
// body closes the connection instead: reconnecting is cheaper than reading
// megabytes nobody keeps.
const drainBytes = 64 << 10

// MaxResponseHeaderBytes bounds a response's status line and headers. Most
// fit the connection's read buffer (readBufferSize); a bigger one is read
// again through a reader this big, and one bigger still fails the attempt
// with ErrClassResponseHeadersTooLarge. A receiver setting 16 cookies of
// 500 bytes sends ~8.3 KiB; 64 KiB leaves room for several times that while
// bounding what a hostile receiver can make one attempt hold.
const MaxResponseHeaderBytes = 64 << 10

// resultKey is the fasthttp.Request user value key under which Send passes
// its *Result to the transport. A zero-size key costs no allocation.
type resultKey struct{}

// transport is the fasthttp.RoundTripper of a Sender.
//
// It replaces fasthttp's default transport because neither of the default
// ways to bound a response body fits: MaxResponseBodySize fails a big 2xx with
// ErrBodyTooLarge and keeps none of its body, and StreamResponseBody allocates
// a stream wrapper and closures for every request. Here:
//
//  1. The connection comes from the HostClient pool (dialing through the
//     guarded dialer when the pool is empty), and one deadline, the request
//     timeout, covers writing the request and reading the whole response.
//  2. The response header is read; interim 1xx responses are skipped. A
//     header too big for the connection's read buffer (readBufferSize) is
//     read again through a pooled MaxResponseHeaderBytes reader stacked on
//     the first one, which still holds every byte read so far; past that
//     the attempt fails (ErrClassResponseHeadersTooLarge). The big reader
//     is taken only for such responses, so a connection costs
//     readBufferSize, not 64 KiB, while its request is in flight.
//  3. The body is read through fasthttp's pooled body stream, which handles
//     Content-Length, chunked and read-until-close framing. The first
//     captureBytes go into Result.Body, up to drainBytes more are dropped.
//  4. The connection returns to the pool only if the body was read to its end
//     and neither side asked to close; otherwise it is closed.
//
// A request is retried by HostClient.Do (once: MaxIdemponentCallAttempts is 2)
// only when a pooled keep-alive connection failed before any response byte
// arrived. That is the race with a server closing an idle connection, and the
// request then almost surely never reached the application. Receivers dedupe
// on webhook-id in any case, as delivery is at-least-once.
type transport struct {
	captureBytes int
	// bufs holds *drainBuf scratch buffers for reading bodies.
	bufs sync.Pool
	// bigReaders holds MaxResponseHeaderBytes *bufio.Readers for responses
	// whose header does not fit the connection's reader.
	bigReaders sync.Pool
}

type drainBuf [4096]byte

func newTransport(captureBytes int) *transport {
	t := &transport{captureBytes: captureBytes}
	t.bufs.New = func() any { return new(drainBuf) }
	t.bigReaders.New = func() any { return bufio.NewReaderSize(nil, MaxResponseHeaderBytes) }
	return t
}

var _ fasthttp.RoundTripper = (*transport)(nil)

func (t *transport) RoundTrip(hc *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response) (retry bool, err error) {
	var deadline time.Time
	if d := req.GetTimeOut(); d > 0 {
		deadline = time.Now().Add(d)
	}
	cc, err := hc.AcquireConn(req.GetTimeOut(), req.ConnectionClose())
	if err != nil {
		return false, err
	}
	conn := cc.Conn()
	reused := !cc.LastUseTime().IsZero()
	resp.ParseNetConn(conn)
	if err := conn.SetDeadline(deadline); err != nil {
		hc.CloseConn(cc)
		return reused, err
	}

	bw := hc.AcquireWriter(conn)
	err = req.Write(bw)
	if err == nil {
		err = bw.Flush()
	}
	hc.ReleaseWriter(bw)
	if err != nil {
		hc.CloseConn(cc)
		if isTimeout(err) {
			return false, fasthttp.ErrTimeout
		}
		return reused, err
	}

	br := hc.AcquireReader(conn)
	// r is what the response is read from: br, or the big reader on top of
	// it when the header does not fit br.
	r, big := br, (*bufio.Reader)(nil)
	err = readResponseHeader(resp, br)
	if isSmallBuffer(err) {
		// br failed without consuming anything: the big reader reads br's
		// buffered bytes first, then the connection through br.
		big = t.bigReaders.Get().(*bufio.Reader)
		big.Reset(br)
		r = big
		if err = readResponseHeader(resp, big); isSmallBuffer(err) {
			err = headersTooLarge(big)
		}
	}
	if err != nil {
		t.releaseReaders(hc, br, big)
		hc.CloseConn(cc)
		// fasthttp reports any failure before the first response byte as
		// io.EOF, and timeouts as ErrTimeout.
		return reused && err == io.EOF, err
	}

	keep := !req.ConnectionClose() && !resp.ConnectionClose()
	if status := resp.StatusCode(); status == fasthttp.StatusSwitchingProtocols {
		keep = false
	} else if status != fasthttp.StatusNoContent && status != fasthttp.StatusNotModified {
		res, _ := req.UserValue(resultKey{}).(*Result)
		resp.StreamBody = true
		if err := resp.ReadBody(r, 0); err != nil {
			keep = false
		} else {
			// Read-until-close framing (ContentLength -2) ends with the
			// connection, so it can never be reused.
			complete := t.capture(resp.BodyStream(), res, resp.Header.ContentLength())
			keep = keep && complete && resp.Header.ContentLength() != -2
			_ = resp.CloseBodyStream()
		}
		resp.StreamBody = false
	}
	t.releaseReaders(hc, br, big)
	if keep {
		hc.ReleaseConn(cc)
	} else {
		hc.CloseConn(cc)
	}
	return false, nil
}

// maxInterimResponses bounds the 1xx responses skipped before the final one,
// so a server cannot keep the client in the loop forever.
const maxInterimResponses = 8

func readResponseHeader(resp *fasthttp.Response, br *bufio.Reader) error {
	for n := 0; ; n++ {
		if err := resp.Header.Read(br); err != nil {
			return err
		}
		status := resp.Header.StatusCode()
		if status < 100 || status > 199 || status == fasthttp.StatusSwitchingProtocols {
			return nil
		}
		if n >= maxInterimResponses {
			return fmt.Errorf("server sent more than %d interim responses (last status %d)", maxInterimResponses, status)
		}
	}
}

// releaseReaders returns a round trip's readers to their pools; big may be
// nil.
func (t *transport) releaseReaders(hc *fasthttp.HostClient, br, big *bufio.Reader) {
	if big != nil {
		big.Reset(nil)
		t.bigReaders.Put(big)
	}
	hc.ReleaseReader(br)
}

// isSmallBuffer reports whether err is fasthttp's "the header does not fit
// the reader's buffer".
func isSmallBuffer(err error) bool {
	if err == nil {
		return false
	}
	// errors.As would move its target to the heap on every call.
	_, ok := errors.AsType[*fasthttp.ErrSmallBuffer](err)
	return ok
}

// headersTooLarge is the error of a response whose header does not fit
// MaxResponseHeaderBytes. br holds its first bytes; the status they carry is
// named, as the receiver did answer and the operator will want to know what.
func headersTooLarge(br *bufio.Reader) error {
	b, _ := br.Peek(br.Buffered())
	status := "an unreadable status"
	if n := statusOf(b); n != 0 {
		status = fmt.Sprintf("status %d", n)
	}
	return &classError{class: ErrClassResponseHeadersTooLarge, err: fmt.Errorf(
		"the receiver answered with %s but its status line and headers exceed %d bytes", status, MaxResponseHeaderBytes)}
}

// statusOf returns the status code of an HTTP/1.x status line at the start of
// b ("HTTP/1.1 200 OK"), 0 when there is none.
func statusOf(b []byte) int {
	rest, ok := bytes.CutPrefix(b, []byte("HTTP/1."))
	// rest is "1 200 OK\r\n...": minor version, space, three digits, space
	// (or CR when the reason phrase is left out).
	if !ok || len(rest) < 6 || rest[1] != ' ' || rest[5] != ' ' && rest[5] != '\r' {
		return 0
	}
	n := 0
	for _, c := range rest[2:5] {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	if n < 100 {
		return 0
	}
	return n
}

// capture reads body: its first captureBytes are appended to res.Body (res
// may be nil), then up to drainBytes more are dropped. It reports whether the
// body was read to its end. contentLength is the declared length, or negative
// when unknown.
func (t *transport) capture(body io.Reader, res *Result, contentLength int) bool {
	if body == nil {
		return true
	}
	buf := t.bufs.Get().(*drainBuf)
	defer t.bufs.Put(buf)
	limit := t.captureBytes + drainBytes
	if contentLength > limit {
		// Too big to drain anyway: read only what is kept.
		limit = t.captureBytes
	}
	total, zeroReads := 0, 0
	for total < limit {
		p := buf[:min(len(buf), limit-total)]
		n, err := body.Read(p)
		if res != nil {
			if keep := t.captureBytes - len(res.Body); keep > 0 {
				res.Body = append(res.Body, p[:min(n, keep)]...)
			}
		}
		total += n
		if err == io.EOF {
			return true
		}
		if err != nil {
			// The status line and headers arrived; a body cut short does
			// not undo them, but the connection is at an unknown offset.
			return false
		}
		if n == 0 {
			// io.Reader allows (0, nil); bound it so a misbehaving reader
			// cannot spin.
			if zeroReads++; zeroReads > 16 {
				return false
			}
		}
	}
	// The limit was reached with the body still going (a body ending
	// exactly here would need one more Read, which may block, to tell).
	return false
}
