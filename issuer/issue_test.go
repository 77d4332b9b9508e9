package issuer_test

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/issuer"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// MustSigner returns a did:key signer whose Ed25519 key comes from a
// ChaCha8 stream seeded with seed, and the keys that verify it.
func MustSigner(tb testing.TB, seed byte) (credential.KeySigner, *credential.StaticKeys) {
	tb.Helper()
	k, err := keys.Generate(keys.Ed25519, rand.NewChaCha8([32]byte{seed}))
	if err != nil {
		tb.Fatal(err)
	}
	d := key.New(k.Public())
	s := credential.KeySigner{ID: d + "#" + k.Public().Multibase(), Key: k}
	var ks credential.StaticKeys
	ks.Add(credential.VerificationKey{ID: s.ID, Controller: d, Public: k.Public()}, credential.PurposeAssertion)
	return s, &ks
}

// MustClone deep-copies a JSON object.
func MustClone(tb testing.TB, m map[string]any) map[string]any {
	tb.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		tb.Fatal(err)
	}
	return out
}

func degree(iss string) map[string]any {
	m := map[string]any{
		"@context": []any{credential.ContextV2, "https://www.w3.org/ns/credentials/examples/v2"},
		"type":     []any{credential.TypeCredential, "ExampleDegreeCredential"},
		"credentialSubject": map[string]any{
			"id":     "did:example:ebfeb1f712ebc6f1c276e12ec21",
			"degree": map[string]any{"type": "ExampleBachelorDegree", "name": "Bachelor of Science and Arts"},
		},
	}
	if iss != "" {
		m["issuer"] = iss
	}
	return m
}

// MustOpen verifies an issued credential and returns its unsecured
// content (the JWT payload, or the object with its proof).
func MustOpen(tb testing.TB, vc map[string]any, ks credential.KeyResolver) map[string]any {
	tb.Helper()
	if vc["type"] == credential.TypeEnvelopedCredential {
		tok, mt, err := jose.Unenvelope(vc)
		if err != nil {
			tb.Fatal(err)
		}
		payload, _, err := jose.Verify(tb.Context(), tok, mt, ks, jose.VerifyOptions{Now: t0})
		if err != nil {
			tb.Fatalf("verify vc+jwt: %v", err)
		}
		return payload
	}
	if _, err := dataintegrity.Verify(tb.Context(), vc, ks, dataintegrity.VerifyOptions{Now: t0}); err != nil {
		tb.Fatalf("verify: %v", err)
	}
	return vc
}

