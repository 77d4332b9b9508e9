// Package home lays out a node's home directory and creates it:
//
//	HOME/genesis.json          the chain's genesis
//	HOME/validator_key.json    this node's validator key (mode 0600)
//	HOME/consensus.wal         what the validator signed at the current height
//	HOME/privval_state.json    the validator's last-signed watermark (mode 0600)
//	HOME/chain/                the LevelDB store
//	HOME/node_key              the libp2p network identity (mode 0600)
//	HOME/config.json           flag values for `idmesh node` (testnet init)
//	HOME/tls/cert.pem, key.pem a self-signed certificate (idmesh dev --tls)
//	HOME/api-token, issuer-passphrase   secrets idmesh dev makes (mode 0600)
//	HOME/issuers.keystore.json          the issuers' keys, encrypted (mode 0600)
//	HOME/issuer-state/                  the issuers' status allocations
//
// The home and its private directories are mode 0700 and its secrets mode
// 0600 when created; [Dir.Tighten], which `idmesh dev` and `idmesh node`
// run at start, brings an existing home back to those modes.
package home

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/idmesh/idmesh/node/privval"
	"github.com/idmesh/idmesh/registry"
)

// Dir is a node's home directory.
type Dir string

// Genesis is the chain's genesis file.
func (d Dir) Genesis() string { return filepath.Join(string(d), "genesis.json") }

// ValidatorKey is the validator key file; a home without one is a full node.
func (d Dir) ValidatorKey() string { return filepath.Join(string(d), "validator_key.json") }

// WAL is the consensus write-ahead log.
func (d Dir) WAL() string { return filepath.Join(string(d), "consensus.wal") }

// PrivvalState is the validator's last-signed watermark (see
// node/privval): the height, round and step it last signed.
func (d Dir) PrivvalState() string { return filepath.Join(string(d), "privval_state.json") }

// Chain is the LevelDB store's directory.
func (d Dir) Chain() string { return filepath.Join(string(d), "chain") }

// NodeKey is the libp2p network identity.
func (d Dir) NodeKey() string { return filepath.Join(string(d), "node_key") }

// Config is the JSON file of flag values that `idmesh node` reads.
func (d Dir) Config() string { return filepath.Join(string(d), "config.json") }

// TLSCert is the self-signed certificate of `idmesh dev --tls`.
func (d Dir) TLSCert() string { return filepath.Join(string(d), "tls", "cert.pem") }

// TLSKey is that certificate's private key.
func (d Dir) TLSKey() string { return filepath.Join(string(d), "tls", "key.pem") }

// InitSingle creates a single-validator chain in d if d has no genesis
// yet, and reports whether it did.
func (d Dir) InitSingle(chainID string, now time.Time) (bool, error) {
	if _, err := os.Stat(d.Genesis()); err == nil {
		return false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("init home: %w", err)
	}
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return false, fmt.Errorf("init home: %w", err)
	}
	kf, err := privval.GenerateKey(d.ValidatorKey(), nil)
	if err != nil {
		return false, err
	}
	g := &registry.Genesis{ChainID: chainID, GenesisTime: now.UTC().Truncate(time.Millisecond), Validators: []registry.Validator{{PubKey: kf.PublicKey, Power: 10}}}
	if err := g.Validate(); err != nil {
		return false, err
	}
	b, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return false, err
	}
	if err := os.WriteFile(d.Genesis(), append(b, '\n'), 0o644); err != nil {
		return false, fmt.Errorf("init home: %w", err)
	}
	return true, nil
}

