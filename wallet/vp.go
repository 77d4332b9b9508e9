package wallet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/strictjson"
)

// Binding is what a presentation is bound to: the verifier's nonce (or
// challenge) and audience (its full client_id, or a VC-API domain), at
// a time.
type Binding struct {
	Nonce    string
	Audience string
	Now      time.Time
}

// PresentSDJWT presents c, a dc+sd-jwt credential, with only the
// Disclosures that the claims at pointers (JSON pointers into the fully
// disclosed claims) need, and, when h has a key, a key-binding JWT by h
// (aud b.Audience, nonce b.Nonce, iat b.Now, sd_hash), which must be
// the credential's cnf.jwk.
func PresentSDJWT(c Credential, pointers []string, h *HolderKey, b Binding) (string, error) {
	if c.Format != FormatSDJWT {
		return "", fmt.Errorf("present credential %s: %w: a %s credential is not an SD-JWT", c.ID, ErrMalformed, c.Format)
	}
	opts := sdjwt.PresentOptions{Disclose: pointers, Limits: sdjwt.Limits{MaxBytes: MaxCredentialBytes}}
	if h != nil {
		opts.Holder, opts.Nonce, opts.Audience, opts.Now = h.Signer(), b.Nonce, b.Audience, b.Now
	}
	out, err := sdjwt.Present(c.Raw, opts)
	if err != nil {
		return "", fmt.Errorf("present credential %s: %w", c.ID, err)
	}
	return out, nil
}

// PresentJWTVC returns a VP JWT of c, a jwt_vc_json credential
// (OpenID4VP appendix B.1.3.1): a JWT (typ JWT, kid h.ID) signed by h
// with claims iss (h's DID), aud, nonce, iat, nbf and vp, a VC Data
// Model 1.1 presentation of the credential with holder h's DID.
func PresentJWTVC(c Credential, h HolderKey, b Binding) (string, error) {
	if c.Format != FormatJWTVCJSON {
		return "", fmt.Errorf("present credential %s: %w: a %s credential is not jwt_vc_json", c.ID, ErrMalformed, c.Format)
	}
	claims := map[string]any{
		"iss": h.DID, "aud": b.Audience, "nonce": b.Nonce, "iat": b.Now.Unix(), "nbf": b.Now.Unix(),
		"vp": map[string]any{
			"@context":             []any{credential.ContextV1},
			"type":                 []any{credential.TypePresentation},
			"holder":               h.DID,
			"verifiableCredential": []any{c.Raw},
		},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(claims); err != nil {
		return "", fmt.Errorf("present credential %s: %w", c.ID, err)
	}
	tok, err := jose.SignCompact(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), "JWT", h.ID, h.Signer(), "")
	if err != nil {
		return "", fmt.Errorf("present credential %s: %w", c.ID, err)
	}
	return tok, nil
}

