package dcql_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential/dcql"
)

const identityVCT = "https://credentials.example.com/identity_credential"

// pid is an SD-JWT VC candidate with the claims of OpenID4VP's examples,
// every top-level claim and the address's members selectively
// disclosable.
func pid(tb testing.TB) dcql.Candidate {
	return dcql.Candidate{
		Format:        "dc+sd-jwt",
		VCT:           identityVCT,
		HolderBinding: true,
		Claims: mustJSON(tb, `{"iss":"did:example:issuer","vct":"`+identityVCT+`","given_name":"Arthur","family_name":"Doe",
			"date_of_birth":"1970-01-01","postal_code":"90210","age":54,"age_over_18":true,"nationalities":["British","Betelgeusian"],
			"address":{"street_address":"42 Market Street","locality":"Milliways","region":"Sector ZZ9"}}`),
		Disclosable: []string{"/address", "/address/locality", "/address/region", "/address/street_address", "/age", "/age_over_18",
			"/date_of_birth", "/family_name", "/given_name", "/nationalities/0", "/nationalities/1", "/postal_code"},
	}
}

// TestMatchSimple: the query of section 7.4 selects the three claims of
// the matching candidate, and nothing of the others.
func TestMatchSimple(t *testing.T) {
	q := MustParse(t, string(mustRead(t, "simple.json")))
	other := pid(t)
	other.VCT = "https://example.com/other"
	w3c := dcql.Candidate{Format: "ldp_vc", Types: []string{"VerifiableCredential"}, HolderBinding: true, Claims: map[string]any{}}
	res, err := q.Match([]dcql.Candidate{other, w3c, pid(t)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Satisfied || !reflect.DeepEqual(res.Present, []string{"my_credential"}) {
		t.Fatalf("Satisfied %v, Present %v", res.Satisfied, res.Present)
	}
	want := []dcql.Match{{
		Candidate: 2,
		Claims:    []dcql.Path{{"family_name"}, {"given_name"}, {"address", "street_address"}},
		Disclose:  []string{"/family_name", "/given_name", "/address/street_address"},
	}}
	if got := res.Credentials["my_credential"]; !reflect.DeepEqual(got, want) {
		t.Errorf("matches %#v, want %#v", got, want)
	}
}

// TestMatchClaimSets: the first claim_sets option the candidate satisfies
// is chosen (section 6.4.1), and only its claims are disclosed.
func TestMatchClaimSets(t *testing.T) {
	q := MustParse(t, string(mustRead(t, "claims_alternatives.json")))
	full := pid(t) // has locality and region: the first option
	noRegion := pid(t)
	delete(noRegion.Claims["address"].(map[string]any), "region")
	noRegion.Claims["region"] = nil
	delete(noRegion.Claims, "region")
	noRegion.Claims["locality"] = "Milliways"
	neither := pid(t)
	delete(neither.Claims, "postal_code")

	// claims_alternatives asks for top-level locality and region.
	full.Claims["locality"] = "Milliways"
	full.Claims["region"] = "Sector ZZ9"
	full.Disclosable = append(full.Disclosable, "/locality", "/region")
	res, err := q.Match([]dcql.Candidate{full, noRegion, neither})
	if err != nil {
		t.Fatal(err)
	}
	ms := res.Credentials["pid"]
	if len(ms) != 2 {
		t.Fatalf("%d matches, want 2: %+v (%v)", len(ms), ms, res.Unsatisfied)
	}
	if !reflect.DeepEqual(ms[0].ClaimSet, []string{"a", "c", "d", "e"}) || !reflect.DeepEqual(ms[0].Claims, []dcql.Path{{"family_name"}, {"locality"}, {"region"}, {"date_of_birth"}}) {
		t.Errorf("full: %+v", ms[0])
	}
	if ms[1].Candidate != 1 || !reflect.DeepEqual(ms[1].ClaimSet, []string{"a", "b", "e"}) || !reflect.DeepEqual(ms[1].Claims, []dcql.Path{{"family_name"}, {"postal_code"}, {"date_of_birth"}}) {
		t.Errorf("no region: %+v", ms[1])
	}
	if !reflect.DeepEqual(ms[1].Disclose, []string{"/family_name", "/postal_code", "/date_of_birth"}) {
		t.Errorf("disclose %v", ms[1].Disclose)
	}
}

// TestMatchNoClaims: without claims nothing selectively disclosable is
// requested.
func TestMatchNoClaims(t *testing.T) {
	q := MustParse(t, `{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["`+identityVCT+`"]}}]}`)
	res, err := q.Match([]dcql.Candidate{pid(t)})
	if err != nil {
		t.Fatal(err)
	}
	if m := res.Credentials["a"]; len(m) != 1 || m[0].Claims != nil || m[0].Disclose != nil || m[0].ClaimSet != nil {
		t.Errorf("matches %+v", m)
	}
}

// TestMatchValues: values keep only the claims whose type and value match
// (section 6.3), the others count as absent.
func TestMatchValues(t *testing.T) {
	tests := map[string]struct {
		claim  string
		values string
		want   []dcql.Path // nil: no match
	}{
		"string":                   {`["family_name"]`, `["Doe"]`, []dcql.Path{{"family_name"}}},
		"string mismatch":          {`["family_name"]`, `["Dent"]`, nil},
		"one of several":           {`["postal_code"]`, `["90211","90210"]`, []dcql.Path{{"postal_code"}}},
		"integer":                  {`["age"]`, `[54]`, []dcql.Path{{"age"}}},
		"integer is not a string":  {`["age"]`, `["54"]`, nil},
		"string is not an integer": {`["postal_code"]`, `[90210]`, nil},
		"boolean":                  {`["age_over_18"]`, `[true]`, []dcql.Path{{"age_over_18"}}},
		"boolean mismatch":         {`["age_over_18"]`, `[false]`, nil},
		"boolean is not a string":  {`["age_over_18"]`, `["true"]`, nil},
		"object never matches":     {`["address"]`, `["42 Market Street"]`, nil},
		"wildcard keeps matching":  {`["nationalities",null]`, `["Betelgeusian"]`, []dcql.Path{{"nationalities", 1}}},
		"wildcard none matching":   {`["nationalities",null]`, `["French"]`, nil},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			q := MustParse(t, `{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["`+identityVCT+`"]},"claims":[{"path":`+tt.claim+`,"values":`+tt.values+`}]}]}`)
			res, err := q.Match([]dcql.Candidate{pid(t)})
			if err != nil {
				t.Fatal(err)
			}
			ms := res.Credentials["a"]
			if tt.want == nil {
				if len(ms) != 0 || res.Satisfied {
					t.Fatalf("matches %+v", ms)
				}
				if !strings.Contains(res.Unsatisfied["a"], "values") {
					t.Errorf("Unsatisfied %q", res.Unsatisfied["a"])
				}
				return
			}
			if len(ms) != 1 || !reflect.DeepEqual(ms[0].Claims, tt.want) {
				t.Fatalf("matches %+v, want claims %v", ms, tt.want)
			}
		})
	}
}

