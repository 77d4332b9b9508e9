package dataintegrity_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mr-tron/base58"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/did/keys"
)

// proofOf returns the single proof object of doc.
func proofOf(doc map[string]any) map[string]any { return doc["proof"].(map[string]any) }

// TestVerifyFailures covers each way a proof fails, under each suite.
func TestVerifyFailures(t *testing.T) {
	for _, suite := range suites(t) {
		t.Run(suite, func(t *testing.T) { testVerifyFailures(t, suite) })
	}
}

func testVerifyFailures(t *testing.T, suite string) {
	signer := MustKeyPair(t, MustLoadJSON(t, "keyPair.json"))
	other := MustGenerate(t, keys.Ed25519, 7)
	p256 := MustGenerate(t, keys.P256, 9)
	unsigned := MustLoadJSON(t, "unsigned.json")
	now := vectorTime.Add(24 * time.Hour)

	sign := func(t *testing.T, doc map[string]any, o dataintegrity.SignOptions) map[string]any {
		t.Helper()
		o.Cryptosuite = suite
		if o.Created.IsZero() {
			o.Created = vectorTime
		}
		out, err := dataintegrity.Sign(t.Context(), doc, signer, o)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	base := sign(t, unsigned, dataintegrity.SignOptions{})
	withKey := func(k credential.VerificationKey, purposes ...string) credential.KeyResolver {
		var r credential.StaticKeys
		r.Add(k, purposes...)
		return &r
	}
	good := Resolver(signer)

	tests := []struct {
		name   string
		doc    func(t *testing.T) map[string]any // nil: base
		keys   credential.KeyResolver            // nil: good
		opts   dataintegrity.VerifyOptions
		code   credential.Code
		target error // optional errors.Is target
	}{
		{name: "tampered claim", code: credential.ProofVerificationError, target: dataintegrity.ErrInvalidSignature,
			doc: func(t *testing.T) map[string]any {
				d := MustClone(t, base)
				d["credentialSubject"].(map[string]any)["alumniOf"] = "The School of Forgery"
				return d
			}},
		{name: "added claim", code: credential.ProofVerificationError, target: dataintegrity.ErrInvalidSignature,
			doc: func(t *testing.T) map[string]any {
				d := MustClone(t, base)
				d["name"] = "Alumni Credential!"
				return d
			}},
		{name: "tampered proof option", code: credential.ProofVerificationError, target: dataintegrity.ErrInvalidSignature,
			doc: func(t *testing.T) map[string]any {
				d := MustClone(t, base)
				proofOf(d)["created"] = "2023-02-24T23:36:39Z"
				return d
			}},
		{name: "added proof option", code: credential.ProofVerificationError, target: dataintegrity.ErrInvalidSignature,
			doc: func(t *testing.T) map[string]any {
				d := MustClone(t, base)
				proofOf(d)["nonce"] = "123"
				return d
			}},
		{name: "wrong key", code: credential.ProofVerificationError, target: dataintegrity.ErrInvalidSignature,
			keys: withKey(credential.VerificationKey{ID: signer.ID, Public: other.Public()}, credential.PurposeAssertion)},
		{name: "key not authorized for the purpose", code: credential.ProofVerificationError, target: credential.ErrKeyNotAuthorized,
			keys: withKey(credential.VerificationKey{ID: signer.ID, Public: signer.Public()}, credential.PurposeAuthentication)},
		{name: "unknown verification method", code: credential.ProofVerificationError, target: credential.ErrKeyNotFound,
			keys: Resolver(other)},
		{name: "compromised key", code: credential.KeyCompromisedError,
			keys: withKey(credential.VerificationKey{ID: signer.ID, Public: signer.Public(), Compromised: true}, credential.PurposeAssertion)},
		{name: "P-256 key", code: credential.ProofVerificationError,
			keys: withKey(credential.VerificationKey{ID: signer.ID, Public: p256.Public()}, credential.PurposeAssertion)},
		{name: "unsupported cryptosuite", code: credential.ProofVerificationError,
			doc: func(t *testing.T) map[string]any {
				d := MustClone(t, base)
				proofOf(d)["cryptosuite"] = "ecdsa-rdfc-2019"
				return d
			}},
		{name: "other proof type", code: credential.ProofVerificationError,
			doc: func(t *testing.T) map[string]any {
				d := MustClone(t, base)
				proofOf(d)["type"] = "Ed25519Signature2020"
				return d
			}},
		{name: "bad multibase prefix", code: credential.MalformedProofError,
			doc: func(t *testing.T) map[string]any {
				d := MustClone(t, base)
				proofOf(d)["proofValue"] = "u" + proofOf(d)["proofValue"].(string)[1:]
				return d
			}},
		{name: "bad base58", code: credential.MalformedProofError,
			doc: func(t *testing.T) map[string]any {
				d := MustClone(t, base)
				proofOf(d)["proofValue"] = "z0OIl"
				return d
			}},
		{name: "short signature", code: credential.MalformedProofError,
			doc: func(t *testing.T) map[string]any {
				d := MustClone(t, base)
				proofOf(d)["proofValue"] = "z" + base58.Encode(make([]byte, 63))
				return d
			}},
		{name: "long signature", code: credential.MalformedProofError,
			doc: func(t *testing.T) map[string]any {
				d := MustClone(t, base)
				proofOf(d)["proofValue"] = "z" + base58.Encode(make([]byte, 65))
				return d
			}},
		{name: "missing proofValue", code: credential.MalformedProofError,
			doc: func(t *testing.T) map[string]any {
				d := MustClone(t, base)
				delete(proofOf(d), "proofValue")
				return d
			}},
		{name: "proofValue not a string", code: credential.MalformedProofError,
			doc: func(t *testing.T) map[string]any {
				d := MustClone(t, base)
				proofOf(d)["proofValue"] = 42.0
				return d
			}},
		{name: "missing verificationMethod", code: credential.MalformedProofError,
			doc: func(t *testing.T) map[string]any {
				d := MustClone(t, base)
				delete(proofOf(d), "verificationMethod")
				return d
			}},
		{name: "missing proof", code: credential.ProofVerificationError, target: dataintegrity.ErrNoProof,
			doc: func(t *testing.T) map[string]any { return MustClone(t, unsigned) }},
		{name: "empty proof set", code: credential.ProofVerificationError, target: dataintegrity.ErrNoProof,
			doc: func(t *testing.T) map[string]any {
				d := MustClone(t, unsigned)
				d["proof"] = []any{}
				return d
			}},
		{name: "proof not an object", code: credential.MalformedProofError,
			doc: func(t *testing.T) map[string]any {
				d := MustClone(t, unsigned)
				d["proof"] = "z123"
				return d
			}},
		{name: "proof purpose mismatch", code: credential.MismatchedProofPurposeError,
			opts: dataintegrity.VerifyOptions{ExpectedProofPurpose: credential.PurposeAuthentication}},
		{name: "challenge missing", code: credential.InvalidChallengeError,
			opts: dataintegrity.VerifyOptions{Challenge: "c-1"}},
		{name: "challenge mismatch", code: credential.InvalidChallengeError,
			doc: func(t *testing.T) map[string]any {
				return sign(t, unsigned, dataintegrity.SignOptions{Challenge: "c-1"})
			},
			opts: dataintegrity.VerifyOptions{Challenge: "c-2"}},
		{name: "domain missing", code: credential.InvalidDomainError,
			opts: dataintegrity.VerifyOptions{Domain: "https://verifier.example"}},
		{name: "domain mismatch", code: credential.InvalidDomainError,
			doc: func(t *testing.T) map[string]any {
				return sign(t, unsigned, dataintegrity.SignOptions{Domain: "https://a.example"})
			},
			opts: dataintegrity.VerifyOptions{Domain: "https://b.example"}},
		{name: "domain array with another domain", code: credential.InvalidDomainError,
			doc: func(t *testing.T) map[string]any {
				d := MustClone(t, base)
				proofOf(d)["domain"] = []any{"https://a.example", "https://b.example"}
				return d
			},
			opts: dataintegrity.VerifyOptions{Domain: "https://a.example"}},
		{name: "domain of the wrong type", code: credential.MalformedProofError,
			doc: func(t *testing.T) map[string]any {
				d := MustClone(t, base)
				proofOf(d)["domain"] = map[string]any{}
				return d
			}},
		{name: "expired proof", code: credential.InvalidProofDatetime,
			doc: func(t *testing.T) map[string]any {
				return sign(t, unsigned, dataintegrity.SignOptions{Expires: vectorTime.Add(time.Hour)})
			},
			opts: dataintegrity.VerifyOptions{Now: now}},
		{name: "created in the future", code: credential.InvalidProofDatetime,
			opts: dataintegrity.VerifyOptions{Now: vectorTime.Add(-time.Hour), Skew: time.Minute}},
		{name: "created not a dateTimeStamp", code: credential.InvalidProofDatetime,
			doc: func(t *testing.T) map[string]any {
				d := MustClone(t, base)
				proofOf(d)["created"] = "2023-02-24 23:36:38"
				return d
			}},
		{name: "created without time zone", code: credential.InvalidProofDatetime,
			doc: func(t *testing.T) map[string]any {
				d := MustClone(t, base)
				proofOf(d)["created"] = "2023-02-24T23:36:38"
				return d
			}},
		{name: "expires not a dateTimeStamp", code: credential.InvalidProofDatetime,
			doc: func(t *testing.T) map[string]any {
				d := MustClone(t, base)
				proofOf(d)["expires"] = "tomorrow"
				return d
			}},
		{name: "previousProof pointing nowhere", code: credential.ProofVerificationError, target: dataintegrity.ErrPreviousProof,
			doc: func(t *testing.T) map[string]any {
				d := sign(t, unsigned, dataintegrity.SignOptions{ID: "urn:p1"})
				d = sign(t, d, dataintegrity.SignOptions{ID: "urn:p2", PreviousProof: []string{"urn:p1"}})
				d["proof"].([]any)[1].(map[string]any)["previousProof"] = "urn:nowhere"
				return d
			}},
		{name: "too many proofs", code: credential.MalformedProofError, target: dataintegrity.ErrTooManyProofs,
			doc: func(t *testing.T) map[string]any {
				d := MustClone(t, base)
				set := make([]any, dataintegrity.MaxProofs+1)
				for i := range set {
					set[i] = proofOf(base)
				}
				d["proof"] = set
				return d
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := base
			if tc.doc != nil {
				doc = tc.doc(t)
			}
			r := tc.keys
			if r == nil {
				r = good
			}
			before := MustClone(t, doc)
			res, err := dataintegrity.Verify(t.Context(), doc, r, tc.opts)
			wantCode(t, err, tc.code)
			if tc.target != nil && !errors.Is(err, tc.target) {
				t.Errorf("error %v does not wrap %v", err, tc.target)
			}
			if res.Verified() {
				t.Error("Verified() after an error")
			}
			if !reflect.DeepEqual(doc, before) {
				t.Error("Verify modified its input")
			}
		})
	}
}

// TestVerifyOptions checks that matching options pass.
func TestVerifyOptions(t *testing.T) {
	for _, suite := range suites(t) {
		t.Run(suite, func(t *testing.T) {
			signer := MustGenerate(t, keys.Ed25519, 1)
			var r credential.StaticKeys
			r.Add(credential.VerificationKey{ID: signer.ID, Public: signer.Public()}, credential.PurposeAuthentication)
			doc, err := dataintegrity.Sign(t.Context(), MustLoadJSON(t, "unsigned.json"), signer, dataintegrity.SignOptions{
				Cryptosuite: suite, ProofPurpose: credential.PurposeAuthentication,
				Created: vectorTime, Expires: vectorTime.Add(time.Hour),
				Challenge: "c-1", Domain: "https://verifier.example", Nonce: "n-1", ID: "urn:uuid:1",
			})
			if err != nil {
				t.Fatal(err)
			}
			p := proofOf(doc)
			if p["created"] != "2023-02-24T23:36:38Z" || p["expires"] != "2023-02-25T00:36:38Z" {
				t.Errorf("proof times %v %v", p["created"], p["expires"])
			}
			opts := dataintegrity.VerifyOptions{
				ExpectedProofPurpose: credential.PurposeAuthentication,
				Challenge:            "c-1", Domain: "https://verifier.example",
				Now: vectorTime.Add(59 * time.Minute),
			}
			res, err := dataintegrity.Verify(t.Context(), doc, &r, opts)
			if err != nil || !res.Verified() {
				t.Fatal(err)
			}
			got := res.Proofs[0].Proof
			if got.Nonce != "n-1" || got.ID != "urn:uuid:1" || got.Domain != "https://verifier.example" || got.Challenge != "c-1" {
				t.Errorf("parsed proof %+v", got)
			}
			// A skew tolerates a slightly expired proof.
			opts.Now = vectorTime.Add(time.Hour + 30*time.Second)
			opts.Skew = time.Minute
			if _, err := dataintegrity.Verify(t.Context(), doc, &r, opts); err != nil {
				t.Errorf("within skew: %v", err)
			}
		})
	}
}

// TestJCSContext covers eddsa-jcs-2022's proof @context rule: the
// document's @context must start with the proof's.
func TestJCSContext(t *testing.T) {
	signer := MustGenerate(t, keys.Ed25519, 1)
	r := Resolver(signer)
	unsigned := MustLoadJSON(t, "unsigned.json")
	signed, err := dataintegrity.Sign(t.Context(), unsigned, signer, dataintegrity.SignOptions{Cryptosuite: dataintegrity.CryptosuiteJCS})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(proofOf(signed)["@context"], unsigned["@context"]) {
		t.Fatalf("proof @context %v", proofOf(signed)["@context"])
	}
	// Appending a context to the document keeps the proof's a prefix;
	// the specification verifies over the proof's @context, so the proof
	// still holds (this lets a later proof of a set add a context).
	d := MustClone(t, signed)
	d["@context"] = append(d["@context"].([]any), "https://w3id.org/security/data-integrity/v2")
	if _, err = dataintegrity.Verify(t.Context(), d, r, dataintegrity.VerifyOptions{}); err != nil {
		t.Fatalf("extra trailing context: %v", err)
	}
	// Changing a claim still fails.
	d["name"] = "x"
	_, err = dataintegrity.Verify(t.Context(), d, r, dataintegrity.VerifyOptions{})
	wantCode(t, err, credential.ProofVerificationError)
	// Dropping one breaks the prefix.
	d = MustClone(t, signed)
	d["@context"] = d["@context"].([]any)[:1]
	_, err = dataintegrity.Verify(t.Context(), d, r, dataintegrity.VerifyOptions{})
	wantCode(t, err, credential.ProofVerificationError)
	// Reordering breaks it too.
	d = MustClone(t, signed)
	c := d["@context"].([]any)
	d["@context"] = []any{c[1], c[0]}
	_, err = dataintegrity.Verify(t.Context(), d, r, dataintegrity.VerifyOptions{})
	wantCode(t, err, credential.ProofVerificationError)
	// A proof without @context signs the document's own.
	d = MustClone(t, unsigned)
	d["@context"] = "https://www.w3.org/ns/credentials/v2"
	s2, err := dataintegrity.Sign(t.Context(), d, signer, dataintegrity.SignOptions{Cryptosuite: dataintegrity.CryptosuiteJCS})
	if err != nil {
		t.Fatal(err)
	}
	if proofOf(s2)["@context"] != "https://www.w3.org/ns/credentials/v2" {
		t.Errorf("proof @context %v", proofOf(s2)["@context"])
	}
	if _, err := dataintegrity.Verify(t.Context(), s2, r, dataintegrity.VerifyOptions{}); err != nil {
		t.Error(err)
	}
}

// TestProofSetsAndChains signs sets and chains under each suite (and
// mixed), and checks what each proof covers.
func TestProofSetsAndChains(t *testing.T) {
	for _, suite := range suites(t) {
		t.Run(suite, func(t *testing.T) {
			a, b, c := MustGenerate(t, keys.Ed25519, 1), MustGenerate(t, keys.Ed25519, 2), MustGenerate(t, keys.Ed25519, 3)
			r := Resolver(a, b, c)
			sign := func(doc map[string]any, s credential.KeySigner, o dataintegrity.SignOptions) map[string]any {
				t.Helper()
				if o.Cryptosuite == "" {
					o.Cryptosuite = suite
				}
				o.Created = vectorTime
				out, err := dataintegrity.Sign(t.Context(), doc, s, o)
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			doc := sign(MustLoadJSON(t, "unsigned.json"), a, dataintegrity.SignOptions{ID: "urn:a"})
			doc = sign(doc, b, dataintegrity.SignOptions{ID: "urn:b"})
			chain := sign(doc, c, dataintegrity.SignOptions{ID: "urn:c", PreviousProof: []string{"urn:a", "urn:b"}})
			res, err := dataintegrity.Verify(t.Context(), chain, r, dataintegrity.VerifyOptions{})
			if err != nil || len(res.Proofs) != 3 || !res.Verified() {
				t.Fatalf("chain: %v %+v", err, res)
			}
			if got := res.Proofs[2].Proof.PreviousProof; !reflect.DeepEqual(got, []string{"urn:a", "urn:b"}) {
				t.Errorf("previousProof %v", got)
			}

			// Dropping a proof of a set leaves the others valid...
			set := MustClone(t, doc)
			set["proof"] = set["proof"].([]any)[1:]
			if _, err := dataintegrity.Verify(t.Context(), set, r, dataintegrity.VerifyOptions{}); err != nil {
				t.Errorf("set without its first proof: %v", err)
			}
			// ...but a chained proof needs the proofs it names.
			broken := MustClone(t, chain)
			broken["proof"] = broken["proof"].([]any)[1:]
			res, err = dataintegrity.Verify(t.Context(), broken, r, dataintegrity.VerifyOptions{})
			wantCode(t, err, credential.ProofVerificationError)
			if !errors.Is(err, dataintegrity.ErrPreviousProof) || res.Proofs[0].Err != nil || res.Proofs[1].Err == nil {
				t.Errorf("chain without a previous proof: %v %+v", err, res)
			}
			// A tampered previous proof fails itself and the chain on it.
			tampered := MustClone(t, chain)
			tampered["proof"].([]any)[0].(map[string]any)["created"] = "2024-01-01T00:00:00Z"
			res, err = dataintegrity.Verify(t.Context(), tampered, r, dataintegrity.VerifyOptions{})
			wantCode(t, err, credential.ProofVerificationError)
			if res.Proofs[0].Err == nil || res.Proofs[1].Err != nil || res.Proofs[2].Err == nil {
				t.Errorf("tampered previous proof: %+v", res)
			}
			// Replacing a previous proof's value with another valid-looking
			// one breaks the chain even when that proof is not checked.
			swapped := MustClone(t, chain)
			p0 := swapped["proof"].([]any)[0].(map[string]any)
			p1 := swapped["proof"].([]any)[1].(map[string]any)
			p0["proofValue"], p1["proofValue"] = p1["proofValue"], p0["proofValue"]
			res, _ = dataintegrity.Verify(t.Context(), swapped, r, dataintegrity.VerifyOptions{})
			if res.Proofs[2].Err == nil {
				t.Error("chain verified over swapped previous proofs")
			}

			// A cycle: two proofs that name each other.
			cyc := MustClone(t, doc)
			ps := cyc["proof"].([]any)
			ps[0].(map[string]any)["previousProof"] = "urn:b"
			ps[1].(map[string]any)["previousProof"] = "urn:a"
			res, err = dataintegrity.Verify(t.Context(), cyc, r, dataintegrity.VerifyOptions{})
			if !errors.Is(err, dataintegrity.ErrPreviousProof) || res.Proofs[0].Err == nil || res.Proofs[1].Err == nil {
				t.Errorf("cycle: %v", err)
			}
			// A proof that names itself.
			self := MustClone(t, doc)
			self["proof"].([]any)[0].(map[string]any)["previousProof"] = "urn:a"
			if _, err := dataintegrity.Verify(t.Context(), self, r, dataintegrity.VerifyOptions{}); !errors.Is(err, dataintegrity.ErrPreviousProof) {
				t.Errorf("self reference: %v", err)
			}
			// Duplicate ids.
			dup := MustClone(t, doc)
			dup["proof"].([]any)[1].(map[string]any)["id"] = "urn:a"
			_, err = dataintegrity.Verify(t.Context(), dup, r, dataintegrity.VerifyOptions{})
			wantCode(t, err, credential.MalformedProofError)

			// Signing a chain to a missing proof fails.
			_, err = dataintegrity.Sign(t.Context(), doc, c, dataintegrity.SignOptions{Cryptosuite: suite, PreviousProof: []string{"urn:x"}})
			wantCode(t, err, credential.ProofGenerationError)
			if !errors.Is(err, dataintegrity.ErrPreviousProof) {
				t.Errorf("sign to a missing proof: %v", err)
			}
		})
	}
}

// TestMixedSuites verifies a proof set with one proof of each suite.
func TestMixedSuites(t *testing.T) {
	a, b := MustGenerate(t, keys.Ed25519, 1), MustGenerate(t, keys.Ed25519, 2)
	doc, err := dataintegrity.Sign(t.Context(), MustLoadJSON(t, "unsigned.json"), a, dataintegrity.SignOptions{Cryptosuite: dataintegrity.CryptosuiteRDFC, ID: "urn:a"})
	if err != nil {
		t.Fatal(err)
	}
	doc, err = dataintegrity.Sign(t.Context(), doc, b, dataintegrity.SignOptions{Cryptosuite: dataintegrity.CryptosuiteJCS, PreviousProof: []string{"urn:a"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := dataintegrity.Verify(t.Context(), doc, Resolver(a, b), dataintegrity.VerifyOptions{})
	if err != nil || !res.Verified() {
		t.Fatal(err)
	}
}

// TestSignFailures covers the signer's errors.
func TestSignFailures(t *testing.T) {
	unsigned := MustLoadJSON(t, "unsigned.json")
	ed := MustGenerate(t, keys.Ed25519, 1)
	for _, tc := range []struct {
		name   string
		doc    map[string]any
		signer credential.Signer
		opts   dataintegrity.SignOptions
	}{
		{"P-256 signer", unsigned, MustGenerate(t, keys.P256, 2), dataintegrity.SignOptions{}},
		{"unsupported cryptosuite", unsigned, ed, dataintegrity.SignOptions{Cryptosuite: "eddsa-2022"}},
		{"nil signer", unsigned, nil, dataintegrity.SignOptions{}},
		{"nil document", nil, ed, dataintegrity.SignOptions{}},
		{"no verification method", unsigned, credential.KeySigner{Key: ed.Key}, dataintegrity.SignOptions{}},
		{"proof not an object", map[string]any{"proof": 1.0}, ed, dataintegrity.SignOptions{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			if opts.Cryptosuite == "" {
				opts.Cryptosuite = dataintegrity.CryptosuiteJCS
			}
			_, err := dataintegrity.Sign(t.Context(), tc.doc, tc.signer, opts)
			wantCode(t, err, credential.ProofGenerationError)
		})
	}
	// Signing a full set fails.
	doc := MustClone(t, unsigned)
	set := make([]any, dataintegrity.MaxProofs)
	for i := range set {
		set[i] = map[string]any{"type": "DataIntegrityProof"}
	}
	doc["proof"] = set
	_, err := dataintegrity.Sign(t.Context(), doc, ed, dataintegrity.SignOptions{Cryptosuite: dataintegrity.CryptosuiteJCS})
	if !errors.Is(err, dataintegrity.ErrTooManyProofs) {
		t.Errorf("full set: %v", err)
	}
}

// TestProofJSON round-trips the proof model, with both forms of domain
// and previousProof.
func TestProofJSON(t *testing.T) {
	for _, in := range []string{
		`{"type":"DataIntegrityProof","cryptosuite":"eddsa-jcs-2022","created":"2023-02-24T23:36:38Z","verificationMethod":"did:key:z#z","proofPurpose":"assertionMethod","proofValue":"z1"}`,
		`{"id":"urn:a","type":"DataIntegrityProof","domain":["a","b"],"previousProof":["urn:b","urn:c"],"@context":["https://www.w3.org/ns/credentials/v2"],"expires":"2030-01-01T00:00:00.5+01:00"}`,
		`{"type":"DataIntegrityProof","domain":"a","previousProof":"urn:b","challenge":"c","nonce":"n"}`,
	} {
		var p dataintegrity.Proof
		if err := p.UnmarshalJSON([]byte(in)); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		out, err := p.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(MustDecode(t, out), MustDecode(t, []byte(in))) {
			t.Errorf("round trip:\n%s\nwant:\n%s", out, in)
		}
	}
	for _, in := range []string{
		`[]`, `null`, `{"type":1}`, `{"domain":1}`, `{"previousProof":[1]}`,
		`{"created":"2023-02-24"}`, `{"created":"2023-02-30T00:00:00Z"}`, `{"expires":"2023-02-24T00:00:00+15:00"}`,
	} {
		var p dataintegrity.Proof
		if err := p.UnmarshalJSON([]byte(in)); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
}

// TestFormatDateTime pins the created format.
func TestFormatDateTime(t *testing.T) {
	tm := time.Date(2023, 2, 24, 23, 36, 38, 999, time.FixedZone("x", 3600))
	if got := dataintegrity.FormatDateTime(tm); got != "2023-02-24T22:36:38Z" {
		t.Errorf("got %s", got)
	}
	if _, err := dataintegrity.ParseDateTime(strings.ToLower("2023-02-24T22:36:38Z")); err == nil {
		t.Error("lower-case t and z accepted")
	}
}

// TestContextInjection signs a VC 1.1 credential, whose contexts do not
// define DataIntegrityProof: Sign appends the Data Integrity context.
func TestContextInjection(t *testing.T) {
	for _, suite := range suites(t) {
		t.Run(suite, func(t *testing.T) {
			signer := MustGenerate(t, keys.Ed25519, 1)
			v1 := MustDecode(t, []byte(`{
				"@context": ["https://www.w3.org/2018/credentials/v1", {
					"AlumniCredential": "https://example.org/examples#AlumniCredential",
					"alumniOf": "https://schema.org/alumniOf"
				}],
				"type": ["VerifiableCredential", "AlumniCredential"],
				"issuer": "did:example:issuer",
				"issuanceDate": "2010-01-01T19:23:24Z",
				"credentialSubject": {"id": "did:example:s", "alumniOf": "The School of Examples"}
			}`))
			before := MustClone(t, v1)
			signed, err := dataintegrity.Sign(t.Context(), v1, signer, dataintegrity.SignOptions{Cryptosuite: suite})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(v1, before) {
				t.Error("Sign modified its input")
			}
			want := append(before["@context"].([]any), dataintegrity.DataIntegrityContext)
			if !reflect.DeepEqual(signed["@context"], want) {
				t.Errorf("@context %v", signed["@context"])
			}
			if _, err := dataintegrity.Verify(t.Context(), signed, Resolver(signer), dataintegrity.VerifyOptions{}); err != nil {
				t.Fatal(err)
			}
			// A v2 credential is left as it is.
			v2 := MustLoadJSON(t, "unsigned.json")
			signed, err = dataintegrity.Sign(t.Context(), v2, signer, dataintegrity.SignOptions{Cryptosuite: suite})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(signed["@context"], v2["@context"]) {
				t.Errorf("v2 @context %v", signed["@context"])
			}
		})
	}
}