// PresentLDP returns a Data Integrity presentation of credentials
// (ldp_vc JSON objects, or vc+jwt tokens, which travel enveloped),
// signed by h (an Ed25519 key: eddsa-rdfc-2022) for authentication,
// with proof challenge b.Nonce and domain b.Audience (OpenID4VP
// appendix B.1.3.2; the VC-API's challenge and domain), created
// b.Now. The presentation takes the base context of the first
// credential (VC 2.0 unless it is a VC 1.1 credential).
func PresentLDP(ctx context.Context, creds []Credential, h HolderKey, b Binding) (map[string]any, error) {
	if h.Key.Type() != keys.Ed25519 {
		return nil, fmt.Errorf("present: %w: a Data Integrity presentation needs an Ed25519 holder key (eddsa-rdfc-2022), and %s is %s", ErrUnsupported, h.ID, h.Key.Type())
	}
	vp, err := presentationOf(creds, h.DID)
	if err != nil {
		return nil, err
	}
	signed, err := dataintegrity.Sign(ctx, vp, h.Signer(), dataintegrity.SignOptions{
		Cryptosuite: dataintegrity.CryptosuiteRDFC, ProofPurpose: credential.PurposeAuthentication,
		Challenge: b.Nonce, Domain: b.Audience, Created: b.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("present: %w", err)
	}
	return signed, nil
}

// PresentVPJWT returns a VC 2.0 presentation of creds (ldp_vc objects,
// or vc+jwt tokens, which travel enveloped) secured as vp+jwt by h
// (VC-JOSE-COSE), with nonce b.Nonce, aud b.Audience (when not empty)
// and iat b.Now: the VC-API presentation of a P-256 holder key.
func PresentVPJWT(creds []Credential, h HolderKey, b Binding) (string, error) {
	vp, err := presentationOf(creds, h.DID)
	if err != nil {
		return "", err
	}
	if vp["@context"].([]any)[0] != credential.ContextV2 {
		return "", fmt.Errorf("present: %w: a vp+jwt presentation carries VC 2.0 credentials only", ErrUnsupported)
	}
	tok, err := jose.SignPresentation(vp, h.Signer(), jose.SignOptions{Nonce: b.Nonce, Audience: b.Audience, IssuedAt: b.Now})
	if err != nil {
		return "", fmt.Errorf("present: %w", err)
	}
	return tok, nil
}

// presentationOf returns the unsecured presentation of creds by the
// holder DID, with the base context of the first credential.
func presentationOf(creds []Credential, holder string) (map[string]any, error) {
	base := credential.ContextV2
	vcs := make([]any, 0, len(creds))
	for i, c := range creds {
		switch c.Format {
		case FormatLDPVC:
			m, err := strictjson.Object([]byte(c.Raw), MaxCredentialBytes)
			if err != nil {
				return nil, fmt.Errorf("present credential %s: %w: %w", c.ID, ErrMalformed, err)
			}
			if ctxs := stringsOf(m["@context"]); i == 0 && len(ctxs) > 0 && ctxs[0] == credential.ContextV1 {
				base = credential.ContextV1
			}
			vcs = append(vcs, m)
		case FormatVCJWT:
			vcs = append(vcs, jose.Envelope(c.Raw, jose.MediaTypeVC))
		default:
			return nil, fmt.Errorf("present credential %s: %w: a %s credential in a VC-API presentation (ldp_vc and vc+jwt only; present SD-JWT VCs over OpenID4VP)", c.ID, ErrUnsupported, c.Format)
		}
	}
	return map[string]any{
		"@context":             []any{base},
		"type":                 []any{credential.TypePresentation},
		"holder":               holder,
		"verifiableCredential": vcs,
	}, nil
}

// cnfKey returns the public key of an SD-JWT's cnf.jwk, or false when
// it has none.
func cnfKey(c Credential) (keys.PublicKey, bool) {
	sd := strings.SplitN(c.Raw, "~", 2)[0]
	_, claims, err := decodeJWT(sd)
	if err != nil {
		return keys.PublicKey{}, false
	}
	cnf, _ := claims["cnf"].(map[string]any)
	j, ok := cnf["jwk"].(map[string]any)
	if !ok {
		return keys.PublicKey{}, false
	}
	pub, err := keys.ParseJWK(j)
	return pub, err == nil
}

// HolderFor returns the wallet's key that c is bound to: for dc+sd-jwt,
// the key of its cnf.jwk; otherwise the key it was requested for
// (c.Holder), or else a key of the DID of its credentialSubject.id. It
// fails with ErrNoHolderKey when the wallet holds no such key.
func (w *Wallet) HolderFor(c Credential) (HolderKey, error) {
	if c.Format == FormatSDJWT {
		pub, ok := cnfKey(c)
		if !ok {
			return HolderKey{}, fmt.Errorf("%w: credential %s has no cnf.jwk", ErrNoHolderKey, c.ID)
		}
		if c.Holder != "" {
			if h, err := w.Key(c.Holder); err == nil && h.Key.Public().Equal(pub) {
				return h, nil
			}
		}
		for _, k := range w.Keys() {
			h, err := w.Key(k.ID)
			if err == nil && h.Key.Public().Equal(pub) {
				return h, nil
			}
		}
		return HolderKey{}, fmt.Errorf("%w: credential %s is bound to a key the wallet does not hold", ErrNoHolderKey, c.ID)
	}
	if c.Holder != "" {
		if h, err := w.Key(c.Holder); err == nil {
			return h, nil
		}
	}
	if subject := subjectID(c); strings.HasPrefix(subject, "did:") {
		for _, k := range w.Keys() {
			if k.DID == subject {
				if h, err := w.Key(k.ID); err == nil {
					return h, nil
				}
			}
		}
	}
	return HolderKey{}, fmt.Errorf("%w: credential %s names no holder key of the wallet (neither the key it was received for nor its subject's)", ErrNoHolderKey, c.ID)
}

// subjectID returns the id of a credential's (first) credentialSubject.
func subjectID(c Credential) string {
	d, err := Decode(c)
	if err != nil {
		return ""
	}
	obj := d.Claims
	if vc, ok := obj["vc"].(map[string]any); ok {
		if sub := idOf(firstOf(vc["credentialSubject"])); sub != "" {
			return sub
		}
		return str(obj["sub"])
	}
	return idOf(firstOf(obj["credentialSubject"]))
}

func firstOf(v any) any {
	if a, ok := v.([]any); ok && len(a) > 0 {
		return a[0]
	}
	return v
}