// TestMatchNumbers: an integer value equals a JSON number that is exactly
// that integer, however the credential was decoded.
func TestMatchNumbers(t *testing.T) {
	q := MustParse(t, `{"credentials":[{"id":"a","format":"ldp_vc","require_cryptographic_holder_binding":false,"meta":{"type_values":[["T"]]},"claims":[{"path":["n"],"values":[100]}]}]}`)
	for name, tt := range map[string]struct {
		v    any
		want bool
	}{
		"json.Number":          {mustJSON(t, `{"n":100}`)["n"], true},
		"json.Number exponent": {mustJSON(t, `{"n":1e2}`)["n"], true},
		"json.Number fraction": {mustJSON(t, `{"n":100.5}`)["n"], false},
		"json.Number other":    {mustJSON(t, `{"n":101}`)["n"], false},
		"json.Number huge":     {mustJSON(t, `{"n":1e400}`)["n"], false},
		"float64":              {float64(100), true},
		"int":                  {100, true},
		"int64":                {int64(100), true},
		"string":               {"100", false},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := q.Match([]dcql.Candidate{{Format: "ldp_vc", Types: []string{"T"}, Claims: map[string]any{"n": tt.v}}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Satisfied != tt.want {
				t.Errorf("Satisfied %v, want %v", res.Satisfied, tt.want)
			}
		})
	}
}

