package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"hookline/engine"
	"hookline/engine/inbound"
	"hookline/internal/config"
	"hookline/internal/seal"
	"hookline/wal"
)

// Secrets at rest: endpoint and source secrets are sealed in the store
// under a master key kept in a file outside it (internal/seal). This file
// finds that key, keeps the data directory private, and rotates the key.

const secretKeyEnv = "HOOKLINE_SECRET_KEY_FILE"

// secretKeyPath is the key file: the config's (or the flag's), else the
// environment's, else <data>/secret.key. Only the last is generated when
// missing: a path the operator named must exist.
func secretKeyPath(cfg *config.Config) (path string, generate bool) {
	if cfg.SecretKeyFile != "" {
		return cfg.SecretKeyFile, false
	}
	if p := os.Getenv(secretKeyEnv); p != "" {
		return p, false
	}
	return filepath.Join(cfg.Data, "secret.key"), true
}

// loadKeyring reads the master key (generating it on first start when it
// is the default one) and returns the keyring to seal with. A key
// rotation left half done is an error until it is finished.
func loadKeyring(cfg *config.Config, logger *slog.Logger) (*seal.Keyring, error) {
	path, generate := secretKeyPath(cfg)
	if _, err := os.Stat(path + ".new"); err == nil {
		return nil, fmt.Errorf("%s.new exists: a `hookline keys rotate-master` was interrupted; run it again to finish it before serving", path)
	}
	k, created, err := seal.LoadOrCreateKeyFile(path, generate)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("secret key file %q does not exist (named by secret_key_file, --secret-key-file or $%s): hookline generates only the default <data>/secret.key; restore the key the data was sealed with: %w", path, secretKeyEnv, err)
	}
	if err != nil {
		return nil, err
	}
	if created {
		logger.Info("generated the secret key that seals endpoint and source secrets; keep it apart from backups of the data", "file", path, "key", k.ID())
	}
	return seal.NewKeyring(k), nil
}

// privateDataDir makes dir 0700 and everything under it 0600 (files) or
// 0700 (directories), whatever modes an older version or an operator left:
// the store, the admin token and the key are the owner's alone.
func privateDataDir(dir string) error {
	// A data directory reached through a symlink is made private itself.
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o600)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			return nil // the target is someone else's to protect
		case d.IsDir():
			mode = 0o700
		case !d.Type().IsRegular():
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm() != mode {
			if err := os.Chmod(path, mode); err != nil {
				return fmt.Errorf("cannot make the data directory private: %w", err)
			}
		}
		return nil
	})
}

// runKeys runs `hookline keys rotate-master`.
func runKeys(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "rotate-master" {
		return errors.New("usage: hookline keys rotate-master [--config FILE] [--data DIR] [--secret-key-file FILE]")
	}
	fs := flag.NewFlagSet("keys rotate-master", flag.ContinueOnError)
	configPath := fs.String("config", "", "config file (default: the embedded configs/hookline.yaml)")
	data := fs.String("data", "", "data directory (default ./data)")
	keyFile := fs.String("secret-key-file", "", "the master key file (else $"+secretKeyEnv+", else <data>/secret.key)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := config.Decode(*configPath)
	if err != nil {
		return err
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "data":
			cfg.Data = *data
		case "secret-key-file":
			cfg.SecretKeyFile = *keyFile
		}
	})
	return rotateMaster(cfg, stdout)
}

// rotateMaster re-encrypts every stored secret under a new master key. The
// server must be stopped (the store's lock says so otherwise). How it
// works, each step safe to interrupt:
//  1. The new key is written to <key file>.new (or, when that exists, an
//     earlier run was interrupted and its new key is used again).
//  2. Every endpoint and source record is resealed under the new key, the
//     old key still opening what is not yet done; then the records' old
//     versions are compacted out of the sstables.
//  3. The old key moves to <key file>.old and the new one to the key
//     file. Until then serve refuses to start, naming the rotation.
//
// A <key file>.old left by an earlier rotation stops it before step 1:
// that key may be the only one opening an older backup, and step 3 would
// write over it.
func rotateMaster(cfg *config.Config, stdout io.Writer) error {
	path, _ := secretKeyPath(cfg)
	newPath := path + ".new"
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(path + ".old"); err == nil {
			// Interrupted between the two renames of step 3: the
			// records are all under the new key already.
			if err := os.Rename(newPath, path); err != nil {
				return fmt.Errorf("cannot finish the interrupted rotation: %w", err)
			}
			fmt.Fprintf(stdout, "finished an interrupted rotation: %s holds the new key\n", path)
			return nil
		}
	}
	// The key an earlier rotation replaced may be the only one that opens
	// an older backup of the data: step 3 must not write over it.
	if _, err := os.Stat(path + ".old"); err == nil {
		return fmt.Errorf("%s.old exists: it holds the key an earlier rotation replaced, which backups from before it need; move it somewhere safe (or delete it if no backup needs it) and run rotate-master again", path)
	}
	old, err := seal.ReadKeyFile(path)
	if err != nil {
		return err
	}
	next, err := seal.ReadKeyFile(newPath)
	if errors.Is(err, os.ErrNotExist) {
		next, err = seal.WriteKeyFile(newPath)
	}
	if err != nil {
		return err
	}
	if err := privateDataDir(cfg.Data); err != nil {
		return err
	}
	walDir := filepath.Join(cfg.Data, "wal")
	if _, err := os.Stat(walDir); err != nil {
		return fmt.Errorf("no store in %q: %w", cfg.Data, err)
	}
	log, err := wal.Open(walDir, cfg.WALOptions())
	if err != nil {
		return fmt.Errorf("%w (is the server running? stop it first)", err)
	}
	kr := seal.NewKeyring(next, old)
	eps, err := engine.ResealEndpoints(log, kr, nil)
	var srcs int
	if err == nil {
		srcs, err = inbound.ResealSources(log, kr, nil)
	}
	if err == nil {
		err = log.CompactConfig()
	}
	if cerr := log.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cannot re-encrypt the secrets (run rotate-master again; serve refuses to start until it finishes): %w", err)
	}
	if err := os.Rename(path, path+".old"); err != nil {
		return err
	}
	if err := os.Rename(newPath, path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	fmt.Fprintf(stdout, "re-encrypted the secrets of %d endpoints and %d sources under key %s (was %s)\n", eps, srcs, next.ID(), old.ID())
	fmt.Fprintf(stdout, "the old key is in %s.old: delete it once no backup of the data needs it\n", path)
	return nil
}
