package jose

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// typeWants are the media types isType is asked about.
var typeWants = []string{kindVC.typ, kindVC.cty, kindVP.typ, kindVP.cty, kindJWTVC.typ}

// TestIsTypeMatchesNormalize holds isType, which compares a header's typ
// or cty without building the normalized string, to normalizeType's
// comparison it replaces.
func TestIsTypeMatchesNormalize(t *testing.T) {
	for _, typ := range []string{
		"vc+jwt", "VC+JWT", "application/vc+jwt", "Application/VC+jwt", "vc", "VC", "application/vc", "vp+jwt", "application/vp",
		"", "/", "application/", "vc+jwt ", " vc+jwt", "text/vc+jwt", "vc+jw", "vc+jwtt", "application/vc+jwt/x", "jwt",
		"\u212avc+jwt", "vc+jwt\u0130", "VC+JWT\xff", "ſ", "application\u2044vc", "APPLICATION/VP+JWT", "vc%2Bjwt",
	} {
		for _, want := range typeWants {
			if got, exp := isType(typ, want), normalizeType(typ) == want; got != exp {
				t.Errorf("isType(%q, %q) = %v, normalizeType says %v", typ, want, got, exp)
			}
		}
	}
}

// FuzzIsType: isType and normalizeType agree on every string.
func FuzzIsType(f *testing.F) {
	for _, s := range []string{"vc+jwt", "APPLICATION/VC", "vp+jwt", "\u212a", "a/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, typ string) {
		for _, want := range typeWants {
			if got, exp := isType(typ, want), normalizeType(typ) == want; got != exp {
				t.Fatalf("isType(%q, %q) = %v, normalizeType says %v", typ, want, got, exp)
			}
		}
	})
}

// FuzzDataURLText: DataURLText, which returns the data without copying it
// when it needs no decoding, gives what ParseDataURL gives (the same
// error, or the same media type and the data as text when it is UTF-8).
func FuzzDataURLText(f *testing.F) {
	for _, s := range []string{
		"data:application/vc+jwt,eyJ.e30.c2ln", "data:application/vc+jwt;base64,ZXlK", "data:,A%20b", "data:,%ff",
		"data:;charset=utf-8,x", "DATA:Text/Plain;a=b;base64,AAEC", "data:,%G1", "data:a/b;base64,YW%0AI=", "data:,a b", "x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, u string) {
		text, mt, err := DataURLText(u)
		pmt, data, perr := ParseDataURL(u)
		switch {
		case perr != nil:
			if err == nil || err.Error() != perr.Error() {
				t.Fatalf("DataURLText(%q) error %v, ParseDataURL's %v", u, err, perr)
			}
		case !utf8.Valid(data):
			if err == nil || !strings.Contains(err.Error(), "not UTF-8") {
				t.Fatalf("DataURLText(%q) = %q, %v on data that is not UTF-8", u, text, err)
			}
		case err != nil || text != string(data) || mt != pmt:
			t.Fatalf("DataURLText(%q) = %q, %q, %v; ParseDataURL %q, %q", u, text, mt, err, data, pmt)
		}
	})
}

// TestDataURLTextNoCopy: an enveloped token without escapes is not
// copied out of its data: URL.
func TestDataURLTextNoCopy(t *testing.T) {
	u := "data:application/vc+jwt," + strings.Repeat("eyJ", 500) + ".e30.c2ln"
	var text string
	allocs := testing.AllocsPerRun(20, func() {
		text, _, _ = DataURLText(u)
	})
	if text != u[len("data:application/vc+jwt,"):] {
		t.Fatalf("text %q", text)
	}
	if allocs > 1 {
		t.Fatalf("DataURLText allocates %v times for data without escapes, want at most 1 (the parameters)", allocs)
	}
}
