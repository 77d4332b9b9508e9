package ld_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/ld"
	"github.com/idmesh/idmesh/credential/ld/ldtest"
)

// MustReadJSON decodes a testdata file.
func MustReadJSON(tb testing.TB, name string) map[string]any {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		tb.Fatal(err)
	}
	return doc
}

func MustParse(tb testing.TB, s string) map[string]any {
	tb.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		tb.Fatal(err)
	}
	return doc
}

// The vc-di-eddsa vectors (testdata/SOURCES.md): canonical forms of the
// unsigned credential and of the proof configurations.
func TestVectors(t *testing.T) {
	signedDoc := MustReadJSON(t, "vc-di-eddsa/eddsa-rdfc-2022-signedDataInt.json")
	delete(signedDoc, "proof")
	tests := []struct {
		name string
		doc  map[string]any
		want string
	}{
		{"unsigned credential", MustReadJSON(t, "vc-di-eddsa/unsigned.json"), "vc-di-eddsa/eddsa-rdfc-2022-canonDocDataInt.txt"},
		{"signed credential without proof", signedDoc, "vc-di-eddsa/eddsa-rdfc-2022-canonDocDataInt.txt"},
		{"eddsa-rdfc-2022 proof configuration", MustReadJSON(t, "vc-di-eddsa/eddsa-rdfc-2022-proofConfigDataInt.json"), "vc-di-eddsa/eddsa-rdfc-2022-proofCanonDataInt.txt"},
		{"Ed25519Signature2020 unsigned credential", MustReadJSON(t, "vc-di-eddsa/unsigned.json"), "vc-di-eddsa/Ed25519Signature2020-canonDocEdSig.txt"},
		{"Ed25519Signature2020 proof configuration", MustReadJSON(t, "vc-di-eddsa/Ed25519Signature2020-proofConfigEdSig.json"), "vc-di-eddsa/Ed25519Signature2020-proofCanonEdSig.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", tt.want))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ld.Canonicalize(t.Context(), tt.doc, ld.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestReference: documents whose canonical form the reference
// implementation wrote (testdata/SOURCES.md): a value with @direction
// (an i18n datatype, rdfDirection "i18n-datatype") and a presentation
// whose embedded credential, under credentials v2's @graph container with
// a null scoped context, goes into a named graph.
func TestReference(t *testing.T) {
	for _, name := range []string{"direction", "presentation-graph"} {
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata/reference", name+".nq"))
			if err != nil {
				t.Fatal(err)
			}
			for _, opts := range []ld.Options{{}, {AllowUndefinedTerms: true}} {
				got, err := ld.Canonicalize(t.Context(), MustReadJSON(t, "reference/"+name+".json"), opts)
				if err != nil {
					t.Fatalf("%+v: %v", opts, err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%+v: got\n%s\nwant\n%s", opts, got, want)
				}
			}
		})
	}
}

// TestDirection: the i18n datatype of JSON-LD 1.1 toRdf, and what safe
// mode rejects.
func TestDirection(t *testing.T) {
	tests := []struct {
		name, value string
		want        string // the object of the name quad; "" for an error
	}{
		{"language and direction", `{"@value": "x", "@language": "ar", "@direction": "rtl"}`, `"x"^^<https://www.w3.org/ns/i18n#ar_rtl>`},
		{"language in lower case", `{"@value": "x", "@language": "EN-GB", "@direction": "ltr"}`, `"x"^^<https://www.w3.org/ns/i18n#en-gb_ltr>`},
		{"no language", `{"@value": "x", "@direction": "rtl"}`, `"x"^^<https://www.w3.org/ns/i18n#_rtl>`},
		{"not a direction", `{"@value": "x", "@direction": "up"}`, ""},
		{"not a string", `{"@value": true, "@direction": "rtl"}`, ""},
		{"ill-formed language", `{"@value": "x", "@language": "a b", "@direction": "rtl"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ld.Canonicalize(t.Context(), MustParse(t, `{`+v2+`, "id": "urn:a", "name": `+tt.value+`}`), ld.Options{})
			if tt.want == "" {
				if err == nil {
					t.Fatalf("no error:\n%s", got)
				}
				return
			}
			if line := "<urn:a> <https://schema.org/name> " + tt.want + " .\n"; err != nil || string(got) != line {
				t.Errorf("got %q, %v; want %q", got, err, line)
			}
		})
	}
}

const v2 = `"@context": ["https://www.w3.org/ns/credentials/v2"]`

func TestSafeMode(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		safeErr bool   // an UndefinedTermError without AllowUndefinedTerms
		want    string // a line the output holds when it succeeds
	}{
		{"undefined claim", `{` + v2 + `, "id": "urn:a", "type": ["VerifiableCredential"], "issuer": "did:example:i",
			"credentialSubject": {"id": "did:example:s", "favouriteColour": "blue"}}`, true,
			`<did:example:s>`},
		{"undefined type", `{` + v2 + `, "id": "urn:a", "type": ["VerifiableCredential", "MyCredential"]}`, true,
			`<https://www.w3.org/2018/credentials#VerifiableCredential>`},
		{"relative id", `{` + v2 + `, "id": "relative/path", "type": ["VerifiableCredential"]}`, true, ``},
		{"keyword-like term", `{` + v2 + `, "id": "urn:a", "name": "x", "@foo": "x"}`, true, `<urn:a>`},
		{"undefined claim, undefined-terms context", `{"@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/undefined-terms/v2"],
			"id": "urn:a", "credentialSubject": {"id": "did:example:s", "favouriteColour": "blue"}}`, false,
			`<did:example:s> <https://www.w3.org/ns/credentials/undefined-term#favouriteColour> "blue" .`},
		{"all defined", `{` + v2 + `, "id": "urn:a", "name": "x"}`, false, `<urn:a> <https://schema.org/name> "x" .`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ld.Canonicalize(t.Context(), MustParse(t, tt.doc), ld.Options{})
			if tt.safeErr {
				if credential.CodeOf(err, "") != credential.UndefinedTermError || !errors.Is(err, ld.ErrUndefinedTerm) {
					t.Fatalf("safe mode: err = %v, want %s", err, credential.UndefinedTermError)
				}
			} else if err != nil {
				t.Fatalf("safe mode: %v", err)
			}
			out, err := ld.Canonicalize(t.Context(), MustParse(t, tt.doc), ld.Options{AllowUndefinedTerms: true})
			if err != nil {
				t.Fatalf("AllowUndefinedTerms: %v", err)
			}
			if !strings.Contains(string(out), tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, out)
			}
		})
	}
}