// TestMatchTypeValues: the type_values example of Appendix B.1.1 matches
// its three example credentials, and not a credential missing a type.
func TestMatchTypeValues(t *testing.T) {
	q := MustParse(t, `{"credentials":[{"id":"vc","format":"ldp_vc","multiple":true,"meta":{"type_values":[
		["https://www.w3.org/2018/credentials#VerifiableCredential","https://example.org/examples#AlumniCredential","https://example.org/examples#BachelorDegree"],
		["https://www.w3.org/2018/credentials#VerifiableCredential","https://example.org/examples#UniversityDegreeCredential"],
		["IdentityCredential"]]}}]}`)
	vc := func(types ...string) dcql.Candidate {
		return dcql.Candidate{Format: "ldp_vc", Types: types, HolderBinding: true, Claims: map[string]any{}}
	}
	cands := []dcql.Candidate{
		vc("https://www.w3.org/2018/credentials#VerifiableCredential", "https://example.org/examples#UniversityDegreeCredential"),
		vc("https://www.w3.org/2018/credentials#VerifiableCredential", "https://example.org/examples#BachelorDegree", "https://example.org/examples#AlumniCredential"),
		vc("https://www.w3.org/2018/credentials#VerifiableCredential", "IdentityCredential"),
		vc("https://www.w3.org/2018/credentials#VerifiableCredential", "https://example.org/examples#BachelorDegree"),
		vc(),
	}
	res, err := q.Match(cands)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, m := range res.Credentials["vc"] {
		got = append(got, m.Candidate)
	}
	if !reflect.DeepEqual(got, []int{0, 1, 2}) {
		t.Errorf("matched %v, want [0 1 2]", got)
	}
	jwt := vc("IdentityCredential")
	jwt.Format = "jwt_vc_json"
	if res, _ := q.Match([]dcql.Candidate{jwt}); res.Satisfied {
		t.Error("a jwt_vc_json credential satisfies an ldp_vc query")
	}
}

// TestMatchHolderBinding: require_cryptographic_holder_binding (default
// true) refuses a candidate that cannot prove its holder.
func TestMatchHolderBinding(t *testing.T) {
	unbound := pid(t)
	unbound.HolderBinding = false
	q := MustParse(t, string(mustRead(t, "simple.json")))
	if res, _ := q.Match([]dcql.Candidate{unbound}); res.Satisfied || !strings.Contains(res.Unsatisfied["my_credential"], "holder binding") {
		t.Errorf("default: Satisfied %v (%v)", res.Satisfied, res.Unsatisfied)
	}
	q = MustParse(t, strings.Replace(string(mustRead(t, "simple.json")), `"format"`, `"require_cryptographic_holder_binding": false, "format"`, 1))
	if res, _ := q.Match([]dcql.Candidate{unbound}); !res.Satisfied {
		t.Errorf("false: not satisfied (%v)", res.Unsatisfied)
	}
}

// TestMatchCredentialSets: the query of Appendix D with credential
// alternatives (pid, or other_pid, or both reduced credentials; and
// optionally nice_to_have).
func TestMatchCredentialSets(t *testing.T) {
	q := MustParse(t, string(mustRead(t, "credentials_alternatives.json")))
	cand := func(vct, claims string) dcql.Candidate {
		return dcql.Candidate{Format: "dc+sd-jwt", VCT: vct, HolderBinding: true, Claims: mustJSON(t, claims)}
	}
	full := cand(identityVCT, `{"given_name":"A","family_name":"D","address":{"street_address":"S"}}`)
	other := cand("https://othercredentials.example/pid", `{"given_name":"A","family_name":"D","address":{"street_address":"S"}}`)
	red1 := cand("https://credentials.example.com/reduced_identity_credential", `{"given_name":"A","family_name":"D"}`)
	red2 := cand("https://cred.example/residence_credential", `{"postal_code":"1","locality":"L","region":"R"}`)
	nice := cand("https://company.example/company_rewards", `{"rewards_number":7}`)
	noAddress := cand(identityVCT, `{"given_name":"A","family_name":"D"}`)
	tests := map[string]struct {
		cands   []dcql.Candidate
		present []string // nil: not satisfied
	}{
		"pid":                    {[]dcql.Candidate{full}, []string{"pid"}},
		"pid preferred":          {[]dcql.Candidate{other, full}, []string{"pid"}},
		"other_pid":              {[]dcql.Candidate{other}, []string{"other_pid"}},
		"both reduced":           {[]dcql.Candidate{red2, red1}, []string{"pid_reduced_cred_1", "pid_reduced_cred_2"}},
		"one reduced":            {[]dcql.Candidate{red1}, nil},
		"with the optional one":  {[]dcql.Candidate{nice, full}, []string{"pid", "nice_to_have"}},
		"only the optional one":  {[]dcql.Candidate{nice}, nil},
		"pid without its claims": {[]dcql.Candidate{noAddress, red1}, nil},
		"nothing":                {nil, nil},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			res, err := q.Match(tt.cands)
			if err != nil {
				t.Fatal(err)
			}
			if res.Satisfied != (tt.present != nil) || !reflect.DeepEqual(res.Present, tt.present) {
				t.Errorf("Satisfied %v, Present %v; want %v", res.Satisfied, res.Present, tt.present)
			}
		})
	}
}