// EnsureSelfSignedTLS creates a self-signed certificate for localhost
// and 127.0.0.1 in d/tls unless one is there, and returns its paths.
func (d Dir) EnsureSelfSignedTLS(now time.Time) (certFile, keyFile string, err error) {
	certFile, keyFile = d.TLSCert(), d.TLSKey()
	if _, err := os.Stat(certFile); err == nil {
		return certFile, keyFile, nil
	}
	if err := os.MkdirAll(filepath.Dir(certFile), 0o700); err != nil {
		return "", "", fmt.Errorf("create tls dir: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "idmesh dev"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", fmt.Errorf("create certificate: %w", err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

// AdoptGenesis copies the genesis file at path into d if d has none, and
// checks that it is the same file otherwise.
func (d Dir) AdoptGenesis(path string) error {
	g, err := registry.LoadGenesis(path)
	if err != nil {
		return err
	}
	if old, err := registry.LoadGenesis(d.Genesis()); err == nil {
		if old.ChainID != g.ChainID || !old.GenesisTime.Equal(g.GenesisTime) {
			return fmt.Errorf("home %s already holds chain %q", d, old.ChainID)
		}
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return fmt.Errorf("adopt genesis: %w", err)
	}
	return os.WriteFile(d.Genesis(), b, 0o644)
}

// APIToken holds the API token `idmesh dev` generated (mode 0600).
func (d Dir) APIToken() string { return filepath.Join(string(d), "api-token") }

// Issuers is the keystore of the issuers' keys, encrypted at rest.
func (d Dir) Issuers() string { return filepath.Join(string(d), "issuers.keystore.json") }

// IssuerPassphrase holds the issuers' keystore passphrase that `idmesh
// dev` generated (mode 0600). Real nodes take it from the environment.
func (d Dir) IssuerPassphrase() string { return filepath.Join(string(d), "issuer-passphrase") }

// EnsureSecret returns the secret in file, creating it (32 random bytes,
// base64url, mode 0600) if it does not exist. It reports whether it did.
func EnsureSecret(file string, random io.Reader) (string, bool, error) {
	if b, err := os.ReadFile(file); err == nil {
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", false, fmt.Errorf("%s is empty", file)
		}
		return s, false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", false, err
	}
	var b [32]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", false, err
	}
	s := base64.RawURLEncoding.EncodeToString(b[:])
	// O_EXCL: never write through a link planted where the secret goes.
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", false, err
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return "", false, err
	}
	if err := f.Close(); err != nil {
		return "", false, err
	}
	return s, true, nil
}

// IssuerState is the database of the issuers' status allocations.
func (d Dir) IssuerState() string { return filepath.Join(string(d), "issuer-state") }

// Modes of the home and of what it keeps secret; see [Dir.Tighten].
const (
	DirMode    fs.FileMode = 0o700
	SecretMode fs.FileMode = 0o600
)

// PrivateDirs are the directories of d that only its owner may enter:
// the home itself, the TLS directory and the issuers' status database.
func (d Dir) PrivateDirs() []string {
	return []string{string(d), filepath.Dir(d.TLSKey()), d.IssuerState()}
}

// Secrets are the files of d that only its owner may read: keys, tokens,
// passphrases, keystores and the config (which may hold a token).
func (d Dir) Secrets() []string {
	return []string{d.ValidatorKey(), d.NodeKey(), d.APIToken(), d.IssuerPassphrase(), d.Issuers(), d.TLSKey(), d.Config()}
}

// Tightened is a permission change made by [Dir.Tighten].
type Tightened struct {
	Path     string
	From, To fs.FileMode
}

// Tighten sets DirMode on the home and its private directories, and
// SecretMode on its secrets, wherever one exists with any permission for
// group or others, and returns what it changed. Modes without such
// permissions (0400, say) are kept. Paths that do not
// exist are skipped; a symbolic link is judged, and changed, by its target.
// A home, private directory or secret owned by another user (unless this
// process runs as root) fails with ErrForeignOwner: the node will not
// read keys or tokens that someone else could have written.
func (d Dir) Tighten() ([]Tightened, error) { return d.tighten(os.Getuid()) }

// ErrForeignOwner reports a file of the home that another user owns.
var ErrForeignOwner = errors.New("home: owned by another user")

// tighten is Tighten as user uid.
func (d Dir) tighten(uid int) ([]Tightened, error) {
	var out []Tightened
	tighten := func(p string, dir bool, mode fs.FileMode) error {
		li, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("tighten permissions: %w", err)
		}
		if li.Mode()&fs.ModeSymlink != 0 {
			// A link must be ours, and lead somewhere: a dangling one
			// would have a new secret written wherever it points.
			if owner, other := ownedByOther(li, uid); other {
				return fmt.Errorf("%w: the link %s is owned by user %d, not by user %d", ErrForeignOwner, p, owner, uid)
			}
		}
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %s is a link to nothing", ErrForeignOwner, p)
		}
		if err != nil {
			return fmt.Errorf("tighten permissions: %w", err)
		}
		if owner, other := ownedByOther(fi, uid); other {
			// Someone else's file (a link planted while the home was
			// open to others, say) is not ours to trust.
			return fmt.Errorf("%w: %s is owned by user %d, not by user %d", ErrForeignOwner, p, owner, uid)
		}
		if fi.IsDir() != dir || fi.Mode().Perm()&0o077 == 0 {
			return nil
		}
		if err := os.Chmod(p, mode); err != nil {
			return fmt.Errorf("tighten permissions: %w", err)
		}
		out = append(out, Tightened{Path: p, From: fi.Mode().Perm(), To: mode})
		return nil
	}
	for _, p := range d.PrivateDirs() {
		if err := tighten(p, true, DirMode); err != nil {
			return out, err
		}
	}
	for _, p := range d.Secrets() {
		if err := tighten(p, false, SecretMode); err != nil {
			return out, err
		}
	}
	return out, nil
}
