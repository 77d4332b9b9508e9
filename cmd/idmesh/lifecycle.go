package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/did/strictjson"
	"github.com/idmesh/idmesh/registry"
)

// newVCStatusCmd is `idmesh vc status`: change a credential's status.
func newVCStatusCmd(a *app) *cobra.Command {
	var f apiFlags
	var purpose, set string
	c := a.command("status CREDENTIAL-ID --purpose revocation|suspension --set true|false", "revoke, suspend or unsuspend a credential the node issued",
		func(ctx context.Context, e env, pos []string) error { return vcStatus(ctx, e, f, purpose, set, pos) })
	fs := c.Flags()
	f.register(fs)
	fs.StringVar(&purpose, "purpose", "revocation", "revocation or suspension")
	fs.StringVar(&set, "set", "true", "true sets the status (revoked, suspended), false clears it (suspension only)")
	return c
}

func vcStatus(ctx context.Context, e env, f apiFlags, purpose, set string, pos []string) error {
	if len(pos) != 1 {
		return usageError("vc status takes one CREDENTIAL-ID (the credential's id)")
	}
	value, err := strconv.ParseBool(set)
	if err != nil {
		return usageError("--set must be true or false")
	}
	c, err := f.client()
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]any{"credentialId": pos[0],
		"credentialStatus": map[string]string{"type": "BitstringStatusListEntry", "statusPurpose": purpose}, "status": value})
	var out api.SetStatusResponse
	if _, err := c.do(ctx, http.MethodPost, "/credentials/status", body, "", &out); err != nil {
		return fmt.Errorf("vc status: %w", err)
	}
	if e.json {
		return printJSON(e, out)
	}
	fmt.Fprintf(e.stdout, "%s %s=%t at height %d\n", out.CredentialID, out.StatusPurpose, out.Status, out.Height)
	return nil
}

func newSchemaCmd(a *app) *cobra.Command {
	return a.groupCmd("schema", "register and read credential schemas on the chain", newSchemaRegisterCmd(a), newSchemaGetCmd(a))
}

func newSchemaRegisterCmd(a *app) *cobra.Command {
	var f apiFlags
	var iss string
	c := a.command("register --issuer NAME FILE", "register a JSON Schema on the chain, signed by a node's issuer",
		func(ctx context.Context, e env, pos []string) error { return schemaRegister(ctx, e, f, iss, pos) })
	f.register(c.Flags())
	c.Flags().StringVar(&iss, "issuer", "", "the node's issuer that registers it")
	return c
}

func schemaRegister(ctx context.Context, e env, f apiFlags, iss string, pos []string) error {
	if len(pos) != 1 || iss == "" {
		return usageError("schema register takes --issuer NAME and one FILE")
	}
	b, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	if _, err := strictjson.Object(b, registry.MaxSchemaBytes); err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	c, err := f.client()
	if err != nil {
		return err
	}
	var out api.SchemaResponse
	if _, err := c.do(ctx, http.MethodPost, "/v1/issuers/"+url.PathEscape(iss)+"/schemas", b, "", &out); err != nil {
		return fmt.Errorf("schema register: %w", err)
	}
	if e.json {
		return printJSON(e, out)
	}
	fmt.Fprintf(e.stdout, "schema %s\n  id           %s\n  height       %d\n", out.Hash, out.ID, out.Height)
	return nil
}

func newSchemaGetCmd(a *app) *cobra.Command {
	var f clientFlags
	c := a.command("get HASH", "print a registered schema",
		func(ctx context.Context, e env, pos []string) error { return schemaGet(ctx, e, f, pos) })
	f.register(c.Flags())
	return c
}

func schemaGet(ctx context.Context, e env, f clientFlags, pos []string) error {
	if len(pos) != 1 {
		return usageError("schema get takes one HASH")
	}
	c, err := f.client()
	if err != nil {
		return err
	}
	var out json.RawMessage
	if _, err := c.do(ctx, http.MethodGet, "/v1/schemas/"+url.PathEscape(pos[0]), nil, "", &out); err != nil {
		return fmt.Errorf("schema get: %w", err)
	}
	return printJSON(e, out)
}

func newTrustCmd(a *app) *cobra.Command {
	c := a.groupCmd("trust", "accredit issuers for credential types (governance)",
		newTrustChangeCmd(a, registry.TrustAdd, "accredit an issuer for credential types (governance)"),
		newTrustChangeCmd(a, registry.TrustRemove, "withdraw the accreditation"),
		newTrustShowCmd(a))
	c.Long = `Accredit issuers for credential types (governance).

A change needs signatures of validators holding more than 2/3 of the voting power. The
node signs with its validator key; in a network of several validators, pass the change
it prints to the next validator with --change FILE.`
	return c
}

func newTrustChangeCmd(a *app, action, short string) *cobra.Command {
	var f apiFlags
	var iss, types, change string
	c := a.command(action+" --issuer DID --type TYPE[,TYPE] [--change FILE]", short,
		func(ctx context.Context, e env, pos []string) error {
			return trustChange(ctx, e, f, action, iss, types, change, pos)
		})
	fs := c.Flags()
	f.register(fs)
	fs.StringVar(&iss, "issuer", "", "the issuer's DID")
	fs.StringVar(&types, "type", "", "credential types, comma-separated")
	fs.StringVar(&change, "change", "", "a change other validators signed (the JSON a node printed)")
	return c
}

func trustChange(ctx context.Context, e env, f apiFlags, action, iss, types, change string, pos []string) error {
	if len(pos) != 0 {
		return usageError("trust " + action + " takes no arguments")
	}
	req := api.TrustRequest{Action: action, Issuer: iss, Types: splitList(types)}
	if change != "" {
		b, err := os.ReadFile(change)
		if err != nil {
			return err
		}
		var wrapped struct {
			Change *registry.TrustChange `json:"change"`
		}
		if err := json.Unmarshal(b, &wrapped); err != nil || wrapped.Change == nil {
			return fmt.Errorf("--change %s: not a change a node printed", change)
		}
		req = api.TrustRequest{Change: wrapped.Change}
	} else if iss == "" || types == "" {
		return usageError("trust " + action + ": --issuer and --type are required")
	}
	c, err := f.client()
	if err != nil {
		return err
	}
	body, _ := json.Marshal(req)
	var out json.RawMessage
	code, err := c.do(ctx, http.MethodPost, "/v1/trust", body, "", &out)
	if err != nil {
		return fmt.Errorf("trust %s: %w", action, err)
	}
	if code == http.StatusAccepted {
		e.note("idmesh: more validators must sign: save this and pass it to the next with --change FILE\n")
	}
	return printJSON(e, out)
}

func newTrustShowCmd(a *app) *cobra.Command {
	var f clientFlags
	c := a.command("show DID", "the types an issuer is accredited for",
		func(ctx context.Context, e env, pos []string) error { return trustShow(ctx, e, f, pos) })
	f.register(c.Flags())
	return c
}

func trustShow(ctx context.Context, e env, f clientFlags, pos []string) error {
	if len(pos) != 1 {
		return usageError("trust show takes one DID")
	}
	c, err := f.client()
	if err != nil {
		return err
	}
	var rec registry.TrustRecord
	if _, err := c.do(ctx, http.MethodGet, "/v1/trust/"+url.PathEscape(pos[0]), nil, "", &rec); err != nil {
		return fmt.Errorf("trust show: %w", err)
	}
	if e.json {
		return printJSON(e, rec)
	}
	fmt.Fprintf(e.stdout, "%s is accredited for %s (height %d)\n", rec.Issuer, strings.Join(rec.Types, ", "), rec.Height)
	return nil
}
