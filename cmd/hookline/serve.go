package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
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
	data := fs.String("data", "", "data directory (default ./data)")
	token := fs.String("admin-token", "", "bearer token for the API (else $HOOKLINE_ADMIN_TOKEN, else generated)")
	keyFile := fs.String("secret-key-file", "", "master key sealing the stored secrets (else $"+secretKeyEnv+", else <data>/secret.key, generated)")
	retry := fs.String("retry-schedule", "", "comma-separated delays before attempts 2..N, e.g. 5s,5m,30m,2h,5h,10h,10h")
	var allow stringList
	fs.Var(&allow, "allow-net", "CIDR that endpoint targets may resolve into despite the SSRF guard (repeatable), e.g. 127.0.0.0/8")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve takes no arguments; got %q", fs.Args())
	}
	cfg, err := config.Decode(*configPath)
	if err != nil {
		return err
	}
	// Flags win over the file; the result is validated once, as a whole.
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "listen":
			cfg.Listen = *listen
		case "data":
			cfg.Data = *data
		case "admin-token":
			cfg.AdminToken = *token
		case "secret-key-file":
			cfg.SecretKeyFile = *keyFile
		case "retry-schedule":
			cfg.RetrySchedule = *retry
		case "allow-net":
			cfg.AllowNet = allow
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

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log_level %q is not one of debug, info, warn, error", level)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

func serve(cfg *config.Config) error {
	logger, err := newLogger(cfg.LogLevel)
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
	log, err := wal.Open(filepath.Join(cfg.Data, "wal"), walOpts)
	if err != nil {
		return err
	}
	set.NewGauge(`hookline_wal_disk_bytes`, func() float64 { return float64(log.DiskUsage()) })
	senderOpts.UserAgent = "hookline/" + version
	sender, err := httpout.New(senderOpts)
	if err != nil {
		_ = log.Close()
		return err
	}
	engineOpts.Logger, engineOpts.Metrics, engineOpts.Secrets = logger, set, secrets
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
	if err != nil {
		eng.Stop(context.Background())
		_ = log.Close()
		return err
	}
	serverOpts := cfg.ServerOptions()
	serverOpts.AdminToken, serverOpts.Logger, serverOpts.Metrics = token, logger, set
	srv, err := httpin.New(eng, rc, acc, serverOpts)
	if err == nil {
		err = srv.Listen()
	}
	if err != nil {
		eng.Stop(context.Background())
		_ = log.Close()
		return err
	}
	logger.Info("hookline started", "version", version, "listen", "http://"+srv.Addr(), "data", cfg.Data, "allow_net", cfg.AllowNet)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve() }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case s := <-sig:
		logger.Info("shutting down", "signal", s.String())
	case err = <-serveErr:
		logger.Error("server stopped", "err", err)
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
	sender.CloseIdle()
	if cerr := log.Close(); cerr != nil {
		return cerr
	}
	logger.Info("stopped")
	return err
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

// adminToken returns the configured token, else the environment's, else the
// one saved in the data directory, else a new one it saves and prints once.
func adminToken(cfg *config.Config) (string, error) {
	if cfg.AdminToken != "" {
		return cfg.AdminToken, nil
	}
	if t := os.Getenv("HOOKLINE_ADMIN_TOKEN"); t != "" {
		return t, nil
	}
	path := filepath.Join(cfg.Data, "admin.token")
	b, err := os.ReadFile(path)
	if err == nil {
		if t := strings.TrimSpace(string(b)); t != "" {
			return t, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("cannot read admin token: %w", err)
	}
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
