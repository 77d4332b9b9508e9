package sdjwt

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
)

// PresentOptions tune [Present].
type PresentOptions struct {
	// Disclose lists JSON pointers (RFC 6901) into the fully disclosed
	// claim set (as [VerifyWithKey] returns it with every Disclosure) of
	// the claims to reveal. Revealing a claim reveals its value whole
	// (the Disclosures below it too) and the Disclosures it lies in
	// (a nested claim needs its parent's). A pointer must name a claim.
	Disclose []string
	// Holder, when set, signs a key-binding JWT with its key, which must
	// be the credential's cnf.jwk; its MethodID is not used.
	Holder credential.Signer
	// Algorithm is the key-binding JWT's alg ("" for the key's default).
	Algorithm string
	// Nonce and Audience are the verifier's challenge and identifier, the
	// KB-JWT's "nonce" and "aud"; both are required with Holder.
	Nonce, Audience string
	// Now is the KB-JWT's "iat"; required with Holder.
	Now time.Time
	// Limits bound the SD-JWT read.
	Limits Limits
}

// Present makes a presentation of issued, an SD-JWT as the issuer gave
// it (without a key-binding JWT): the issuer-signed JWT with the
// Disclosures opts.Disclose needs, in their issued order, and, when
// opts.Holder is set, a key-binding JWT (typ "kb+jwt"; claims nonce,
// aud, iat and sd_hash over the presented SD-JWT). It does not check
// the issuer's signature, which the holder checks with [Verify] when it
// receives the credential. Errors wrap a [credential.Error].
func Present(issued string, opts PresentOptions) (string, error) {
	lim := opts.Limits.withDefaults()
	sd, err := Parse(issued, lim)
	if err != nil {
		return "", err
	}
	if sd.KeyBinding != "" {
		return "", credential.Errorf(credential.MalformedValueError, "present: the SD-JWT already has a key-binding JWT")
	}
	c, err := jose.ParseCompact(sd.JWT, "", lim.MaxBytes)
	if err != nil {
		return "", err
	}
	payload, err := c.Payload()
	if err != nil {
		return "", err
	}
	claims, places, err := process(payload, sd.Disclosures, lim.MaxDepth)
	if err != nil {
		return "", err
	}
	keep := make([]bool, len(sd.Disclosures))
	for _, p := range opts.Disclose {
		tokens, err := parsePointer(p)
		if err != nil {
			return "", credential.Errorf(credential.MalformedValueError, "present: %w", err)
		}
		if !resolves(claims, tokens) {
			return "", credential.Errorf(credential.MalformedValueError, "present: %w", errPointer(p, "names no claim of the credential"))
		}
		for i, pl := range places {
			if isPrefix(pl.ptr, tokens) || isPrefix(tokens, pl.ptr) {
				keep[i] = true
			}
		}
	}
	var sb strings.Builder
	sb.WriteString(sd.JWT)
	sb.WriteByte('~')
	for i, d := range sd.Disclosures {
		if keep[i] {
			sb.WriteString(d.Encoded)
			sb.WriteByte('~')
		}
	}
	if opts.Holder == nil {
		return sb.String(), nil
	}

	if opts.Nonce == "" || opts.Audience == "" || opts.Now.IsZero() {
		return "", credential.Errorf(credential.ProofGenerationError, "present: key binding needs a nonce, an audience and a time")
	}
	if _, ok := claims["cnf"]; !ok {
		return "", credential.Errorf(credential.ProofGenerationError, "present: %w: the credential has no cnf.jwk to bind to", ErrKeyBindingRequired)
	}
	hk, err := holderKey(claims)
	if err != nil {
		return "", err
	}
	if !hk.Equal(opts.Holder.Public()) {
		return "", credential.Errorf(credential.ProofGenerationError, "present: the holder's key is not the credential's cnf.jwk")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	kb := map[string]any{"nonce": opts.Nonce, "aud": opts.Audience, "iat": opts.Now.Unix(), "sd_hash": Digest(sb.String())}
	if err := enc.Encode(kb); err != nil {
		return "", credential.Errorf(credential.ProofGenerationError, "present: encode key binding: %w", err)
	}
	jwt, err := jose.SignCompact(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), TypKB, "", opts.Holder, opts.Algorithm)
	if err != nil {
		return "", err
	}
	sb.WriteString(jwt)
	return sb.String(), nil
}

// resolves reports whether the pointer's tokens name a value in v.
func resolves(v any, tokens []string) bool {
	for _, t := range tokens {
		switch c := v.(type) {
		case map[string]any:
			e, ok := c[t]
			if !ok {
				return false
			}
			v = e
		case []any:
			i, ok := arrayIndex(t)
			if !ok || i >= len(c) {
				return false
			}
			v = c[i]
		default:
			return false
		}
	}
	return true
}
