package jose_test

import (
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
)

// TestRetiredKeyClaimedTime: a token by a retired key verifies only if
// the time it claims (iat, else validFrom, else issuanceDate) is before
// the retirement; a token that claims no time does not; a compromised
// key verifies nothing. SignCredential with IssuedAt writes iat.
func TestRetiredKeyClaimedTime(t *testing.T) {
	f := MustFixture(t)
	rotated := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	before, after := rotated.Add(-time.Hour), rotated.Add(time.Hour)
	iso := func(t time.Time) string { return t.Format(time.RFC3339) }
	token := func(edit func(m map[string]any)) string {
		c := credentialDoc(issuerDID)
		delete(c, "validFrom")
		edit(c)
		return rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), mustJSON(t, c), f.ed)
	}
	key := func(retired time.Time, compromised bool) credential.KeyResolver {
		var r credential.StaticKeys
		r.Add(credential.VerificationKey{ID: f.ed.ID, Controller: issuerDID, Public: f.ed.Public(), RetiredAt: retired, Compromised: compromised}, credential.PurposeAssertion)
		return &r
	}
	signed, err := jose.SignCredential(credentialDoc(issuerDID), f.ed, jose.SignOptions{IssuedAt: before})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		token       string
		retired     time.Time
		compromised bool
		code        credential.Code // "" verifies
	}{
		{"current key, no claimed time", token(func(map[string]any) {}), time.Time{}, false, ""},
		{"iat before", token(func(m map[string]any) { m["iat"] = before.Unix() }), rotated, false, ""},
		{"iat after", token(func(m map[string]any) { m["iat"] = after.Unix() }), rotated, false, credential.KeyRetiredError},
		{"iat at the rotation", token(func(m map[string]any) { m["iat"] = rotated.Unix() }), rotated, false, credential.KeyRetiredError},
		{"iat wins over validFrom", token(func(m map[string]any) { m["iat"] = after.Unix(); m["validFrom"] = iso(before) }), rotated, false, credential.KeyRetiredError},
		{"iat not a number", token(func(m map[string]any) { m["iat"] = "yesterday" }), rotated, false, credential.MalformedValueError},
		{"validFrom before", token(func(m map[string]any) { m["validFrom"] = iso(before) }), rotated, false, ""},
		{"validFrom after", token(func(m map[string]any) { m["validFrom"] = iso(after) }), rotated, false, credential.KeyRetiredError},
		{"issuanceDate before", token(func(m map[string]any) { m["issuanceDate"] = iso(before) }), rotated, false, ""},
		{"issuanceDate after", token(func(m map[string]any) { m["issuanceDate"] = iso(after) }), rotated, false, credential.KeyRetiredError},
		{"no claimed time", token(func(map[string]any) {}), rotated, false, credential.KeyRetiredError},
		{"compromised, iat before", token(func(m map[string]any) { m["iat"] = before.Unix() }), rotated, true, credential.KeyCompromisedError},
		{"SignCredential's iat before", signed, rotated, false, ""},
		{"SignCredential's iat after", signed, before, false, credential.KeyRetiredError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := jose.Verify(t.Context(), tc.token, jose.MediaTypeVC, key(tc.retired, tc.compromised), jose.VerifyOptions{})
			if tc.code == "" {
				if err != nil {
					t.Fatalf("want verified: %v", err)
				}
				return
			}
			checkErr(t, err, tc.code, nil)
		})
	}
}
