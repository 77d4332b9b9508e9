package dataintegrity

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"reflect"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/ld"
)

// A suite is one cryptosuite's transformation and proof configuration
// (sections 3.2 and 3.3 of the EdDSA cryptosuites). Hashing, signing and
// verifying are shared.
type suite interface {
	// unsecured returns the document whose canonical form the proof
	// signs: doc (without "proof", or with the matching previous proofs)
	// as the suite sees it for a proof with the given options. It may
	// return doc itself and never modifies it.
	unsecured(doc, options map[string]any) (map[string]any, error)
	// transform canonicalizes the unsecured document.
	transform(ctx context.Context, doc map[string]any, lo ldOptions) ([]byte, error)
	// proofConfig canonicalizes the proof options (the proof without
	// proofValue) for a proof over doc.
	proofConfig(ctx context.Context, doc, options map[string]any, lo ldOptions) ([]byte, error)
	// docKey distinguishes unsecured documents derived from the same
	// secured document, for caching transformed-document hashes.
	docKey(options map[string]any) string
}

// ldOptions are the canonicalization settings a verification uses.
type ldOptions struct {
	allowUndefinedTerms bool
	budget              *ld.Budget
}

// suiteFor returns the suite of a proof's type and cryptosuite, or nil.
func suiteFor(typ, cryptosuite string) suite {
	if typ == ProofTypeEd25519Signature2020 && cryptosuite == "" {
		return ed2020Suite{}
	}
	if typ != ProofType {
		return nil
	}
	switch cryptosuite {
	case CryptosuiteRDFC:
		return rdfcSuite{}
	case CryptosuiteJCS:
		return jcsSuite{}
	}
	return nil
}

// hashData is SHA-256(canonical proof configuration) followed by the
// transformed document's hash (section 3.x.4, Hashing).
func hashData(proofConfig []byte, docHash [32]byte) []byte {
	h := sha256.Sum256(proofConfig)
	out := make([]byte, 0, 64)
	out = append(out, h[:]...)
	return append(out, docHash[:]...)
}

// checkOptions is step 2 of Proof Configuration: the options must name
// this suite.
func checkOptions(options map[string]any, cryptosuite string) error {
	return checkOptionsOf(options, ProofType, cryptosuite)
}

// checkOptionsOf checks the options' type and cryptosuite ("": none may
// be given) and the syntax of created.
func checkOptionsOf(options map[string]any, typ, cryptosuite string) error {
	cs, hasCS := options["cryptosuite"]
	if options["type"] != typ || (cryptosuite == "" && hasCS) || (cryptosuite != "" && cs != cryptosuite) {
		return credential.Errorf(credential.InvalidProofConfiguration,
			"proof configuration: type %v and cryptosuite %v, want %s and %q",
			options["type"], cs, typ, cryptosuite)
	}
	if c, ok := options["created"]; ok {
		s, _ := c.(string)
		if _, err := ParseDateTime(s); err != nil {
			return credential.Errorf(credential.InvalidProofDatetime, "proof configuration: created: %w", err)
		}
	}
	return nil
}

// jcsSuite is eddsa-jcs-2022 (section 3.3).
type jcsSuite struct{}

// unsecured implements step 4 of Verify Proof (eddsa-jcs-2022): when the
// proof carries an @context, the document's must start with the same
// entries in the same order, and the proof's replaces it.
func (jcsSuite) unsecured(doc, options map[string]any) (map[string]any, error) {
	pctx, ok := options["@context"]
	if !ok {
		return doc, nil
	}
	want := contextList(pctx)
	have := contextList(doc["@context"])
	if len(have) < len(want) {
		return nil, credential.Errorf(credential.ProofVerificationError,
			"proof @context is not a prefix of the document's @context")
	}
	for i := range want {
		if !reflect.DeepEqual(want[i], have[i]) {
			return nil, credential.Errorf(credential.ProofVerificationError,
				"proof @context entry %d differs from the document's", i)
		}
	}
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		out[k] = v
	}
	out["@context"] = pctx
	return out, nil
}

// contextList returns an @context value as a list of entries.
func contextList(v any) []any {
	switch c := v.(type) {
	case nil:
		return nil
	case []any:
		return c
	}
	return []any{v}
}

func (jcsSuite) transform(_ context.Context, doc map[string]any, lo ldOptions) ([]byte, error) {
	if err := lo.budget.CheckBytes(); err != nil {
		return nil, err
	}
	b, err := canonicalJSON(doc)
	if err != nil {
		return nil, credential.Errorf(credential.ProofTransformationError, "canonicalize document: %w", err)
	}
	if err := lo.budget.TakeBytes(len(b)); err != nil {
		return nil, err
	}
	return b, nil
}

func (jcsSuite) proofConfig(_ context.Context, _, options map[string]any, _ ldOptions) ([]byte, error) {
	if err := checkOptions(options, CryptosuiteJCS); err != nil {
		return nil, err
	}
	b, err := canonicalJSON(options)
	if err != nil {
		return nil, credential.Errorf(credential.ProofTransformationError, "canonicalize proof configuration: %w", err)
	}
	return b, nil
}

// docKey: the proof's @context replaces the document's.
func (jcsSuite) docKey(options map[string]any) string {
	c, ok := options["@context"]
	if !ok {
		return "jcs"
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "" // never cached
	}
	return "jcs" + string(b)
}
