package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/ld/ldtest"
	"github.com/idmesh/idmesh/verifier"
)

// TestVerifyPresentationOfHostileCredentials is the review's M1 through
// the server: a presentation of 30 copies of the credential that does
// the most node-map work under the per-document bounds (9 of the one
// with the most blank nodes) did 30 (9) documents' work. Unsigned, its
// credentials are not checked at all; signed by its holder, they share
// one document's JSON-LD bounds and those past them are refused with
// LIMIT_EXCEEDED_ERROR.
func TestVerifyPresentationOfHostileCredentials(t *testing.T) {
	ts, _, clock := limitServer(t, nil)
	for _, c := range []struct {
		shape string
		n     int
	}{{"comparisons-under-bound", 30}, {"blank-nodes", 9}} {
		var subject string
		for _, sh := range ldtest.Shapes() {
			if sh.Name == c.shape {
				subject = sh.Subject
			}
		}
		vcs := make([]any, c.n)
		for i := range vcs {
			vcs[i] = ldtest.Document(subject)
		}
		vp := map[string]any{"@context": []any{credential.ContextV2}, "type": []any{credential.TypePresentation}, "verifiableCredential": vcs}
		holder := ldtest.Signer()
		signed, err := dataintegrity.Sign(t.Context(), vp, holder, dataintegrity.SignOptions{
			Cryptosuite: dataintegrity.CryptosuiteJCS, ProofPurpose: credential.PurposeAuthentication, Created: clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range []struct {
			name string
			vp   map[string]any
		}{{"unsigned", vp}, {"signed", signed}} {
			body, _ := json.Marshal(map[string]any{"verifiablePresentation": in.vp, "options": map[string]any{"checks": []any{"proof", "credentials"}}})
			if len(body) > 256<<10 {
				t.Fatalf("%d bytes", len(body))
			}
			a := post(t, ts.Client(), ts.URL+"/presentations/verify", body, "Authorization", "Bearer secret")
			var res verifier.Result
			if err := json.Unmarshal(a.body, &res); err != nil || a.status != http.StatusBadRequest || len(res.Credentials) != c.n {
				t.Fatalf("%s/%s: %d %.300s", c.shape, in.name, a.status, a.body)
			}
			notChecked, refused := 0, 0
			for _, cr := range res.Credentials {
				switch p := cr.ProblemDetails[0]; {
				case strings.Contains(p.Detail, "not checked"):
					notChecked++
				case p.Type == credential.LimitExceededError.Type():
					refused++
				}
			}
			switch {
			case in.name == "unsigned" && notChecked != c.n:
				t.Errorf("%s/unsigned: %d of %d credentials not checked", c.shape, notChecked, c.n)
			case in.name == "signed" && refused < c.n-2:
				t.Errorf("%s/signed: %d of %d credentials refused over the budget", c.shape, refused, c.n)
			}
		}
	}
}