func TestIssue(t *testing.T) {
	signer, ks := MustSigner(t, 1)
	other, _ := MustSigner(t, 2)
	me := credential.ControllerOf(signer.ID)
	type tc struct {
		name string
		cred func() map[string]any
		opts issuer.Options // Format is set per format
		// code is the error's code; "" means issued.
		code credential.Code
		// codeRDFC, when set, is the code for eddsa-rdfc-2022.
		codeRDFC credential.Code
		// check inspects the issued credential's content.
		check func(t *testing.T, content map[string]any)
	}
	cases := []tc{
		{
			name: "issued", cred: func() map[string]any { return degree(me) }, opts: issuer.Options{Now: t0},
			check: func(t *testing.T, m map[string]any) {
				if m["issuer"] != me || m["validFrom"] != "2026-03-01T12:00:00Z" {
					t.Errorf("issuer %v, validFrom %v", m["issuer"], m["validFrom"])
				}
			},
		},
		{
			name: "issuer filled in", cred: func() map[string]any { return degree("") }, opts: issuer.Options{Now: t0},
			check: func(t *testing.T, m map[string]any) {
				if m["issuer"] != me {
					t.Errorf("issuer %v, want %s", m["issuer"], me)
				}
			},
		},
		{
			name: "issuer object", cred: func() map[string]any {
				m := degree("")
				m["issuer"] = map[string]any{"id": me, "name": "Example University"}
				return m
			},
			check: func(t *testing.T, m map[string]any) {
				if iss, _ := m["issuer"].(map[string]any); iss["id"] != me {
					t.Errorf("issuer %v", m["issuer"])
				}
			},
		},
		{
			name: "validFrom kept", cred: func() map[string]any {
				m := degree(me)
				m["validFrom"] = "2025-01-01T00:00:00Z"
				return m
			},
			opts: issuer.Options{Now: t0},
			check: func(t *testing.T, m map[string]any) {
				if m["validFrom"] != "2025-01-01T00:00:00Z" {
					t.Errorf("validFrom %v", m["validFrom"])
				}
			},
		},
		{
			name: "no clock, no validFrom", cred: func() map[string]any { return degree(me) },
			check: func(t *testing.T, m map[string]any) {
				if _, ok := m["validFrom"]; ok {
					t.Errorf("validFrom %v", m["validFrom"])
				}
			},
		},
		{name: "issuer mismatch", cred: func() map[string]any { return degree(credential.ControllerOf(other.ID)) }, code: credential.IssuerMismatchError},
		{name: "proof already present", cred: func() map[string]any {
			m := degree(me)
			m["proof"] = map[string]any{"type": "DataIntegrityProof"}
			return m
		}, code: credential.MalformedValueError},
		// VC 1.1 is issued with eddsa-rdfc-2022 only (issue 12), and this
		// credential not even so: the 1.1 examples context imports ODRL's,
		// which is not bundled (TestIssueV1 issues 1.1 credentials).
		{name: "VC 1.1", cred: func() map[string]any {
			m := degree(me)
			m["@context"] = []any{credential.ContextV1, "https://www.w3.org/2018/credentials/examples/v1"}
			m["issuanceDate"] = "2025-01-01T00:00:00Z"
			return m
		}, code: credential.MalformedValueError, codeRDFC: credential.ProofTransformationError},
		{name: "enveloped", cred: func() map[string]any {
			return map[string]any{"@context": []any{credential.ContextV2}, "type": credential.TypeEnvelopedCredential, "id": "data:application/vc+jwt,a.b.c"}
		}, code: credential.MalformedValueError},
		{name: "unknown context", cred: func() map[string]any {
			m := degree(me)
			m["@context"] = append(m["@context"].([]any), "https://example.com/unknown/v1")
			return m
		}, code: credential.UnknownContextError},
		{name: "not a credential", cred: func() map[string]any {
			m := degree(me)
			delete(m, "credentialSubject")
			return m
		}, code: credential.MalformedValueError},
		{name: "nil", cred: func() map[string]any { return nil }, code: credential.MalformedValueError},
	}
	for _, format := range issuer.Formats {
		for _, c := range cases {
			t.Run(format+"/"+c.name, func(t *testing.T) {
				in := c.cred()
				var before map[string]any
				if in != nil {
					before = MustClone(t, in)
				}
				opts := c.opts
				opts.Format = format
				vc, err := issuer.Issue(t.Context(), in, signer, opts)
				if in != nil && !reflect.DeepEqual(MustClone(t, in), before) {
					t.Errorf("input modified:\n%v\nwas\n%v", in, before)
				}
				code := c.code
				if c.codeRDFC != "" && format == issuer.FormatRDFC {
					code = c.codeRDFC
				}
				if code != "" {
					if got := credential.CodeOf(err, ""); got != code {
						t.Fatalf("error %v (code %q), want %s", err, got, code)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				content := MustOpen(t, vc, ks)
				if format != issuer.FormatJWT {
					proof := vc["proof"].(map[string]any)
					if proof["cryptosuite"] != format || proof["verificationMethod"] != signer.ID || proof["proofPurpose"] != credential.PurposeAssertion {
						t.Errorf("proof %v", proof)
					}
					if !opts.Now.IsZero() && proof["created"] != credential.FormatDateTime(opts.Now) {
						t.Errorf("proof created %v, want %v", proof["created"], opts.Now)
					}
				}
				if c.check != nil {
					c.check(t, content)
				}
			})
		}
	}
}

func TestIssueUnknownFormat(t *testing.T) {
	signer, _ := MustSigner(t, 1)
	_, err := issuer.Issue(t.Context(), degree(""), signer, issuer.Options{Format: "ldp_vc"})
	if credential.CodeOf(err, "") != credential.MalformedValueError {
		t.Fatalf("unknown format: %v", err)
	}
}

// TestIssueDefaultFormat checks that the default is eddsa-rdfc-2022.
func TestIssueDefaultFormat(t *testing.T) {
	signer, _ := MustSigner(t, 1)
	vc, err := issuer.Issue(t.Context(), degree(""), signer, issuer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := vc["proof"].(map[string]any)["cryptosuite"]; got != issuer.FormatRDFC {
		t.Fatalf("cryptosuite %v", got)
	}
}
