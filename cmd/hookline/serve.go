package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"hookline/engine"
	"hookline/engine/access"
	"hookline/engine/inbound"
	"hookline/httpin"
	"hookline/httpout"
	"hookline/internal/config"
	"hookline/wal"
)

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func runServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	configPath := fs.String("config", "", "config file (default: the embedded configs/hookline.yaml)")
	listen := fs.String("listen", "", "address to listen on (default 127.0.0.1:8080)")
	metricsListen := fs.String("metrics-listen", "", "address serving /metrics, /healthz and /readyz only, e.g. 127.0.0.1:9090 (default none: /metrics on --listen)")
	data := fs.String("data", "", "data directory (default ./data)")
	token := fs.String("admin-token", "", "bearer token for the API, at least 32 bytes; other users see it in ps: prefer --admin-token-file (else $HOOKLINE_ADMIN_TOKEN, else generated)")
	tokenFile := fs.String("admin-token-file", "", "file holding the admin token (one line; not readable by other users)")
	keyFile := fs.String("secret-key-file", "", "master key sealing the stored secrets (else $"+secretKeyEnv+", else <data>/secret.key, generated)")
	retry := fs.String("retry-schedule", "", "comma-separated delays before attempts 2..N, e.g. 5s,5m,30m,2h,5h,10h,10h")
	durability := fs.String("durability", "", "when an accepted event is answered: fsync (after fsync, the default) or os (once written to the OS, fsynced within 10 ms: survives kill -9, not a power loss)")
	logFormat := fs.String("log-format", "", "log lines as text or json (default text)")
	accessLog := fs.Bool("access-log", false, "log each API request: method, route, status, latency, tenant, actor (never bodies or tokens)")
	clusterOn := fs.Bool("cluster", false, "run as a node of a cluster (docs/cluster.md; the config file's cluster section)")
	nodeName := fs.String("node-name", "", "this node's name in the cluster (default the host name)")
	advertise := fs.String("advertise", "", "this node's API URL the other nodes forward to, e.g. http://10.0.0.1:8080 (default http://<listen>)")
	natsListen := fs.String("nats-listen", "", "where the embedded NATS server takes clients (default 127.0.0.1:4222)")
	routesListen := fs.String("routes-listen", "", "where the embedded NATS server takes the other nodes' servers (default 0.0.0.0:6222)")
	routesAdvertise := fs.String("routes-advertise", "", "the route address the other nodes reach this one at, when not --routes-listen (NAT, a proxy)")
	routes := fs.String("routes", "", "every node's --routes-listen address, comma separated, e.g. 10.0.0.1:6222,10.0.0.2:6222,10.0.0.3:6222")
	natsURL := fs.String("nats-url", "", "an existing NATS cluster with JetStream to use instead of the embedded server")
	var allow stringList
	fs.Var(&allow, "allow-net", "CIDR that endpoint targets may resolve into despite the SSRF guard (repeatable), e.g. 127.0.0.0/8")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve takes no arguments; got %q", fs.Args())
	}
	if *token != "" && *tokenFile != "" {
		return errors.New("give --admin-token or --admin-token-file, not both")
	}
	cfg, err := config.Decode(*configPath)
	if err != nil {
		return err
	}
	// Flags win over the file; the result is validated once, as a whole.
	// Either token flag replaces both of the file's token keys.
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "listen":
			cfg.Listen = *listen
		case "metrics-listen":
			cfg.MetricsListen = *metricsListen
		case "data":
			cfg.Data = *data
		case "admin-token":
			cfg.AdminToken, cfg.AdminTokenFile = *token, ""
		case "admin-token-file":
			cfg.AdminToken, cfg.AdminTokenFile = "", *tokenFile
		case "secret-key-file":
			cfg.SecretKeyFile = *keyFile
		case "retry-schedule":
			cfg.RetrySchedule = *retry
		case "durability":
			cfg.Ingest.Durability = *durability
		case "allow-net":
			cfg.AllowNet = allow
		case "log-format":
			cfg.LogFormat = *logFormat
		case "access-log":
			cfg.AccessLog = *accessLog
		case "cluster":
			cfg.Cluster.Enabled = *clusterOn
		case "node-name":
			cfg.Cluster.NodeName = *nodeName
		case "advertise":
			cfg.Cluster.Advertise = *advertise
		case "nats-listen":
			cfg.Cluster.NATSListen = *natsListen
		case "routes-listen":
			cfg.Cluster.RoutesListen = *routesListen
		case "routes":
			cfg.Cluster.Routes = splitList(*routes)
		case "routes-advertise":
			cfg.Cluster.RoutesAdvertise = *routesAdvertise
		case "nats-url":
			cfg.Cluster.NATSURL = *natsURL
		}
	})
	if err := cfg.Validate(); err != nil {
		if *configPath != "" {
			return fmt.Errorf("config file %q with the flags given: %w", *configPath, err)
		}
		return err
	}
	return serve(cfg)
}