func TestUnknownContext(t *testing.T) {
	for _, doc := range []string{
		`{"@context": ["https://www.w3.org/ns/credentials/v2", "https://example.com/contexts/v1"], "id": "urn:a"}`,
		`{"@context": "https://example.com/contexts/v1", "id": "urn:a"}`,
		`{"@context": {"@import": "https://example.com/contexts/v1"}, "id": "urn:a"}`,
		`{"@context": {"x": {"@id": "urn:x", "@context": "https://example.com/scoped"}}, "x": {"id": "urn:b"}}`,
	} {
		_, err := ld.Canonicalize(t.Context(), MustParse(t, doc), ld.Options{})
		if credential.CodeOf(err, "") != credential.UnknownContextError || !errors.Is(err, ld.ErrUnknownContext) {
			t.Errorf("%s: err = %v, want %s", doc, err, credential.UnknownContextError)
		}
	}
	_, err := ld.Loader().LoadDocument("https://example.com/contexts/v1")
	if !errors.Is(err, ld.ErrUnknownContext) || credential.CodeOf(err, "") != credential.UnknownContextError {
		t.Errorf("Loader: err = %v", err)
	}
}

func TestContexts(t *testing.T) {
	known := ld.Known()
	if len(known) != 17 {
		t.Errorf("Known() has %d URLs, want 17", len(known))
	}
	for i := 1; i < len(known); i++ {
		if known[i-1] >= known[i] {
			t.Errorf("Known() not sorted at %d", i)
		}
	}
	for _, u := range known {
		raw, ok := ld.Context(u)
		if !ok || !json.Valid(raw) {
			t.Errorf("Context(%s): %v, valid JSON %v", u, ok, json.Valid(raw))
		}
		rd, err := ld.Loader().LoadDocument(u)
		if err != nil || rd.DocumentURL != u {
			t.Errorf("Loader(%s): %v", u, err)
		}
	}
	if _, ok := ld.Context("https://example.com/"); ok {
		t.Error("Context of an unknown URL")
	}
}

