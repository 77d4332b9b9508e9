// Package privval keeps a validator's signing key on disk and signs
// consensus messages with it, never twice at one step.
//
// A Signer keeps a last-signed watermark: the height, round and step of
// the last consensus message it signed and the SHA-256 of its sign
// bytes. Steps are ordered proposal < prevote < precommit within a
// round. A request to sign at or below the watermark is refused with
// ErrDoubleSign, unless it is exactly the message last signed (same
// height, round, step and sign bytes), whose signature is given again
// (Ed25519 is deterministic). The watermark is written to a state file
// atomically (temporary file, fsync, rename, fsync of the directory)
// by Save, which the caller runs before any signature leaves the
// process; the consensus write-ahead log (package wal) records the
// messages themselves.
//
// Only consensus messages go through a Signer: their sign bytes start
// with the domain tags "idmesh/proposal/v1", "idmesh/prevote/v1" or
// "idmesh/precommit/v1" (ParseSignBytes), and anything else is refused.
// Other signatures of the validator key (trust changes, say) are made
// directly with the key and never touch the watermark.
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
	renamed := false
	defer func() {
		if !renamed {
			os.Remove(f.Name())
		}
	}()
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
	renamed = true // (a removal of its old name would fail: a system call for nothing at every signature)
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
