// Package issuer signs credentials for the issuers a node keeps: [Issue]
// secures a credential in one of the supported mechanisms (pure, clock
// injected), and [Registry] keeps issuers' keys in an encrypted keystore.
package issuer

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/credential/ld"
)

// Securing mechanisms, as named in per-mechanism VC-API paths and in
// options.format / options.cryptosuite.
const (
	FormatRDFC  = dataintegrity.CryptosuiteRDFC // eddsa-rdfc-2022, the default
	FormatJCS   = dataintegrity.CryptosuiteJCS  // eddsa-jcs-2022
	FormatJWT   = "vc+jwt"                      // VC-JOSE, enveloped
	FormatJWTVC = jose.FormatJWTVC              // jwt_vc_json: the VC Data Model 1.1 JWT
)

// Formats lists the mechanisms [Issue] secures credentials in (as JSON
// objects), in a stable order.
var Formats = []string{FormatRDFC, FormatJCS, FormatJWT}

// TokenFormats lists the mechanisms [IssueToken] secures credentials in (as
// compact tokens).
var TokenFormats = []string{FormatJWTVC}

// AllFormats returns every mechanism: Formats, then TokenFormats.
func AllFormats() []string { return append(slices.Clone(Formats), TokenFormats...) }

// Formats of VC Data Model 1.1 credentials: the Data Integrity proof the
// reference implementation gives them, and their own JWT.
var formatsV1 = []string{FormatRDFC, FormatJWTVC}

// StatusContext defines the Bitstring Status List terms; a 1.1 credential
// with status entries gets it (the 2.0 base context has them).
const StatusContext = "https://www.w3.org/ns/credentials/status/v1"

// Options of Issue.
type Options struct {
	// Format is one of Formats (of TokenFormats for IssueToken); ""
	// means FormatRDFC (FormatJWTVC for IssueToken).
	Format string
	// Now is the issuance time: the proof's created, and validFrom (for
	// a 1.1 credential issuanceDate) when the credential has none.
	Now time.Time
}

// Issue secures an unsecured credential with signer, whose controller
// must be the credential's issuer (an absent issuer is set to it). It
// returns the verifiable credential: the object with a Data Integrity
// proof, or an EnvelopedVerifiableCredential holding the vc+jwt. Issuance
// is strict where verification is lenient: every context bundled, every
// term defined, and every related resource idmesh holds matching its
// digest. The input is not modified.
//
// A VC Data Model 2.0 credential is issued in any of Formats. A VC Data
// Model 1.1 credential (@context https://www.w3.org/2018/credentials/v1
// first) is issued with eddsa-rdfc-2022 only (or as a jwt_vc_json by
// [IssueToken]), as the reference implementation issues it: issuanceDate
// filled from Now when absent (never validFrom), the Bitstring Status List
// context ([StatusContext]) appended when it has status entries, and the
// Data Integrity context appended by the proof.
func Issue(ctx context.Context, cred map[string]any, signer credential.Signer, opts Options) (map[string]any, error) {
	format := opts.Format
	if format == "" {
		format = FormatRDFC
	}
	if slices.Contains(TokenFormats, format) {
		return nil, credential.Errorf(credential.MalformedValueError, "format %s is a compact token: use IssueToken", format)
	}
	c, err := prepare(ctx, cred, signer, format, opts.Now)
	if err != nil {
		return nil, err
	}
	switch format {
	case FormatJWT:
		token, err := jose.SignCredential(c, signer, jose.SignOptions{IssuedAt: opts.Now})
		if err != nil {
			return nil, err
		}
		return jose.Envelope(token, jose.MediaTypeVC), nil
	default:
		return dataintegrity.Sign(ctx, c, signer, dataintegrity.SignOptions{Cryptosuite: format, Created: opts.Now})
	}
}

// IssueToken secures an unsecured VC Data Model 1.1 credential as a
// compact token: for FormatJWTVC (the default), the VC Data Model 1.1 JWT
// of its section 6.3.1 (header typ JWT; claims vc, iss, sub, jti, nbf, exp
// and iat). The credential is checked and completed as by [Issue]; the
// token's vc claim is the credential as completed. The input is not
// modified.
func IssueToken(ctx context.Context, cred map[string]any, signer credential.Signer, opts Options) (string, error) {
	format := opts.Format
	if format == "" {
		format = FormatJWTVC
	}
	if !slices.Contains(TokenFormats, format) {
		return "", credential.Errorf(credential.MalformedValueError, "unknown token format %q (known: %v)", format, TokenFormats)
	}
	c, err := prepare(ctx, cred, signer, format, opts.Now)
	if err != nil {
		return "", err
	}
	return jose.SignJWTVC(c, signer, jose.SignOptions{IssuedAt: opts.Now})
}

