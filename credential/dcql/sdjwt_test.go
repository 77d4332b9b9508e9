package dcql_test

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dcql"
	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/did/keys"
)

// TestSDJWTRoundTrip runs the whole DCQL flow over real SD-JWT VCs: the
// wallet verifies its credential with every Disclosure, matches the query
// (first claim_sets option it can satisfy), presents exactly Disclose
// with key binding; the verifier verifies the presentation and Check
// accepts it. What the verifier receives holds no claim beyond the
// request (checked on the bytes), and a presentation that drops a
// requested claim, or lacks key binding, is refused.
func TestSDJWTRoundTrip(t *testing.T) {
	gen := func(seed byte) keys.PrivateKey {
		k, err := keys.Generate(keys.Ed25519, bytes.NewReader(bytes.Repeat([]byte{seed}, 128)))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	issuerKey, holderKey := gen(1), gen(2)
	t0 := time.Unix(1_780_000_000, 0)
	const vct = "https://idmesh.dev/vct/pid"
	issued, err := sdjwt.Issue(map[string]any{
		"vct": vct, "given_name": "Alice", "family_name": "Liddell", "birthdate": "2000-01-01", "age_over_18": true,
		"address":       map[string]any{"locality": "Oxford", "country": "GB"},
		"nationalities": []any{"GB", "FR"},
	}, credential.KeySigner{ID: "did:example:issuer#key-1", Key: issuerKey}, sdjwt.IssueOptions{
		Disclosable: []string{"/given_name", "/family_name", "/birthdate", "/age_over_18", "/address", "/address/locality", "/address/country", "/nationalities/0", "/nationalities/1"},
		Decoys:      1, Random: rand.NewChaCha8([32]byte{3}), IssuedAt: t0, HolderKey: holderKey.Public(),
	})
	if err != nil {
		t.Fatal(err)
	}
	held, err := sdjwt.VerifyWithKey(issued, issuerKey.Public(), sdjwt.VerifyOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	q := MustParse(t, `{"credentials":[{"id":"pid","format":"dc+sd-jwt","meta":{"vct_values":["`+vct+`"]},
		"claims":[{"id":"adult","path":["age_over_18"],"values":[true]},{"id":"born","path":["birthdate"]},{"id":"town","path":["address","locality"]},{"id":"fr","path":["nationalities",null],"values":["FR"]}],
		"claim_sets":[["adult","town","fr"],["born"]]}]}`)
	res, err := q.Match([]dcql.Candidate{dcql.SDJWTCandidate(held, true)})
	if err != nil || !res.Satisfied {
		t.Fatalf("Match: %v %v", res.Unsatisfied, err)
	}
	m := res.Credentials["pid"][0]
	if want := []string{"/age_over_18", "/address/locality", "/nationalities/1"}; strings.Join(m.Disclose, " ") != strings.Join(want, " ") {
		t.Fatalf("Disclose %v, want %v", m.Disclose, want)
	}
	const nonce, aud = "n-1", "decentralized_identifier:did:example:verifier"
	present := func(disclose []string, holder credential.Signer) string {
		s, err := sdjwt.Present(issued, sdjwt.PresentOptions{Disclose: disclose, Holder: holder, Nonce: nonce, Audience: aud, Now: t0})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	verify := func(p string, keyBinding bool) map[string][]dcql.Candidate {
		opts := sdjwt.VerifyOptions{Now: t0}
		if keyBinding {
			opts.Nonce, opts.Audience = nonce, aud
		}
		r, err := sdjwt.VerifyWithKey(p, issuerKey.Public(), opts)
		if err != nil {
			t.Fatal(err)
		}
		return map[string][]dcql.Candidate{"pid": {dcql.SDJWTCandidate(r, r.KeyBound)}}
	}
	holder := credential.KeySigner{Key: holderKey}
	p := present(m.Disclose, holder)
	if err := q.Check(verify(p, true)); err != nil {
		t.Fatalf("Check: %v", err)
	}
	// Only the requested claims travel: the Disclosures sent (decoded
	// from the presentation's bytes) are those of the three requested
	// claims and the address object they lie in, nothing else.
	var names []string
	var decoded strings.Builder
	for _, part := range strings.Split(p, "~")[1:] {
		if part == "" || strings.Count(part, ".") == 2 {
			continue // the end, or the KB-JWT
		}
		d, err := sdjwt.DecodeDisclosure(part)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := base64.RawURLEncoding.DecodeString(part)
		decoded.Write(raw)
		name := d.Name
		if d.IsArrayElement {
			name = "[" + d.Value.(string) + "]"
		}
		names = append(names, name)
	}
	slices.Sort(names)
	if want := []string{"[FR]", "address", "age_over_18", "locality"}; !slices.Equal(names, want) {
		t.Errorf("Disclosures sent %v, want %v", names, want)
	}
	if !strings.Contains(decoded.String(), `"Oxford"`) {
		t.Errorf("the requested locality is not in the Disclosures: %s", decoded.String())
	}
	for _, secret := range []string{"Alice", "Liddell", "2000-01-01"} {
		if strings.Contains(decoded.String(), secret) {
			t.Errorf("%s is in the presentation's Disclosures", secret)
		}
	}
	// A presentation without the town does not satisfy the chosen
	// option, nor the other.
	if err := q.Check(verify(present([]string{"/age_over_18", "/nationalities/1"}, holder), true)); err == nil {
		t.Error("a presentation without a requested claim passed Check")
	}
	// Without key binding, require_cryptographic_holder_binding refuses.
	if err := q.Check(verify(present(m.Disclose, nil), false)); err == nil || !strings.Contains(err.Error(), "holder binding") {
		t.Errorf("a presentation without key binding: %v", err)
	}
}
