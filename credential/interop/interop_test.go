package interop_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/credential/ld"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
)

// nodeTimeout bounds one run of a script.
const nodeTimeout = 60 * time.Second

// created is the proof creation time both sides sign with, so that their
// proofs over the same credential are byte-identical.
var created = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// requireInterop skips the test unless IDMESH_INTEROP=1. When it is set, a
// missing node or npm install is a failure, not a skip.
func requireInterop(tb testing.TB) {
	tb.Helper()
	if os.Getenv("IDMESH_INTEROP") != "1" {
		tb.Skip("interop with the reference JavaScript implementations: set IDMESH_INTEROP=1 (make interop)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		tb.Fatalf("IDMESH_INTEROP=1 needs node: %v", err)
	}
	if _, err := os.Stat(filepath.Join("node_modules", "@digitalbazaar", "vc", "package.json")); err != nil {
		tb.Fatalf("run `npm ci` in credential/interop first (make interop does): %v", err)
	}
}

// runNode runs js/script with stdin and returns its stdout, or an error
// carrying its stderr.
func runNode(tb testing.TB, script string, stdin []byte, args ...string) ([]byte, error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{filepath.Join("js", script)}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("node %s: %w\n%s", script, err, stderr.Bytes())
	}
	return out, nil
}

// MustNode is runNode that fails the test on an error.
func MustNode(tb testing.TB, script string, stdin []byte, args ...string) []byte {
	tb.Helper()
	out, err := runNode(tb, script, stdin, args...)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// MustJSON encodes v.
func MustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// MustDecode decodes b as one JSON value into a fresh T.
func MustDecode[T any](tb testing.TB, b []byte) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		tb.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// clone deep-copies a JSON document.
func clone(tb testing.TB, doc map[string]any) map[string]any {
	tb.Helper()
	return MustDecode[map[string]any](tb, MustJSON(tb, doc))
}

// sameJSON reports whether a and b encode to the same JSON value (numbers
// compared as float64, whatever their Go type).
func sameJSON(tb testing.TB, a, b any) bool {
	tb.Helper()
	return reflect.DeepEqual(MustDecode[any](tb, MustJSON(tb, a)), MustDecode[any](tb, MustJSON(tb, b)))
}

// testKey is an Ed25519 key with its seed and its did:key identifiers.
type testKey struct {
	seed []byte
	priv keys.PrivateKey
	did  string // did:key:z6Mk…
	vmID string // did:key:z6Mk…#z6Mk…
}

// MustKey derives a key from label, the same on every run.
func MustKey(tb testing.TB, label string) testKey {
	tb.Helper()
	seed := sha256.Sum256([]byte("idmesh interop " + label))
	priv, err := keys.Generate(keys.Ed25519, bytes.NewReader(seed[:]))
	if err != nil {
		tb.Fatal(err)
	}
	d := key.New(priv.Public())
	return testKey{seed: seed[:], priv: priv, did: d, vmID: d + "#" + priv.Public().Multibase()}
}

func (k testKey) signer() credential.KeySigner { return credential.KeySigner{ID: k.vmID, Key: k.priv} }

// resolver holds k's method under assertionMethod, as its did:key document does.
func (k testKey) resolver() *credential.StaticKeys {
	var s credential.StaticKeys
	s.Add(credential.VerificationKey{ID: k.vmID, Controller: k.did, Public: k.priv.Public()}, credential.PurposeAssertion)
	return &s
}

// credentials returns the credentials both sides sign, each issued by issuer.
func credentials(tb testing.TB, issuer string) map[string]map[string]any {
	tb.Helper()
	docs := map[string]string{
		// The vc-di-eddsa specification's credential.
		"alumni": `{
			"@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
			"id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
			"type": ["VerifiableCredential", "AlumniCredential"],
			"name": "Alumni Credential",
			"description": "A minimum viable example of an Alumni Credential.",
			"issuer": "ISSUER",
			"validFrom": "2023-01-01T00:00:00Z",
			"credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"}
		}`,
		// Nested blank nodes, language and direction, numbers, Unicode.
		"employment": `{
			"@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
			"type": ["VerifiableCredential", "EmploymentCredential"],
			"issuer": {"id": "ISSUER", "name": {"@value": "Société Générale d'Exemples", "@language": "fr"}},
			"validFrom": "2024-05-06T07:08:09Z",
			"validUntil": "2030-05-06T07:08:09Z",
			"credentialSubject": {
				"name": "Zoë Łukasiewicz-O'Brien 山田 🎉",
				"title": {"@value": "Ingénieure", "@language": "fr-CA"},
				"employer": {"name": "Example Corp", "address": {"street": "1 Main St\nSuite \"2\"", "country": "NZ"}},
				"roles": [{"name": "lead", "since": 2019}, {"name": "lead", "since": 2019}, {"name": "staff", "since": 2015}],
				"salary": 123456.78,
				"grade": 7,
				"active": true
			}
		}`,
		// A name with a base direction (VC Data Model 2.0, 11.1).
		"direction": `{
			"@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
			"type": ["VerifiableCredential"],
			"issuer": "ISSUER",
			"name": {"@value": "شهادة الخريج", "@language": "ar", "@direction": "rtl"},
			"credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"}
		}`,
		// A VC Data Model 1.1 credential. (The v1 examples context needs
		// ODRL's, which neither side bundles: its terms are inline here.)
		"v1": `{
			"@context": ["https://www.w3.org/2018/credentials/v1", {
				"AlumniCredential": "https://example.org/examples#AlumniCredential",
				"alumniOf": {"@id": "https://schema.org/alumniOf", "@type": "@id"},
				"name": "https://schema.org/name"}],
			"id": "http://example.edu/credentials/1872",
			"type": ["VerifiableCredential", "AlumniCredential"],
			"issuer": "ISSUER",
			"issuanceDate": "2010-01-01T19:23:24Z",
			"credentialSubject": {"id": "did:example:ebfeb1f712ebc6f1c276e12ec21", "alumniOf": {"id": "did:example:c276e12ec21ebfeb1f712ebc6f1", "name": "Example University"}}
		}`,
	}
	out := map[string]map[string]any{}
	for name, doc := range docs {
		out[name] = MustDecode[map[string]any](tb, []byte(strings.ReplaceAll(doc, "ISSUER", issuer)))
	}
	return out
}

// jsDeviations are known bugs of the reference verifier, by suite/credential:
// where it rejects a correct Go proof with exactly that error, the test
// reports the deviation instead of failing.
var jsDeviations = map[string]struct{ error, why string }{
	// eddsa-jcs-2022-cryptosuite 1.0.0 compares proof.@context with the
	// document's entry by entry with !==, so an inline context object (never
	// === after JSON decoding) fails the "starts with" check of the spec's
	// verification step 4.1; it cannot verify its own such proofs either.
	"eddsa-jcs-2022/v1": {
		error: "document.@context does not start with proof.@context",
		why:   "eddsa-jcs-2022-cryptosuite 1.0.0 compares inline @context objects with !== (spec 3.3.2 step 4.1 wants equal values)",
	},
}

// tampers are changes that must invalidate a proof or a signature.
var tampers = map[string]func(doc map[string]any){
	"subject": func(doc map[string]any) {
		doc["credentialSubject"].(map[string]any)["tampered"] = "yes"
	},
	"issuer": func(doc map[string]any) {
		if m, ok := doc["issuer"].(map[string]any); ok {
			m["id"] = "did:example:mallory"
			return
		}
		doc["issuer"] = "did:example:mallory"
	},
	"proof-created": func(doc map[string]any) {
		if p, ok := doc["proof"].(map[string]any); ok {
			p["created"] = "2000-01-01T00:00:00Z"
		}
	},
}

// diVerdict is the output of di-verify.mjs.
type diVerdict struct {
	Verified   bool   `json:"verified"`
	Error      string `json:"error"`
	Credential struct {
		Verified bool   `json:"verified"`
		Error    string `json:"error"`
	} `json:"credential"`
}

func jsVerifyDI(tb testing.TB, doc map[string]any) diVerdict {
	tb.Helper()
	return MustDecode[diVerdict](tb, MustNode(tb, "di-verify.mjs", MustJSON(tb, doc)))
}

// jsVerifyDIBatch verifies several documents in one run of di-verify.mjs.
func jsVerifyDIBatch(tb testing.TB, docs []map[string]any) []diVerdict {
	tb.Helper()
	out := MustDecode[[]diVerdict](tb, MustNode(tb, "di-verify.mjs", MustJSON(tb, docs), "--batch"))
	if len(out) != len(docs) {
		tb.Fatalf("di-verify.mjs returned %d verdicts for %d documents", len(out), len(docs))
	}
	return out
}

func jsSignDI(tb testing.TB, doc map[string]any, k testKey, suite string) map[string]any {
	tb.Helper()
	in := map[string]any{
		"credential":  doc,
		"seed":        hex.EncodeToString(k.seed),
		"created":     dataintegrity.FormatDateTime(created),
		"cryptosuite": suite,
	}
	return MustDecode[map[string]any](tb, MustNode(tb, "di-sign.mjs", MustJSON(tb, in)))
}

func goSignDI(tb testing.TB, doc map[string]any, k testKey, suite string) map[string]any {
	tb.Helper()
	signed, err := dataintegrity.Sign(tb.Context(), clone(tb, doc), k.signer(), dataintegrity.SignOptions{Cryptosuite: suite, Created: created})
	if err != nil {
		tb.Fatalf("dataintegrity.Sign %s: %v\n%s", suite, err, MustJSON(tb, doc))
	}
	return signed
}

func goVerifyDI(tb testing.TB, doc map[string]any, k testKey) error {
	tb.Helper()
	_, err := dataintegrity.Verify(tb.Context(), clone(tb, doc), k.resolver(), dataintegrity.VerifyOptions{})
	return err
}

// TestDataIntegrity: for both EdDSA cryptosuites, what Go signs the
// reference verifies and what the reference signs Go verifies; a tampered
// document fails on both sides; and both sides, signing the same credential
// with the same key at the same time, produce the same proof.
func TestDataIntegrity(t *testing.T) {
	requireInterop(t)
	k := MustKey(t, "issuer")
	for _, suite := range []string{"eddsa-rdfc-2022", "eddsa-jcs-2022"} {
		for name, cred := range credentials(t, k.did) {
			t.Run(suite+"/"+name, func(t *testing.T) {
				t.Parallel()
				var goSigned, jsSigned map[string]any
				t.Run("go-signs-js-verifies", func(t *testing.T) {
					goSigned = goSignDI(t, cred, k, suite)
					docs := []map[string]any{goSigned}
					names := slices.Sorted(maps.Keys(tampers))
					for _, tn := range names {
						doc := clone(t, goSigned)
						tampers[tn](doc)
						docs = append(docs, doc)
					}
					vs := jsVerifyDIBatch(t, docs)
					if dev, ok := jsDeviations[suite+"/"+name]; ok && !vs[0].Verified && strings.Contains(vs[0].Error, dev.error) {
						t.Skipf("known reference deviation: %s", dev.why)
					}
					if v := vs[0]; !v.Verified || !v.Credential.Verified {
						t.Fatalf("reference rejects the Go proof: proof %v (%s), credential %v (%s)\n%s",
							v.Verified, v.Error, v.Credential.Verified, v.Credential.Error, MustJSON(t, goSigned))
					}
					for i, tn := range names {
						if vs[i+1].Verified {
							t.Errorf("reference accepts the Go proof tampered (%s)", tn)
						}
					}
				})
				t.Run("js-signs-go-verifies", func(t *testing.T) {
					jsSigned = jsSignDI(t, cred, k, suite)
					if err := goVerifyDI(t, jsSigned, k); err != nil {
						t.Fatalf("Go rejects the reference proof: %v\n%s", err, MustJSON(t, jsSigned))
					}
					for tn, tamper := range tampers {
						doc := clone(t, jsSigned)
						tamper(doc)
						if err := goVerifyDI(t, doc, k); err == nil {
							t.Errorf("Go accepts the reference proof tampered (%s)", tn)
						}
					}
				})
				t.Run("same-proof", func(t *testing.T) {
					if goSigned == nil || jsSigned == nil {
						t.Skip("a side did not sign")
					}
					if reflect.DeepEqual(goSigned, jsSigned) {
						return
					}
					// Ed25519 is deterministic: over the same document and
					// proof options both sides must sign the same bytes.
					g, j := clone(t, goSigned), clone(t, jsSigned)
					delete(g["proof"].(map[string]any), "proofValue")
					delete(j["proof"].(map[string]any), "proofValue")
					if reflect.DeepEqual(g, j) {
						t.Errorf("same document and proof options, different signatures\nGo: %s\nJS: %s", MustJSON(t, goSigned), MustJSON(t, jsSigned))
						return
					}
					t.Logf("the sides secure the credential differently (both verify)\nGo: %s\nJS: %s", MustJSON(t, goSigned), MustJSON(t, jsSigned))
				})
			})
		}
	}
}

// TestDataIntegritySpecVector: the reference verifier accepts the
// specification's signed credential as the Go side embeds it.
func TestDataIntegritySpecVector(t *testing.T) {
	requireInterop(t)
	b, err := os.ReadFile(filepath.Join("..", "ld", "testdata", "vc-di-eddsa", "eddsa-rdfc-2022-signedDataInt.json"))
	if err != nil {
		t.Fatal(err)
	}
	if v := jsVerifyDI(t, MustDecode[map[string]any](t, b)); !v.Verified {
		t.Fatalf("reference rejects the vc-di-eddsa vector: %s", v.Error)
	}
}

// jwtVerdict is the output of jwt-verify.mjs.
type jwtVerdict struct {
	Verified bool           `json:"verified"`
	Error    string         `json:"error"`
	Header   map[string]any `json:"header"`
	Payload  map[string]any `json:"payload"`
}

func jsSignJWT(tb testing.TB, cred map[string]any, k testKey, typ string) string {
	tb.Helper()
	in := map[string]any{"credential": cred, "seed": hex.EncodeToString(k.seed)}
	if typ != "" {
		in["typ"] = typ
	}
	return strings.TrimSpace(string(MustNode(tb, "jwt-sign.mjs", MustJSON(tb, in))))
}

func jsVerifyJWT(tb testing.TB, token string) jwtVerdict {
	tb.Helper()
	return MustDecode[jwtVerdict](tb, MustNode(tb, "jwt-verify.mjs", []byte(token)))
}

// tamperPayload replaces a JWS payload with one that adds a claim to the
// credential subject, keeping header and signature.
func tamperPayload(tb testing.TB, token string) string {
	tb.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		tb.Fatalf("not a compact JWS: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatal(err)
	}
	doc := MustDecode[map[string]any](tb, raw)
	tampers["subject"](doc)
	parts[1] = base64.RawURLEncoding.EncodeToString(MustJSON(tb, doc))
	return strings.Join(parts, ".")
}

// TestJWT: application/vc+jwt both ways with the jose package.
func TestJWT(t *testing.T) {
	requireInterop(t)
	k := MustKey(t, "issuer")
	creds := credentials(t, k.did)
	for _, name := range []string{"alumni", "employment"} {
		cred := creds[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			t.Run("go-signs-js-verifies", func(t *testing.T) {
				token, err := jose.SignCredential(clone(t, cred), k.signer(), jose.SignOptions{})
				if err != nil {
					t.Fatalf("jose.SignCredential: %v", err)
				}
				v := jsVerifyJWT(t, string(token))
				if !v.Verified {
					t.Fatalf("reference rejects the Go token: %s\n%s", v.Error, token)
				}
				if v.Header["kid"] != k.vmID || v.Header["typ"] != "vc+jwt" || v.Header["alg"] != "EdDSA" {
					t.Errorf("header %v, want kid %s, typ vc+jwt, alg EdDSA", v.Header, k.vmID)
				}
				if !sameJSON(t, v.Payload, cred) {
					t.Errorf("payload\n%s\nwant the credential\n%s", MustJSON(t, v.Payload), MustJSON(t, cred))
				}
				if v := jsVerifyJWT(t, tamperPayload(t, string(token))); v.Verified {
					t.Errorf("reference accepts the Go token with a tampered payload")
				}
			})
			t.Run("js-signs-go-verifies", func(t *testing.T) {
				token := jsSignJWT(t, cred, k, "")
				got, vk, err := jose.Verify(t.Context(), token, jose.MediaTypeVC, k.resolver(), jose.VerifyOptions{})
				if err != nil {
					t.Fatalf("Go rejects the reference token: %v\n%s", err, token)
				}
				if vk.ID != k.vmID {
					t.Errorf("Go verified with %s, want %s", vk.ID, k.vmID)
				}
				if !sameJSON(t, got, cred) {
					t.Errorf("Go returns\n%s\nwant the credential\n%s", MustJSON(t, got), MustJSON(t, cred))
				}
				if _, _, err := jose.Verify(t.Context(), tamperPayload(t, token), jose.MediaTypeVC, k.resolver(), jose.VerifyOptions{}); err == nil {
					t.Errorf("Go accepts the reference token with a tampered payload")
				}
				wrongTyp := jsSignJWT(t, cred, k, "JWT")
				if _, _, err := jose.Verify(t.Context(), wrongTyp, jose.MediaTypeVC, k.resolver(), jose.VerifyOptions{}); err == nil {
					t.Errorf("Go accepts a token of typ JWT as application/vc+jwt")
				}
				if v := jsVerifyJWT(t, wrongTyp); v.Verified {
					t.Errorf("reference accepts a token of typ JWT")
				}
			})
		})
	}
}

// TestContextsIndex: js/contexts.json, the contexts the scripts load, is
// exactly the set credential/ld embeds, file for file.
func TestContextsIndex(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("js", "contexts.json"))
	if err != nil {
		t.Fatal(err)
	}
	index := MustDecode[map[string]string](t, b)
	var urls []string
	for url, file := range index {
		urls = append(urls, url)
		got, err := os.ReadFile(filepath.Join("..", "ld", "contexts", filepath.FromSlash(file)))
		if err != nil {
			t.Errorf("%s: %v", url, err)
			continue
		}
		want, ok := ld.Context(url)
		if !ok {
			t.Errorf("%s: in js/contexts.json but not bundled by credential/ld", url)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: %s differs from the context credential/ld embeds", url, file)
		}
	}
	slices.Sort(urls)
	if known := ld.Known(); !slices.Equal(urls, known) {
		t.Errorf("js/contexts.json has\n%v\ncredential/ld bundles\n%v", urls, known)
	}
}
