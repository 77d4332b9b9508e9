package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did/strictjson"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/verifier"
)

// apiFlags are the flags of commands that call authenticated endpoints.
type apiFlags struct {
	clientFlags
	token string
}

func (f *apiFlags) register(fs *pflag.FlagSet) {
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

func newIssuerCmd(a *app) *cobra.Command {
	return a.groupCmd("issuer", "register issuers whose keys the node keeps", newIssuerCreateCmd(a), newIssuerListCmd(a))
}

func newIssuerCreateCmd(a *app) *cobra.Command {
	var f apiFlags
	var keyType string
	c := a.command("create NAME [--key-type Ed25519|P-256] [--node URL]", "register an issuer: a DID on the chain whose key the node keeps",
		func(ctx context.Context, e env, pos []string) error { return issuerCreate(ctx, e, f, keyType, pos) })
	f.register(c.Flags())
	c.Flags().StringVar(&keyType, "key-type", "Ed25519", "key type: Ed25519 or P-256")
	return c
}

func issuerCreate(ctx context.Context, e env, f apiFlags, keyType string, pos []string) error {
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
	if e.json {
		return printJSON(e, out)
	}
	fmt.Fprintf(e.stdout, "issuer %s\n  did          %s\n  key          %s\n  height       %d\n", out.Name, out.DID, out.KeyID, out.Height)
	return nil
}

func newIssuerListCmd(a *app) *cobra.Command {
	var f apiFlags
	c := a.command("list [--node URL]", "list the node's issuers",
		func(ctx context.Context, e env, _ []string) error { return issuerList(ctx, e, f) })
	f.register(c.Flags())
	return c
}

func issuerList(ctx context.Context, e env, f apiFlags) error {
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
	if e.json {
		return printJSON(e, out)
	}
	for _, iss := range out.Issuers {
		fmt.Fprintf(e.stdout, "%-20s %s  %s\n", iss.Name, iss.DID, iss.Status)
	}
	return nil
}

func newVCCmd(a *app) *cobra.Command {
	c := a.groupCmd("vc", "issue and verify verifiable credentials", newVCIssueCmd(a), newVCOfferCmd(a), newVCVerifyCmd(a), newVCStatusCmd(a))
	c.Long = "Issue and verify verifiable credentials. FILE may be - for standard input."
	return c
}

func newVCIssueCmd(a *app) *cobra.Command {
	var f apiFlags
	var iss, format, holderKey string
	c := a.command("issue --issuer NAME|DID [--format eddsa-rdfc-2022|eddsa-jcs-2022|vc+jwt|jwt_vc_json|dc+sd-jwt] [--holder-key JWKFILE] FILE", "sign a credential with an issuer the node keeps",
		func(ctx context.Context, e env, pos []string) error {
			return vcIssue(ctx, e, f, iss, format, holderKey, pos)
		})
	fs := c.Flags()
	f.register(fs)
	fs.StringVar(&iss, "issuer", "", "the issuer's name or DID (default: the credential's issuer)")
	fs.StringVar(&format, "format", "eddsa-rdfc-2022", "eddsa-rdfc-2022, eddsa-jcs-2022, vc+jwt, jwt_vc_json (a VC Data Model 1.1 JWT, printed as the bare token), or dc+sd-jwt (an SD-JWT VC of the claims in FILE, printed as the bare SD-JWT)")
	fs.StringVar(&holderKey, "holder-key", "", "dc+sd-jwt (required): a file holding the holder's public JWK (Ed25519 or P-256), bound to the credential as cnf")
	return c
}

// readHolderKey reads the public JWK of --holder-key; a private one is
// refused before anything is sent.
func readHolderKey(name string) (map[string]any, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("vc issue: --holder-key: %w", err)
	}
	jwk, err := strictjson.Object(b, 64<<10)
	if err != nil {
		return nil, fmt.Errorf("vc issue: --holder-key %s: not a JWK: %w", name, err)
	}
	for _, m := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
		if _, ok := jwk[m]; ok {
			return nil, fmt.Errorf("vc issue: --holder-key %s holds a private key (member %q): give the holder's public JWK", name, m)
		}
	}
	return jwk, nil
}

