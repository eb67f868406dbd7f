package main

import (
	"bytes"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hookline/internal/config"
	"hookline/internal/seal"
	"hookline/wal"
)

// TestSecretsAtRest: endpoints and sources are created, one secret of
// each is rotated (so previous secrets are stored too), and the server is
// restarted; deliveries still verify with the endpoint's secret and the
// source still accepts its key. No file under the data directory holds
// any of the secrets (Pebble's WAL and, after `hookline keys rotate-master`
// flushed them, its sstables), every file is 0600 and every directory 0700.
func TestSecretsAtRest(t *testing.T) {
	const token = testAdminToken
	dir := filepath.Join(t.TempDir(), "data")
	// A directory and a file made loosely before: hookline tightens them.
	require_NoError(t, os.MkdirAll(dir, 0o755))
	require_NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644))

	srv := startServer(t, dir, "--admin-token", token)
	a := newAPI(srv.addr, token)
	a.mustDo(t, "POST", "/v1/tenants", map[string]any{"id": "acme"}, 201, nil)

	var secrets []string
	recv := newReceiver(t)
	ep := a.createEndpoint(t, "acme", recv.srv.URL+"/hook", []string{"*"})
	other := a.createEndpoint(t, "acme", recv.srv.URL+"/other", []string{"none.*"})
	secrets = append(secrets, ep.Secret, other.Secret)
	var rotated endpointCreated
	a.mustDo(t, "POST", "/v1/tenants/acme/endpoints/"+ep.ID+"/rotate-secret", map[string]any{"overlap": "1h"}, 200, &rotated)
	secrets = append(secrets, rotated.Secret)
	recv.setSecret(rotated.Secret)

	// Outbound credentials and an ed25519 private key are sealed too.
	const authToken, authPassword = "crm-token-Wq8Lz3Vn6Pk1Yt5R", "basic-pass-Ue4Hx9Jd2Ma7Cs0B"
	var shaped endpointCreated
	a.mustDo(t, "POST", "/v1/tenants/acme/endpoints", map[string]any{
		"url": recv.srv.URL + "/shaped", "event_types": []string{"none.*"},
		"auth": map[string]any{"type": "bearer", "token": authToken}, "signature": map[string]any{"scheme": "ed25519"},
	}, 201, &shaped)
	var basic endpointCreated
	a.mustDo(t, "POST", "/v1/tenants/acme/endpoints", map[string]any{
		"url": recv.srv.URL + "/basic", "event_types": []string{"none.*"},
		"auth": map[string]any{"type": "basic", "username": "crm", "password": authPassword},
	}, 201, &basic)
	secrets = append(secrets, authToken, authPassword, shaped.Secret, basic.Secret)
	if _, key, ok := strings.Cut(shaped.Secret, "_"); ok {
		secrets = append(secrets, key)
	}

	const srcKey, srcKey2 = "source-key-Q7vX2mN9pL4kR8tZ", "source-key-H3jW6cY1bF5dS0gA"
	var src struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	}
	a.mustDo(t, "POST", "/v1/tenants/acme/sources", map[string]any{
		"provider": "api-key", "secret": srcKey, "api_key": map[string]any{"header": "X-Api-Key"},
		"mapping": map[string]any{"type": "inbound.{$.kind}"},
	}, 201, &src)
	a.mustDo(t, "POST", "/v1/tenants/acme/sources/"+src.ID+"/rotate-secret", map[string]any{"secret": srcKey2, "overlap": "1h"}, 200, nil)
	secrets = append(secrets, srcKey, srcKey2)
	for _, s := range secrets[:3] {
		secrets = append(secrets, strings.TrimPrefix(s, "whsec_"))
	}

	postInbound := func(addr, key, kind string) int {
		t.Helper()
		req, err := http.NewRequest("POST", "http://"+addr+src.URL, strings.NewReader(`{"kind":"`+kind+`"}`))
		require_NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", key)
		resp, err := http.DefaultClient.Do(req)
		require_NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	check := func(srv *proc, round string) {
		t.Helper()
		a := newAPI(srv.addr, token)
		before := recv.unique()
		a.mustDo(t, "POST", "/v1/tenants/acme/events", map[string]any{"type": "a.b", "payload": map[string]any{"round": round}}, 202, nil)
		require_True(t, postInbound(srv.addr, srcKey2, round) < 300, "the source refused its current key")
		require_True(t, postInbound(srv.addr, srcKey, round+"old") < 300, "the source refused its previous key within the overlap")
		require_True(t, postInbound(srv.addr, "wrong-key-000000000000", round) >= 400, "the source took a wrong key")
		waitFor(t, 60*time.Second, "the deliveries of round "+round, func() bool {
			recv.mu.Lock()
			defer recv.mu.Unlock()
			require_True(t, len(recv.bad) == 0, "invalid deliveries: %v", recv.bad)
			return len(recv.got) >= before+3
		})
	}
	check(srv, "one")
	srv.stop()

	srv = startServer(t, dir, "--admin-token", token)
	check(srv, "two")
	srv.stop()
	scanForSecrets(t, dir, secrets)
	if t.Failed() {
		return
	}

	// rotate-master re-encrypts every secret and flushes, so the records
	// are in sstables now; none holds a secret, and the server starts with
	// the new key.
	rot := startProc(t, []string{"keys", "rotate-master", "--data", dir}, nil)
	<-rot.exited
	require_True(t, rot.err == nil, "rotate-master: %v\n%s", rot.err, rot.output.String())
	require_True(t, strings.Contains(rot.output.String(), "re-encrypted the secrets of 4 endpoints and 1 sources"), "rotate-master said:\n%s", rot.output.String())
	oldKey, err := os.ReadFile(filepath.Join(dir, "secret.key.old"))
	require_NoError(t, err)
	newKey, err := os.ReadFile(filepath.Join(dir, "secret.key"))
	require_NoError(t, err)
	require_True(t, !bytes.Equal(oldKey, newKey), "rotate-master kept the key")
	_, err = os.Stat(filepath.Join(dir, "secret.key.new"))
	require_True(t, os.IsNotExist(err), "secret.key.new is left: %v", err)
	ssts, _ := filepath.Glob(filepath.Join(dir, "wal", "*.sst"))
	require_True(t, len(ssts) > 0, "no sstable after rotate-master")
	scanForSecrets(t, dir, secrets)
	srv = startServer(t, dir, "--admin-token", token)
	check(srv, "three")
	srv.stop()
	scanForSecrets(t, dir, secrets)
}

