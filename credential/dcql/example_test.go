package dcql_test

import (
	"fmt"

	"github.com/idmesh/idmesh/credential/dcql"
)

// A wallet matches its credentials against a verifier's query and learns
// what to disclose; the verifier checks what it received.
func Example() {
	q, err := dcql.Parse([]byte(`{"credentials":[{"id":"age","format":"dc+sd-jwt",
		"meta":{"vct_values":["https://example.com/pid"]},
		"claims":[{"path":["age_over_18"],"values":[true]}]}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	held := dcql.Candidate{
		Format:        dcql.FormatSDJWT,
		VCT:           "https://example.com/pid",
		HolderBinding: true,
		Claims:        map[string]any{"given_name": "Ada", "age_over_18": true},
		Disclosable:   []string{"/age_over_18", "/given_name"},
	}
	res, err := q.Match([]dcql.Candidate{held})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Satisfied, res.Present, res.Credentials["age"][0].Disclose)

	received := held
	received.Claims = map[string]any{"age_over_18": true}
	fmt.Println(q.Check(map[string][]dcql.Candidate{"age": {received}}))
	// Output:
	// true [age] [/age_over_18]
	// <nil>
}
