package dataintegrity

import (
	"context"
	"crypto/sha256"
	"slices"
	"time"

	"github.com/mr-tron/base58"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/did/keys"
)

// SignOptions are the proof options of [Sign].
type SignOptions struct {
	// Cryptosuite is CryptosuiteRDFC (the default) or CryptosuiteJCS.
	Cryptosuite string
	// ProofPurpose defaults to credential.PurposeAssertion.
	ProofPurpose string
	// Created is written as the proof's created (UTC, whole seconds);
	// the zero time omits it. It is the caller's clock.
	Created time.Time
	// Expires, when non-zero, is written as the proof's expires.
	Expires time.Time
	// Challenge, Domain, Nonce and ID are written when non-empty.
	Challenge, Domain, Nonce, ID string
	// PreviousProof names proofs already on the document that the new
	// proof chains to; each must exist. The new proof then covers them.
	PreviousProof []string
}

// Sign returns a copy of doc with a new proof added (VC Data Integrity
// sections 4.2 and 4.3); doc itself is not modified. Without an existing
// proof, "proof" becomes the new proof object; otherwise "proof" becomes
// a proof set (an array) with the existing proofs first. When the
// document's @context does not define the proof's terms (a VC 1.1
// credential, say), the copy gets [DataIntegrityContext] appended.
//
// The signer's key must be Ed25519. Errors carry PROOF_GENERATION_ERROR,
// or the code of a canonicalization failure.
func Sign(ctx context.Context, doc map[string]any, signer credential.Signer, opts SignOptions) (map[string]any, error) {
	if doc == nil {
		return nil, credential.Errorf(credential.ProofGenerationError, "sign: nil document")
	}
	if signer == nil {
		return nil, credential.Errorf(credential.ProofGenerationError, "sign: nil signer")
	}
	if opts.Cryptosuite == "" {
		opts.Cryptosuite = CryptosuiteRDFC
	}
	if opts.ProofPurpose == "" {
		opts.ProofPurpose = credential.PurposeAssertion
	}
	s := suiteFor(ProofType, opts.Cryptosuite)
	if s == nil {
		return nil, credential.Errorf(credential.ProofGenerationError, "sign: unsupported cryptosuite %q", opts.Cryptosuite)
	}
	if t := signer.Public().Type(); t != keys.Ed25519 {
		return nil, credential.Errorf(credential.ProofGenerationError, "sign: %s needs an Ed25519 key, not %q", opts.Cryptosuite, t)
	}
	if signer.MethodID() == "" {
		return nil, credential.Errorf(credential.ProofGenerationError, "sign: signer has no verification method")
	}
	existing, err := proofList(doc["proof"])
	if err != nil {
		return nil, credential.Errorf(credential.ProofGenerationError, "sign: existing proof: %w", err)
	}
	if len(existing) >= MaxProofs {
		return nil, credential.Errorf(credential.ProofGenerationError, "sign: %w: the document has %d", ErrTooManyProofs, len(existing))
	}

	// Add Proof Set/Chain, steps 2 to 6: the input is the document
	// without its proofs, plus the proofs the new one chains to.
	input := withoutProof(doc)
	injected := injectContext(input)
	if len(opts.PreviousProof) > 0 {
		matching, err := matchingProofs(existing, opts.PreviousProof)
		if err != nil {
			return nil, credential.Errorf(credential.ProofGenerationError, "sign: %w", err)
		}
		input["proof"] = matching
	}

	proof := opts.proofOptions(signer.MethodID())
	if _, ok := s.(jcsSuite); ok {
		// Create Proof (eddsa-jcs-2022) step 2.
		if c, ok := input["@context"]; ok {
			proof["@context"] = deepCopy(c)
		}
	}
	cfg, transformed, err := signingInput(ctx, s, input, proof, ldOptions{})
	if err != nil {
		return nil, err
	}
	sig, err := signer.Sign(hashData(cfg, sha256.Sum256(transformed)))
	if err != nil {
		return nil, credential.Errorf(credential.ProofGenerationError, "sign: %w", err)
	}
	if len(sig) != keys.SignatureSize {
		return nil, credential.Errorf(credential.ProofGenerationError, "sign: signature of %d bytes, want %d", len(sig), keys.SignatureSize)
	}
	proof["proofValue"] = "z" + base58.Encode(sig)

	out := deepCopy(doc).(map[string]any)
	if injected {
		out["@context"] = deepCopy(input["@context"])
	}
	if len(existing) == 0 {
		out["proof"] = proof
	} else {
		set := out["proof"]
		if _, ok := set.(map[string]any); ok {
			set = []any{set}
		}
		out["proof"] = append(set.([]any), proof)
	}
	return out, nil
}

