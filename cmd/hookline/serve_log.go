package main

import (
	"log/slog"

	"hookline/httpin"
	"hookline/internal/config"
)

// startupAttrs is the configuration the start-up line records, so an
// operator reading the log knows what ran: addresses, storage, bounds and
// log settings; never a token or key, only whether a metrics token is set.
func startupAttrs(cfg *config.Config, srv *httpin.Server, durability string) []any {
	scheme := "http://"
	if srv.TLS() {
		scheme = "https://"
	}
	attrs := []any{"version", version, "listen", scheme + srv.Addr()}
	if a := srv.MetricsAddr(); a != "" {
		attrs = append(attrs, "metrics", "http://"+a)
	}
	if cfg.Dashboard.Enabled {
		attrs = append(attrs, "dashboard", scheme+srv.Addr()+"/")
	}
	if srv.TLS() {
		attrs = append(attrs, "tls_cert_file", cfg.TLS.CertFile, "tls_min_version", cfg.TLS.MinVersion)
	}
	return append(attrs,
		"data", cfg.Data,
		"durability", durability,
		"allow_net", cfg.AllowNet,
		"public_url", cfg.PublicURL,
		"metrics_token", cfg.MetricsToken != "",
		"retry_schedule", cfg.RetrySchedule,
		"max_in_flight", cfg.Delivery.MaxInFlight,
		"max_backlog", cfg.Ingest.MaxBacklog,
		"retention", cfg.Retention.MaxAge.String(),
		"log_level", cfg.LogLevel,
		"log_format", cfg.LogFormat,
		"access_log", cfg.AccessLog)
}

// reload answers SIGHUP: the TLS certificate and key are read again. When
// they cannot be loaded the listener keeps serving the old pair, and the
// error is logged for the operator to fix the files and signal again.
func reload(srv *httpin.Server, logger *slog.Logger) {
	if !srv.TLS() {
		logger.Info("SIGHUP: nothing to reload (no tls.cert_file)")
		return
	}
	notAfter, err := srv.ReloadTLS()
	if err != nil {
		logger.Error("SIGHUP: TLS certificate not reloaded; still serving the previous one", "err", err)
		return
	}
	logger.Info("SIGHUP: TLS certificate reloaded", "not_after", notAfter)
}