func TestControlCharactersEndToEnd(t *testing.T) {
	var sb strings.Builder
	for c := 0; c < 0x20; c++ {
		sb.WriteRune(rune(c))
	}
	sb.WriteString("\x7f\"\\é")
	raw, _ := json.Marshal(sb.String())
	doc := MustParse(t, `{`+v2+`, "id": "urn:a", "name": `+string(raw)+`}`)
	got, err := ld.Canonicalize(t.Context(), doc, ld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := `<urn:a> <https://schema.org/name> "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000B\f\r\u000E\u000F` +
		`\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\u007F\"\\é" .` + "\n"
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// poisonDoc is a JSON-LD document whose n blank nodes all know each other.
func poisonDoc(n int) map[string]any {
	nodes := make([]any, n)
	for i := range n {
		var knows []any
		for j := range n {
			if i != j {
				knows = append(knows, map[string]any{"@id": fmt.Sprintf("_:n%d", j)})
			}
		}
		nodes[i] = map[string]any{"@id": fmt.Sprintf("_:n%d", i), "http://xmlns.com/foaf/0.1/knows": knows}
	}
	return map[string]any{"@graph": nodes}
}

func TestPoisonGraph(t *testing.T) {
	for _, n := range []int{8, 12, 30} {
		start := time.Now()
		_, err := ld.Canonicalize(t.Context(), poisonDoc(n), ld.Options{})
		if !errors.Is(err, ld.ErrTooMuchWork) || credential.CodeOf(err, "") != credential.LimitExceededError {
			t.Errorf("%d-clique: err = %v, want ErrTooMuchWork", n, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%d-clique: took %v", n, d)
		}
	}
	// A cancelled context stops the work too.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := ld.Canonicalize(ctx, poisonDoc(8), ld.Options{MaxWork: -1}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}

func TestLimits(t *testing.T) {
	doc := MustReadJSON(t, "vc-di-eddsa/unsigned.json")
	if _, err := ld.Canonicalize(t.Context(), doc, ld.Options{MaxQuads: 3}); !errors.Is(err, ld.ErrTooLarge) {
		t.Errorf("MaxQuads: err = %v", err)
	}
	proof := MustReadJSON(t, "vc-di-eddsa/eddsa-rdfc-2022-proofConfigDataInt.json")
	if _, err := ld.Canonicalize(t.Context(), proof, ld.Options{MaxBlankNodes: -1}); err != nil {
		t.Errorf("no bound: %v", err)
	}
	if _, err := ld.Canonicalize(t.Context(), poisonDoc(4), ld.Options{MaxBlankNodes: 3}); !errors.Is(err, ld.ErrTooLarge) {
		t.Errorf("MaxBlankNodes: err = %v", err)
	}
}

// TestConcurrent runs Canonicalize from many goroutines (under -race in
// `make test`) over the shared context cache.
func TestConcurrent(t *testing.T) {
	want, err := os.ReadFile("testdata/vc-di-eddsa/eddsa-rdfc-2022-canonDocDataInt.txt")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				got, err := ld.Canonicalize(t.Context(), MustReadJSON(t, "vc-di-eddsa/unsigned.json"), ld.Options{})
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("concurrent: %v\n%s", err, got)
				}
			}
		})
	}
	wg.Wait()
}

func FuzzCanonicalize(f *testing.F) {
	for _, name := range []string{
		"unsigned.json", "eddsa-rdfc-2022-proofConfigDataInt.json", "eddsa-rdfc-2022-signedDataInt.json",
		"Ed25519Signature2020-proofConfigEdSig.json",
	} {
		raw, err := os.ReadFile(filepath.Join("testdata/vc-di-eddsa", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(`{"@context": {"@vocab": "urn:v#"}, "@id": "_:a", "p": [{"@id": "_:b", "p": {"@id": "_:a"}}, {"@list": [1, 2.5, true, {"@value": "x", "@language": "en"}]}]}`))
	// The hostile shapes of issue 10 (item 4), refused or within bounds.
	for _, sh := range ldtest.Shapes() {
		f.Add(ldtest.Credential(sh.Subject))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var doc any
		if json.Unmarshal(raw, &doc) != nil {
			return
		}
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		for _, opts := range []ld.Options{{}, {AllowUndefinedTerms: true, MaxWork: 2000}} {
			a, errA := ld.Canonicalize(ctx, doc, opts)
			b, errB := ld.Canonicalize(ctx, doc, opts)
			if (errA == nil) != (errB == nil) || !bytes.Equal(a, b) {
				t.Fatalf("not deterministic: %v / %v", errA, errB)
			}
			if errA == nil && len(a) > 0 && !bytes.HasSuffix(a, []byte("\n")) {
				t.Fatalf("output does not end in a newline: %q", a)
			}
		}
	})
}

func BenchmarkCanonicalize(b *testing.B) {
	doc := MustReadJSON(b, "vc-di-eddsa/unsigned.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ld.Canonicalize(b.Context(), doc, ld.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleCanonicalize() {
	var doc map[string]any
	_ = json.Unmarshal([]byte(`{
		"@context": ["https://www.w3.org/ns/credentials/v2"],
		"id": "urn:uuid:1",
		"type": ["VerifiableCredential"],
		"issuer": "did:example:issuer"
	}`), &doc)
	out, err := ld.Canonicalize(context.Background(), doc, ld.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out))
	// Output:
	// <urn:uuid:1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://www.w3.org/2018/credentials#VerifiableCredential> .
	// <urn:uuid:1> <https://www.w3.org/2018/credentials#issuer> <did:example:issuer> .
}
