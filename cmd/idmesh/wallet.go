package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/keystore"
	"github.com/idmesh/idmesh/verifier"
	"github.com/idmesh/idmesh/wallet"
)

// walletFlags are the flags of every wallet command: the keystore the
// wallet lives in and the node (--node, --ca-cert, --timeout, --config).
// The node is the one the wallet verifies credentials with (import
// --verify, show --verify: POST /credentials/verify, which resolves the
// issuer's DID); nothing else talks to it (receive talks to the issuer
// named in the offer, with --timeout per exchange).
type walletFlags struct {
	clientFlags
	keystoreFlags
}

func (f *walletFlags) register(fs *pflag.FlagSet) {
	f.clientFlags.register(fs)
	f.keystoreFlags.register(fs)
}

// open opens the wallet's keystore, creating it if create is set.
func (f *walletFlags) open(e env, create bool) (*wallet.Wallet, *keystore.Store, error) {
	ks, err := f.keystoreFlags.open(e, create)
	if err != nil {
		return nil, nil, err
	}
	return wallet.New(ks), ks, nil
}

func newWalletCmd(a *app) *cobra.Command {
	c := a.groupCmd("wallet", "hold credentials: holder keys, receive over OpenID4VCI, import, list, show, export, present over OpenID4VP",
		newWalletKeysCmd(a), newWalletReceiveCmd(a), newWalletImportCmd(a), newWalletListCmd(a),
		newWalletShowCmd(a), newWalletDeleteCmd(a), newWalletExportCmd(a), newWalletPresentCmd(a))
	c.Long = `The holder's wallet, kept encrypted in the keystore (--keystore, passphrase from
IDMESH_PASSPHRASE or a prompt): holder keys, and credentials received from
OpenID4VCI issuers or imported from files. Only credentials' IDs show in the
file; their issuer, type, format and contents are encrypted.`
	return c
}

// walletCommand returns a wallet command with the wallet's flags.
func (a *app) walletCommand(use, short string, run func(ctx context.Context, e env, f walletFlags, args []string) error) (*cobra.Command, *walletFlags) {
	f := &walletFlags{}
	c := a.command(use, short, func(ctx context.Context, e env, args []string) error { return walletError(run(ctx, e, *f, args)) })
	f.register(c.Flags())
	return c, f
}

func newWalletKeysCmd(a *app) *cobra.Command {
	var keyType, method string
	create, _ := a.walletCommand("create [--type Ed25519|P-256] [--method key|jwk]", "create a holder key (a did:key or did:jwk)",
		func(_ context.Context, e env, f walletFlags, pos []string) error {
			return walletKeysCreate(e, f, keyType, method, pos)
		})
	create.Flags().StringVar(&keyType, "type", "Ed25519", "key type: Ed25519 or P-256")
	create.Flags().StringVar(&method, "method", "jwk", "DID method of the key: key or jwk")
	list, _ := a.walletCommand("list", "list the keys credentials can be bound to", func(_ context.Context, e env, f walletFlags, pos []string) error {
		return walletKeysList(e, f, pos)
	})
	return a.groupCmd("keys", "create and list holder keys", create, list)
}

func walletKeysCreate(e env, f walletFlags, keyType, method string, pos []string) error {
	if len(pos) != 0 {
		return usageError("wallet keys create takes no arguments")
	}
	kt, err := parseKeyType(keyType)
	if err != nil {
		return err
	}
	if method != wallet.MethodKey && method != wallet.MethodJWK {
		return usageError(fmt.Sprintf("wallet keys create: unsupported --method %q (key or jwk)", method))
	}
	w, ks, err := f.open(e, true)
	if err != nil {
		return err
	}
	defer ks.Close()
	h, err := createHolderKey(w, kt, method)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e, map[string]string{"id": h.ID, "did": h.DID, "type": string(kt)})
	}
	fmt.Fprintf(e.stdout, "created %s holder key %s\n", kt, h.ID)
	return nil
}

func createHolderKey(w *wallet.Wallet, kt keys.Type, method string) (wallet.HolderKey, error) {
	h, err := wallet.NewHolderKey(kt, method, randReader)
	if err != nil {
		return h, err
	}
	return h, w.SaveKey(h)
}

