package dataintegrity

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mr-tron/base58"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/ld"
	"github.com/idmesh/idmesh/did/keys"
)

// VerifyOptions are what the verifier expects of the proofs.
type VerifyOptions struct {
	// ExpectedProofPurpose defaults to credential.PurposeAssertion; every
	// proof must have it (MISMATCHED_PROOF_PURPOSE_ERROR).
	ExpectedProofPurpose string
	// Challenge, when non-empty, must equal every proof's challenge
	// (INVALID_CHALLENGE_ERROR).
	Challenge string
	// Domain, when non-empty, must be every proof's domain: the string,
	// or an array holding exactly that string (the specification
	// compares sets) (INVALID_DOMAIN_ERROR).
	Domain string
	// Now, when non-zero, rejects a proof past its expires or created
	// after Now (with Skew of tolerance either way).
	Now  time.Time
	Skew time.Duration
	// AllowUndefinedTerms lets eddsa-rdfc-2022 drop terms the contexts
	// do not define instead of failing.
	AllowUndefinedTerms bool
	// Budget, when set, bounds the JSON-LD work of eddsa-rdfc-2022 as a
	// whole for every document verified with it (a presentation and the
	// credentials it carries): see [ld.Budget]. Nil: each document has
	// credential/ld's default bounds.
	Budget *ld.Budget
}

// ProofResult is the outcome of one proof of the set.
type ProofResult struct {
	// Proof is the proof as parsed (zero if it could not be).
	Proof Proof
	// Key is the key that verified the proof, or was tried.
	Key credential.VerificationKey
	// Err is nil when the proof verified.
	Err error
}

// Result lists the outcome of each proof, in document order.
type Result struct {
	Proofs []ProofResult
}

// Verified reports whether there is at least one proof and every proof
// verified.
func (r Result) Verified() bool {
	if len(r.Proofs) == 0 {
		return false
	}
	for _, p := range r.Proofs {
		if p.Err != nil {
			return false
		}
	}
	return true
}

// Verify verifies every proof of doc's proof set (VC Data Integrity
// sections 4.4 and 4.5). A proof with previousProof is checked over the
// document plus the proofs it names, which must exist; it verifies only
// if they do too. Each proof's key comes from
// keys.ResolveKey(ctx, proof.verificationMethod, proof.proofPurpose) and
// must be an Ed25519 key that is not compromised.
//
// The error is nil only when every proof verified; otherwise it is the
// first failing proof's error (or the document's), with its code. The
// Result reports each proof either way.
func Verify(ctx context.Context, doc map[string]any, keys credential.KeyResolver, opts VerifyOptions) (Result, error) {
	if doc == nil {
		return Result{}, credential.Errorf(credential.ProofVerificationError, "%w: nil document", ErrNoProof)
	}
	if keys == nil {
		return Result{}, credential.Errorf(credential.ProofVerificationError, "nil key resolver")
	}
	if opts.ExpectedProofPurpose == "" {
		opts.ExpectedProofPurpose = credential.PurposeAssertion
	}
	raw, ok := doc["proof"]
	if !ok || raw == nil {
		return Result{}, credential.Errorf(credential.ProofVerificationError, "%w", ErrNoProof)
	}
	if arr, ok := raw.([]any); ok && len(arr) > MaxProofs {
		return Result{}, credential.Errorf(credential.MalformedProofError, "%w: %d, at most %d", ErrTooManyProofs, len(arr), MaxProofs)
	}
	all, err := proofList(raw)
	if err != nil {
		return Result{}, err
	}
	if len(all) == 0 {
		return Result{}, credential.Errorf(credential.ProofVerificationError, "%w: empty proof set", ErrNoProof)
	}

	if opts.Budget == nil {
		// One document's bounds for all its proofs: a chain of proofs
		// canonicalizes the document again for each.
		opts.Budget = ld.NewBudget(ld.Options{AllowUndefinedTerms: opts.AllowUndefinedTerms})
	}
	v := verifier{
		doc:     withoutProof(doc),
		all:     all,
		keys:    keys,
		opts:    opts,
		lo:      ldOptions{allowUndefinedTerms: opts.AllowUndefinedTerms, budget: opts.Budget},
		hashes:  map[string][32]byte{},
		results: make([]ProofResult, len(all)),
	}
	v.parse()
	v.checkChains()
	for i := range all {
		if v.results[i].Err == nil {
			if err := ctx.Err(); err != nil {
				// The caller's deadline: no more work on this document.
				v.results[i].Err = credential.Errorf(credential.ProofVerificationError, "proof not checked: %w", err)
				continue
			}
			v.results[i].Err = v.verifyOne(ctx, i)
		}
	}
	v.propagate()

	res := Result{Proofs: v.results}
	for _, r := range res.Proofs {
		if r.Err != nil {
			return res, r.Err
		}
	}
	return res, nil
}

