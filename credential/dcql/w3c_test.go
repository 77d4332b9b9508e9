package dcql_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential/dcql"
)

// TestW3CTypes expands types with the credential's contexts: the base
// vocabulary, prefixes, @vocab, inline definitions, null resets; unknown
// contexts define nothing.
func TestW3CTypes(t *testing.T) {
	const vc = "https://www.w3.org/2018/credentials#VerifiableCredential"
	tests := map[string]struct {
		vc   string
		want []string
	}{
		"VC 1.1 examples": {`{"@context":["https://www.w3.org/2018/credentials/v1","https://www.w3.org/2018/credentials/examples/v1"],"type":["VerifiableCredential","UniversityDegreeCredential"]}`,
			[]string{"VerifiableCredential", "UniversityDegreeCredential", vc, "https://example.org/examples#UniversityDegreeCredential"}},
		"undefined stays": {`{"@context":["https://www.w3.org/2018/credentials/v1"],"type":["VerifiableCredential","IdentityCredential"]}`,
			[]string{"VerifiableCredential", "IdentityCredential", vc}},
		"VC 2.0 with @vocab": {`{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/examples/v2"],"type":["VerifiableCredential","ExampleDegree"]}`,
			[]string{"VerifiableCredential", "ExampleDegree", vc, "https://www.w3.org/ns/credentials/examples#ExampleDegree"}},
		"inline": {`{"@context":["https://www.w3.org/ns/credentials/v2",{"ex":"https://idmesh.dev/ns#","Age":"ex:Age","Other":{"@id":"https://o.example/Other"}}],"type":["VerifiableCredential","Age","Other","ex:Thing","https://abs.example/T"]}`,
			[]string{"VerifiableCredential", "Age", "Other", "ex:Thing", "https://abs.example/T", vc, "https://idmesh.dev/ns#Age", "https://o.example/Other", "https://idmesh.dev/ns#Thing"}},
		"unknown context": {`{"@context":["https://unknown.example/ctx"],"type":"VerifiableCredential"}`,
			[]string{"VerifiableCredential"}},
		"null resets": {`{"@context":["https://www.w3.org/ns/credentials/v2",null],"type":["VerifiableCredential"]}`,
			[]string{"VerifiableCredential"}},
		"no context": {`{"type":["A"]}`, []string{"A"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := dcql.W3CTypes(mustJSON(t, tt.vc))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("W3CTypes = %q, want %q", got, tt.want)
			}
		})
	}
	for name, bad := range map[string]string{
		"no type":         `{"@context":[]}`,
		"type a number":   `{"type":1}`,
		"type holds a 1":  `{"type":["A",1]}`,
		"too many types":  `{"type":[` + strings.TrimSuffix(strings.Repeat(`"A",`, 65), ",") + `]}`,
		"contexts nested": `{"@context":[[[[[["x"]]]]]],"type":["A"]}`,
	} {
		if _, err := dcql.W3CTypes(mustJSON(t, bad)); !errors.Is(err, dcql.ErrNotW3C) && !errors.Is(err, dcql.ErrLimit) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestMatchSpecW3CExamples: the jwt_vc_json and ldp_vc queries of
// Appendix B.1.3 match their example credentials (the JWT VC's "vc"
// claim), and the type_values example of B.1.1 matches its three
// example credentials through the expansion of their types.
func TestMatchSpecW3CExamples(t *testing.T) {
	for query, cred := range map[string]string{"dcql_jwt_vc.json": "credential_jwt_vc.json", "dcql_ldp_vc.json": "credential_ldp_vc.json"} {
		q := MustParse(t, string(mustRead(t, query)))
		vc := mustJSON(t, string(mustRead(t, cred)))
		if inner, ok := vc["vc"].(map[string]any); ok {
			vc = inner
		}
		c, err := dcql.W3CCandidate(q.Credentials[0].Format, vc, true)
		if err != nil {
			t.Fatal(err)
		}
		res, err := q.Match([]dcql.Candidate{c})
		if err != nil || !res.Satisfied {
			t.Errorf("%s: %v %v %v", query, res.Satisfied, res.Unsatisfied, err)
			continue
		}
		if m := res.Credentials[q.Credentials[0].ID][0]; len(m.Claims) != len(q.Credentials[0].Claims) || m.Disclose != nil {
			t.Errorf("%s: %+v", query, m)
		}
		if err := q.Check(map[string][]dcql.Candidate{q.Credentials[0].ID: {c}}); err != nil {
			t.Errorf("%s: Check: %v", query, err)
		}
	}
	q := MustParse(t, `{"credentials":[{"id":"vc","format":"ldp_vc","multiple":true,"meta":{"type_values":[
		["https://www.w3.org/2018/credentials#VerifiableCredential","https://example.org/examples#AlumniCredential","https://example.org/examples#BachelorDegree"],
		["https://www.w3.org/2018/credentials#VerifiableCredential","https://example.org/examples#UniversityDegreeCredential"],
		["IdentityCredential"]]}}]}`)
	var cands []dcql.Candidate
	for _, vc := range []string{
		`{"@context":["https://www.w3.org/2018/credentials/v1","https://www.w3.org/2018/credentials/examples/v1"],"type":["VerifiableCredential","UniversityDegreeCredential"]}`,
		`{"@context":["https://www.w3.org/2018/credentials/v1","https://www.w3.org/2018/credentials/examples/v1"],"type":["VerifiableCredential","BachelorDegree","AlumniCredential"]}`,
		`{"@context":["https://www.w3.org/2018/credentials/v1"],"type":["VerifiableCredential","IdentityCredential"]}`,
		`{"@context":["https://www.w3.org/2018/credentials/v1","https://www.w3.org/2018/credentials/examples/v1"],"type":["VerifiableCredential","BachelorDegree"]}`,
	} {
		c, err := dcql.W3CCandidate("ldp_vc", mustJSON(t, vc), true)
		if err != nil {
			t.Fatal(err)
		}
		cands = append(cands, c)
	}
	res, err := q.Match(cands)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, m := range res.Credentials["vc"] {
		got = append(got, m.Candidate)
	}
	if !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("matched %v, want [0 1 2] (%v)", got, res.Unsatisfied)
	}
}