// newLogger is the server's logger on w: level and format as config
// validated them.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log_level %q is not one of debug, info, warn, error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log_format %q is not text or json", format)
}

func serve(cfg *config.Config) error {
	logger, err := newLogger(os.Stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	senderOpts, err := cfg.SenderOptions()
	if err != nil {
		return err
	}
	engineOpts, err := cfg.EngineOptions()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return fmt.Errorf("cannot create data directory: %w", err)
	}
	if err := privateDataDir(cfg.Data); err != nil {
		return err
	}
	secrets, err := loadKeyring(cfg, logger)
	if err != nil {
		return err
	}
	token, err := adminToken(cfg)
	if err != nil {
		return err
	}

	// One set for every package's metrics; /metrics writes it. docs/metrics.md
	// lists them all.
	set := metrics.NewSet()
	walOpts := cfg.WALOptions()
	walOpts.OnCommit = walCommitMetrics(set)
	var cn *clusterNode
	if cfg.Cluster.Enabled {
		if cn, err = startClusterNode(cfg, logger, walOpts.Durability); err != nil {
			return err
		}
		defer cn.close()
		walOpts.Replicator = cn.log
	}
	walDir := filepath.Join(cfg.Data, "wal")
	log, err := wal.Open(walDir, walOpts)
	if err != nil {
		return err
	}
	if cn != nil {
		if log, err = cn.attach(log, walDir, func(dir string) (*wal.Log, error) { return wal.Open(dir, walOpts) }); err != nil {
			return err
		}
		cn.registerMetrics(set)
	}
	set.NewGauge(`hookline_wal_disk_bytes`, func() float64 { return float64(log.DiskUsage()) })
	set.NewGauge(`hookline_wal_idempotency_filter_keys`, func() float64 { return float64(log.IdempotencyFilter().Keys) })
	set.NewGauge(`hookline_wal_idempotency_filter_bytes`, func() float64 { return float64(log.IdempotencyFilter().Bytes) })
	senderOpts.UserAgent = "hookline/" + version
	sender, err := httpout.New(senderOpts)
	if err != nil {
		_ = log.Close()
		return err
	}
	engineOpts.Logger, engineOpts.Metrics, engineOpts.Secrets = logger, set, secrets
	if cn != nil {
		engineOpts.Cluster = cn
	}
	eng, err := engine.New(log, sender, engineOpts)
	if err != nil {
		_ = log.Close()
		return err
	}
	// The feature packages hook into the engine before anything is served:
	// access audits every change and revokes a tenant's keys with it, and
	// the receiver deletes a tenant's sources with it. Access comes first,
	// so a tenant's keys are revoked before anything else of it is deleted.
	acc, err := access.New(eng, log, access.Options{Logger: logger})
	var rc *inbound.Receiver
	if err == nil {
		rc, err = inbound.New(eng, log, inbound.Options{Logger: logger, Metrics: set, Secrets: secrets})
	}
	if err == nil && cn != nil {
		err = cn.run(eng, acc, rc)
	}
	if err != nil {
		eng.Stop(context.Background())
		_ = log.Close()
		return err
	}
	serverOpts := cfg.ServerOptions()
	serverOpts.AdminToken, serverOpts.Logger, serverOpts.Metrics = token, logger, set
	if cn != nil {
		serverOpts.Cluster = cn
	}
	srv, err := httpin.New(eng, rc, acc, serverOpts)
	if err == nil {
		err = srv.Listen()
	}
	if err != nil {
		eng.Stop(context.Background())
		_ = log.Close()
		return err
	}
	logger.Info("hookline started", startupAttrs(cfg, srv, walOpts.Durability.String())...)
	if cfg.MetricsListen == "" && cfg.MetricsToken == "" && !loopback(srv.Addr()) {
		logger.Warn("/metrics is served without a token to anyone who can reach listen; set metrics_listen or metrics_token (configs/hookline.yaml)", "listen", srv.Addr())
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve() }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
wait:
	for {
		select {
		case s := <-sig:
			if s == syscall.SIGHUP {
				reload(srv, logger)
				continue
			}
			logger.Info("shutting down", "signal", s.String())
			break wait
		case err = <-serveErr:
			logger.Error("server stopped", "err", err)
			break wait
		}
	}
	signal.Stop(sig)

	// Stop in reverse order of start: no new requests, then finish attempts
	// in flight, then close the log so everything accepted is on disk.
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if serr := srv.Shutdown(ctx); serr != nil {
		logger.Warn("http shutdown incomplete", "err", serr)
	}
	eng.Stop(ctx)
	if cn != nil {
		cn.leave()
		cn.close()
	}
	sender.CloseIdle()
	if cerr := log.Close(); cerr != nil {
		return cerr
	}
	logger.Info("stopped")
	return err
}

