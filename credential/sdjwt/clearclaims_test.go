package sdjwt_test

import (
	"errors"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/sdjwt"
)

// TestClearClaimsHoldNoDigests: a claim SD-JWT VC keeps in the clear
// (status, cnf, vct, ...) holds no selectively disclosable part at any
// depth, whether or not the holder presents the Disclosure: an issuer
// that made status.status_list disclosable would let the holder withhold
// it, and the status would read as absent (security review 2, finding 1).
func TestClearClaimsHoldNoDigests(t *testing.T) {
	f := MustFixture(t)
	d := disc(t, "salt-status-1", "status_list", map[string]any{"idx": 3, "uri": "https://node.example/status-lists/a-1/token"}, false)
	el := disc(t, "salt-cnf-1", "", "x", true)
	for name, tc := range map[string]struct {
		claim string
		value any
		ds    []string
	}{
		"status.status_list, withheld":  {"status", map[string]any{"_sd": []any{d.Digest}}, nil},
		"status.status_list, presented": {"status", map[string]any{"_sd": []any{d.Digest}}, []string{d.Encoded}},
		"an array digest under cnf":     {"cnf", map[string]any{"jwk": f.holder.Public().JWK(), "x": []any{map[string]any{"...": el.Digest}}}, nil},
	} {
		p := basePayload(f)
		p[tc.claim] = tc.value
		_, err := sdjwt.Verify(t.Context(), craft(t, f, stdHeader, p, tc.ds...), f.keys, sdjwt.VerifyOptions{Now: tNow})
		if !errors.Is(err, sdjwt.ErrForbiddenName) || credential.CodeOf(err, "") != credential.MalformedValueError {
			t.Errorf("%s: %v, want a refusal", name, err)
		}
	}
}
