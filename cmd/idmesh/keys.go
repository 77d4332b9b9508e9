package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/keystore"
	"github.com/idmesh/idmesh/wallet"
)

var randReader = rand.Reader

func newKeysCmd(a *app) *cobra.Command {
	return a.groupCmd("keys", "generate and list keys in the local keystore", newKeysGenerateCmd(a), newKeysListCmd(a))
}

func newKeysListCmd(a *app) *cobra.Command {
	var ksf keystoreFlags
	var config string
	c := a.command("list [--keystore FILE] [--json]", "list the keys (never the secrets)", func(_ context.Context, e env, pos []string) error {
		return keysList(e, ksf, pos)
	})
	ksf.register(c.Flags())
	c.Flags().StringVar(&config, "config", "", "JSON file of flag values")
	return c
}

func keysList(e env, ksf keystoreFlags, pos []string) error {
	if len(pos) != 0 {
		return usageError("keys list takes no arguments")
	}
	ks, err := ksf.open(e, false)
	if err != nil {
		return err
	}
	defer ks.Close()
	// The wallet's credentials share the keystore; they are not keys.
	entries := slices.DeleteFunc(ks.List(), func(en keystore.Entry) bool { return en.Type == wallet.EntryType })
	if e.json {
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

func newKeysGenerateCmd(a *app) *cobra.Command {
	var ksf keystoreFlags
	var keyType, config string
	c := a.command("generate [--type Ed25519|P-256] [--keystore FILE] [--json]", "generate a key; its ID is its did:key verification method",
		func(_ context.Context, e env, pos []string) error { return keysGenerate(e, ksf, keyType, pos) })
	fs := c.Flags()
	ksf.register(fs)
	fs.StringVar(&config, "config", "", "JSON file of flag values")
	fs.StringVar(&keyType, "type", "Ed25519", "key type: Ed25519 or P-256")
	return c
}

func keysGenerate(e env, ksf keystoreFlags, keyType string, pos []string) error {
	if len(pos) != 0 {
		return usageError("keys generate takes no arguments")
	}
	ks, err := ksf.open(e, true)
	if err != nil {
		return err
	}
	defer ks.Close()
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
	if e.json {
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
