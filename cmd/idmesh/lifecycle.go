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

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/did/strictjson"
	"github.com/idmesh/idmesh/registry"
)

// vcStatus is `idmesh vc status`: change a credential's status.
func vcStatus(ctx context.Context, e env, args []string) error {
	var f apiFlags
	var purpose, set string
	fs := newFlags(e, "vc status", "vc status CREDENTIAL-ID --purpose revocation|suspension --set true|false")
	f.register(fs)
	fs.StringVar(&purpose, "purpose", "revocation", "revocation or suspension")
	fs.StringVar(&set, "set", "true", "true sets the status (revoked, suspended), false clears it (suspension only)")
	pos, err := parse(fs, e, args)
	if err != nil {
		return err
	}
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
	if f.json {
		return printJSON(e, out)
	}
	fmt.Fprintf(e.stdout, "%s %s=%t at height %d\n", out.CredentialID, out.StatusPurpose, out.Status, out.Height)
	return nil
}

func runSchema(ctx context.Context, e env, args []string) error {
	return subcommands(ctx, e, "schema", `Usage: idmesh schema <command> [flags]

Commands:
  register --issuer NAME FILE   register a JSON Schema on the chain, signed by a node's issuer
  get HASH                      print a registered schema`, map[string]func(context.Context, env, []string) error{
		"register": schemaRegister, "get": schemaGet,
	}, args)
}

func schemaRegister(ctx context.Context, e env, args []string) error {
	var f apiFlags
	var iss string
	fs := newFlags(e, "schema register", "schema register --issuer NAME FILE")
	f.register(fs)
	fs.StringVar(&iss, "issuer", "", "the node's issuer that registers it")
	pos, err := parse(fs, e, args)
	if err != nil {
		return err
	}
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
	if f.json {
		return printJSON(e, out)
	}
	fmt.Fprintf(e.stdout, "schema %s\n  id           %s\n  height       %d\n", out.Hash, out.ID, out.Height)
	return nil
}

func schemaGet(ctx context.Context, e env, args []string) error {
	var f clientFlags
	fs := newFlags(e, "schema get", "schema get HASH")
	f.register(fs)
	pos, err := parse(fs, e, args)
	if err != nil {
		return err
	}
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

func runTrust(ctx context.Context, e env, args []string) error {
	return subcommands(ctx, e, "trust", `Usage: idmesh trust <command> [flags]

Commands:
  add --issuer DID --type TYPE[,TYPE]      accredit an issuer for credential types (governance)
  remove --issuer DID --type TYPE[,TYPE]   withdraw the accreditation
  show DID                                 the types an issuer is accredited for

A change needs signatures of validators holding more than 2/3 of the voting power. The
node signs with its validator key; in a network of several validators, pass the change
it prints to the next validator with --change FILE.`, map[string]func(context.Context, env, []string) error{
		"add": func(ctx context.Context, e env, a []string) error { return trustChange(ctx, e, registry.TrustAdd, a) },
		"remove": func(ctx context.Context, e env, a []string) error {
			return trustChange(ctx, e, registry.TrustRemove, a)
		},
		"show": trustShow,
	}, args)
}

func trustChange(ctx context.Context, e env, action string, args []string) error {
	var f apiFlags
	var iss, types, change string
	fs := newFlags(e, "trust "+action, "trust "+action+" --issuer DID --type TYPE[,TYPE] [--change FILE]")
	f.register(fs)
	fs.StringVar(&iss, "issuer", "", "the issuer's DID")
	fs.StringVar(&types, "type", "", "credential types, comma-separated")
	fs.StringVar(&change, "change", "", "a change other validators signed (the JSON a node printed)")
	pos, err := parse(fs, e, args)
	if err != nil {
		return err
	}
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
		fmt.Fprintln(e.stderr, "idmesh: more validators must sign: save this and pass it to the next with --change FILE")
	}
	return printJSON(e, out)
}

func trustShow(ctx context.Context, e env, args []string) error {
	var f clientFlags
	fs := newFlags(e, "trust show", "trust show DID")
	f.register(fs)
	pos, err := parse(fs, e, args)
	if err != nil {
		return err
	}
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
	if f.json {
		return printJSON(e, rec)
	}
	fmt.Fprintf(e.stdout, "%s is accredited for %s (height %d)\n", rec.Issuer, strings.Join(rec.Types, ", "), rec.Height)
	return nil
}