// loopback reports whether the bound address addr is a loopback one.
func loopback(addr string) bool {
	ap, err := netip.ParseAddrPort(addr)
	return err == nil && ap.Addr().IsLoopback()
}

// walCommitMetrics returns the wal's OnCommit hook feeding the group commit
// histograms: how long each commit with fsync took, and how many events it
// made durable.
func walCommitMetrics(set *metrics.Set) func(events int, d time.Duration) {
	fsync := set.NewPrometheusHistogramExt(`hookline_wal_fsync_duration_seconds`,
		[]float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1})
	events := set.NewPrometheusHistogramExt(`hookline_wal_group_commit_events`,
		[]float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384})
	return func(n int, d time.Duration) {
		fsync.Update(d.Seconds())
		events.Update(float64(n))
	}
}

// adminToken returns the configured token (admin_token or --admin-token),
// else the one in admin_token_file (or --admin-token-file), else the
// environment's, else the one saved in the data directory, else a new one
// it saves and prints once. A token shorter than httpin.MinAdminTokenBytes
// is refused wherever it came from, naming where.
func adminToken(cfg *config.Config) (string, error) {
	t, from, err := configuredAdminToken(cfg)
	if err != nil {
		return "", err
	}
	if len(t) < httpin.MinAdminTokenBytes {
		return "", fmt.Errorf("weak_secret: the admin token (%s) is %d bytes; it must be at least %d bytes (generate one, e.g. with `openssl rand -base64 32`)",
			from, len(t), httpin.MinAdminTokenBytes)
	}
	return t, nil
}

// configuredAdminToken is the admin token the operator gave and where it
// came from, or "" when there is none and one is generated.
func configuredAdminToken(cfg *config.Config) (token, from string, err error) {
	if cfg.AdminToken != "" {
		return cfg.AdminToken, "given by --admin-token or admin_token", nil
	}
	if cfg.AdminTokenFile != "" {
		t, err := readTokenFile(cfg.AdminTokenFile)
		return t, fmt.Sprintf("in %q, given by --admin-token-file or admin_token_file", cfg.AdminTokenFile), err
	}
	if t := os.Getenv("HOOKLINE_ADMIN_TOKEN"); t != "" {
		return t, "in $HOOKLINE_ADMIN_TOKEN", nil
	}
	path := filepath.Join(cfg.Data, "admin.token")
	b, err := os.ReadFile(path)
	if err == nil {
		if t := strings.TrimSpace(string(b)); t != "" {
			return t, fmt.Sprintf("saved in %q", path), nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", "", fmt.Errorf("cannot read admin token: %w", err)
	}
	t, err := generateAdminToken(path)
	return t, "generated", err
}

// readTokenFile reads a token from the file at path: one line, its
// trailing newline (\n or \r\n) trimmed. The file must not be readable or
// writable by other users: the file is there to keep the token from them
// (a flag shows in ps), and one they could write would let them choose the
// admin token at the next start. Its group may read it (a secret mounted
// for a service's group: Kubernetes' fsGroup, systemd's credentials).
func readTokenFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read admin token file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("cannot read admin token file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("invalid_token_file: admin token file %q is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o006 != 0 && runtime.GOOS != "windows" {
		return "", fmt.Errorf("insecure_token_file: admin token file %q has mode %04o, so other users may read or change it; make it 0600 (or 0640), e.g. chmod 600 %q, or in Kubernetes defaultMode: 0400",
			path, perm, path)
	}
	// Twice the largest token an Authorization header could carry.
	const maxTokenFile = 64 << 10
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return "", fmt.Errorf("cannot read admin token file: %w", err)
	}
	if len(b) > maxTokenFile {
		return "", fmt.Errorf("invalid_token_file: admin token file %q is over %d bytes; it must hold the token alone", path, maxTokenFile)
	}
	t := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	switch {
	case t == "":
		return "", fmt.Errorf("invalid_token_file: admin token file %q is empty", path)
	case strings.ContainsAny(t, "\r\n"):
		return "", fmt.Errorf("invalid_token_file: admin token file %q holds more than one line; it must hold the token alone", path)
	}
	return t, nil
}

// generateAdminToken makes a new admin token, saves it at path with mode
// 0600 and prints it once.
func generateAdminToken(path string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("cannot generate admin token: %w", err)
	}
	t := "hl_" + base64.RawURLEncoding.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(t+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("cannot save admin token: %w", err)
	}
	fmt.Fprintf(os.Stderr, "\nGenerated admin token (saved in %s, shown only now):\n\n    %s\n\n", path, t)
	return t, nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