// scanForSecrets fails when a file under dir holds one of secrets, or is
// readable by others than its owner.
func scanForSecrets(t *testing.T, dir string, secrets []string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			if info.Mode().Perm() != 0o700 {
				t.Errorf("directory %s has mode %v; want 0700", path, info.Mode().Perm())
			}
			return nil
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("file %s has mode %v; want 0600", path, info.Mode().Perm())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("file %s holds the secret %q", path, s)
			}
		}
		return nil
	})
	require_NoError(t, err)
	require_True(t, files > 3, "only %d files under %s", files, dir)

	// Pebble compresses sstable blocks, which could hide a secret from the
	// byte scan: read the records through the store too.
	l, err := wal.Open(filepath.Join(dir, "wal"), nil)
	require_NoError(t, err)
	defer l.Close()
	var records []string
	require_NoError(t, l.Endpoints(func(_ wal.ID, val []byte) error { records = append(records, string(val)); return nil }))
	require_NoError(t, l.Sources(func(_ wal.ID, val []byte) error { records = append(records, string(val)); return nil }))
	require_True(t, len(records) == 5, "%d endpoint and source records; want 5", len(records))
	for _, rec := range records {
		require_True(t, strings.Contains(rec, seal.Prefix), "a record holds no sealed secret: %s", rec)
		for _, s := range secrets {
			require_True(t, !strings.Contains(rec, s), "a stored record holds the secret %q: %s", s, rec)
		}
	}
}

