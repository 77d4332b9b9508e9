// Package ldtest generates hostile JSON-LD documents for tests, fuzz
// seeds and benchmarks: credentials whose JSON-LD processing was
// quadratic or worse in their size before credential/ld bounded it
// (issue 10, item 4), and the worst documents within those bounds.
package ldtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/did/keys"
)

// Shape is a hostile credentialSubject.
type Shape struct {
	// Name names the shape in test and benchmark names.
	Name string
	// Subject is the credentialSubject, as JSON text.
	Subject string
	// Refused tells whether credential/ld refuses it with its default
	// bounds (LIMIT_EXCEEDED_ERROR); the others are within the bounds.
	Refused bool
}

// repeat returns n copies of item, comma-separated.
func repeat(item string, n int) string {
	return strings.TrimSuffix(strings.Repeat(item+",", n), ",")
}

// numbered returns n items made by format from 0..n-1, comma-separated.
func numbered(format string, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}

// Shapes are the hostile subjects, each about 200 KB or less. Measured on
// main before the bounds (one core): identical-objects 6.4 s,
// empty-objects 27 s (40,000), typed-objects 3.7 s, distinct-values
// 2.3 s (9,000), inline-contexts 0.5 s, list 0.17 s.
func Shapes() []Shape {
	return []Shape{
		// The issue's: 20,000 identical nested objects (200 KB). Node map
		// generation compares each with all the others.
		{Name: "identical-objects", Subject: `{"id":"urn:s","a":[` + repeat(`{"b":"c"}`, 20_000) + `]}`, Refused: true},
		{Name: "empty-objects", Subject: `{"a":[` + repeat(`{}`, 40_000) + `]}`, Refused: true},
		{Name: "typed-objects", Subject: `{"a":[` + repeat(`{"type":"T"}`, 15_000) + `]}`, Refused: true},
		{Name: "distinct-values", Subject: `{"a":[` + numbered(`"%d"`, 20_000) + `]}`, Refused: true},
		{Name: "distinct-ids", Subject: `{"a":[` + numbered(`{"id":"urn:%d"}`, 12_000) + `]}`, Refused: true},
		{Name: "list", Subject: `{"a":{"@list":[` + repeat(`{"b":"c"}`, 20_000) + `]}}`, Refused: true},
		{Name: "inline-contexts", Subject: `{"a":[` + repeat(`{"@context":{"x":"urn:x"},"x":"1"}`, 5_000) + `]}`, Refused: true},
		{Name: "deep", Subject: strings.Repeat(`{"a":`, 200) + `"x"` + strings.Repeat(`}`, 200), Refused: true},
		{Name: "merged-node", Subject: `{"a":[` + numbered(`{"id":"urn:m","b":["%[1]d","x%[1]d"]}`, 2_000) + `]}`, Refused: true},
		// Within the bounds: the most work each stage allows.
		{Name: "long-string", Subject: `{"a":"` + strings.Repeat("x", 200_000) + `"}`},
		{Name: "blank-nodes", Subject: `{"a":[` + repeat(`{"b":"c"}`, 330) + `],"d":[` + repeat(`{"b":"c"}`, 330) + `],"e":[` + repeat(`{"b":"c"}`, 330) + `]}`},
		{Name: "values-under-bound", Subject: `{"id":"urn:s",` + properties(124, 40) + `}`},
		{Name: "comparisons-under-bound", Subject: `{"id":"urn:s",` + properties(1, 630) + `}`},
		{Name: "list-under-bound", Subject: `{"a":{"@list":[` + numbered(`"%d"`, 990) + `]}}`},
		{Name: "contexts-under-bound", Subject: `{"a":[` + repeat(`{"@context":{"x":"urn:x"},"x":"1"}`, 60) + `]}`},
	}
}

// properties returns n properties of k distinct values each: n·k values
// and n·k²/2 comparisons in json-gold's node map.
func properties(n, k int) string {
	var parts []string
	for p := range n {
		parts = append(parts, fmt.Sprintf(`"p%d":[%s]`, p, numbered(`"%d"`, k)))
	}
	return strings.Join(parts, ",")
}

// Signer is the did:key Ed25519 key named by the documents' proofs.
func Signer() credential.KeySigner {
	k, err := keys.Generate(keys.Ed25519, bytes.NewReader(bytes.Repeat([]byte{10}, 64)))
	if err != nil {
		panic(err)
	}
	mb := k.Public().Multibase()
	return credential.KeySigner{ID: "did:key:" + mb + "#" + mb, Key: k}
}

// Credential returns a credential with subject as its credentialSubject
// and an eddsa-rdfc-2022 proof by [Signer] whose signature is wrong: a
// verifier resolves the key and canonicalizes the document before it can
// tell, which is the work the shapes make expensive.
func Credential(subject string) []byte {
	s := Signer()
	issuer, _, _ := strings.Cut(s.ID, "#")
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/examples/v2"],`+
		`"id":"urn:uuid:9b7b3c3e-10a4-4c6e-9c1e-000000000010","type":["VerifiableCredential"],"issuer":%q,`+
		`"validFrom":"2026-01-01T00:00:00Z","credentialSubject":%s,`+
		`"proof":{"type":"DataIntegrityProof","cryptosuite":"eddsa-rdfc-2022","created":"2026-01-01T00:00:00Z",`+
		`"verificationMethod":%q,"proofPurpose":"assertionMethod","proofValue":%q}}`,
		issuer, subject, s.ID, badSignature)
	return b.Bytes()
}

// badSignature is 64 bytes of 0x11 in base58btc: a well-formed
// eddsa-rdfc-2022 proofValue that no key made.
const badSignature = "zLnrbZDPq59Ywk2Ddy9zVxg7KVaDBPRpikn7V7A3ZWgEb2JK6JYLkQKJCbqyeji46k7svBPp5UsFu4v4mh1DGzTJ"

// Document decodes [Credential] as encoding/json does.
func Document(subject string) map[string]any {
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(Credential(subject)))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		panic(fmt.Sprintf("ldtest: %v", err))
	}
	return m
}
