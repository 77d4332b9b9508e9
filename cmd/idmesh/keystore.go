package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/keystore"
)

// keystoreFlags name the local keystore.
type keystoreFlags struct {
	path string
}

func defaultKeystore() string {
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".idmesh", "keystore.json")
	}
	return "keystore.json"
}

func (f *keystoreFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.path, "keystore", defaultKeystore(), "keystore file; its passphrase comes from IDMESH_PASSPHRASE or a prompt")
}

// open opens the keystore, creating it if create is set and it is absent.
func (f *keystoreFlags) open(e env, create bool) (*keystore.Store, error) {
	_, statErr := os.Stat(f.path)
	exists := statErr == nil
	if !exists && !create {
		return nil, fmt.Errorf("keystore %s does not exist (create a DID or key first)", f.path)
	}
	pass, err := passphrase(e, !exists)
	if err != nil {
		return nil, err
	}
	if exists {
		ks, err := keystore.Open(f.path, pass)
		if errors.Is(err, keystore.ErrWrongPassphrase) {
			return nil, fmt.Errorf("keystore %s: wrong passphrase", f.path)
		}
		return ks, err
	}
	return keystore.Create(f.path, pass, keystore.DefaultParams)
}

// passphrase reads IDMESH_PASSPHRASE, or prompts on the terminal.
func passphrase(e env, confirm bool) ([]byte, error) {
	if p := e.getenv("IDMESH_PASSPHRASE"); p != "" {
		return []byte(p), nil
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil || !term.IsTerminal(int(tty.Fd())) {
		return nil, errors.New("no passphrase: set IDMESH_PASSPHRASE or run in a terminal")
	}
	defer tty.Close()
	read := func(prompt string) ([]byte, error) {
		fmt.Fprint(tty, prompt)
		b, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(tty)
		return b, err
	}
	p, err := read("Keystore passphrase: ")
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	if len(p) == 0 {
		return nil, errors.New("empty passphrase")
	}
	if confirm {
		q, err := read("Repeat passphrase: ")
		if err != nil {
			return nil, fmt.Errorf("read passphrase: %w", err)
		}
		if string(p) != string(q) {
			return nil, errors.New("passphrases differ")
		}
	}
	return p, nil
}

// parseKeyType accepts Ed25519 and P-256 in any case.
func parseKeyType(s string) (keys.Type, error) {
	switch strings.ToLower(s) {
	case "ed25519":
		return keys.Ed25519, nil
	case "p-256", "p256", "es256":
		return keys.P256, nil
	}
	return "", usageError(fmt.Sprintf("unsupported key type %q (Ed25519 or P-256)", s))
}

// Key status labels in the keystore.
const (
	labelDID    = "did"
	labelStatus = "status"
	statusNew   = "pending" // stored, operation not committed yet
	statusLive  = "active"
)

// newKey generates a key and stores it under id before anything uses it,
// so a key is never lost after a crash.
func newKey(ks *keystore.Store, t keys.Type, id, subject string) (keys.PrivateKey, error) {
	k, err := keys.Generate(t, rand.Reader)
	if err != nil {
		return keys.PrivateKey{}, err
	}
	return k, storeKey(ks, k, id, subject)
}

// setStatus relabels a key; a failure is reported but not fatal.
func setStatus(e env, ks *keystore.Store, id, status string) {
	ent, err := ks.Get(id)
	if err != nil {
		return
	}
	if ent.Labels == nil {
		ent.Labels = map[string]string{}
	}
	ent.Labels[labelStatus] = status
	if err := ks.Update(ent); err != nil {
		e.note("idmesh: warning: relabel key %s: %v\n", id, err)
	}
}

func loadKey(ks *keystore.Store, id string) (keys.PrivateKey, error) {
	ent, err := ks.Get(id)
	if err != nil {
		return keys.PrivateKey{}, err
	}
	return keys.UnmarshalPrivateKey(ent.Secret)
}
