package dcql_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential/dcql"
)

// worstQuery is about the costliest query MaxQueryBytes allows:
// MaxCredentials credential queries of 40 claims, each a path through two
// wildcards with a value to compare.
func worstQuery(tb testing.TB) *dcql.Query {
	tb.Helper()
	var creds []string
	for i := range dcql.MaxCredentials {
		var claims []string
		for j := range 40 {
			claims = append(claims, `{"path":["g",null,null,"k`+itoa(j)+`"],"values":["x"]}`)
		}
		creds = append(creds, `{"id":"c`+itoa(i)+`","format":"dc+sd-jwt","meta":{"vct_values":["v"]},"claims":[`+strings.Join(claims, ",")+`]}`)
	}
	return MustParse(tb, `{"credentials":[`+strings.Join(creds, ",")+`]}`)
}

// grid is a candidate whose claim g is an n×n array of objects.
func grid(n int) dcql.Candidate {
	obj := map[string]any{}
	for j := range 40 {
		obj["k"+itoa(j)] = "x"
	}
	row := make([]any, n)
	for i := range row {
		row[i] = obj
	}
	g := make([]any, n)
	for i := range g {
		g[i] = row
	}
	return dcql.Candidate{Format: "dc+sd-jwt", VCT: "v", HolderBinding: true, Claims: map[string]any{"g": g}}
}

// TestMatchBoundsWork: the worst query against candidates full of
// wildcard targets stops at the work bound with ErrLimit instead of
// visiting billions of values; so does Check.
func TestMatchBoundsWork(t *testing.T) {
	q := worstQuery(t)
	if _, err := q.Match([]dcql.Candidate{grid(64)}); !errors.Is(err, dcql.ErrLimit) {
		t.Fatalf("Match: %v; want ErrLimit", err)
	}
	all := map[string][]dcql.Candidate{}
	for _, cq := range q.Credentials {
		all[cq.ID] = []dcql.Candidate{grid(64)}
	}
	if err := q.Check(all); !errors.Is(err, dcql.ErrLimit) {
		t.Fatalf("Check: %v; want ErrLimit", err)
	}
	// A small grid within the bound matches.
	if res, err := q.Match([]dcql.Candidate{grid(2)}); err != nil || !res.Satisfied {
		t.Fatalf("small grid: %v, %v", res.Satisfied, err)
	}
}

// TestMatchManyCandidates: a wallet of very many credentials is matched
// within the work bound or refused with ErrLimit, never endlessly.
func TestMatchManyCandidates(t *testing.T) {
	q := worstQuery(t)
	cands := make([]dcql.Candidate, 100_000)
	for i := range cands {
		cands[i] = dcql.Candidate{Format: "dc+sd-jwt", VCT: "other"}
	}
	if _, err := q.Match(cands); !errors.Is(err, dcql.ErrLimit) {
		t.Fatalf("Match: %v; want ErrLimit", err)
	}
	res, err := q.Match(cands[:1000])
	if err != nil || res.Satisfied {
		t.Fatalf("1,000 candidates of another vct: %v, %v", res.Satisfied, err)
	}
}

// TestCheckManyUnknownIDs: a response with thousands of ids the query
// does not have is refused at once.
func TestCheckManyUnknownIDs(t *testing.T) {
	q := MustParse(t, string(mustRead(t, "simple.json")))
	p := map[string][]dcql.Candidate{}
	for i := range 10_000 {
		p["x"+itoa(i)] = []dcql.Candidate{{}}
	}
	if err := q.Check(p); !errors.Is(err, dcql.ErrNotSatisfied) || !strings.Contains(err.Error(), "no credential query") {
		t.Fatalf("Check: %v", err)
	}
}

// TestParseAtEveryBound: the largest query of every kind parses; one more
// of anything is refused (TestParseInvalid).
func TestParseAtEveryBound(t *testing.T) {
	q := worstQuery(t)
	if len(q.Credentials) != dcql.MaxCredentials {
		t.Fatalf("%d credential queries", len(q.Credentials))
	}
	var claims []string
	for j := range dcql.MaxClaims {
		claims = append(claims, `{"id":"c`+itoa(j)+`","path":["a",`+itoa(j)+`,null],"values":[`+strings.TrimSuffix(strings.Repeat(`1,`, dcql.MaxValues), ",")+`]}`)
	}
	sets := strings.TrimSuffix(strings.Repeat(`["c0","c1"],`, dcql.MaxClaimSets), ",")
	q = MustParse(t, `{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["v"]},"claims":[`+strings.Join(claims, ",")+`],"claim_sets":[`+sets+`]}],
		"credential_sets":[`+strings.TrimSuffix(strings.Repeat(`{"options":[`+strings.TrimSuffix(strings.Repeat(`["a"],`, dcql.MaxOptions), ",")+`]},`, dcql.MaxCredentialSets), ",")+`]}`)
	if len(q.Credentials[0].Claims) != dcql.MaxClaims || len(q.Credentials[0].ClaimSets) != dcql.MaxClaimSets || len(q.CredentialSets) != dcql.MaxCredentialSets {
		t.Fatal("not at the bounds")
	}
	long := strings.Repeat("v", dcql.MaxStringBytes)
	MustParse(t, `{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["`+long+`"]},"claims":[{"path":["`+long+`"],"values":["`+long+`"]}]}]}`)
	for _, bad := range []string{
		`{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["` + long + `v"]}}]}`,
		`{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["v"]},"claims":[{"path":["a"],"values":["` + long + `v"]}]}]}`,
		`{"credentials":[{"id":"a","format":"` + long + `v","meta":{}}]}`,
		`{"credentials":[{"id":"a","format":"ldp_vc","meta":{"type_values":[["` + long + `v"]]}}]}`,
	} {
		if _, err := dcql.Parse([]byte(bad)); !errors.Is(err, dcql.ErrInvalidQuery) {
			t.Errorf("a string over MaxStringBytes: %v", err)
		}
	}
}