// TestMatchMdocNever: mso_mdoc queries parse but never match, so a
// required one leaves the query unsatisfied and an optional one is left
// out.
func TestMatchMdocNever(t *testing.T) {
	q := MustParse(t, string(mustRead(t, "multi_credentials.json")))
	mdoc := dcql.Candidate{Format: "mso_mdoc", HolderBinding: true, Claims: mustJSON(t, `{"org.iso.7367.1":{"vehicle_holder":"A"},"org.iso.18013.5.1":{"given_name":"A"}}`)}
	res, err := q.Match([]dcql.Candidate{pid(t), mdoc})
	if err != nil {
		t.Fatal(err)
	}
	if res.Satisfied || len(res.Credentials["mdl"]) != 0 || len(res.Credentials["pid"]) != 1 {
		t.Errorf("Satisfied %v, matches %+v", res.Satisfied, res.Credentials)
	}
	if !strings.Contains(res.Unsatisfied["mdl"], "not supported") {
		t.Errorf("Unsatisfied %v", res.Unsatisfied)
	}
}

// TestMatchNestedDisclosure: selecting an object discloses it whole; a
// claim below a disclosable object names its own pointer.
func TestMatchNestedDisclosure(t *testing.T) {
	q := MustParse(t, `{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["`+identityVCT+`"]},"claims":[{"path":["address"]},{"path":["iss"]}]}]}`)
	res, err := q.Match([]dcql.Candidate{pid(t)})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Credentials["a"][0]
	if !reflect.DeepEqual(m.Claims, []dcql.Path{{"address"}, {"iss"}}) || !reflect.DeepEqual(m.Disclose, []string{"/address"}) {
		t.Errorf("claims %v, disclose %v (iss is in the clear)", m.Claims, m.Disclose)
	}
}

