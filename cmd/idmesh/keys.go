package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/keystore"
)

var randReader = rand.Reader

func runKeys(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || (args[0] != "generate" && args[0] != "list") {
		fmt.Fprintln(e.stderr, `Usage: idmesh keys <command> [flags]

Commands:
  generate [--type Ed25519|P-256]   generate a key; its ID is its did:key verification method
  list                              list the keys (never the secrets)`)
		return usageError("keys: give generate or list")
	}
	var ksf keystoreFlags
	var asJSON bool
	var keyType, config string
	fs := newFlags(e, "keys "+args[0], "keys "+args[0]+" [--keystore FILE] [--json]")
	ksf.register(fs)
	fs.BoolVar(&asJSON, "json", false, "print JSON instead of text")
	fs.StringVar(&config, "config", "", "JSON file of flag values")
	if args[0] == "generate" {
		fs.StringVar(&keyType, "type", "Ed25519", "key type: Ed25519 or P-256")
	}
	pos, err := parse(fs, e, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError("keys " + args[0] + " takes no arguments")
	}
	ks, err := ksf.open(e, args[0] == "generate")
	if err != nil {
		return err
	}
	defer ks.Close()
	if args[0] == "list" {
		entries := ks.List()
		if asJSON {
			type view struct {
				ID      string            `json:"id"`
				Type    string            `json:"type"`
				Public  string            `json:"publicKeyMultibase"`
				Created time.Time         `json:"created"`
				Labels  map[string]string `json:"labels,omitempty"`
			}
			out := []view{}
			for _, en := range entries {
				out = append(out, view{en.ID, en.Type, en.Public, en.Created, en.Labels})
			}
			return json.NewEncoder(e.stdout).Encode(out)
		}
		for _, en := range entries {
			fmt.Fprintf(e.stdout, "%s  %-8s %-9s %s\n", en.Created.Format("2006-01-02"), en.Type, en.Labels[labelStatus], en.ID)
		}
		return nil
	}
	kt, err := parseKeyType(keyType)
	if err != nil {
		return err
	}
	k, err := keys.Generate(kt, randReader)
	if err != nil {
		return err
	}
	// Stored under its verification method's ID (did:key:X#X), the ID a
	// DID that names this did:key as controller signs with.
	subject := key.New(k.Public())
	id := subject + "#" + strings.TrimPrefix(subject, "did:key:")
	if err := storeKey(ks, k, id, subject); err != nil {
		return err
	}
	setStatus(e, ks, id, statusLive)
	if asJSON {
		return json.NewEncoder(e.stdout).Encode(map[string]string{"id": id, "type": string(kt), "publicKeyMultibase": k.Public().Multibase()})
	}
	fmt.Fprintf(e.stdout, "generated %s key %s\n", kt, id)
	return nil
}

// storeKey stores an existing key under id.
func storeKey(ks *keystore.Store, k keys.PrivateKey, id, subject string) error {
	secret, err := k.MarshalBinary()
	if err != nil {
		return err
	}
	err = ks.Put(keystore.Entry{ID: id, Type: string(k.Type()), Public: k.Public().Multibase(), Secret: secret, Created: time.Now().UTC(),
		Labels: map[string]string{labelDID: subject, labelStatus: statusNew}})
	if err != nil {
		return fmt.Errorf("store key: %w", err)
	}
	return nil
}
