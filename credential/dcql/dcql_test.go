package dcql_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential/dcql"
)

func mustRead(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// MustParse parses a query or fails the test.
func MustParse(tb testing.TB, s string) *dcql.Query {
	tb.Helper()
	q, err := dcql.Parse([]byte(s))
	if err != nil {
		tb.Fatalf("Parse: %v", err)
	}
	return q
}

// mustJSON decodes s as encoding/json with UseNumber does.
func mustJSON(tb testing.TB, s string) map[string]any {
	tb.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestParseSpecExamples parses every example query of OpenID4VP 1.0 and
// checks what each means, defaults included.
func TestParseSpecExamples(t *testing.T) {
	type cred struct {
		id, format        string
		multiple, binding bool
		claims, claimSets int
	}
	tests := map[string]struct {
		creds []cred
		sets  []bool // Required of each credential set
	}{
		"simple.json":                   {creds: []cred{{"my_credential", "dc+sd-jwt", false, true, 3, 0}}},
		"simple_mdoc.json":              {creds: []cred{{"my_credential", "mso_mdoc", false, true, 2, 0}}},
		"multi_credentials.json":        {creds: []cred{{"pid", "dc+sd-jwt", false, true, 3, 0}, {"mdl", "mso_mdoc", false, true, 2, 0}}},
		"claims_alternatives.json":      {creds: []cred{{"pid", "dc+sd-jwt", false, true, 5, 2}}},
		"value_matching_simple.json":    {creds: []cred{{"my_credential", "dc+sd-jwt", false, true, 4, 0}}},
		"dcql_jwt_vc.json":              {creds: []cred{{"example_jwt_vc", "jwt_vc_json", false, true, 2, 0}}},
		"dcql_ldp_vc.json":              {creds: []cred{{"example_ldp_vc", "ldp_vc", false, true, 7, 0}}},
		"credentials_alternatives.json": {creds: []cred{{"pid", "dc+sd-jwt", false, true, 3, 0}, {"other_pid", "dc+sd-jwt", false, true, 3, 0}, {"pid_reduced_cred_1", "dc+sd-jwt", false, true, 2, 0}, {"pid_reduced_cred_2", "dc+sd-jwt", false, true, 3, 0}, {"nice_to_have", "dc+sd-jwt", false, true, 1, 0}}, sets: []bool{true, false}},
		"complex_mdoc.json":             {creds: []cred{{"mdl-id", "mso_mdoc", false, true, 3, 0}, {"mdl-address", "mso_mdoc", false, true, 2, 0}, {"photo_card-id", "mso_mdoc", false, true, 3, 0}, {"photo_card-address", "mso_mdoc", false, true, 2, 0}}, sets: []bool{true, false}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			b := mustRead(t, name)
			q, err := dcql.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(q.Bytes(), b) {
				t.Error("Bytes differs from the input")
			}
			if len(q.Credentials) != len(tt.creds) {
				t.Fatalf("%d credential queries, want %d", len(q.Credentials), len(tt.creds))
			}
			for i, want := range tt.creds {
				cq := q.Credentials[i]
				got := cred{cq.ID, cq.Format, cq.Multiple, cq.RequireHolderBinding, len(cq.Claims), len(cq.ClaimSets)}
				if got != want {
					t.Errorf("credential %d: %+v, want %+v", i, got, want)
				}
				if q.Credential(cq.ID) != &q.Credentials[i] {
					t.Errorf("Credential(%q) is not the query's", cq.ID)
				}
			}
			var sets []bool
			for _, cs := range q.CredentialSets {
				sets = append(sets, cs.Required)
			}
			if !reflect.DeepEqual(sets, tt.sets) {
				t.Errorf("credential sets required %v, want %v", sets, tt.sets)
			}
		})
	}
}

// TestParseDetails checks the parsed form of paths, values, meta and
// claim_sets.
func TestParseDetails(t *testing.T) {
	q := MustParse(t, string(mustRead(t, "value_matching_simple.json")))
	cq := q.Credentials[0]
	if !reflect.DeepEqual(cq.VCTValues, []string{"https://credentials.example.com/identity_credential"}) {
		t.Errorf("VCTValues %v", cq.VCTValues)
	}
	if !reflect.DeepEqual(cq.Claims[0].Values, []any{"Doe"}) || !reflect.DeepEqual(cq.Claims[3].Values, []any{"90210", "90211"}) || cq.Claims[1].Values != nil {
		t.Errorf("values %v %v %v", cq.Claims[0].Values, cq.Claims[3].Values, cq.Claims[1].Values)
	}
	if !reflect.DeepEqual(cq.Claims[2].Path, dcql.Path{"address", "street_address"}) {
		t.Errorf("path %v", cq.Claims[2].Path)
	}

	q = MustParse(t, `{"credentials":[{"id":"a","format":"ldp_vc","multiple":true,"require_cryptographic_holder_binding":false,
		"meta":{"type_values":[["VerifiableCredential","X"],["Y"]]},
		"claims":[{"id":"n","path":["credentialSubject","degrees",null,"type"],"values":[1,true,"x",-3]},{"id":"m","path":["a",0]}],
		"claim_sets":[["n","m"],["m"]]}],"extension":{"ignored":true}}`)
	cq = q.Credentials[0]
	if !cq.Multiple || cq.RequireHolderBinding {
		t.Errorf("multiple %v, holder binding %v", cq.Multiple, cq.RequireHolderBinding)
	}
	if !reflect.DeepEqual(cq.TypeValues, [][]string{{"VerifiableCredential", "X"}, {"Y"}}) {
		t.Errorf("TypeValues %v", cq.TypeValues)
	}
	if !reflect.DeepEqual(cq.Claims[0].Path, dcql.Path{"credentialSubject", "degrees", nil, "type"}) || !reflect.DeepEqual(cq.Claims[1].Path, dcql.Path{"a", 0}) {
		t.Errorf("paths %#v %#v", cq.Claims[0].Path, cq.Claims[1].Path)
	}
	if !reflect.DeepEqual(cq.Claims[0].Values, []any{int64(1), true, "x", int64(-3)}) {
		t.Errorf("values %#v", cq.Claims[0].Values)
	}
	if !reflect.DeepEqual(cq.ClaimSets, [][]string{{"n", "m"}, {"m"}}) {
		t.Errorf("claim sets %v", cq.ClaimSets)
	}
	if got := cq.Claims[0].Path.String(); got != `["credentialSubject","degrees",null,"type"]` {
		t.Errorf("String %s", got)
	}
	if got := (dcql.Path{"a/b", "c~d", 3}).Pointer(); got != "/a~1b/c~0d/3" {
		t.Errorf("Pointer %s", got)
	}
}

// TestParseInvalid breaks each rule of OpenID4VP sections 6 and 7, and
// each bound, once.
func TestParseInvalid(t *testing.T) {
	const sd = `"format":"dc+sd-jwt","meta":{"vct_values":["v"]}`
	many := func(n int, f func(i int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = f(i)
		}
		return strings.Join(parts, ",")
	}
	tests := map[string]struct {
		q    string
		also error
	}{
		"not JSON":                    {q: `{`},
		"not an object":               {q: `[]`},
		"trailing data":               {q: `{"credentials":[{"id":"a",` + sd + `}]} {}`},
		"repeated member":             {q: `{"credentials":[{"id":"a",` + sd + `}],"credentials":[]}`},
		"repeated member inside":      {q: `{"credentials":[{"id":"a","id":"b",` + sd + `}]}`},
		"no credentials":              {q: `{}`},
		"credentials empty":           {q: `{"credentials":[]}`},
		"credentials not an array":    {q: `{"credentials":{}}`},
		"credential not an object":    {q: `{"credentials":["a"]}`},
		"no id":                       {q: `{"credentials":[{` + sd + `}]}`},
		"empty id":                    {q: `{"credentials":[{"id":"",` + sd + `}]}`},
		"id with a dot":               {q: `{"credentials":[{"id":"a.b",` + sd + `}]}`},
		"id with a space":             {q: `{"credentials":[{"id":"a b",` + sd + `}]}`},
		"id not ASCII":                {q: `{"credentials":[{"id":"é",` + sd + `}]}`},
		"id a number":                 {q: `{"credentials":[{"id":1,` + sd + `}]}`},
		"id too long":                 {q: `{"credentials":[{"id":"` + strings.Repeat("a", 65) + `",` + sd + `}]}`, also: dcql.ErrLimit},
		"duplicate credential id":     {q: `{"credentials":[{"id":"a",` + sd + `},{"id":"a",` + sd + `}]}`},
		"no format":                   {q: `{"credentials":[{"id":"a","meta":{}}]}`},
		"empty format":                {q: `{"credentials":[{"id":"a","format":"","meta":{}}]}`},
		"format not a string":         {q: `{"credentials":[{"id":"a","format":["x"],"meta":{}}]}`},
		"no meta":                     {q: `{"credentials":[{"id":"a","format":"x"}]}`},
		"meta not an object":          {q: `{"credentials":[{"id":"a","format":"x","meta":[]}]}`},
		"multiple not a boolean":      {q: `{"credentials":[{"id":"a",` + sd + `,"multiple":"true"}]}`},
		"binding not a boolean":       {q: `{"credentials":[{"id":"a",` + sd + `,"require_cryptographic_holder_binding":1}]}`},
		"no vct_values":               {q: `{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{}}]}`},
		"vct_values empty":            {q: `{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":[]}}]}`},
		"vct_values a string":         {q: `{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":"v"}}]}`},
		"vct_values holds a number":   {q: `{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":[1]}}]}`},
		"vct_values holds empty":      {q: `{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":[""]}}]}`},
		"no type_values":              {q: `{"credentials":[{"id":"a","format":"jwt_vc_json","meta":{}}]}`},
		"type_values flat":            {q: `{"credentials":[{"id":"a","format":"ldp_vc","meta":{"type_values":["A"]}}]}`},
		"type_values empty":           {q: `{"credentials":[{"id":"a","format":"ldp_vc","meta":{"type_values":[]}}]}`},
		"type_values empty inner":     {q: `{"credentials":[{"id":"a","format":"ldp_vc","meta":{"type_values":[[]]}}]}`},
		"type_values inner number":    {q: `{"credentials":[{"id":"a","format":"jwt_vc_json","meta":{"type_values":[["A",2]]}}]}`},
		"mdoc without doctype":        {q: `{"credentials":[{"id":"a","format":"mso_mdoc","meta":{}}]}`},
		"mdoc path of one":            {q: `{"credentials":[{"id":"a","format":"mso_mdoc","meta":{"doctype_value":"d"},"claims":[{"path":["ns"]}]}]}`},
		"mdoc path with index":        {q: `{"credentials":[{"id":"a","format":"mso_mdoc","meta":{"doctype_value":"d"},"claims":[{"path":["ns",0]}]}]}`},
		"mdoc intent not boolean":     {q: `{"credentials":[{"id":"a","format":"mso_mdoc","meta":{"doctype_value":"d"},"claims":[{"path":["ns","x"],"intent_to_retain":"yes"}]}]}`},
		"claims empty":                {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[]}]}`},
		"claims an object":            {q: `{"credentials":[{"id":"a",` + sd + `,"claims":{}}]}`},
		"claim not an object":         {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[["x"]]}]}`},
		"claim without path":          {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"id":"x"}]}]}`},
		"path empty":                  {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"path":[]}]}]}`},
		"path a string":               {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"path":"x"}]}]}`},
		"path negative index":         {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"path":["x",-1]}]}]}`},
		"path fractional index":       {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"path":["x",1.5]}]}]}`},
		"path exponent index":         {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"path":["x",1e2]}]}]}`},
		"path huge index":             {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"path":["x",99999999999999999999]}]}]}`},
		"path boolean":                {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"path":["x",true]}]}]}`},
		"path object":                 {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"path":["x",{}]}]}]}`},
		"path too long":               {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"path":[` + many(17, func(int) string { return `"x"` }) + `]}]}]}`, also: dcql.ErrLimit},
		"claim id invalid":            {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"id":"x y","path":["x"]}]}]}`},
		"claim id empty":              {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"id":"","path":["x"]}]}]}`},
		"duplicate claim id":          {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"id":"x","path":["x"]},{"id":"x","path":["y"]}]}]}`},
		"same path twice":             {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"path":["x",null]},{"path":["x",null]}]}]}`},
		"values empty":                {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"path":["x"],"values":[]}]}]}`},
		"values a string":             {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"path":["x"],"values":"x"}]}]}`},
		"values with null":            {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"path":["x"],"values":[null]}]}]}`},
		"values with a fraction":      {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"path":["x"],"values":[1.5]}]}]}`},
		"values with an object":       {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"path":["x"],"values":[{}]}]}]}`},
		"values beyond int64":         {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"path":["x"],"values":[9223372036854775808]}]}]}`},
		"too many values":             {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"path":["x"],"values":[` + many(65, func(int) string { return `"v"` }) + `]}]}]}`, also: dcql.ErrLimit},
		"claim_sets without claims":   {q: `{"credentials":[{"id":"a",` + sd + `,"claim_sets":[["x"]]}]}`},
		"claim_sets claim without id": {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"id":"x","path":["x"]},{"path":["y"]}],"claim_sets":[["x"]]}]}`},
		"claim_sets empty":            {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"id":"x","path":["x"]}],"claim_sets":[]}]}`},
		"claim_sets option empty":     {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"id":"x","path":["x"]}],"claim_sets":[[]]}]}`},
		"claim_sets unknown id":       {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"id":"x","path":["x"]}],"claim_sets":[["y"]]}]}`},
		"claim_sets option a string":  {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"id":"x","path":["x"]}],"claim_sets":["x"]}]}`},
		"credential_sets empty":       {q: `{"credentials":[{"id":"a",` + sd + `}],"credential_sets":[]}`},
		"credential_sets not array":   {q: `{"credentials":[{"id":"a",` + sd + `}],"credential_sets":{}}`},
		"credential set no options":   {q: `{"credentials":[{"id":"a",` + sd + `}],"credential_sets":[{}]}`},
		"credential set options []":   {q: `{"credentials":[{"id":"a",` + sd + `}],"credential_sets":[{"options":[]}]}`},
		"credential set option []":    {q: `{"credentials":[{"id":"a",` + sd + `}],"credential_sets":[{"options":[[]]}]}`},
		"credential set unknown id":   {q: `{"credentials":[{"id":"a",` + sd + `}],"credential_sets":[{"options":[["b"]]}]}`},
		"credential set required str": {q: `{"credentials":[{"id":"a",` + sd + `}],"credential_sets":[{"options":[["a"]],"required":"false"}]}`},
		"credential set not object":   {q: `{"credentials":[{"id":"a",` + sd + `}],"credential_sets":[["a"]]}`},
		"trusted_authorities":         {q: `{"credentials":[{"id":"a",` + sd + `,"trusted_authorities":[{"type":"aki","values":["s9tIpPmhxdiuNkHMEWNpYim8S8Y"]}]}]}`, also: dcql.ErrUnsupported},
		"trusted_authorities empty":   {q: `{"credentials":[{"id":"a",` + sd + `,"trusted_authorities":[]}]}`},
		"trusted_authorities no type": {q: `{"credentials":[{"id":"a",` + sd + `,"trusted_authorities":[{"values":["x"]}]}]}`},
		"trusted_authorities values":  {q: `{"credentials":[{"id":"a",` + sd + `,"trusted_authorities":[{"type":"aki","values":[]}]}]}`},
		"too many credentials":        {q: `{"credentials":[` + many(33, func(i int) string { return `{"id":"a` + strings.Repeat("b", i) + `",` + sd + `}` }) + `]}`, also: dcql.ErrLimit},
		"too many claims":             {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[` + many(65, func(i int) string { return `{"path":["x",` + itoa(i) + `]}` }) + `]}]}`, also: dcql.ErrLimit},
		"too many credential sets":    {q: `{"credentials":[{"id":"a",` + sd + `}],"credential_sets":[` + many(33, func(int) string { return `{"options":[["a"]]}` }) + `]}`, also: dcql.ErrLimit},
		"too many options":            {q: `{"credentials":[{"id":"a",` + sd + `}],"credential_sets":[{"options":[` + many(33, func(int) string { return `["a"]` }) + `]}]}`, also: dcql.ErrLimit},
		"too large":                   {q: `{"credentials":[{"id":"a",` + sd + `}],"x":"` + strings.Repeat("a", dcql.MaxQueryBytes) + `"}`, also: dcql.ErrLimit},
		"too deep":                    {q: `{"credentials":[{"id":"a",` + sd + `}],"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`},
		"long path string":            {q: `{"credentials":[{"id":"a",` + sd + `,"claims":[{"path":["` + strings.Repeat("x", 1025) + `"]}]}]}`, also: dcql.ErrLimit},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			q, err := dcql.Parse([]byte(tt.q))
			if !errors.Is(err, dcql.ErrInvalidQuery) {
				t.Fatalf("Parse = %v, %v; want ErrInvalidQuery", q, err)
			}
			if tt.also != nil && !errors.Is(err, tt.also) {
				t.Errorf("Parse: %v; want it to wrap %v too", err, tt.also)
			}
			if strings.Count(err.Error(), "\n") != 0 {
				t.Errorf("a message of more than one line: %q", err)
			}
		})
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestParseValidEdges accepts what the specification allows at the edges.
func TestParseValidEdges(t *testing.T) {
	const sd = `"format":"dc+sd-jwt","meta":{"vct_values":["v"]}`
	for name, q := range map[string]string{
		"unknown format, empty meta": `{"credentials":[{"id":"a","format":"vendor_format","meta":{}}]}`,
		"id of every class":          `{"credentials":[{"id":"aZ09_-",` + sd + `}]}`,
		"same path, different index": `{"credentials":[{"id":"a",` + sd + `,"claims":[{"path":["x",0]},{"path":["x",1]},{"path":["x",null]}]}]}`,
		"unknown members everywhere": `{"credentials":[{"id":"a",` + sd + `,"x":1,"claims":[{"path":["x"],"y":[]}]}],"credential_sets":[{"options":[["a"]],"purpose":"z"}],"z":null}`,
		"id at its bound":            `{"credentials":[{"id":"` + strings.Repeat("a", 64) + `",` + sd + `}]}`,
		"path at its bound":          `{"credentials":[{"id":"a",` + sd + `,"claims":[{"path":[` + strings.TrimSuffix(strings.Repeat(`null,`, 16), ",") + `]}]}]}`,
		"an option repeats an id":    `{"credentials":[{"id":"a",` + sd + `}],"credential_sets":[{"options":[["a","a"]]}]}`,
		"index zero":                 `{"credentials":[{"id":"a",` + sd + `,"claims":[{"path":["x",0]}]}]}`,
		"mdoc with intent":           `{"credentials":[{"id":"a","format":"mso_mdoc","meta":{"doctype_value":"d"},"claims":[{"path":["ns","x"],"intent_to_retain":true}]}]}`,
	} {
		t.Run(name, func(t *testing.T) { MustParse(t, q) })
	}
}