// TestCheck is the verifier's side: each rule a response must follow.
func TestCheck(t *testing.T) {
	alts := MustParse(t, string(mustRead(t, "credentials_alternatives.json")))
	simple := MustParse(t, string(mustRead(t, "simple.json")))
	multi := MustParse(t, `{"credentials":[{"id":"a","multiple":true,"format":"dc+sd-jwt","meta":{"vct_values":["`+identityVCT+`"]},"claims":[{"path":["age_over_18"],"values":[true]}]},
		{"id":"b","format":"dc+sd-jwt","meta":{"vct_values":["`+identityVCT+`"]}}]}`)
	cand := func(vct, claims string) dcql.Candidate {
		return dcql.Candidate{Format: "dc+sd-jwt", VCT: vct, HolderBinding: true, Claims: mustJSON(t, claims)}
	}
	full := cand(identityVCT, `{"given_name":"A","family_name":"D","address":{"street_address":"S"}}`)
	red1 := cand("https://credentials.example.com/reduced_identity_credential", `{"given_name":"A","family_name":"D"}`)
	red2 := cand("https://cred.example/residence_credential", `{"postal_code":"1","locality":"L","region":"R"}`)
	nice := cand("https://company.example/company_rewards", `{"rewards_number":7}`)
	unbound := full
	unbound.HolderBinding = false
	partial := cand(identityVCT, `{"given_name":"A","family_name":"D"}`)
	adult := cand(identityVCT, `{"age_over_18":true}`)
	minor := cand(identityVCT, `{"age_over_18":false}`)
	many := make([]dcql.Candidate, dcql.MaxPresentations+1)
	for i := range many {
		many[i] = adult
	}
	tests := map[string]struct {
		q     *dcql.Query
		p     map[string][]dcql.Candidate
		want  error  // nil: satisfied
		match string // in the message
	}{
		"simple":                     {simple, map[string][]dcql.Candidate{"my_credential": {full}}, nil, ""},
		"alternative":                {alts, map[string][]dcql.Candidate{"pid_reduced_cred_1": {red1}, "pid_reduced_cred_2": {red2}}, nil, ""},
		"with the optional one":      {alts, map[string][]dcql.Candidate{"pid": {full}, "nice_to_have": {nice}}, nil, ""},
		"multiple":                   {multi, map[string][]dcql.Candidate{"a": {adult, adult}, "b": {adult}}, nil, ""},
		"nothing":                    {simple, map[string][]dcql.Candidate{}, dcql.ErrNotSatisfied, "required and missing"},
		"half an option":             {alts, map[string][]dcql.Candidate{"pid_reduced_cred_1": {red1}}, dcql.ErrNotSatisfied, "credential_sets[0]"},
		"only the optional one":      {alts, map[string][]dcql.Candidate{"nice_to_have": {nice}}, dcql.ErrNotSatisfied, "credential_sets[0]"},
		"unknown id":                 {simple, map[string][]dcql.Candidate{"my_credential": {full}, "other": {full}}, dcql.ErrNotSatisfied, "no credential query"},
		"empty id, all optional":     {MustParse(t, `{"credentials":[{"id":"a","format":"x","meta":{}}],"credential_sets":[{"required":false,"options":[["a"]]}]}`), map[string][]dcql.Candidate{"": {full}}, dcql.ErrNotSatisfied, "no credential query"},
		"nothing, all optional":      {MustParse(t, `{"credentials":[{"id":"a","format":"x","meta":{}}],"credential_sets":[{"required":false,"options":[["a"]]}]}`), map[string][]dcql.Candidate{}, nil, ""},
		"unknown id alone":           {simple, map[string][]dcql.Candidate{"other": {full}}, dcql.ErrNotSatisfied, "no credential query"},
		"empty array":                {simple, map[string][]dcql.Candidate{"my_credential": {}}, dcql.ErrNotSatisfied, "empty"},
		"two without multiple":       {simple, map[string][]dcql.Candidate{"my_credential": {full, full}}, dcql.ErrNotSatisfied, "multiple"},
		"too many with multiple":     {multi, map[string][]dcql.Candidate{"a": many, "b": {adult}}, dcql.ErrLimit, "at most"},
		"wrong vct":                  {simple, map[string][]dcql.Candidate{"my_credential": {red1}}, dcql.ErrNotSatisfied, "vct_values"},
		"wrong format":               {simple, map[string][]dcql.Candidate{"my_credential": {{Format: "ldp_vc", HolderBinding: true}}}, dcql.ErrNotSatisfied, "format"},
		"no holder binding":          {simple, map[string][]dcql.Candidate{"my_credential": {unbound}}, dcql.ErrNotSatisfied, "holder binding"},
		"a claim missing":            {simple, map[string][]dcql.Candidate{"my_credential": {partial}}, dcql.ErrNotSatisfied, "street_address"},
		"a value not allowed":        {multi, map[string][]dcql.Candidate{"a": {minor}, "b": {adult}}, dcql.ErrNotSatisfied, "values"},
		"one bad among multiple":     {multi, map[string][]dcql.Candidate{"a": {adult, minor}, "b": {adult}}, dcql.ErrNotSatisfied, "presentation 1"},
		"more ids than the query":    {simple, map[string][]dcql.Candidate{"a": {full}, "b": {full}}, dcql.ErrNotSatisfied, "no credential query"},
		"required without the other": {multi, map[string][]dcql.Candidate{"a": {adult}}, dcql.ErrNotSatisfied, `"b" is required`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := tt.q.Check(tt.p)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.match) {
				t.Fatalf("Check: %v; want %v with %q", err, tt.want, tt.match)
			}
		})
	}
}
