package jose_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
)

func TestParseDataURL(t *testing.T) {
	tests := []struct {
		name, in string
		mt       string
		data     string
		err      bool
	}{
		{name: "jwt", in: "data:application/vc+jwt,eyJhbGciOiJFZERTQSJ9.e30.c2ln", mt: "application/vc+jwt", data: "eyJhbGciOiJFZERTQSJ9.e30.c2ln"},
		{name: "base64", in: "data:application/vc+jwt;base64,ZXlKLmUzMC5j", mt: "application/vc+jwt", data: "eyJ.e30.c"},
		{name: "base64 upper", in: "data:application/vc+cose;BASE64,AAEC", mt: "application/vc+cose", data: "\x00\x01\x02"},
		{name: "default type", in: "data:,A%20brief%20note", mt: "text/plain;charset=US-ASCII", data: "A brief note"},
		{name: "parameter only", in: "data:;charset=utf-8,x", mt: "text/plain;charset=utf-8", data: "x"},
		{name: "parameters kept", in: "data:Text/Plain;charset=iso-8859-7,%be%fg%be", err: true},
		{name: "escapes", in: "data:text/plain;charset=iso-8859-7,%be%d3%be", mt: "text/plain;charset=iso-8859-7", data: "\xbe\xd3\xbe"},
		{name: "scheme and type case", in: "DATA:Application/VC+JWT,x", mt: "application/vc+jwt", data: "x"},
		{name: "empty data", in: "data:application/vc+jwt,", mt: "application/vc+jwt", data: ""},
		{name: "comma in data", in: "data:text/plain,a,b", mt: "text/plain", data: "a,b"},

		{name: "not data", in: "not-a-credential", err: true},
		{name: "http", in: "https://example.com/vc", err: true},
		{name: "no comma", in: "data:application/vc+jwt;base64", err: true},
		{name: "short", in: "data", err: true},
		{name: "type without subtype", in: "data:application,x", err: true},
		{name: "empty subtype", in: "data:application/,x", err: true},
		{name: "space in type", in: "data:application/vc jwt,x", err: true},
		{name: "parameter without value", in: "data:text/plain;charset,x", err: true},
		{name: "parameter empty value", in: "data:text/plain;charset=,x", err: true},
		{name: "space in data", in: "data:,a b", err: true},
		{name: "newline in data", in: "data:,ab\n", err: true},
		{name: "tab in data", in: "data:,a\tb", err: true},
		{name: "fragment", in: "data:,ab#frag", err: true},
		{name: "non-ASCII", in: "data:,é", err: true},
		{name: "quote", in: "data:,\"x\"", err: true},
		{name: "bad escape", in: "data:,%G1", err: true},
		{name: "short escape", in: "data:,%4", err: true},
		{name: "bad base64", in: "data:text/plain;base64,!!!!", err: true},
		{name: "unpadded base64", in: "data:text/plain;base64,YWI", err: true},
		{name: "base64 with newline escape", in: "data:text/plain;base64,YW%0AI=", err: true},
		{name: "oversize", in: "data:," + strings.Repeat("a", jose.MaxDataURLBytes), err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mt, data, err := jose.ParseDataURL(tt.in)
			if tt.err {
				checkErr(t, err, credential.ParsingError, jose.ErrInvalidDataURL)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if mt != tt.mt || string(data) != tt.data {
				t.Fatalf("ParseDataURL = %q, %q; want %q, %q", mt, data, tt.mt, tt.data)
			}
		})
	}
}

func TestEnvelope(t *testing.T) {
	f := MustFixture(t)
	tok := mustSignVC(t, f)

	env := jose.Envelope(tok, jose.MediaTypeVC)
	want := `{"@context":["https://www.w3.org/ns/credentials/v2"],"id":"data:application/vc+jwt,` + tok + `","type":"EnvelopedVerifiableCredential"}`
	if got := mustJSON(t, env); got != want {
		t.Fatalf("Envelope = %s\nwant %s", got, want)
	}
	gotTok, mt, err := jose.Unenvelope(env)
	if err != nil || gotTok != tok || mt != jose.MediaTypeVC {
		t.Fatalf("Unenvelope = %q, %q, %v", gotTok, mt, err)
	}

	vp := jose.Envelope("a.b.c", jose.MediaTypeVP)
	if vp["type"] != jose.TypeEnvelopedPresentation {
		t.Fatalf("vp type %v", vp["type"])
	}
	if _, mt, err := jose.Unenvelope(vp); err != nil || mt != jose.MediaTypeVP {
		t.Fatalf("Unenvelope vp = %q, %v", mt, err)
	}

	odd := "a b%c#d\né"
	if got, _, err := jose.Unenvelope(jose.Envelope(odd, "application/vc+x")); err != nil || got != odd {
		t.Fatalf("escaped round trip = %q, %v", got, err)
	}
}

