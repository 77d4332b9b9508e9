package dataintegrity_test

import (
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
)

// TestRetiredKeyClaimedTime: a proof by a retired key verifies only if
// its created is before the retirement; without created it does not; a
// compromised key verifies nothing, whatever created says.
func TestRetiredKeyClaimedTime(t *testing.T) {
	for _, suite := range suites(t) {
		t.Run(suite, func(t *testing.T) {
			signer := MustKeyPair(t, MustLoadJSON(t, "keyPair.json"))
			unsigned := MustLoadJSON(t, "unsigned.json")
			sign := func(created time.Time) map[string]any {
				out, err := dataintegrity.Sign(t.Context(), unsigned, signer, dataintegrity.SignOptions{Cryptosuite: suite, Created: created})
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			withCreated, noCreated := sign(vectorTime), sign(time.Time{})
			if _, ok := proofOf(noCreated)["created"]; ok {
				t.Fatal("signed with a created")
			}
			key := func(retired time.Time, compromised bool) credential.KeyResolver {
				var r credential.StaticKeys
				r.Add(credential.VerificationKey{ID: signer.ID, Public: signer.Public(), RetiredAt: retired, Compromised: compromised}, credential.PurposeAssertion)
				return &r
			}
			for _, tc := range []struct {
				name        string
				doc         map[string]any
				retired     time.Time
				compromised bool
				code        credential.Code // "" verifies
			}{
				{"current key", withCreated, time.Time{}, false, ""},
				{"current key, no created", noCreated, time.Time{}, false, ""},
				{"retired after created", withCreated, vectorTime.Add(time.Second), false, ""},
				{"retired at created", withCreated, vectorTime, false, credential.KeyRetiredError},
				{"retired before created", withCreated, vectorTime.Add(-time.Hour), false, credential.KeyRetiredError},
				{"retired, no created", noCreated, vectorTime.Add(time.Hour), false, credential.KeyRetiredError},
				{"compromised, created before the rotation", withCreated, vectorTime.Add(time.Hour), true, credential.KeyCompromisedError},
				{"compromised current key", withCreated, time.Time{}, true, credential.KeyCompromisedError},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := dataintegrity.Verify(t.Context(), tc.doc, key(tc.retired, tc.compromised), dataintegrity.VerifyOptions{ExpectedProofPurpose: credential.PurposeAssertion})
					if tc.code == "" {
						if err != nil {
							t.Fatalf("want verified: %v", err)
						}
						return
					}
					wantCode(t, err, tc.code)
				})
			}
		})
	}
}
