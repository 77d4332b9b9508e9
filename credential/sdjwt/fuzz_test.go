package sdjwt_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/sdjwt"
)

// FuzzParseSDJWT feeds the parser and both verifiers arbitrary input,
// seeded with the RFC's examples and idmesh's own SD-JWTs: they must
// never panic, must return a credential.Error on failure, and whatever
// verifies must have its Disclosures all placed.
func FuzzParseSDJWT(f *testing.F) {
	fx := MustFixture(f)
	var cs []rfcCompact
	if err := json.Unmarshal(mustRead(f, "rfc9901-compact.json"), &cs); err != nil {
		f.Fatal(err)
	}
	for _, c := range cs {
		f.Add(c.Text)
	}
	issued := MustIssue(f, fx)
	f.Add(issued)
	f.Add(MustPresent(f, fx, issued, "/address/locality"))
	f.Add("~")
	f.Add("a.b.c~~")
	rfcKey := rfcIssuerKey(f)
	f.Fuzz(func(t *testing.T, s string) {
		lim := sdjwt.Limits{MaxBytes: 1 << 16}
		sd, err := sdjwt.Parse(s, lim)
		if err != nil {
			if credential.CodeOf(err, "") == "" {
				t.Fatalf("not a credential.Error: %v", err)
			}
			return
		}
		if !strings.HasPrefix(s, sd.JWT+"~") || !strings.HasPrefix(s, sd.SDHashInput) || !strings.HasSuffix(s, sd.KeyBinding) {
			t.Fatalf("split %+v", sd)
		}
		for _, d := range sd.Disclosures {
			if d.Digest != sdjwt.Digest(d.Encoded) {
				t.Fatal("digest")
			}
		}
		opts := sdjwt.VerifyOptions{Now: time.Unix(1748537243, 0), Limits: lim}
		if res, err := sdjwt.VerifyWithKey(s, rfcKey, opts); err == nil {
			if len(res.Disclosed) != len(sd.Disclosures) {
				t.Fatalf("%d disclosures, %d placed", len(sd.Disclosures), len(res.Disclosed))
			}
		} else if credential.CodeOf(err, "") == "" {
			t.Fatalf("not a credential.Error: %v", err)
		}
		opts.Now = tNow
		if _, err := sdjwt.Verify(t.Context(), s, fx.keys, opts); err != nil && credential.CodeOf(err, "") == "" {
			t.Fatalf("not a credential.Error: %v", err)
		}
	})
}

// FuzzDecodeDisclosure decodes arbitrary Disclosures, seeded with the
// RFC's: what decodes re-encodes (in idmesh's style) to a Disclosure
// that decodes to the same salt, name and value.
func FuzzDecodeDisclosure(f *testing.F) {
	for _, d := range rfcDisclosures(f) {
		f.Add(d.Disclosure)
	}
	f.Add("WyJzIiwgIl9zZCIsIDFd")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := sdjwt.DecodeDisclosure(s)
		if err != nil {
			if credential.CodeOf(err, "") == "" {
				t.Fatalf("not a credential.Error: %v", err)
			}
			return
		}
		e, err := sdjwt.EncodeDisclosure(d.Salt, d.Name, d.Value, d.IsArrayElement)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", d, err)
		}
		d2, err := sdjwt.DecodeDisclosure(e.Encoded)
		if err != nil {
			t.Fatalf("decode re-encoded: %v", err)
		}
		if d2.Salt != d.Salt || d2.Name != d.Name || d2.IsArrayElement != d.IsArrayElement || !reflect.DeepEqual(d2.Value, d.Value) {
			t.Fatalf("round trip %+v != %+v", d2, d)
		}
	})
}

// FuzzPointer feeds arbitrary JSON pointers to issuance and
// presentation: they never panic, refuse with a credential.Error, and a
// pointer that Present accepts discloses only claims at, above or below
// it.
func FuzzPointer(f *testing.F) {
	fx := MustFixture(f)
	issued := MustIssue(f, fx)
	for _, p := range append(disclosable, "", "/", "/address/", "/a~0b~1c", "/nationalities/-", "/nationalities/00", "~", "/~2") {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if _, err := sdjwt.Issue(claimsDoc(), fx.ed, sdjwt.IssueOptions{Disclosable: []string{p}, IssuedAt: t0, Random: random(1)}); err != nil && credential.CodeOf(err, "") == "" {
			t.Fatalf("not a credential.Error: %v", err)
		}
		pres, err := sdjwt.Present(issued, sdjwt.PresentOptions{Disclose: []string{p}})
		if err != nil {
			if credential.CodeOf(err, "") == "" {
				t.Fatalf("not a credential.Error: %v", err)
			}
			return
		}
		res, err := sdjwt.Verify(t.Context(), pres, fx.keys, sdjwt.VerifyOptions{Now: tNow})
		if err != nil {
			t.Fatalf("a presentation for %q does not verify: %v", p, err)
		}
		// Array indexes shift in a presentation (undisclosed elements are
		// left out), so they are compared as "#".
		np := indexless(p)
		for _, d := range res.Disclosed {
			if d = indexless(d); !strings.HasPrefix(d+"/", np+"/") && !strings.HasPrefix(np+"/", d+"/") && p != "" {
				t.Fatalf("pointer %q disclosed %q", p, d)
			}
		}
	})
}

// indexless replaces the array indexes of a JSON pointer by "#".
func indexless(p string) string {
	parts := strings.Split(p, "/")
	for i, t := range parts {
		if t != "" && strings.Trim(t, "0123456789") == "" {
			parts[i] = "#"
		}
	}
	return strings.Join(parts, "/")
}
