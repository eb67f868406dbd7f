package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"hookline/configs"
	"hookline/engine"
	"hookline/httpin"
	"hookline/httpout"
	"hookline/wal"
)

// TestEmbeddedConfigIsThePackagesDefaults: every value configs/hookline.yaml
// writes is the default the package fills for a zero option, so the example
// file and the code cannot drift. Options the file cannot hold (hooks, the
// logger, the metrics set) are left out of the comparison.
func TestEmbeddedConfigIsThePackagesDefaults(t *testing.T) {
	c, err := Load("")
	require_NoError(t, err)
	f := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: the embedded config gives\n%+v\nthe package's defaults are\n%+v", name, got, want)
		}
	}

	wo := c.WALOptions()
	wo.EnsureDefaults()
	var wz wal.Options
	wz.EnsureDefaults()
	f("wal", *wo, wz)

	so, err := c.SenderOptions()
	require_NoError(t, err)
	so.EnsureDefaults()
	var sz httpout.Options
	sz.EnsureDefaults()
	f("httpout", so, sz)

	eo, err := c.EngineOptions()
	require_NoError(t, err)
	eo.EnsureDefaults()
	var ez engine.Options
	ez.EnsureDefaults()
	// data has no package default: an engine without a DataDir does not
	// watch free disk space. The file's ./data is the --data flag's default.
	require_Equal(t, eo.DataDir, "./data")
	eo.DataDir = ""
	eo.Metrics, ez.Metrics = nil, nil
	f("engine", eo, ez)

	ho := c.ServerOptions()
	ho.EnsureDefaults()
	var hz httpin.Options
	hz.EnsureDefaults()
	ho.Metrics, hz.Metrics = nil, nil
	f("httpin", ho, hz)
}

// TestEmbeddedConfigWritesEveryKey: the file documents every option, so each
// key of Config is written in it, and each key is either mapped to a
// package's option (yamlNames, which also names it in errors) or belongs to
// the file alone.
func TestEmbeddedConfigWritesEveryKey(t *testing.T) {
	var file map[string]any
	require_NoError(t, yaml.Unmarshal(configs.Default, &file))
	mapped := map[string]bool{}
	for i := 1; i < len(yamlNames.pairs); i += 2 {
		mapped[yamlNames.pairs[i]] = true
	}
	fileOnly := []string{"admin_token_file", "shutdown_timeout", "log_level", "log_format", "secret_key_file"}
	keys := configKeys(reflect.TypeFor[Config](), "")
	for _, key := range keys {
		if _, ok := lookup(file, key); !ok {
			t.Errorf("configs/hookline.yaml does not write %s", key)
		}
		// The cluster section is read by cmd/hookline, which starts the
		// cluster's parts itself.
		if !mapped[key] && !slices.Contains(fileOnly, key) && !strings.HasPrefix(key, "cluster.") {
			t.Errorf("%s is neither in yamlNames nor a file-only key", key)
		}
		delete(mapped, key)
	}
	for key := range mapped {
		t.Errorf("yamlNames names %s, which is not a key of Config", key)
	}
}

// configKeys lists the YAML key paths of t's leaf fields.
func configKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for f := range t.Fields() {
		key := prefix + strings.Split(f.Tag.Get("yaml"), ",")[0]
		if f.Type.Kind() == reflect.Struct && f.Type.PkgPath() == t.PkgPath() {
			keys = append(keys, configKeys(f.Type, key+".")...)
			continue
		}
		keys = append(keys, key)
	}
	return keys
}

func lookup(m map[string]any, path string) (any, bool) {
	first, rest, nested := strings.Cut(path, ".")
	v, ok := m[first]
	if !ok || !nested {
		return v, ok
	}
	sub, _ := v.(map[string]any)
	return lookup(sub, rest)
}
