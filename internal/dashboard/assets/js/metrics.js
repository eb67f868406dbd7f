// Reading the server's /metrics (Prometheus text) for the few gauges the
// operator's pages show: the API has no JSON for queue depth or endpoint
// counts, and the admin token may read /metrics on the main listener.

// parseMetrics reads Prometheus text format into {name: [{labels, value}]},
// enough for the gauges the dashboard shows (no histograms, no escapes
// beyond \" in label values, which hookline's labels never hold).
export function parseMetrics(text) {
  const out = {};
  for (const line of String(text).split('\n')) {
    if (!line || line[0] === '#') continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[3]) {
      for (const kv of m[3].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[kv[1]] = kv[2];
    }
    (out[m[1]] = out[m[1]] || []).push({ labels, value: Number(m[4]) });
  }
  return out;
}

// gauge is the value of an unlabelled metric, or null when it is absent.
export function gauge(metrics, name) {
  const s = metrics && metrics[name];
  return s && s.length ? s[0].value : null;
}
