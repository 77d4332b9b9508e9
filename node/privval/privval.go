// Package privval holds a validator's signing key and the record of what
// it last signed, so that a validator never signs two different blocks at
// one height, even across crashes and restarts.
//
// The record is written and synced to disk before a signature is
// returned: after a crash the validator either finds that it signed
// nothing at that height, or finds exactly what it signed and can only
// sign that again.
package privval

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/idmesh/idmesh/registry"
)

// ErrDoubleSign reports a request to sign something that conflicts with
// what the validator already signed.
var ErrDoubleSign = errors.New("refusing to double-sign")

// KeyFile is the on-disk form of a validator key.
type KeyFile struct {
	Address    registry.Address   `json:"address"`
	PublicKey  ed25519.PublicKey  `json:"pub_key"`
	PrivateKey ed25519.PrivateKey `json:"priv_key"`
}

// LastSigned is what the validator signed last.
type LastSigned struct {
	Height    uint64        `json:"height"`
	Round     uint32        `json:"round"`
	BlockID   registry.Hash `json:"block_id"`
	Signature []byte        `json:"signature"`
	// Block is the encoded block, so that a producer that crashed after
	// signing re-proposes the very block it signed.
	Block []byte `json:"block,omitempty"`
}

// Signer signs precommits with a validator key, guarded by LastSigned.
type Signer struct {
	key       ed25519.PrivateKey
	statePath string

	mu   sync.Mutex
	last LastSigned
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

// Open returns a signer for key whose record lives at statePath.
func Open(key ed25519.PrivateKey, statePath string) (*Signer, error) {
	s := &Signer{key: key, statePath: statePath}
	b, err := os.ReadFile(statePath)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("open signer state: %w", err)
	default:
		if err := json.Unmarshal(b, &s.last); err != nil {
			return nil, fmt.Errorf("open signer state %s: %w", statePath, err)
		}
	}
	return s, nil
}

// Address returns the validator's address.
func (s *Signer) Address() registry.Address {
	return registry.AddressOf(s.key.Public().(ed25519.PublicKey))
}

// PublicKey returns the validator's public key.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Last returns what the signer signed last.
func (s *Signer) Last() LastSigned {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// SignPrecommit signs a precommit for blockID at height and round. It
// refuses to sign below the last signed height or round, and to sign a
// different block at the same height and round; signing the same block
// again returns the recorded signature. block is recorded with the
// signature, for re-proposal after a crash.
func (s *Signer) SignPrecommit(chainID string, height uint64, round uint32, blockID registry.Hash, block []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.last
	switch {
	case height < l.Height, height == l.Height && round < l.Round:
		return nil, fmt.Errorf("%w: height %d round %d is behind the last signed %d/%d", ErrDoubleSign, height, round, l.Height, l.Round)
	case height == l.Height && round == l.Round:
		if blockID != l.BlockID {
			return nil, fmt.Errorf("%w: already signed block %s at height %d round %d", ErrDoubleSign, l.BlockID, height, round)
		}
		return bytes.Clone(l.Signature), nil
	}
	sig := ed25519.Sign(s.key, registry.VoteSignBytes(chainID, height, round, blockID))
	next := LastSigned{Height: height, Round: round, BlockID: blockID, Signature: sig, Block: block}
	b, err := json.Marshal(next)
	if err != nil {
		return nil, err
	}
	if err := writeFileSync(s.statePath, b); err != nil {
		return nil, fmt.Errorf("record signature: %w", err)
	}
	s.last = next
	return sig, nil
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
