package verifier_test

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/idmesh/idmesh/did/strictjson"
	"github.com/idmesh/idmesh/verifier"
)

// checkSameJSON fails unless r.AppendJSON gives what json.Marshal(r)
// gives, bytes and error alike, appended after what dst held.
func checkSameJSON(t *testing.T, r verifier.Result) {
	t.Helper()
	want, wantErr := json.Marshal(r)
	prefix := []byte("prefix")
	got, err := r.AppendJSON(bytes.Clone(prefix))
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("AppendJSON error %v, json.Marshal error %v", err, wantErr)
	}
	if err != nil {
		return
	}
	if !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[len(prefix):], want) {
		t.Fatalf("AppendJSON:\n%s\njson.Marshal:\n%s", got, want)
	}
}

func boolPtr(b bool) *bool { return &b }

// TestAppendJSONMatchesEncodingJSON: every shape of result encodes as
// encoding/json encodes it.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	problem := verifier.ProblemDetail{Type: "https://www.w3.org/TR/vc-data-model#CRYPTOGRAPHIC_SECURITY_ERROR", Code: -65, Title: "A cryptographic check failed", Detail: "verify: <bad> & \"quoted\" \u2028 \x01 é \xff"}
	doc := map[string]any{
		"@context":          []any{"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"},
		"type":              []any{"VerifiableCredential", "ExampleDegreeCredential"},
		"issuer":            "did:idmesh:abc",
		"credentialSubject": map[string]any{"id": "did:example:1", "degree": map[string]any{"name": "Bachelor of Science & Arts <BSc>", "gpa": json.Number("3.75"), "honours": true, "minor": nil}},
		"credentialStatus":  []any{map[string]any{"statusListIndex": "17"}, map[string]any{}},
		"empty":             []any{},
		"nilSlice":          []any(nil),
		"nilMap":            map[string]any(nil),
		"z":                 1.5, "y": 1e21, "x": 0.000001, "w": int64(-3), "v": []string{"a"}, "u": json.RawMessage(`{"b":1,"a":2}`),
		"ключ": "значение", "tab\tkey": "\t\n\r\b\f",
	}
	full := verifier.Result{Verified: true, Checks: []string{"parse", "proof", "status"},
		Results:  []verifier.CheckResult{{Check: "parse", Verified: true}, {Check: "proof", Verified: false, Problem: &problem}},
		Warnings: []verifier.ProblemDetail{{Type: "w", Title: "t"}}, Errors: []verifier.ProblemDetail{problem}, ProblemDetails: []verifier.ProblemDetail{problem},
		Format: "vc+jwt", Issuer: "did:idmesh:abc", Holder: "did:example:holder", Document: doc, ChallengeIssuedByNode: boolPtr(false), StatusHeight: 42,
		Disclosed: &verifier.DisclosedClaims{Claims: map[string]any{"given_name": "Erika"}, Disclosed: []string{"/given_name"}, VCT: "https://example.com/vct", KeyBound: true}}
	nested := full
	nested.Credentials = []verifier.Result{full, {}}
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	tests := []struct {
		name string
		r    verifier.Result
	}{
		{"zero", verifier.Result{}},
		{"empty lists", verifier.Result{Checks: []string{}, Results: []verifier.CheckResult{}, Warnings: []verifier.ProblemDetail{}, Errors: []verifier.ProblemDetail{}, ProblemDetails: []verifier.ProblemDetail{}}},
		{"verified vc+jwt", verifier.Result{Verified: true, Checks: []string{"parse", "proof"}, Results: []verifier.CheckResult{{Check: "parse", Verified: true}}, Format: "vc+jwt", Issuer: "did:idmesh:x", Document: map[string]any{"id": "urn:uuid:1"}, StatusHeight: 7}},
		{"failed", verifier.Result{Checks: []string{"proof"}, Results: []verifier.CheckResult{{Check: "proof", Problem: &problem}}, Errors: []verifier.ProblemDetail{problem}, ProblemDetails: []verifier.ProblemDetail{problem}}},
		{"empty document omitted", verifier.Result{Document: map[string]any{}}},
		{"challenge true", verifier.Result{ChallengeIssuedByNode: boolPtr(true)}},
		{"full", full},
		{"presentation with credentials", nested},
		{"empty credentials omitted", verifier.Result{Credentials: []verifier.Result{}}},
		{"NaN refused", verifier.Result{Document: map[string]any{"n": math.NaN()}}},
		{"function refused", verifier.Result{Document: map[string]any{"f": func() {}}}},
		{"bad number refused", verifier.Result{Document: map[string]any{"n": json.Number("1x")}}},
		{"numbers", verifier.Result{Document: map[string]any{"a": json.Number(""), "b": json.Number("0"), "c": json.Number("-0"), "d": json.Number("1e5"),
			"e": json.Number("-1.5E+3"), "f": json.Number("1796434874"), "g": []any{json.Number("0.25e-7"), json.Number("12345678901234567890123")}}}},
		{"cycle refused", verifier.Result{Document: cyclic}},
		{"invalid UTF-8 key", verifier.Result{Document: map[string]any{"\xff\xfe": "a", "<": ">"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkSameJSON(t, tt.r) })
	}
}

