package issuer_test

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/ld"
	"github.com/idmesh/idmesh/issuer"
)

const examplesV2 = "https://www.w3.org/ns/credentials/examples/v2"

// sriOf is the digestSRI (sha256) of content; multibaseOf its
// digestMultibase (a base64url sha2-256 multihash).
func sriOf(content []byte) string {
	sum := sha256.Sum256(content)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

func multibaseOf(content []byte) string {
	sum := sha256.Sum256(content)
	return "u" + base64.RawURLEncoding.EncodeToString(append([]byte{0x12, 0x20}, sum[:]...))
}

// TestIssueRelatedResource: issuance is never looser than verification.
// A relatedResource whose content idmesh holds (a bundled context) must
// match every digest given, in every format, or the credential is refused
// with RESOURCE_INTEGRITY_ERROR, the verifier's type; a resource idmesh
// does not hold is not fetched and does not stop issuance.
func TestIssueRelatedResource(t *testing.T) {
	signer, ks := MustSigner(t, 1)
	me := credential.ControllerOf(signer.ID)
	examples, ok := ld.Context(examplesV2)
	if !ok {
		t.Fatal("examples context not bundled")
	}
	other := []byte("not the context")
	sum384 := sha512.Sum384(examples)
	entry := func(id string, digests ...string) map[string]any {
		m := map[string]any{"id": id}
		for i := 0; i+1 < len(digests); i += 2 {
			m[digests[i]] = digests[i+1]
		}
		return m
	}
	cases := []struct {
		name    string
		related []any
		// code is the error's code; "" means issued.
		code credential.Code
	}{
		{name: "SRI matches", related: []any{entry(examplesV2, "digestSRI", sriOf(examples))}},
		{name: "multibase matches", related: []any{entry(examplesV2, "digestMultibase", multibaseOf(examples))}},
		{name: "both match", related: []any{entry(examplesV2, "digestSRI", sriOf(examples), "digestMultibase", multibaseOf(examples))}},
		{name: "SRI, one of two digests matches", related: []any{entry(examplesV2, "digestSRI", sriOf(other)+" sha384-"+base64.StdEncoding.EncodeToString(sum384[:]))}},
		{name: "not held, not fetched", related: []any{entry("https://example.com/terms.html", "digestSRI", sriOf(other))}},
		{name: "SRI mismatch", related: []any{entry(examplesV2, "digestSRI", sriOf(other))}, code: credential.ResourceIntegrityError},
		{name: "multibase mismatch", related: []any{entry(examplesV2, "digestMultibase", multibaseOf(other))}, code: credential.ResourceIntegrityError},
		{name: "SRI matches, multibase does not", related: []any{entry(examplesV2, "digestSRI", sriOf(examples), "digestMultibase", multibaseOf(other))}, code: credential.ResourceIntegrityError},
		{name: "base context mismatch after one not held", related: []any{
			entry("https://example.com/terms.html", "digestSRI", sriOf(other)),
			entry(credential.ContextV2, "digestSRI", sriOf(other)),
		}, code: credential.ResourceIntegrityError},
		{name: "malformed digest", related: []any{entry(examplesV2, "digestSRI", "md5-AAAA")}, code: credential.MalformedValueError},
	}
	for _, format := range issuer.Formats {
		for _, c := range cases {
			t.Run(format+"/"+c.name, func(t *testing.T) {
				m := degree(me)
				m["relatedResource"] = c.related
				vc, err := issuer.Issue(t.Context(), m, signer, issuer.Options{Format: format, Now: t0})
				if c.code != "" {
					if got := credential.CodeOf(err, ""); got != c.code || vc != nil {
						t.Fatalf("error %v (code %q), want %s", err, got, c.code)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				MustOpen(t, vc, ks)
			})
		}
	}
}
