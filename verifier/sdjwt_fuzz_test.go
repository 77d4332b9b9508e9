package verifier_test

import (
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/verifier"
)

// FuzzVerifySDJWT: any string, bare, as a data: URL or enveloped, gets a
// well-formed result: verified only when it is the honest presentation
// (or the honest issued SD-JWT without a challenge), a failure under a
// named check with a problem otherwise, and the SD-JWT format reported
// only once the input parsed as one.
func FuzzVerifySDJWT(f *testing.F) {
	fx := newFixture(f)
	issued := MustIssueSDJWT(f, fx, false, fx.clk.now().Add(24*time.Hour))
	pres := MustPresentSDJWT(f, fx, issued, fx.holder.Signer, "/employer")
	for _, s := range []string{issued, pres, pres + "~", "~", "a~b~", strings.Replace(pres, "~", "~~", 1), pres[:len(pres)/2],
		strings.Repeat("~", 2000), "eyJhbGciOiJFZERTQSJ9.e30.AA~WyJzIiwibiIsInYiXQ~"} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(1))
		f.Add(s, uint8(2))
	}
	v := fx.verifier()
	f.Fuzz(func(t *testing.T, s string, form uint8) {
		var in any = s
		switch form % 3 {
		case 1:
			in = "data:" + sdjwt.MediaType + "," + s
		case 2:
			in = jose.Envelope(s, sdjwt.MediaType)
		}
		if strings.IndexByte(s, '~') < 0 && form%3 == 0 {
			return // not an SD-JWT: the other forms' business
		}
		res := v.VerifyCredential(t.Context(), in, verifier.Options{Challenge: "n-0S6_WzA2Mj", Domain: "https://verifier.example"})
		if len(res.Checks) == 0 || len(res.Checks) != len(res.Results) || res.Checks[0] != verifier.CheckParse {
			t.Fatalf("checks %v results %+v", res.Checks, res.Results)
		}
		if res.Verified != (len(res.ProblemDetails) == 0) {
			t.Fatalf("verified %v with problems %+v", res.Verified, res.ProblemDetails)
		}
		if res.Verified && (res.Disclosed == nil || !res.Disclosed.KeyBound || res.Format != verifier.FormatSDJWT) {
			t.Fatalf("verified without key binding: %+v", res)
		}
		for _, r := range res.Results {
			if !r.Verified && (r.Problem == nil || r.Problem.Type == "" || r.Problem.Title == "") {
				t.Fatalf("failed check %q without a problem", r.Check)
			}
		}
	})
}
