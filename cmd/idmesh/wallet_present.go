package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/jwk"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/wallet"
)

func newWalletPresentCmd(a *app) *cobra.Command {
	var yes bool
	var challenge, domain, holder string
	c, _ := a.walletCommand("present REQUEST-URI [--yes] | present --challenge C [--domain D] [--holder KEY-ID] ID...",
		"present credentials: answer an OpenID4VP request, or sign a VC-API presentation",
		func(ctx context.Context, e env, f walletFlags, pos []string) error {
			if challenge != "" || domain != "" {
				return walletPresentVCAPI(ctx, e, f, challenge, domain, holder, pos)
			}
			if holder != "" {
				return usageError("wallet present: --holder goes with --challenge (an OpenID4VP request uses the key each credential is bound to)")
			}
			return cleaned(walletPresentVP(ctx, e, f, yes, pos))
		})
	c.Long = `With a REQUEST-URI (openid4vp://?client_id=...&request_uri=..., or the
https request_uri alone): fetch the verifier's signed request, check it was
signed by a key of the verifier's DID (did:idmesh resolved through --node,
did:key and did:jwk locally), match the wallet's credentials to its DCQL
query, show who asks for what and exactly what would be disclosed, ask to
confirm (or --yes), and post the presentations to the verifier.

With --challenge (and --domain): write to standard output a presentation of
the stored credentials ID... signed by the holder key (a Data Integrity
proof for Ed25519 keys, vp+jwt for P-256), as POST /presentations/verify
takes it.`
	fs := c.Flags()
	fs.BoolVar(&yes, "yes", false, "present without asking (needed when standard input is not a terminal)")
	fs.StringVar(&challenge, "challenge", "", "VC-API mode: the verifier's challenge")
	fs.StringVar(&domain, "domain", "", "VC-API mode: the verifier's domain")
	fs.StringVar(&holder, "holder", "", "VC-API mode: the holder key to sign with (default: the key the credential is bound to)")
	return c
}

// nodeResolver resolves did:idmesh DIDs through the node. It is also
// the key history (didkeys.Index) of the DIDs it resolved: the key
// events their resolution metadata lists (rotatedKeys: keys retired or
// marked compromised by the DID), so that the wallet refuses a
// verifier key that its DID retired or marked compromised, even when
// the document lists the same key material under another id.
type nodeResolver struct {
	f walletFlags

	mu     sync.Mutex
	events map[string][]idmesh.KeyEvent // by DID
}

// maxResolvedDIDs bounds the DIDs whose key events one nodeResolver
// keeps (a request names one verifier).
const maxResolvedDIDs = 16

func (r *nodeResolver) Resolve(ctx context.Context, d string, _ did.Options) (*did.ResolutionResult, error) {
	res, err := r.resolve(ctx, d)
	if err != nil {
		return nil, err
	}
	if res.DIDDocumentMetadata.Deactivated {
		return nil, fmt.Errorf("resolve %s: the DID is deactivated", d)
	}
	return res, nil
}