// TestSecretKeyErrors: a wrong or missing key file stops the start with
// an error naming the key, never a silent reset; so does a key file
// readable by others, and a rotation left half done.
func TestSecretKeyErrors(t *testing.T) {
	const token = testAdminToken
	dir := filepath.Join(t.TempDir(), "data")
	srv := startServer(t, dir, "--admin-token", token)
	a := newAPI(srv.addr, token)
	a.mustDo(t, "POST", "/v1/tenants", map[string]any{"id": "acme"}, 201, nil)
	a.createEndpoint(t, "acme", "http://127.0.0.1:1/hook", []string{"*"})
	srv.stop()
	keyPath := filepath.Join(dir, "secret.key")
	key, err := os.ReadFile(keyPath)
	require_NoError(t, err)

	f := func(want string, env []string, extra ...string) {
		t.Helper()
		args := append([]string{"serve", "--listen", "127.0.0.1:0", "--data", dir, "--admin-token", token}, extra...)
		p := startProc(t, args, env)
		<-p.exited
		out := p.output.String()
		require_True(t, p.err != nil, "serve started: %s", out)
		require_True(t, strings.Contains(out, want), "serve's error does not say %q:\n%s", want, out)
	}
	other := filepath.Join(t.TempDir(), "other.key")
	require_NoError(t, os.WriteFile(other, []byte("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n"), 0o600))
	f("which the key file does not hold (the key file holds key", nil, "--secret-key-file", other)
	f("which the key file does not hold", []string{"HOOKLINE_SECRET_KEY_FILE=" + other})
	f("does not exist", nil, "--secret-key-file", filepath.Join(dir, "missing.key"))

	// The default key deleted: a new one is generated, which does not
	// open the store: refused, and the store is untouched.
	require_NoError(t, os.Remove(keyPath))
	f("which the key file does not hold", nil)
	require_NoError(t, os.Remove(keyPath))
	require_NoError(t, os.WriteFile(keyPath, key, 0o600))
	// A key file outside the data directory readable by others (inside
	// it, the start makes every file 0600 first).
	loose := filepath.Join(t.TempDir(), "loose.key")
	require_NoError(t, os.WriteFile(loose, key, 0o644))
	f("chmod 600", nil, "--secret-key-file", loose)
	require_NoError(t, os.WriteFile(keyPath+".new", key, 0o600))
	f("rotate-master` was interrupted", nil)
	require_NoError(t, os.Remove(keyPath+".new"))

	// The right key: it starts, with the endpoint.
	srv = startServer(t, dir, "--admin-token", token)
	var eps struct {
		Data []struct{ ID string } `json:"data"`
	}
	newAPI(srv.addr, token).mustDo(t, "GET", "/v1/tenants/acme/endpoints", nil, 200, &eps)
	require_Equal(t, len(eps.Data), 1)
	srv.stop()
}

// TestRotateMasterKeepsOldKey: a second rotate-master does not overwrite
// the key an earlier one left in <key file>.old, which may be the only key
// that opens an older backup of the data; it refuses, naming the file, and
// rotates once the operator has moved it away.
func TestRotateMasterKeepsOldKey(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Decode("")
	require_NoError(t, err)
	cfg.Data = dir
	keyPath := filepath.Join(dir, "secret.key")
	_, _, err = seal.LoadOrCreateKeyFile(keyPath, true)
	require_NoError(t, err)
	log, err := wal.Open(filepath.Join(dir, "wal"), cfg.WALOptions())
	require_NoError(t, err)
	require_NoError(t, log.Close())
	first, err := os.ReadFile(keyPath)
	require_NoError(t, err)

	var out bytes.Buffer
	require_NoError(t, rotateMaster(cfg, &out))
	err = rotateMaster(cfg, &out)
	old, rerr := os.ReadFile(keyPath + ".old")
	require_NoError(t, rerr)
	require_True(t, bytes.Equal(old, first), "a second rotate-master overwrote the first key in secret.key.old")
	require_True(t, err != nil && strings.Contains(err.Error(), "secret.key.old"), "second rotate-master: %v", err)
	_, err = os.Stat(keyPath + ".new")
	require_True(t, os.IsNotExist(err), "the refused rotation left secret.key.new: %v", err)

	require_NoError(t, os.Rename(keyPath+".old", filepath.Join(t.TempDir(), "kept")))
	second, err := os.ReadFile(keyPath)
	require_NoError(t, err)
	require_NoError(t, rotateMaster(cfg, &out))
	old, err = os.ReadFile(keyPath + ".old")
	require_NoError(t, err)
	require_True(t, bytes.Equal(old, second), "secret.key.old is not the key the second rotation replaced")
}