// TestQueryJSON: a Query field marshals as the text it was parsed from
// and unmarshals through Parse, rules and bounds included.
func TestQueryJSON(t *testing.T) {
	type request struct {
		Nonce string      `json:"nonce"`
		DCQL  *dcql.Query `json:"dcql_query"`
	}
	var r request
	in := `{"nonce":"n","dcql_query":` + string(mustRead(t, "claims_alternatives.json")) + `}`
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if r.DCQL == nil || len(r.DCQL.Credentials) != 1 || len(r.DCQL.Credentials[0].ClaimSets) != 2 {
		t.Fatalf("decoded %+v", r.DCQL)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var again request
	if err := json.Unmarshal(out, &again); err != nil || !reflect.DeepEqual(again.DCQL.Credentials, r.DCQL.Credentials) {
		t.Fatalf("round trip: %v %+v", err, again.DCQL)
	}
	for _, bad := range []string{
		`{"dcql_query":{"credentials":[]}}`,
		`{"dcql_query":{"credentials":[{"id":"a","id":"b","format":"x","meta":{}}]}}`,
		`{"dcql_query":"a string"}`,
	} {
		if err := json.Unmarshal([]byte(bad), &r); !errors.Is(err, dcql.ErrInvalidQuery) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if _, err := json.Marshal(&dcql.Query{}); err == nil {
		t.Error("a Query not made by Parse marshals")
	}
}