// FuzzAppendJSON: results with any strings and any decoded document
// encode as encoding/json encodes them.
func FuzzAppendJSON(f *testing.F) {
	f.Add(true, "vc+jwt", "did:idmesh:abc", "verify: <x> & \"y\"", `{"a":[1,"b",{"c":null}],"d":true}`, uint64(3))
	f.Add(false, "", "\xff", "\u2028\u2029", `{"ключ":"\u0000"}`, uint64(0))
	f.Add(false, "eddsa-rdfc-2022", "", "", `{}`, uint64(1))
	f.Fuzz(func(t *testing.T, verified bool, format, issuer, detail, doc string, height uint64) {
		if len(doc) > 1<<14 {
			return
		}
		p := verifier.ProblemDetail{Type: format, Code: len(detail) - 5, Title: issuer, Detail: detail}
		r := verifier.Result{Verified: verified, Checks: []string{format, detail}, Results: []verifier.CheckResult{{Check: detail, Verified: verified, Problem: &p}},
			Warnings: []verifier.ProblemDetail{p}, Errors: []verifier.ProblemDetail{}, Format: format, Issuer: issuer, Holder: detail, StatusHeight: height}
		if m, err := strictjson.Object([]byte(doc), 0); err == nil {
			r.Document = m
		} else {
			var m map[string]any
			if json.Unmarshal([]byte(doc), &m) == nil {
				r.Document = m // float64 numbers, repeated names
			}
		}
		checkSameJSON(t, r)
		checkSameJSON(t, verifier.Result{Credentials: []verifier.Result{r, r}})
	})
}

// TestAppendJSONNumbers: json.Number values that are not JSON numbers are
// refused as encoding/json refuses them.
func TestAppendJSONNumbers(t *testing.T) {
	for _, n := range []string{"01", "-", "1.", ".5", " 1", "1 ", "+1", "1e", "NaN", "0x1", "1e+", "--1", "1_000", "-01", "0.", "1.e5", "Infinity", "\u0031"} {
		checkSameJSON(t, verifier.Result{Document: map[string]any{"n": json.Number(n)}})
	}
}

// FuzzAppendJSONNumber: any json.Number encodes (or fails) as
// encoding/json encodes it.
func FuzzAppendJSONNumber(f *testing.F) {
	for _, n := range []string{"0", "-1.5e+10", "", "01", "1.", "x"} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n string) {
		checkSameJSON(t, verifier.Result{Document: map[string]any{"n": json.Number(n), "m": []any{json.Number(n)}}})
	})
}

// TestAppendJSONCycle (security review R1): a result that contains
// itself is an error, as json.Marshal reports it, not a stack overflow.
func TestAppendJSONCycle(t *testing.T) {
	cyc := make([]verifier.Result, 1)
	cyc[0].Credentials = cyc
	if _, err := json.Marshal(cyc[0]); err == nil {
		t.Fatal("json.Marshal encoded a cycle")
	}
	if _, err := cyc[0].AppendJSON(nil); err == nil {
		t.Fatal("AppendJSON encoded a cycle")
	}
}
