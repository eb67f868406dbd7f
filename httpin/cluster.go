package httpin

import (
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Cluster mode (docs/cluster.md): every node answers every request, and
// one node at a time owns a tenant, writing and delivering its events. A
// request for a tenant (a path under /v1/tenants/{tenant}, or a source's
// /in/ URL) reaching another node is sent on to the owner as it came,
// once: a node serves a forwarded request itself even if it no longer
// owns the tenant, and the engine then refuses writes with not_owner
// (503, Retry-After: 1) while the tenant moves.

// ClusterRouter says which node owns a tenant.
type ClusterRouter interface {
	// Owner returns the base URL (http://host:port) of the API of the
	// node owning tenant and that node's incarnation (one per process),
	// whether that is this node, and false when no node does (the cluster
	// has no members this node can see).
	Owner(tenant string) (base string, incarnation uint64, self, ok bool)
	// Node is this node's name, sent as X-Hookline-Node on every answer it
	// makes (a forwarded request's answer names the owner that made it).
	Node() string
	// Healthy reports whether this node hears a majority of the cluster;
	// /readyz answers 503 while it does not, so a load balancer sends
	// requests to the nodes that can serve them.
	Healthy() bool
}

// nodeHeader names the node that made an answer.
const nodeHeader = "X-Hookline-Node"

// forwardedHeader marks a request one node sent on to another.
const forwardedHeader = "X-Hookline-Forwarded"

// forwardTimeout bounds a forwarded request: the longest a request may
// take on the owner (a feed long poll waits up to a minute).
const forwardTimeout = 2 * time.Minute

// forwarder keeps one connection pool per owner node. A node restarted at
// the same address is another process: the pool's idle connections went
// to the one before, and a request sent on one fails with no answer, which
// must not be sent again (see forward). So a pool serves one incarnation,
// and a new one replaces it.
type forwarder struct {
	mu    sync.Mutex
	pools map[string]forwardPool // by base URL
}

type forwardPool struct {
	incarnation uint64
	c           *fasthttp.HostClient
}

func (f *forwarder) client(base string, incarnation uint64) *fasthttp.HostClient {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.pools[base]
	if ok && p.incarnation == incarnation {
		return p.c
	}
	if ok {
		p.c.CloseIdleConnections()
	}
	if f.pools == nil {
		f.pools = map[string]forwardPool{}
	}
	tls := strings.HasPrefix(base, "https://")
	c := &fasthttp.HostClient{
		Addr:                          strings.TrimPrefix(strings.TrimPrefix(base, "https://"), "http://"),
		IsTLS:                         tls,
		MaxResponseBodySize:           256 << 20,
		NoDefaultUserAgentHeader:      true,
		DisableHeaderNamesNormalizing: true,
		DisablePathNormalizing:        true,
	}
	f.pools[base] = forwardPool{incarnation, c}
	return c
}

// forward sends the request to tenant's owner and reports whether it did
// (or answered that it could not); false means: serve it here. While the
// owner cannot be reached (it died, and the others have not yet taken its
// tenants over) it waits for the tenant's next owner, up to failoverWait:
// a request that was never sent is safe to send again, one that was sent
// and lost its answer is not (it may have been served), and gets 503.
func (s *Server) forward(ctx *fasthttp.RequestCtx, tenant string) bool {
	if s.opts.Cluster == nil || tenant == "" || len(ctx.Request.Header.Peek(forwardedHeader)) > 0 {
		return false
	}
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	ctx.Request.CopyTo(req)
	req.Header.Set(forwardedHeader, "1")
	deadline := time.Now().Add(failoverWait)
	for {
		base, inc, self, ok := s.opts.Cluster.Owner(tenant)
		if self {
			return false
		}
		var err error
		if ok {
			if err = s.fwd.client(base, inc).DoTimeout(req, &ctx.Response, forwardTimeout); err == nil {
				return true
			}
			ctx.Response.Reset()
		}
		if (ok && !notSent(err)) || time.Now().After(deadline) {
			if err != nil {
				s.logger.Warn("cannot forward a request to the tenant's owner", "tenant", tenant, "owner", base, "err", err)
			}
			writeError(ctx, fasthttp.StatusServiceUnavailable, "cluster_unavailable", "the node owning this tenant does not answer; try again")
			ctx.Response.Header.Set("Retry-After", "1")
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// failoverWait is how long a request waits for its tenant to move off a
// node that died: the others take its tenants over after about
// cluster.FenceAfter, and when the dead node led the log's stream, an
// election runs first (2-4 s embedded, up to 9 s on an external NATS).
const failoverWait = 15 * time.Second

// notSent reports whether a forwarding error happened before the request
// left: the connection could not be made.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial" || errors.Is(err, fasthttp.ErrDialTimeout) || errors.Is(err, fasthttp.ErrNoFreeConns)
}