// resolve resolves d through the node and keeps its key events.
func (r *nodeResolver) resolve(ctx context.Context, d string) (*did.ResolutionResult, error) {
	c, err := r.f.client()
	if err != nil {
		return nil, err
	}
	res, err := c.resolve(ctx, d, nil)
	if err != nil {
		return nil, err
	}
	var events []idmesh.KeyEvent
	if rk, ok := res.DIDDocumentMetadata.Extra["rotatedKeys"]; ok {
		b, err := json.Marshal(rk)
		if err == nil {
			err = json.Unmarshal(b, &events)
		}
		if err != nil {
			return nil, fmt.Errorf("resolve %s: rotatedKeys: %w", d, err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.events == nil {
		r.events = make(map[string][]idmesh.KeyEvent)
	}
	if _, ok := r.events[d]; ok || len(r.events) < maxResolvedDIDs {
		r.events[d] = events
	}
	return res, nil
}

// Latest implements didkeys.Index: the DID's document as the node
// resolves it now.
func (r *nodeResolver) Latest(ctx context.Context, d string) (*did.Document, bool, error) {
	res, err := r.resolve(ctx, d)
	if err != nil {
		return nil, false, err
	}
	return res.DIDDocument, res.DIDDocumentMetadata.Deactivated, nil
}

// KeyStatus implements didkeys.Index from the key events of the DIDs
// resolved so far: compromised if one of them marked pub compromised,
// retired if one retired it, else nil. The node has no lookup of a key
// by its material across DIDs, so a mark by a DID the wallet did not
// resolve is not seen (see docs/openid4vp.md).
func (r *nodeResolver) KeyStatus(_ context.Context, pub keys.PublicKey) (*idmesh.KeyStatus, error) {
	mb := pub.Multibase()
	r.mu.Lock()
	defer r.mu.Unlock()
	var st *idmesh.KeyStatus
	for _, events := range r.events {
		for _, e := range events {
			if e.PublicKeyMultibase != mb {
				continue
			}
			if st == nil {
				st = &idmesh.KeyStatus{PublicKeyMultibase: mb, Type: e.Type, Status: idmesh.KeyRetired}
			}
			if e.Status == idmesh.KeyCompromised {
				st.Status = idmesh.KeyCompromised
			}
		}
	}
	return st, nil
}

// RemovedMethod implements didkeys.Index: the latest listed event that
// removed methodID from d, or nil.
func (r *nodeResolver) RemovedMethod(_ context.Context, d, methodID string) (*idmesh.KeyEvent, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	events := r.events[d]
	for i := len(events) - 1; i >= 0; i-- {
		if did.AbsoluteRef(d, events[i].ID) == methodID {
			e := events[i]
			return &e, nil
		}
	}
	return nil, nil
}

// ResolveVersionNumber implements didkeys.Index. The wallet checks a
// verifier's request against current keys only (CurrentOnly), which
// never reads a past version.
func (r *nodeResolver) ResolveVersionNumber(_ context.Context, d string, n uint64) (*did.ResolutionResult, error) {
	return nil, fmt.Errorf("resolve %s version %d: %w: the wallet checks verifiers against current keys only", d, n, did.ErrNotFound)
}

// verifierResolver resolves a verifier's DID: did:idmesh through the
// node (with its key history: see nodeResolver), did:key and did:jwk
// locally.
func verifierResolver(f walletFlags) did.Resolver {
	return did.Methods{"idmesh": &nodeResolver{f: f}, "key": key.Resolver{}, "jwk": jwk.Resolver{}}
}

// cleanError is an error of `wallet present` as the terminal may show
// it: its text on one line, without control or format characters (a
// verifier's data can reach it), at most maxErrorLine bytes; it unwraps
// to the error, so that its exit code and problem type stay.
type cleanError struct{ err error }

// maxErrorLine bounds the text of a cleanError.
const maxErrorLine = 2048

func (e cleanError) Error() string {
	s := inLine(e.err.Error())
	if len(s) > maxErrorLine {
		cut := maxErrorLine
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}

func (e cleanError) Unwrap() error { return e.err }

// cleaned wraps err in a cleanError (nil stays nil).
func cleaned(err error) error {
	if err == nil {
		return nil
	}
	return cleanError{err}
}

func walletPresentVP(ctx context.Context, e env, f walletFlags, yes bool, pos []string) error {
	if len(pos) != 1 {
		return usageError("wallet present takes one REQUEST-URI (or --challenge and credential IDs)")
	}
	if _, err := wallet.ParseRequestURI(pos[0]); err != nil {
		return usageError("wallet present: " + inLine(err.Error()))
	}
	interactive := !yes && isTerminalReader(e.stdin)
	if !yes && !interactive {
		return usageError("wallet present: standard input is not a terminal: pass --yes to present without asking")
	}
	w, ks, err := f.open(e, false)
	if err != nil {
		return err
	}
	defer ks.Close()
	opts := wallet.Options{Timeout: f.timeout}
	r, err := wallet.FetchRequest(ctx, pos[0], verifierResolver(f), opts)
	if err != nil {
		return err
	}
	plan, err := w.Plan(r)
	if err != nil {
		return err
	}
	if !e.json || interactive {
		out := e.stdout
		if e.json {
			out = e.stderr
		}
		printPlan(out, plan)
	}
	if interactive && !confirm(e, "Present this to the verifier? [y/N] ") {
		if _, err := wallet.Decline(ctx, r, "access_denied", "the holder declined", opts); err != nil {
			e.note("idmesh: telling the verifier failed: %s\n", oneLine(cleaned(err)))
		}
		return errors.New("wallet present: declined; nothing was disclosed")
	}
	res, err := plan.Present(ctx, r, opts)
	if err != nil {
		return err
	}
	if e.json {
		return printJSONEscaped(e, map[string]any{"presented": true, "plan": planJSON(plan), "redirect_uri": res.RedirectURI})
	}
	fmt.Fprintf(e.stdout, "presented to %s: the verifier accepted the response\n", inLine(plan.Verifier))
	if res.RedirectURI != "" {
		fmt.Fprintf(e.stdout, "continue at %s\n", inLine(res.RedirectURI))
	}
	return nil
}

// printJSONEscaped is printJSON whose output holds no control or format
// character: those encoding/json writes raw (DEL, C1 controls, bidi
// overrides, U+2028-like separators) are written as \u escapes, which
// decode to the same value. The plan carries a verifier's and an
// issuer's text.
func printJSONEscaped(e env, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	var out strings.Builder
	for _, r := range buf.String() {
		if r == '\n' || (!unicode.IsControl(r) && !unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)) {
			out.WriteRune(r)
			continue
		}
		if r > 0xffff {
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(&out, "\\u%04x\\u%04x", hi, lo)
			continue
		}
		fmt.Fprintf(&out, "\\u%04x", r)
	}
	_, err := io.WriteString(e.stdout, out.String())
	return err
}

// isTerminalReader reports whether r is a terminal.
func isTerminalReader(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// confirm asks a yes/no question on stderr and reads one line of stdin.
func confirm(e env, question string) bool {
	fmt.Fprint(e.stderr, question)
	line, err := bufio.NewReader(io.LimitReader(e.stdin, 64)).ReadString('\n')
	if err != nil && line == "" {
		return false
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes"
}

// planJSON is a plan with each credential summarized (no raw form).
func planJSON(p *wallet.Plan) map[string]any {
	creds := make([]map[string]any, 0, len(p.Credentials))
	for _, pl := range p.Credentials {
		m := map[string]any{"query": pl.Query, "credential": summarize(pl.Credential), "shown": pl.Shown, "whole": pl.Whole}
		if pl.Requested != nil {
			m["requested"] = pl.Requested
		}
		if pl.Disclosed != nil {
			m["disclosed"] = pl.Disclosed
		}
		if pl.Holder != "" {
			m["holder"] = pl.Holder
		}
		creds = append(creds, m)
	}
	out := map[string]any{"verifier": p.Verifier, "client_id": p.ClientID, "response_uri": p.ResponseURI, "response_mode": p.ResponseMode, "credentials": creds}
	if p.Name != "" {
		out["name"] = p.Name
	}
	return out
}

// printPlan shows who asks for what and exactly what would be
// disclosed; everything the verifier or a credential says is sanitized.
func printPlan(out io.Writer, p *wallet.Plan) {
	fmt.Fprintf(out, "verifier     %s\n", inLine(p.Verifier))
	if p.Name != "" {
		fmt.Fprintf(out, "             calls itself %q (not verified)\n", inLine(p.Name))
	}
	mode := "direct_post"
	if p.ResponseMode == wallet.ResponseModeDirectPostJWT {
		mode = "direct_post.jwt, encrypted to the verifier"
	}
	fmt.Fprintf(out, "response to  %s (%s)\n", inLine(p.ResponseURI), mode)
	for _, pl := range p.Credentials {
		c := pl.Credential
		fmt.Fprintf(out, "\n%s: credential %s  %s  %s  from %s\n", inLine(pl.Query), inLine(c.ID), inLine(c.Format), inLine(lastType(c.Types)), inLine(orDash(c.Issuer)))
		if len(pl.Requested) > 0 {
			fmt.Fprintf(out, "  asks for       %s\n", inLine(strings.Join(pl.Requested, " ")))
		}
		if pl.Holder != "" {
			fmt.Fprintf(out, "  signed by      %s\n", inLine(pl.Holder))
		}
		if pl.Whole {
			what := "the WHOLE credential (its format has no selective disclosure)"
			if c.Format == wallet.FormatJWTVCJSON {
				what = "the WHOLE credential, the issuer's JWT as it is: its header and every claim (its format has no selective disclosure)"
			}
			fmt.Fprintf(out, "  discloses %s:\n", what)
			printIndentedTo(out, pl.Shown)
			continue
		}
		if len(pl.Disclosed) == 0 {
			fmt.Fprintln(out, "  discloses      no selectively disclosable claim")
		}
		for _, d := range pl.Disclosed {
			v, _ := json.Marshal(d.Value)
			fmt.Fprintf(out, "  discloses      %s = %s\n", inLine(strings.TrimPrefix(d.Pointer, "/")), inLine(string(v)))
		}
		fmt.Fprintln(out, "  the verifier sees (claims in the clear included):")
		printIndentedTo(out, pl.Shown)
	}
}

func printIndentedTo(out io.Writer, v any) {
	b, err := json.MarshalIndent(v, "    ", "  ")
	if err != nil {
		fmt.Fprintf(out, "    %v\n", v)
		return
	}
	fmt.Fprintf(out, "    %s\n", sanitize(string(b)))
}

// walletPresentVCAPI writes a VC-API presentation of stored credentials.
func walletPresentVCAPI(ctx context.Context, e env, f walletFlags, challenge, domain, holder string, pos []string) error {
	if challenge == "" {
		return usageError("wallet present: --domain goes with --challenge")
	}
	if len(pos) == 0 {
		return usageError("wallet present --challenge takes the IDs of the credentials to present")
	}
	if len(challenge) > 1024 || len(domain) > 1024 {
		return usageError("wallet present: --challenge and --domain take at most 1024 bytes")
	}
	w, ks, err := f.open(e, false)
	if err != nil {
		return err
	}
	defer ks.Close()
	var creds []wallet.Credential
	for _, id := range pos {
		c, err := w.Get(id)
		if err != nil {
			return err
		}
		creds = append(creds, c)
	}
	var h wallet.HolderKey
	if holder != "" {
		h, err = w.Key(holder)
	} else if h, err = w.HolderFor(creds[0]); errors.Is(err, wallet.ErrNoHolderKey) {
		h, err = w.DefaultKey(nil)
	}
	if err != nil {
		return err
	}
	b := wallet.Binding{Nonce: challenge, Audience: domain, Now: time.Now()}
	if h.Key.Type() == keys.P256 {
		tok, err := wallet.PresentVPJWT(creds, h, b)
		if err != nil {
			return err
		}
		return printJSON(e, jose.Envelope(tok, jose.MediaTypeVP))
	}
	vp, err := wallet.PresentLDP(ctx, creds, h, b)
	if err != nil {
		return err
	}
	return printJSON(e, vp)
}