func walletKeysList(e env, f walletFlags, pos []string) error {
	if len(pos) != 0 {
		return usageError("wallet keys list takes no arguments")
	}
	w, ks, err := f.open(e, false)
	if err != nil {
		return err
	}
	defer ks.Close()
	list := w.Keys()
	if e.json {
		if list == nil {
			list = []wallet.KeyInfo{}
		}
		return printJSON(e, list)
	}
	for _, k := range list {
		role := "did"
		if k.Holder {
			role = "holder"
		}
		fmt.Fprintf(e.stdout, "%s  %-8s %-7s %-8s %s\n", k.Created.Format("2006-01-02"), k.Type, role, k.Status, k.ID)
	}
	return nil
}

func newWalletImportCmd(a *app) *cobra.Command {
	var verify bool
	c, _ := a.walletCommand("import FILE|- [--verify]", "store a credential from a file: an SD-JWT VC, a JWT, a JSON-LD credential or a data: URL",
		func(ctx context.Context, e env, f walletFlags, pos []string) error {
			return walletImport(ctx, e, f, verify, pos)
		})
	c.Flags().BoolVar(&verify, "verify", false, "have the node (--node) verify the credential first, and store it only if it verifies")
	return c
}

// walletVerify asks the node to verify c (POST /credentials/verify) and
// returns the result; one that does not verify is errNotVerified.
func walletVerify(ctx context.Context, f walletFlags, c wallet.Credential) (*verifier.Result, error) {
	cl, err := f.client()
	if err != nil {
		return nil, err
	}
	var doc any = c.Raw
	if c.Format == wallet.FormatLDPVC {
		doc = json.RawMessage(c.Raw)
	}
	body, err := json.Marshal(map[string]any{"verifiableCredential": doc, "options": map[string]any{}})
	if err != nil {
		return nil, err
	}
	var res verifier.Result
	code, err := cl.do(ctx, http.MethodPost, "/credentials/verify", body, "", &res)
	if err != nil {
		return nil, fmt.Errorf("verify credential: %w", err)
	}
	if code != http.StatusOK && code != http.StatusBadRequest {
		return nil, fmt.Errorf("verify credential: HTTP %d", code)
	}
	res.Document = nil
	if !res.Verified {
		reason := "no reason given"
		if len(res.ProblemDetails) > 0 {
			reason = res.ProblemDetails[0].Detail
		}
		return &res, errNotVerified{reason: reason, status: code, result: &res}
	}
	return &res, nil
}

func walletImport(ctx context.Context, e env, f walletFlags, verify bool, pos []string) error {
	if len(pos) != 1 {
		return usageError("wallet import takes one FILE (or -)")
	}
	raw, err := readBounded(e, pos[0], wallet.MaxCredentialBytes)
	if err != nil {
		return err
	}
	d, err := wallet.Detect(raw)
	if err != nil {
		return fmt.Errorf("wallet import %s: %w", pos[0], err)
	}
	if verify {
		if _, err := walletVerify(ctx, f, d); err != nil {
			return err
		}
	}
	w, ks, err := f.open(e, true)
	if err != nil {
		return err
	}
	defer ks.Close()
	c, err := w.Import(raw, "")
	if err != nil {
		return err
	}
	return printStored(e, "imported", []wallet.Credential{c})
}

// readBounded reads a file or "-" (standard input), failing when it
// holds more than limit bytes.
func readBounded(e env, name string, limit int) ([]byte, error) {
	r := e.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(b) > limit {
		return nil, fmt.Errorf("%s: %w: over %d bytes", name, wallet.ErrTooLarge, limit)
	}
	return b, nil
}

// summarize returns c without its raw form, as list, import and receive
// print it.
func summarize(c wallet.Credential) wallet.Credential {
	c.Raw = ""
	return c
}

// lastType is the most specific type to show: the last one, which is
// not VerifiableCredential when there are others.
func lastType(types []string) string {
	if len(types) == 0 {
		return "-"
	}
	return types[len(types)-1]
}

