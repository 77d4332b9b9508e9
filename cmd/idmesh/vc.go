package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did/strictjson"
	"github.com/idmesh/idmesh/verifier"
)

// subcommands dispatches "idmesh NAME SUB ..." to subs, printing help for
// an unknown or missing SUB.
func subcommands(ctx context.Context, e env, name, help string, subs map[string]func(context.Context, env, []string) error, args []string) error {
	if len(args) == 0 || subs[args[0]] == nil {
		fmt.Fprintln(e.stderr, help)
		if len(args) == 0 {
			return usageError(name + ": no command given")
		}
		return usageError(fmt.Sprintf("%s: unknown command %q", name, args[0]))
	}
	return subs[args[0]](ctx, e, args[1:])
}

// apiFlags are the flags of commands that call authenticated endpoints.
type apiFlags struct {
	clientFlags
	token string
}

func (f *apiFlags) register(fs *flag.FlagSet) {
	f.clientFlags.register(fs)
	fs.StringVar(&f.token, "api-token", "", "the node's API token (prefer IDMESH_API_TOKEN; idmesh dev saves it in HOME/api-token)")
}

func (f *apiFlags) client() (*client, error) {
	c, err := f.clientFlags.client()
	if err != nil {
		return nil, err
	}
	c.token = f.token
	return c, nil
}

