package verifier_test

import (
	"encoding/json"
	"maps"
	"testing"

	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/verifier"
)

// TestAppendJSONSignedPayload: the document of a vc+jwt credential as
// idmesh issues it is written as its signed JSON text, byte for byte what
// encoding/json writes for it; a document changed after the verification
// (a member added in place, or a new map), or a payload signed in another
// form (space, members out of order), is encoded.
func TestAppendJSONSignedPayload(t *testing.T) {
	f := newFixture(t)
	v := f.verifier()
	verified := func(vc any) verifier.Result {
		t.Helper()
		res := v.VerifyCredential(t.Context(), vc, verifier.Options{})
		if !res.Verified {
			t.Fatalf("not verified: %+v", res.ProblemDetails)
		}
		return res
	}
	vc := MustIssue(t, degree(f.iss.DID), f.iss.Signer, issuer.FormatJWT)

	res := verified(vc)
	if verifier.SignedText(res) == "" {
		t.Fatal("an issued vc+jwt credential's document is encoded, not written as its text")
	}
	checkSameJSON(t, res)

	res.Document["extra"] = "added in place"
	if verifier.SignedText(res) != "" {
		t.Fatal("a document with a member added is written as the signed text")
	}
	checkSameJSON(t, res)

	res = verified(vc)
	doc := maps.Clone(res.Document)
	doc["issuer"] = "did:example:replaced"
	res.Document = doc
	if verifier.SignedText(res) != "" {
		t.Fatal("a replaced document is written as the signed text")
	}
	checkSameJSON(t, res)

	// The same credential signed with space between its members.
	payload, err := json.MarshalIndent(verified(vc).Document, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jose.SignCompact(payload, "vc+jwt", f.iss.Signer.ID, f.iss.Signer, "")
	if err != nil {
		t.Fatal(err)
	}
	res = verified(jose.Envelope(tok, jose.MediaTypeVC))
	if verifier.SignedText(res) != "" {
		t.Fatal("a payload with space is written as its text")
	}
	checkSameJSON(t, res)
}