func printStored(e env, verb string, cs []wallet.Credential) error {
	if e.json {
		out := make([]wallet.Credential, 0, len(cs))
		for _, c := range cs {
			out = append(out, summarize(c))
		}
		return printJSON(e, map[string]any{"credentials": out})
	}
	for _, c := range cs {
		fmt.Fprintf(e.stdout, "%s %s  %s  %s  from %s\n", verb, c.ID, c.Format, inLine(lastType(c.Types)), inLine(orDash(c.Issuer)))
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newWalletListCmd(a *app) *cobra.Command {
	c, _ := a.walletCommand("list", "list the credentials the wallet holds", func(_ context.Context, e env, f walletFlags, pos []string) error {
		return walletList(e, f, pos)
	})
	return c
}

func walletList(e env, f walletFlags, pos []string) error {
	if len(pos) != 0 {
		return usageError("wallet list takes no arguments")
	}
	w, ks, err := f.open(e, false)
	if err != nil {
		return err
	}
	defer ks.Close()
	cs, err := w.List()
	if err != nil {
		return err
	}
	if e.json {
		out := make([]wallet.Credential, 0, len(cs))
		for _, c := range cs {
			out = append(out, summarize(c))
		}
		return printJSON(e, out)
	}
	for _, c := range cs {
		fmt.Fprintf(e.stdout, "%s  %s  %-11s %-30s %s\n", c.ID, c.Received.Format("2006-01-02"), c.Format, inLine(lastType(c.Types)), inLine(orDash(c.Issuer)))
	}
	return nil
}

func newWalletShowCmd(a *app) *cobra.Command {
	var verify bool
	c, _ := a.walletCommand("show ID [--verify]", "show a credential: what it says, an SD-JWT with all its disclosures",
		func(ctx context.Context, e env, f walletFlags, pos []string) error {
			return walletShow(ctx, e, f, verify, pos)
		})
	c.Flags().BoolVar(&verify, "verify", false, "also have the node (--node) verify it; exit 1 if it does not verify")
	return c
}

func walletShow(ctx context.Context, e env, f walletFlags, verify bool, pos []string) (err error) {
	if len(pos) != 1 {
		return usageError("wallet show takes one credential ID")
	}
	w, ks, err := f.open(e, false)
	if err != nil {
		return err
	}
	defer ks.Close()
	c, err := w.Get(pos[0])
	if err != nil {
		return err
	}
	d, err := wallet.Decode(c)
	if err != nil {
		return err
	}
	var res *verifier.Result
	var verr error
	if verify {
		res, verr = walletVerify(ctx, f, c)
		var nv errNotVerified
		if verr != nil && !errors.As(verr, &nv) {
			return verr
		}
	}
	if e.json {
		if verr != nil {
			return verr // the problem carries the result
		}
		out := map[string]any{"credential": summarize(c), "header": d.Header, "claims": d.Claims, "disclosures": d.Disclosures}
		if res != nil {
			out["verification"] = res
		}
		return printJSON(e, out)
	}
	defer func() {
		if res != nil {
			fmt.Fprintln(e.stdout)
			printResult(e, *res, "")
		}
	}()
	if verr != nil {
		defer func() { err = verr }()
	}
	s := summarize(c)
	fmt.Fprintf(e.stdout, "credential   %s\nformat       %s\ntypes        %s\nissuer       %s\nreceived     %s\nsource       %s\n",
		s.ID, s.Format, inLine(orDash(strings.Join(s.Types, ", "))), inLine(orDash(s.Issuer)), s.Received.Format(time.RFC3339), inLine(orDash(s.Source)))
	if s.Holder != "" {
		fmt.Fprintf(e.stdout, "holder key   %s\n", s.Holder)
	}
	if res == nil {
		fmt.Fprintln(e.stdout, "(not verified: add --verify to have the node verify it)")
	}
	if d.Header != nil {
		fmt.Fprintln(e.stdout, "\nheader:")
		printIndented(e, d.Header)
	}
	fmt.Fprintln(e.stdout, "\nclaims:")
	printIndented(e, d.Claims)
	if len(d.Disclosures) > 0 {
		fmt.Fprintf(e.stdout, "\n%d disclosures (all shown above)\n", len(d.Disclosures))
	}
	return nil
}

func printIndented(e env, v any) {
	b, err := json.MarshalIndent(v, "  ", "  ")
	if err != nil {
		fmt.Fprintf(e.stdout, "  %v\n", v)
		return
	}
	fmt.Fprintf(e.stdout, "  %s\n", sanitize(string(b)))
}

// sanitize drops control characters other than newlines and tabs
// (C0, DEL and C1), so that what a credential or an issuer says cannot
// drive the terminal (json.Marshal escapes C0 in strings; this guards
// the rest).
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r), unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp):
			// C0 and C1 controls (escape sequences), and the format and
			// separator characters that reorder or break a line (bidi
			// overrides, U+2028): text from a credential or a node is not
			// trusted to lay out the terminal.
			return -1
		}
		return r
	}, s)
}