// readDocument reads a JSON object, or a compact JWS, from a file or "-".
func readDocument(e env, name string) (any, error) {
	var b []byte
	var err error
	if name == "-" {
		b, err = io.ReadAll(io.LimitReader(e.stdin, credential.MaxBytes+1))
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, err
	}
	s := strings.TrimSpace(string(b))
	if !strings.HasPrefix(s, "{") {
		if s == "" {
			return nil, fmt.Errorf("%s is empty", name)
		}
		return s, nil // a compact JWS or a data: URL
	}
	m, err := strictjson.Object([]byte(s), credential.MaxBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

func printJSON(e env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func runIssuer(ctx context.Context, e env, args []string) error {
	return subcommands(ctx, e, "issuer", `Usage: idmesh issuer <command> [flags]

Commands:
  create NAME   register an issuer: a DID on the chain whose key the node keeps
  list          list the node's issuers`, map[string]func(context.Context, env, []string) error{
		"create": issuerCreate, "list": issuerList,
	}, args)
}

func issuerCreate(ctx context.Context, e env, args []string) error {
	var f apiFlags
	var keyType string
	fs := newFlags(e, "issuer create", "issuer create NAME [--key-type Ed25519|P-256] [--node URL]")
	f.register(fs)
	fs.StringVar(&keyType, "key-type", "Ed25519", "key type: Ed25519 or P-256")
	pos, err := parse(fs, e, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("issuer create takes one NAME")
	}
	c, err := f.client()
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"name": pos[0], "keyType": keyType})
	var out api.IssuerResponse
	if _, err := c.do(ctx, http.MethodPost, "/v1/issuers", body, "", &out); err != nil {
		return fmt.Errorf("issuer create: %w", err)
	}
	if f.json {
		return printJSON(e, out)
	}
	fmt.Fprintf(e.stdout, "issuer %s\n  did          %s\n  key          %s\n  height       %d\n", out.Name, out.DID, out.KeyID, out.Height)
	return nil
}

func issuerList(ctx context.Context, e env, args []string) error {
	var f apiFlags
	fs := newFlags(e, "issuer list", "issuer list [--node URL]")
	f.register(fs)
	if _, err := parse(fs, e, args); err != nil {
		return err
	}
	c, err := f.client()
	if err != nil {
		return err
	}
	var out struct {
		Issuers []api.IssuerResponse `json:"issuers"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/v1/issuers", nil, "", &out); err != nil {
		return fmt.Errorf("issuer list: %w", err)
	}
	if f.json {
		return printJSON(e, out)
	}
	for _, iss := range out.Issuers {
		fmt.Fprintf(e.stdout, "%-20s %s  %s\n", iss.Name, iss.DID, iss.Status)
	}
	return nil
}

func runVC(ctx context.Context, e env, args []string) error {
	return subcommands(ctx, e, "vc", `Usage: idmesh vc <command> [flags]

Commands:
  issue --issuer NAME|DID [--format F] FILE   sign a credential with an issuer the node keeps
  verify FILE                                 verify a credential (JSON, compact JWS or data: URL)
  status ID --purpose P --set true|false      revoke, suspend or unsuspend a credential the node issued

FILE may be - for standard input.`, map[string]func(context.Context, env, []string) error{
		"issue": vcIssue, "verify": vcVerify, "status": vcStatus,
	}, args)
}

func vcIssue(ctx context.Context, e env, args []string) error {
	var f apiFlags
	var iss, format string
	fs := newFlags(e, "vc issue", "vc issue --issuer NAME|DID [--format eddsa-rdfc-2022|eddsa-jcs-2022|vc+jwt] FILE")
	f.register(fs)
	fs.StringVar(&iss, "issuer", "", "the issuer's name or DID (default: the credential's issuer)")
	fs.StringVar(&format, "format", "eddsa-rdfc-2022", "eddsa-rdfc-2022, eddsa-jcs-2022 or vc+jwt")
	pos, err := parse(fs, e, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("vc issue takes one FILE (or -)")
	}
	doc, err := readDocument(e, pos[0])
	if err != nil {
		return err
	}
	cred, ok := doc.(map[string]any)
	if !ok {
		return usageError("vc issue: the credential must be a JSON object")
	}
	c, err := f.client()
	if err != nil {
		return err
	}
	path := "/credentials/issue"
	if iss != "" && !strings.HasPrefix(iss, "did:") {
		path = "/issuers/" + iss + "/" + format + "/credentials/issue"
	} else if iss != "" {
		if _, has := cred["issuer"]; !has {
			cred["issuer"] = iss
		}
	}
	body, _ := json.Marshal(map[string]any{"credential": cred, "options": map[string]string{"format": format}})
	var out struct {
		VerifiableCredential map[string]any `json:"verifiableCredential"`
	}
	if _, err := c.do(ctx, http.MethodPost, path, body, "", &out); err != nil {
		return fmt.Errorf("vc issue: %w", err)
	}
	return printJSON(e, out.VerifiableCredential)
}

// verifyFlags are the flags of vc verify and vp verify.
type verifyFlags struct {
	clientFlags
	checks            string
	challenge, domain string
	holderBinding     bool
}

func (f *verifyFlags) register(fs *flag.FlagSet, presentation bool) {
	f.clientFlags.register(fs)
	fs.StringVar(&f.checks, "checks", "", "comma-separated checks to run (default: all that apply)")
	if presentation {
		fs.StringVar(&f.challenge, "challenge", "", "the challenge the node issued for this presentation (required: the presentation's own is not trusted)")
		fs.StringVar(&f.domain, "domain", "", "the domain the presentation must be bound to")
		fs.BoolVar(&f.holderBinding, "holder-binding", false, "require the holder to be every credential's subject")
	}
}

func (f *verifyFlags) options() map[string]any {
	o := map[string]any{}
	if f.checks != "" {
		o["checks"] = strings.Split(f.checks, ",")
	}
	if f.challenge != "" {
		o["challenge"] = f.challenge
	}
	if f.domain != "" {
		o["domain"] = f.domain
	}
	if f.holderBinding {
		o["holderBinding"] = true
	}
	return o
}

// errNotVerified makes a failed verification exit non-zero after its
// result was printed.
type errNotVerified struct{ reason string }

func (e errNotVerified) Error() string { return "not verified: " + e.reason }

func verify(ctx context.Context, e env, name, path, member string, args []string) error {
	var f verifyFlags
	fs := newFlags(e, name, name+" [--node URL] [--checks LIST] FILE")
	f.register(fs, member == "verifiablePresentation")
	pos, err := parse(fs, e, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError(name + " takes one FILE (or -)")
	}
	doc, err := readDocument(e, pos[0])
	if err != nil {
		return err
	}
	c, err := f.client()
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{member: doc, "options": f.options()})
	if err != nil {
		return err
	}
	var res verifier.Result
	code, err := c.do(ctx, http.MethodPost, path, body, "", &res)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if code != http.StatusOK && code != http.StatusBadRequest {
		return fmt.Errorf("%s: HTTP %d", name, code)
	}
	if f.json {
		res.Document = nil
		if err := printJSON(e, res); err != nil {
			return err
		}
	} else {
		printResult(e, res, "")
	}
	if !res.Verified {
		reason := "no reason given"
		if len(res.ProblemDetails) > 0 {
			reason = res.ProblemDetails[0].Detail
		}
		return errNotVerified{reason}
	}
	return nil
}

func printResult(e env, res verifier.Result, indent string) {
	verdict := "verified"
	if !res.Verified {
		verdict = "NOT verified"
	}
	who := res.Issuer
	if res.Holder != "" {
		who = res.Holder
	}
	fmt.Fprintf(e.stdout, "%s%s (%s) %s\n", indent, verdict, res.Format, who)
	for _, r := range res.Results {
		mark := "ok  "
		if !r.Verified {
			mark = "FAIL"
		}
		fmt.Fprintf(e.stdout, "%s  %s %s", indent, mark, r.Check)
		if r.Problem != nil {
			fmt.Fprintf(e.stdout, ": %s (%s)", r.Problem.Detail, r.Problem.Type)
		}
		fmt.Fprintln(e.stdout)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(e.stdout, "%s  warn %s\n", indent, w.Detail)
	}
	for _, cr := range res.Credentials {
		printResult(e, cr, indent+"  ")
	}
}

func vcVerify(ctx context.Context, e env, args []string) error {
	return verify(ctx, e, "vc verify", "/credentials/verify", "verifiableCredential", args)
}

func runVP(ctx context.Context, e env, args []string) error {
	return subcommands(ctx, e, "vp", `Usage: idmesh vp <command> [flags]

Commands:
  sign --holder DID#KEY [--challenge C] [--domain D] [--format F] CREDENTIAL...
                 present credentials, signed with a holder key from the keystore;
                 without --challenge, one is asked of the node (POST /challenges)
  verify FILE    verify a presentation`, map[string]func(context.Context, env, []string) error{
		"sign": vpSign, "verify": vpVerify,
	}, args)
}

func vpVerify(ctx context.Context, e env, args []string) error {
	return verify(ctx, e, "vp verify", "/presentations/verify", "verifiablePresentation", args)
}

func vpSign(ctx context.Context, e env, args []string) error {
	var f didFlags
	var holder, challenge, domain, format string
	fs := newFlags(e, "vp sign", "vp sign --holder DID#KEY [--challenge C] [--domain D] [--format eddsa-rdfc-2022|eddsa-jcs-2022|vp+jwt] CREDENTIAL...")
	f.register(fs)
	fs.StringVar(&holder, "holder", "", "the holder's verification method (a key in the keystore), e.g. did:idmesh:...#key-1")
	fs.StringVar(&challenge, "challenge", "", "the verifier's challenge (default: ask the node for one)")
	fs.StringVar(&domain, "domain", "", "the verifier's domain")
	fs.StringVar(&format, "format", "eddsa-rdfc-2022", "eddsa-rdfc-2022, eddsa-jcs-2022 or vp+jwt")
	pos, err := parse(fs, e, args)
	if err != nil {
		return err
	}
	if holder == "" || !strings.Contains(holder, "#") {
		return usageError("vp sign: --holder DID#KEY is required")
	}
	if format != "vp+jwt" && format != dataintegrity.CryptosuiteRDFC && format != dataintegrity.CryptosuiteJCS {
		return usageError(fmt.Sprintf("vp sign: unknown --format %q", format))
	}
	var creds []any
	for _, name := range pos {
		doc, err := readDocument(e, name)
		if err != nil {
			return err
		}
		if s, ok := doc.(string); ok { // a bare vc+jwt travels enveloped
			doc = jose.Envelope(strings.TrimPrefix(s, "data:"+jose.MediaTypeVC+","), jose.MediaTypeVC)
		}
		creds = append(creds, doc)
	}
	if challenge == "" {
		c, err := f.client()
		if err != nil {
			return err
		}
		body, _ := json.Marshal(map[string]string{"domain": domain})
		var ch verifier.Challenge
		if _, err := c.do(ctx, http.MethodPost, "/challenges", body, "", &ch); err != nil {
			return fmt.Errorf("vp sign: ask the node for a challenge: %w", err)
		}
		challenge = ch.Challenge
		// The verifier checks the presentation against the challenge it
		// issued, never against the one the presentation carries.
		fmt.Fprintf(e.stderr, "idmesh: challenge %s (verify with vp verify --challenge %s)\n", challenge, challenge)
	}
	ks, err := f.open(e, false)
	if err != nil {
		return err
	}
	defer ks.Close()
	k, err := loadKey(ks, holder)
	if err != nil {
		return fmt.Errorf("vp sign: holder key %s: %w", holder, err)
	}
	signer := credential.KeySigner{ID: holder, Key: k}
	vp := map[string]any{
		"@context": []any{credential.ContextV2},
		"type":     []any{credential.TypePresentation},
		"holder":   credential.ControllerOf(holder),
	}
	if len(creds) > 0 {
		vp["verifiableCredential"] = creds
	}
	if format == "vp+jwt" {
		tok, err := jose.SignPresentation(vp, signer, jose.SignOptions{Nonce: challenge, Audience: domain})
		if err != nil {
			return fmt.Errorf("vp sign: %w", err)
		}
		return printJSON(e, jose.Envelope(tok, jose.MediaTypeVP))
	}
	signed, err := dataintegrity.Sign(ctx, vp, signer, dataintegrity.SignOptions{Cryptosuite: format,
		ProofPurpose: credential.PurposeAuthentication, Challenge: challenge, Domain: domain, Created: time.Now()})
	if err != nil {
		return fmt.Errorf("vp sign: %w", err)
	}
	return printJSON(e, signed)
}