// prepare checks an unsecured credential for issuance in format and
// returns the copy to secure, with its defaults filled.
func prepare(ctx context.Context, cred map[string]any, signer credential.Signer, format string, now time.Time) (map[string]any, error) {
	if !slices.Contains(Formats, format) && !slices.Contains(TokenFormats, format) {
		return nil, credential.Errorf(credential.MalformedValueError, "unknown format %q (known: %v)", format, AllFormats())
	}
	if cred == nil {
		return nil, credential.Errorf(credential.MalformedValueError, "no credential")
	}
	if _, ok := cred["proof"]; ok {
		return nil, credential.Errorf(credential.MalformedValueError, "the credential already has a proof")
	}
	want := credential.ControllerOf(signer.MethodID())
	c := maps.Clone(Defaults(cred, want, now))
	v1 := isV1(c)
	if err := checkVersionFormat(c, v1, format); err != nil {
		return nil, err
	}
	if _, ok := c["credentialStatus"]; ok && v1 {
		withContext(c, StatusContext)
	}
	parsed, err := credential.CredentialFrom(c)
	if err == nil {
		err = ld.CheckTerms(ctx, c, ld.Options{})
	}
	if err != nil {
		return nil, err
	}
	if parsed.Enveloped {
		return nil, credential.Errorf(credential.MalformedValueError, "an enveloped credential is not issued: send the credential itself")
	}
	if parsed.Issuer != want {
		return nil, credential.Errorf(credential.IssuerMismatchError, "the credential's issuer is %s, not this issuer (%s)", parsed.Issuer, want)
	}
	// An unknown context is refused alike in every mechanism (signing
	// with eddsa-rdfc-2022 would report it as a proof transformation
	// error).
	if err := bundledContexts(c); err != nil {
		return nil, err
	}
	// A related resource idmesh holds (a bundled context) must match its
	// digest, as the verifier's relatedResource check requires; those it
	// does not hold are not fetched, and the verifier only warns of them.
	if _, err := credential.CheckRelatedResources(parsed.RelatedResources, ld.Context); err != nil {
		return nil, err
	}
	// Every mechanism is held to the JSON-LD rules, so that a credential
	// means the same whichever way it is secured (eddsa-rdfc-2022 applies
	// them as it signs).
	if format != FormatRDFC {
		if _, err := ld.Canonicalize(ctx, c, ld.Options{}); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Defaults returns cred with the members issuance fills in when they are
// absent: issuer (issuerID), and at now (unless zero) validFrom, or for a
// VC Data Model 1.1 credential issuanceDate. cred is not modified; it is
// returned itself when nothing is missing.
func Defaults(cred map[string]any, issuerID string, now time.Time) map[string]any {
	if cred == nil {
		return nil
	}
	from := "validFrom"
	if isV1(cred) {
		from = "issuanceDate"
	}
	_, hasIssuer := cred["issuer"]
	_, hasFrom := cred[from]
	if hasIssuer && (hasFrom || now.IsZero()) {
		return cred
	}
	c := maps.Clone(cred)
	if !hasIssuer {
		c["issuer"] = issuerID
	}
	if !hasFrom && !now.IsZero() {
		c[from] = credential.FormatDateTime(now)
	}
	return c
}

// isV1 reports whether a credential declares VC Data Model 1.1: its first
// @context is the 1.1 base context.
func isV1(c map[string]any) bool {
	switch ctx := c["@context"].(type) {
	case string:
		return ctx == credential.ContextV1
	case []any:
		return len(ctx) > 0 && ctx[0] == credential.ContextV1
	}
	return false
}

// checkVersionFormat refuses a format the credential's data model does
// not take, and the other model's validity members.
func checkVersionFormat(c map[string]any, v1 bool, format string) error {
	if !v1 {
		if format == FormatJWTVC {
			return credential.Errorf(credential.MalformedValueError, "%s secures VC Data Model 1.1 credentials (@context %s first); a 2.0 credential is issued as vc+jwt", FormatJWTVC, credential.ContextV1)
		}
		return nil
	}
	if !slices.Contains(formatsV1, format) {
		return credential.Errorf(credential.MalformedValueError, "a VC Data Model 1.1 credential is issued with %v, not %s", formatsV1, format)
	}
	for _, m := range []string{"validFrom", "validUntil"} {
		if _, ok := c[m]; ok {
			return credential.Errorf(credential.MalformedValueError, "%s is a VC Data Model 2.0 member: a 1.1 credential uses issuanceDate and expirationDate", m)
		}
	}
	return nil
}

// withContext appends url to c's @context unless it is there; the list is
// copied, never modified in place.
func withContext(c map[string]any, url string) {
	var list []any
	switch ctx := c["@context"].(type) {
	case []any:
		list = ctx
	case nil:
	default:
		list = []any{ctx}
	}
	if slices.Contains(list, any(url)) {
		return
	}
	c["@context"] = append(slices.Clone(list), url)
}

// bundledContexts checks that every context the credential names by URL
// is bundled: nothing is fetched.
func bundledContexts(c map[string]any) error {
	list, ok := c["@context"].([]any)
	if !ok {
		list = []any{c["@context"]}
	}
	for _, e := range list {
		if u, ok := e.(string); ok {
			if _, known := ld.Context(u); !known {
				return credential.Errorf(credential.UnknownContextError, "context %s is not known to this issuer", u)
			}
		}
	}
	return nil
}