// inLine is sanitize for a field printed within a line: no line breaks
// or tabs either, so that a value cannot add rows to a listing.
func inLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return ' '
		}
		return r
	}, sanitize(s))
}

func newWalletDeleteCmd(a *app) *cobra.Command {
	c, _ := a.walletCommand("delete ID", "delete a credential", func(_ context.Context, e env, f walletFlags, pos []string) error {
		if len(pos) != 1 {
			return usageError("wallet delete takes one credential ID")
		}
		w, ks, err := f.open(e, false)
		if err != nil {
			return err
		}
		defer ks.Close()
		if err := w.Delete(pos[0]); err != nil {
			return err
		}
		if e.json {
			return printJSON(e, map[string]any{"id": pos[0], "deleted": true})
		}
		fmt.Fprintf(e.stdout, "deleted %s\n", pos[0])
		return nil
	})
	return c
}

func newWalletExportCmd(a *app) *cobra.Command {
	var out string
	c, _ := a.walletCommand("export ID [--out FILE]", "print a credential's raw form (or write it to --out, mode 0600), as import reads it",
		func(_ context.Context, e env, f walletFlags, pos []string) error { return walletExport(e, f, out, pos) })
	c.Flags().StringVar(&out, "out", "", "write the credential to this new file instead of standard output")
	return c
}

func walletExport(e env, f walletFlags, out string, pos []string) error {
	if len(pos) != 1 {
		return usageError("wallet export takes one credential ID")
	}
	w, ks, err := f.open(e, false)
	if err != nil {
		return err
	}
	defer ks.Close()
	c, err := w.Get(pos[0])
	if err != nil {
		return err
	}
	if out != "" {
		fh, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("wallet export: %w", err)
		}
		_, werr := io.WriteString(fh, c.Raw+"\n")
		if err := errors.Join(werr, fh.Close()); err != nil {
			return fmt.Errorf("wallet export: %w", err)
		}
	}
	if e.json {
		var cred any = c.Raw
		if c.Format == wallet.FormatLDPVC {
			cred = json.RawMessage(c.Raw)
		}
		m := map[string]any{"id": c.ID, "format": c.Format, "credential": cred}
		if out != "" {
			m["file"] = out
		}
		return printJSON(e, m)
	}
	if out != "" {
		fmt.Fprintf(e.stdout, "exported %s to %s\n", c.ID, out)
		return nil
	}
	_, err = fmt.Fprintln(e.stdout, c.Raw)
	return err
}

func newWalletReceiveCmd(a *app) *cobra.Command {
	var holder, txCode, config string
	c, _ := a.walletCommand("receive OFFER-URI [--holder KEY-ID] [--tx-code CODE] [--type CONFIGURATION-ID]",
		"redeem an OpenID4VCI credential offer (pre-authorized code) and store what the issuer sends",
		func(ctx context.Context, e env, f walletFlags, pos []string) error {
			return walletReceive(ctx, e, f, holder, txCode, config, pos)
		})
	fs := c.Flags()
	fs.StringVar(&holder, "holder", "", "the key to bind the credential to: a holder key or a did:idmesh key of the keystore (default: the newest holder key the issuer accepts, created if there is none)")
	fs.StringVar(&txCode, "tx-code", "", "the transaction code the offer asks for (prefer IDMESH_TX_CODE)")
	fs.StringVar(&config, "type", "", "the credential configuration to request, when the offer has several (default: the first)")
	return c
}