// verifier holds one Verify call's state.
type verifier struct {
	doc     map[string]any // the secured document without "proof"
	all     []map[string]any
	keys    credential.KeyResolver
	opts    VerifyOptions
	lo      ldOptions
	hashes  map[string][32]byte // transformed-document hashes by docKey
	results []ProofResult
}

// parse fills each result's Proof, or its Err.
func (v *verifier) parse() {
	for i, m := range v.all {
		p, err := parseProof(m)
		v.results[i] = ProofResult{Proof: p, Err: err}
	}
}

// checkChains rejects duplicate ids, previousProof values that name no
// proof, and cycles, before any cryptography.
func (v *verifier) checkChains() {
	index := map[string]int{}
	for i, r := range v.results {
		if r.Proof.ID == "" {
			continue
		}
		if j, dup := index[r.Proof.ID]; dup {
			err := credential.Errorf(credential.MalformedProofError, "%w: proofs %d and %d share id %q", ErrPreviousProof, j, i, r.Proof.ID)
			v.fail(i, err)
			v.fail(j, err)
			continue
		}
		index[r.Proof.ID] = i
	}
	for i, r := range v.results {
		for _, id := range r.Proof.PreviousProof {
			if _, ok := index[id]; !ok {
				v.fail(i, credential.Errorf(credential.ProofVerificationError, "%w: no proof has id %q", ErrPreviousProof, id))
			}
		}
	}
	// Depth-first search for cycles: 1 = on the stack, 2 = done.
	state := make([]int8, len(v.results))
	var visit func(i int) bool
	visit = func(i int) bool {
		switch state[i] {
		case 1:
			return true
		case 2:
			return false
		}
		state[i] = 1
		for _, id := range v.results[i].Proof.PreviousProof {
			if j, ok := index[id]; ok && visit(j) {
				state[i] = 2
				return true
			}
		}
		state[i] = 2
		return false
	}
	for i := range v.results {
		clear(state)
		if visit(i) {
			v.fail(i, credential.Errorf(credential.ProofVerificationError, "%w: the chain of proof %d has a cycle", ErrPreviousProof, i))
		}
	}
}

// fail records err for proof i unless it already failed.
func (v *verifier) fail(i int, err error) {
	if v.results[i].Err == nil {
		v.results[i].Err = err
	}
}

// propagate fails every proof whose previous proofs failed (section 4.5:
// a chained proof counts only if the proofs it references verify).
func (v *verifier) propagate() {
	index := map[string]int{}
	for i, r := range v.results {
		if r.Proof.ID != "" {
			index[r.Proof.ID] = i
		}
	}
	// Chains are acyclic here (cycles already failed), and at most
	// MaxProofs long, so MaxProofs rounds reach a fixed point.
	for range len(v.results) {
		changed := false
		for i, r := range v.results {
			if r.Err != nil {
				continue
			}
			for _, id := range r.Proof.PreviousProof {
				if j, ok := index[id]; ok && v.results[j].Err != nil {
					v.results[i].Err = credential.Errorf(credential.ProofVerificationError,
						"%w: previous proof %q did not verify", ErrPreviousProof, id)
					changed = true
					break
				}
			}
		}
		if !changed {
			return
		}
	}
}