func TestUnenvelopeErrors(t *testing.T) {
	v2 := []any{jose.ContextV2}
	tests := []struct {
		name string
		obj  map[string]any
		code credential.Code
	}{
		{"nil", nil, credential.MalformedValueError},
		{"no context", map[string]any{"type": jose.TypeEnvelopedCredential, "id": "data:application/vc+jwt,a.b.c"}, credential.MalformedValueError},
		{"v1 context", map[string]any{"@context": []any{"https://www.w3.org/2018/credentials/v1"}, "type": jose.TypeEnvelopedCredential, "id": "data:application/vc+jwt,a.b.c"}, credential.MalformedValueError},
		{"wrong type", map[string]any{"@context": v2, "type": "VerifiableCredential", "id": "data:application/vc+jwt,a.b.c"}, credential.MalformedValueError},
		{"no id", map[string]any{"@context": v2, "type": jose.TypeEnvelopedCredential}, credential.MalformedValueError},
		{"not a data URL", map[string]any{"@context": v2, "type": jose.TypeEnvelopedCredential, "id": "not-a-credential"}, credential.ParsingError},
		{"vp in credential", map[string]any{"@context": v2, "type": jose.TypeEnvelopedCredential, "id": "data:application/vp+jwt,a.b.c"}, credential.MalformedValueError},
		{"vc in presentation", map[string]any{"@context": v2, "type": jose.TypeEnvelopedPresentation, "id": "data:application/vc+jwt,a.b.c"}, credential.MalformedValueError},
		{"unsecured", map[string]any{"@context": v2, "type": jose.TypeEnvelopedCredential, "id": "data:application/vc,%7B%7D"}, credential.MalformedValueError},
		{"not UTF-8", map[string]any{"@context": v2, "type": jose.TypeEnvelopedCredential, "id": "data:application/vc+jwt,%FF"}, credential.ParsingError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := jose.Unenvelope(tt.obj)
			checkErr(t, err, tt.code, nil)
		})
	}
	t.Run("array type and string context", func(t *testing.T) {
		obj := map[string]any{"@context": jose.ContextV2, "type": []any{jose.TypeEnvelopedCredential}, "id": "data:application/vc+jwt;charset=utf-8,a.b.c"}
		tok, mt, err := jose.Unenvelope(obj)
		if err != nil || tok != "a.b.c" || mt != jose.MediaTypeVC {
			t.Fatalf("Unenvelope = %q, %q, %v", tok, mt, err)
		}
	})
}

func TestEnvelopedCredentials(t *testing.T) {
	a, b := jose.Envelope("a.b.c", jose.MediaTypeVC), jose.Envelope("d.e.f", jose.MediaTypeVC)
	tests := []struct {
		name string
		vc   any // nil: no property
		want []jose.Enveloped
		err  error
	}{
		{name: "none", vc: nil},
		{name: "one object", vc: a, want: []jose.Enveloped{{Token: "a.b.c", MediaType: jose.MediaTypeVC}}},
		{name: "array", vc: []any{a, b}, want: []jose.Enveloped{{"a.b.c", jose.MediaTypeVC}, {"d.e.f", jose.MediaTypeVC}}},
		{name: "empty array", vc: []any{}, want: []jose.Enveloped{}},
		{name: "embedded credential", vc: []any{a, credentialDoc(issuerDID)}, err: errAnyCode},
		{name: "enveloped presentation", vc: []any{jose.Envelope("a.b.c", jose.MediaTypeVP)}, err: errAnyCode},
		{name: "string", vc: "a.b.c", err: errAnyCode},
		{name: "array of strings", vc: []any{"a.b.c"}, err: errAnyCode},
		{name: "bad data URL", vc: []any{map[string]any{"@context": jose.ContextV2, "type": jose.TypeEnvelopedCredential, "id": "data:application/vc+jwt,a b"}}, err: jose.ErrInvalidDataURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pres := presentationDoc(holderDID)
			if tt.vc != nil {
				pres["verifiableCredential"] = tt.vc
			}
			got, err := jose.EnvelopedCredentials(pres)
			if tt.err != nil {
				if err == nil || credential.CodeOf(err, "") == "" || (!errors.Is(tt.err, errAnyCode) && !errors.Is(err, tt.err)) {
					t.Fatalf("EnvelopedCredentials = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if mustJSON(t, got) != mustJSON(t, tt.want) {
				t.Fatalf("EnvelopedCredentials = %v, want %v", got, tt.want)
			}
		})
	}
}

var errAnyCode = errors.New("any coded error")