func walletReceive(ctx context.Context, e env, f walletFlags, holder, txCode, config string, pos []string) error {
	if len(pos) != 1 {
		return usageError("wallet receive takes one OFFER-URI")
	}
	if _, err := wallet.ParseOfferURI(pos[0]); err != nil {
		return usageError(fmt.Sprintf("wallet receive: %v", err))
	}
	w, ks, err := f.open(e, true)
	if err != nil {
		return err
	}
	defer ks.Close()
	opts := wallet.Options{Timeout: f.timeout, ConfigurationID: config}
	s, err := wallet.Fetch(ctx, pos[0], opts)
	if err != nil {
		return err
	}
	if tc := s.Offer.PreAuthorized.TxCode; tc != nil && txCode == "" {
		msg := "the offer requires a transaction code: pass --tx-code"
		if tc.Description != "" {
			msg += " (" + inLine(tc.Description) + ")"
		}
		return usageError(msg)
	}
	var h wallet.HolderKey
	if len(s.Configuration.ProofTypes) > 0 {
		switch {
		case holder != "":
			h, err = w.Key(holder)
		default:
			h, err = w.DefaultKey(s.Configuration.ProofAlgs)
			if errors.Is(err, wallet.ErrNoHolderKey) {
				h, err = newHolderKeyFor(w, s.Configuration)
				if err == nil {
					e.note("idmesh: created holder key %s\n", h.ID)
				}
			}
		}
		if err != nil {
			return err
		}
	}
	creds, err := s.Redeem(ctx, h, txCode)
	if err != nil {
		return err
	}
	stored := make([]wallet.Credential, 0, len(creds))
	for _, c := range creds {
		sc, err := w.Put(c)
		if err != nil {
			return err
		}
		stored = append(stored, sc)
	}
	return printStored(e, "received", stored)
}

// newHolderKeyFor creates a holder key the configuration accepts:
// Ed25519 if the issuer takes EdDSA (or Ed25519), else P-256; did:jwk
// unless the issuer binds to did:key and not to jwk.
func newHolderKeyFor(w *wallet.Wallet, c wallet.Configuration) (wallet.HolderKey, error) {
	kt := keys.Ed25519
	if len(c.ProofAlgs) > 0 && !containsAny(c.ProofAlgs, "EdDSA", "Ed25519") {
		kt = keys.P256
	}
	method := wallet.MethodJWK
	if len(c.BindingMethods) > 0 && !containsAny(c.BindingMethods, "jwk", "did:jwk") && containsAny(c.BindingMethods, "did:key") {
		method = wallet.MethodKey
	}
	return createHolderKey(w, kt, method)
}

func containsAny(list []string, want ...string) bool {
	for _, s := range list {
		for _, w := range want {
			if s == w {
				return true
			}
		}
	}
	return false
}

// Problem types of the wallet's errors.
const (
	problemIssuerRefused   = api.ProblemBase + "issuer-refused"
	problemVerifierRefused = api.ProblemBase + "verifier-refused"
)

// walletError turns the wallet's errors into the CLI's: an issuer's
// OpenID4VCI or OAuth error into a problem of type issuer-refused whose
// detail names the specification's error code, and an unknown
// credential or key into not-found.
func walletError(err error) error {
	if err == nil {
		return nil
	}
	var pe *wallet.ProtocolError
	if errors.As(err, &pe) {
		status := pe.Status
		if status < 400 {
			status = http.StatusBadGateway
		}
		if pe.Endpoint == wallet.EndpointRequestObject || pe.Endpoint == wallet.EndpointResponse {
			return &problemError{api.Problem{Type: problemVerifierRefused, Title: "The verifier refused", Status: status, Detail: oneLine(err)}}
		}
		return &problemError{api.Problem{Type: problemIssuerRefused, Title: "The credential issuer refused", Status: status, Detail: oneLine(err)}}
	}
	if errors.Is(err, wallet.ErrNotFound) {
		return &problemError{api.Problem{Type: api.ProblemNotFound, Title: "Not found", Status: http.StatusNotFound, Detail: oneLine(err)}}
	}
	return err
}