// verifyOne runs Verify Proof (section 4.4, steps 4 to 8) and the
// cryptosuite's Verify Proof on proof i.
func (v *verifier) verifyOne(ctx context.Context, i int) error {
	p := v.results[i].Proof
	if p.Type == "" || p.VerificationMethod == "" || p.ProofPurpose == "" {
		return credential.Errorf(credential.MalformedProofError, "proof lacks type, verificationMethod or proofPurpose")
	}
	s := suiteFor(p.Type, p.Cryptosuite)
	if s == nil {
		return credential.Errorf(credential.ProofVerificationError, "unsupported proof type %q with cryptosuite %q", p.Type, p.Cryptosuite)
	}
	if _, legacy := s.(ed2020Suite); legacy {
		if err := checkLegacy(p, v.doc); err != nil {
			return err
		}
	}
	if p.ProofPurpose != v.opts.ExpectedProofPurpose {
		return credential.Errorf(credential.MismatchedProofPurposeError, "proof purpose %q, want %q", p.ProofPurpose, v.opts.ExpectedProofPurpose)
	}
	if v.opts.Domain != "" {
		ds := p.domainSet()
		if len(ds) == 0 || slices.ContainsFunc(ds, func(d string) bool { return d != v.opts.Domain }) {
			return credential.Errorf(credential.InvalidDomainError, "proof domain %q, want %q", ds, v.opts.Domain)
		}
	}
	if v.opts.Challenge != "" && p.Challenge != v.opts.Challenge {
		return credential.Errorf(credential.InvalidChallengeError, "proof challenge %q, want %q", p.Challenge, v.opts.Challenge)
	}
	if err := v.checkTimes(p); err != nil {
		return err
	}
	sig, err := decodeProofValue(v.all[i])
	if err != nil {
		return err
	}

	key, err := v.keys.ResolveKey(ctx, p.VerificationMethod, p.ProofPurpose)
	if err != nil {
		return credential.Errorf(credential.ProofVerificationError, "resolve %s: %w", p.VerificationMethod, err)
	}
	v.results[i].Key = key
	// The key's status: compromised verifies nothing; retired only
	// proofs whose created is before the retirement.
	var created time.Time
	if p.Created != "" {
		if created, err = ParseDateTime(p.Created); err != nil {
			return credential.Errorf(credential.InvalidProofDatetime, "proof created: %w", err)
		}
	}
	if err := key.CheckClaimedTime(created); err != nil {
		return err
	}
	if t := key.Public.Type(); t != keys.Ed25519 {
		return credential.Errorf(credential.ProofVerificationError, "%s needs an Ed25519 key; %s is %q", p.Name(), p.VerificationMethod, t)
	}
	if _, legacy := s.(ed2020Suite); legacy && key.MethodType != "" && !slices.Contains(ed2020MethodTypes, key.MethodType) {
		return credential.Errorf(credential.ProofVerificationError, "%s needs an %v verification method; %s is a %s", p.Name(), ed2020MethodTypes, p.VerificationMethod, key.MethodType)
	}

	data, err := v.hashData(ctx, s, i)
	if err != nil {
		return err
	}
	if !key.Public.Verify(data, sig) {
		return credential.Errorf(credential.ProofVerificationError, "%w", ErrInvalidSignature)
	}
	return nil
}

// checkTimes rejects a proof created after Now or expired before it.
func (v *verifier) checkTimes(p Proof) error {
	if v.opts.Now.IsZero() {
		return nil
	}
	if p.Created != "" {
		t, err := ParseDateTime(p.Created)
		if err != nil {
			return credential.Errorf(credential.InvalidProofDatetime, "proof created: %w", err)
		}
		if t.After(v.opts.Now.Add(v.opts.Skew)) {
			return credential.Errorf(credential.InvalidProofDatetime, "proof created %s is in the future", p.Created)
		}
	}
	if p.Expires != "" {
		t, err := ParseDateTime(p.Expires)
		if err != nil {
			return credential.Errorf(credential.InvalidProofDatetime, "proof expires: %w", err)
		}
		if !v.opts.Now.Add(-v.opts.Skew).Before(t) {
			return credential.Errorf(credential.InvalidProofDatetime, "proof expired at %s", p.Expires)
		}
	}
	return nil
}

