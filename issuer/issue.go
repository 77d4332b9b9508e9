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
	FormatRDFC = dataintegrity.CryptosuiteRDFC // eddsa-rdfc-2022, the default
	FormatJCS  = dataintegrity.CryptosuiteJCS  // eddsa-jcs-2022
	FormatJWT  = "vc+jwt"                      // VC-JOSE, enveloped
)

// Formats lists the mechanisms in a stable order.
var Formats = []string{FormatRDFC, FormatJCS, FormatJWT}

// Options of Issue.
type Options struct {
	// Format is one of Formats; "" means FormatRDFC.
	Format string
	// Now is the issuance time: the proof's created, and validFrom when
	// the credential has none.
	Now time.Time
}

// Issue secures an unsecured credential with signer, whose controller
// must be the credential's issuer (an absent issuer is set to it). It
// returns the verifiable credential: the object with a Data Integrity
// proof, or an EnvelopedVerifiableCredential holding the vc+jwt. Issuance
// is strict where verification is lenient: VC Data Model 2.0 only, every
// context bundled and every term defined. The input is not modified.
func Issue(ctx context.Context, cred map[string]any, signer credential.Signer, opts Options) (map[string]any, error) {
	format := opts.Format
	if format == "" {
		format = FormatRDFC
	}
	if !slices.Contains(Formats, format) {
		return nil, credential.Errorf(credential.MalformedValueError, "unknown format %q (known: %v)", format, Formats)
	}
	if cred == nil {
		return nil, credential.Errorf(credential.MalformedValueError, "no credential")
	}
	if _, ok := cred["proof"]; ok {
		return nil, credential.Errorf(credential.MalformedValueError, "the credential already has a proof")
	}
	c := maps.Clone(cred)
	want := credential.ControllerOf(signer.MethodID())
	if _, ok := c["issuer"]; !ok {
		c["issuer"] = want
	}
	if _, ok := c["validFrom"]; !ok && !opts.Now.IsZero() {
		c["validFrom"] = credential.FormatDateTime(opts.Now)
	}
	parsed, err := credential.CredentialFrom(c)
	if err == nil {
		err = ld.CheckTerms(ctx, c, ld.Options{})
	}
	if err != nil {
		return nil, err
	}
	if parsed.Version != credential.V2 || parsed.Enveloped {
		return nil, credential.Errorf(credential.MalformedValueError, "only VC Data Model 2.0 credentials are issued")
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
	// Every mechanism is held to the JSON-LD rules, so that a credential
	// means the same whichever way it is secured (eddsa-rdfc-2022 applies
	// them as it signs).
	if format != FormatRDFC {
		if _, err := ld.Canonicalize(ctx, c, ld.Options{}); err != nil {
			return nil, err
		}
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