func vcIssue(ctx context.Context, e env, f apiFlags, iss, format, holderKey string, pos []string) error {
	if len(pos) != 1 {
		return usageError("vc issue takes one FILE (or -)")
	}
	sdJWT := format == issuer.FormatSDJWT
	switch {
	case sdJWT && holderKey == "":
		return usageError("vc issue: --format dc+sd-jwt needs --holder-key JWKFILE (the holder's public JWK)")
	case !sdJWT && holderKey != "":
		return usageError("vc issue: --holder-key is for --format dc+sd-jwt")
	}
	options := map[string]any{"format": format}
	if sdJWT {
		jwk, err := readHolderKey(holderKey)
		if err != nil {
			return err
		}
		options["holderKey"] = jwk
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
	// An SD-JWT VC names its issuer by iss.
	issuerMember := "issuer"
	if sdJWT {
		issuerMember = "iss"
	}
	path := "/credentials/issue"
	if iss != "" && !strings.HasPrefix(iss, "did:") {
		path = "/issuers/" + iss + "/" + format + "/credentials/issue"
	} else if iss != "" {
		if _, has := cred[issuerMember]; !has {
			cred[issuerMember] = iss
		}
	}
	body, _ := json.Marshal(map[string]any{"credential": cred, "options": options})
	var out struct {
		// An object, or a compact token (jwt_vc_json).
		VerifiableCredential any `json:"verifiableCredential"`
	}
	if _, err := c.do(ctx, http.MethodPost, path, body, "", &out); err != nil {
		return fmt.Errorf("vc issue: %w", err)
	}
	if env, ok := out.VerifiableCredential.(map[string]any); ok && sdJWT && !e.json {
		// The bare SD-JWT, as vc verify and wallets read it.
		id, _ := env["id"].(string)
		token, _, err := jose.DataURLText(id)
		if err != nil {
			return fmt.Errorf("vc issue: the node's answer: %w", err)
		}
		_, err = fmt.Fprintln(e.stdout, token)
		return err
	}
	if token, ok := out.VerifiableCredential.(string); ok && !e.json {
		// The bare token, as vc verify reads it.
		_, err := fmt.Fprintln(e.stdout, token)
		return err
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

func (f *verifyFlags) register(fs *pflag.FlagSet, presentation bool) {
	f.clientFlags.register(fs)
	fs.StringVar(&f.checks, "checks", "", "comma-separated checks to run, by idmesh's names or the VC-API's (credentialStatus, issuanceDate, credentialSchema) (default: all that apply)")
	if presentation {
		fs.StringVar(&f.challenge, "challenge", "", "the challenge the presentation must answer: one the node issued (POST /challenges) or the relying party's own (required: the presentation's own is not trusted)")
		fs.StringVar(&f.domain, "domain", "", "the domain the presentation must be bound to")
		fs.BoolVar(&f.holderBinding, "holder-binding", false, "require the holder to be every credential's subject")
	}
}

func (f *verifyFlags) options() map[string]any {
	o := map[string]any{}
	if f.checks != "" {
		// The node maps and checks the names; spaces around one are
		// dropped ("proof, credentialStatus").
		checks := strings.Split(f.checks, ",")
		for i, c := range checks {
			checks[i] = strings.TrimSpace(c)
		}
		o["checks"] = checks
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

// newVerifyCmd returns vc verify or vp verify.
func newVerifyCmd(a *app, name, short, path, member string) *cobra.Command {
	var f verifyFlags
	c := a.command("verify [--node URL] [--checks LIST] FILE", short,
		func(ctx context.Context, e env, pos []string) error {
			return verify(ctx, e, f, name, path, member, pos)
		})
	f.register(c.Flags(), member == "verifiablePresentation")
	return c
}

func verify(ctx context.Context, e env, f verifyFlags, name, path, member string, pos []string) error {
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
	// With --json a failed verification prints only the problem, which
	// carries the result.
	if e.json {
		res.Document = nil
		if res.Verified {
			if err := printJSON(e, res); err != nil {
				return err
			}
		}
	} else {
		printResult(e, res, "")
	}
	if !res.Verified {
		reason := "no reason given"
		if len(res.ProblemDetails) > 0 {
			reason = res.ProblemDetails[0].Detail
		}
		return errNotVerified{reason: reason, status: code, result: &res}
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

func newVCVerifyCmd(a *app) *cobra.Command {
	return newVerifyCmd(a, "vc verify", "verify a credential (JSON, compact JWS or data: URL)", "/credentials/verify", "verifiableCredential")
}

func newVPCmd(a *app) *cobra.Command {
	return a.groupCmd("vp", "sign and verify verifiable presentations", newVPSignCmd(a), newVPVerifyCmd(a))
}

func newVPVerifyCmd(a *app) *cobra.Command {
	return newVerifyCmd(a, "vp verify", "verify a presentation", "/presentations/verify", "verifiablePresentation")
}

func newVPSignCmd(a *app) *cobra.Command {
	var f didFlags
	var holder, challenge, domain, format string
	c := a.command("sign --holder DID#KEY [--challenge C] [--domain D] [--format eddsa-rdfc-2022|eddsa-jcs-2022|vp+jwt] CREDENTIAL...",
		"present credentials, signed with a holder key from the keystore", func(ctx context.Context, e env, pos []string) error {
			return vpSign(ctx, e, f, holder, challenge, domain, format, pos)
		})
	c.Long = "Present credentials, signed with a holder key from the keystore; without --challenge,\none is asked of the node (POST /challenges)."
	fs := c.Flags()
	f.register(fs)
	fs.StringVar(&holder, "holder", "", "the holder's verification method (a key in the keystore), e.g. did:idmesh:...#key-1")
	fs.StringVar(&challenge, "challenge", "", "the verifier's challenge (default: ask the node for one)")
	fs.StringVar(&domain, "domain", "", "the verifier's domain")
	fs.StringVar(&format, "format", "eddsa-rdfc-2022", "eddsa-rdfc-2022, eddsa-jcs-2022 or vp+jwt")
	return c
}

func vpSign(ctx context.Context, e env, f didFlags, holder, challenge, domain, format string, pos []string) error {
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
		e.note("idmesh: challenge %s (verify with vp verify --challenge %s)\n", challenge, challenge)
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