// decodeProofValue returns the 64-byte signature of a proof object.
func decodeProofValue(proof map[string]any) ([]byte, error) {
	pv, ok := proof["proofValue"].(string)
	if !ok || pv == "" {
		return nil, credential.Errorf(credential.MalformedProofError, "proof has no proofValue")
	}
	// base58btc of 64 bytes is at most 88 characters.
	if pv[0] != 'z' || len(pv) > 1+90 {
		return nil, credential.Errorf(credential.MalformedProofError, "proofValue is not a base58btc multibase signature")
	}
	sig, err := base58.Decode(pv[1:])
	if err != nil {
		return nil, credential.Errorf(credential.MalformedProofError, "proofValue: %w", err)
	}
	if len(sig) != ed25519.SignatureSize {
		return nil, credential.Errorf(credential.MalformedProofError, "proofValue holds %d bytes, want %d", len(sig), ed25519.SignatureSize)
	}
	return sig, nil
}

// hashData returns the signed message of proof i: its configuration's
// hash and the hash of the document it covers. Proofs that cover the
// same document (no previousProof, same suite and, for JCS, the same
// @context) share one canonicalization.
func (v *verifier) hashData(ctx context.Context, s suite, i int) ([]byte, error) {
	proof := v.all[i]
	options := make(map[string]any, len(proof))
	for k, val := range proof {
		if k != "proofValue" {
			options[k] = val
		}
	}
	input := v.doc
	prev := v.results[i].Proof.PreviousProof
	if len(prev) > 0 {
		matching, err := matchingProofs(v.all, prev)
		if err != nil {
			return nil, err
		}
		input = withoutProof(v.doc)
		input["proof"] = matching
	}
	unsecured, err := s.unsecured(input, options)
	if err != nil {
		return nil, err
	}
	cfg, err := s.proofConfig(ctx, unsecured, options, v.lo)
	if err != nil {
		return nil, err
	}

	key := s.docKey(options)
	if key != "" {
		key += "|" + strings.Join(prevKey(v.all, prev), ",")
	}
	h, ok := v.hashes[key]
	if !ok || key == "" {
		transformed, err := s.transform(ctx, unsecured, v.lo)
		if err != nil {
			return nil, err
		}
		h = sha256.Sum256(transformed)
		if key != "" {
			v.hashes[key] = h
		}
	}
	return hashData(cfg, h), nil
}

// prevKey identifies the matching proofs by their positions in the set.
func prevKey(all []map[string]any, ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	var out []string
	for j, p := range all {
		id, _ := p["id"].(string)
		if slices.Contains(ids, id) {
			out = append(out, strconv.Itoa(j))
		}
	}
	return out
}

// ed2020MethodTypes are the verification method types an
// Ed25519Signature2020 proof is verified with (a resolver that does not
// say the type is trusted to have checked the key: Ed25519 is required
// either way).
var ed2020MethodTypes = []string{"Ed25519VerificationKey2020", "Multikey"}

// checkLegacy applies what Ed25519Signature2020 requires beyond the
// shared checks: the suite's context among the document's (it defines
// the proof's terms; nothing is fetched, so it must be named by URL), and
// no previousProof (the suite predates proof chains).
func checkLegacy(p Proof, doc map[string]any) error {
	if len(p.PreviousProof) > 0 {
		return credential.Errorf(credential.ProofVerificationError, "%s proofs do not chain: previousProof is not supported", ProofTypeEd25519Signature2020)
	}
	if !slices.Contains(contextList(doc["@context"]), any(Ed25519Signature2020Context)) {
		return credential.Errorf(credential.ProofVerificationError, "an %s proof needs %s in the document's @context", ProofTypeEd25519Signature2020, Ed25519Signature2020Context)
	}
	return nil
}