// DataIntegrityContext is the context that defines the proof terms.
const DataIntegrityContext = "https://w3id.org/security/data-integrity/v2"

// injectContext appends DataIntegrityContext to doc's @context when no
// entry defines the Data Integrity terms (VC Data Integrity section
// 2.4.2, Context Injection), and reports whether it did. A document
// without @context is left alone: it is plain JSON, for eddsa-jcs-2022.
func injectContext(doc map[string]any) bool {
	c, ok := doc["@context"]
	if !ok {
		return false
	}
	list := contextList(c)
	for _, e := range list {
		switch e {
		case "https://www.w3.org/ns/credentials/v2", DataIntegrityContext, "https://w3id.org/security/data-integrity/v1":
			return false
		}
	}
	doc["@context"] = append(slices.Clone(list), DataIntegrityContext)
	return true
}

// signingInput returns the canonical proof configuration and the
// transformed document of a proof with the given options over doc (the
// unsecured document).
func signingInput(ctx context.Context, s suite, doc, options map[string]any, lo ldOptions) (cfg, transformed []byte, err error) {
	cfg, err = s.proofConfig(ctx, doc, options, lo)
	if err != nil {
		return nil, nil, err
	}
	transformed, err = s.transform(ctx, doc, lo)
	if err != nil {
		return nil, nil, err
	}
	return cfg, transformed, nil
}

// proofOptions returns the proof object without proofValue.
func (o SignOptions) proofOptions(method string) map[string]any {
	p := Proof{
		ID:                 o.ID,
		Type:               ProofType,
		Cryptosuite:        o.Cryptosuite,
		VerificationMethod: method,
		ProofPurpose:       o.ProofPurpose,
		Challenge:          o.Challenge,
		Domain:             o.Domain,
		Nonce:              o.Nonce,
		PreviousProof:      o.PreviousProof,
	}
	if !o.Created.IsZero() {
		p.Created = FormatDateTime(o.Created)
	}
	if !o.Expires.IsZero() {
		p.Expires = FormatDateTime(o.Expires)
	}
	return p.toMap()
}

// proofList returns the proofs of a "proof" value: none, one object, or
// an array of objects.
func proofList(v any) ([]map[string]any, error) {
	switch p := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return []map[string]any{p}, nil
	case []any:
		out := make([]map[string]any, 0, len(p))
		for i, e := range p {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, credential.Errorf(credential.MalformedProofError, "proof[%d] is %T, want an object", i, e)
			}
			out = append(out, m)
		}
		return out, nil
	}
	return nil, credential.Errorf(credential.MalformedProofError, "proof is %T, want an object or an array", v)
}

// matchingProofs returns, in set order, the proofs whose id is one of
// ids (Add Proof Set/Chain step 4 and 5; Verify Proof Sets and Chains
// step 3.2). Every id must name a proof.
func matchingProofs(all []map[string]any, ids []string) ([]any, error) {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = false
	}
	var out []any
	for _, p := range all {
		id, _ := p["id"].(string)
		if _, ok := want[id]; ok {
			want[id] = true
			out = append(out, p)
		}
	}
	for _, id := range ids {
		if !want[id] {
			return nil, credential.Errorf(credential.ProofVerificationError, "%w: no proof has id %q", ErrPreviousProof, id)
		}
	}
	return out, nil
}

// withoutProof returns a shallow copy of doc without "proof".
func withoutProof(doc map[string]any) map[string]any {
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		if k != "proof" {
			out[k] = v
		}
	}
	return out
}

// deepCopy copies the maps and slices of a decoded JSON value.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}
