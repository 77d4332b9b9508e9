// Package privval keeps a validator's signing key on disk. What the
// validator signed is recorded, before it is sent, by the consensus
// write-ahead log (package wal), which is what keeps a restarted validator
// from signing anything conflicting.
package privval

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/idmesh/idmesh/registry"
)

// KeyFile is the on-disk form of a validator key.
type KeyFile struct {
	Address    registry.Address   `json:"address"`
	PublicKey  ed25519.PublicKey  `json:"pub_key"`
	PrivateKey ed25519.PrivateKey `json:"priv_key"`
}

// GenerateKey writes a new validator key file at path (mode 0600).
func GenerateKey(path string, seed []byte) (*KeyFile, error) {
	var priv ed25519.PrivateKey
	if seed != nil {
		priv = ed25519.NewKeyFromSeed(seed)
	} else {
		_, p, err := ed25519.GenerateKey(nil)
		if err != nil {
			return nil, fmt.Errorf("generate validator key: %w", err)
		}
		priv = p
	}
	pub := priv.Public().(ed25519.PublicKey)
	kf := &KeyFile{Address: registry.AddressOf(pub), PublicKey: pub, PrivateKey: priv}
	b, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeFileSync(path, b); err != nil {
		return nil, fmt.Errorf("write validator key: %w", err)
	}
	return kf, nil
}

// LoadKey reads a validator key file.
func LoadKey(path string) (*KeyFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load validator key: %w", err)
	}
	var kf KeyFile
	if err := json.Unmarshal(b, &kf); err != nil {
		return nil, fmt.Errorf("load validator key %s: %w", path, err)
	}
	if len(kf.PrivateKey) != ed25519.PrivateKeySize || !bytes.Equal(kf.PrivateKey.Public().(ed25519.PublicKey), kf.PublicKey) {
		return nil, fmt.Errorf("load validator key %s: key pair does not match", path)
	}
	return &kf, nil
}

// writeFileSync replaces path atomically and durably.
func writeFileSync(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
