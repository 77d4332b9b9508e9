package sdjwt_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/did/keys"
)

// rfcIssuerKey is the issuer key of RFC 9901 appendix A.5.
func rfcIssuerKey(tb testing.TB) keys.PublicKey {
	tb.Helper()
	k, err := keys.ParseJWK(map[string]any{
		"kty": "EC", "crv": "P-256",
		"x": "b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ",
		"y": "Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8",
	})
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

type rfcDisclosure struct {
	Section, Digest, Disclosure, Contents string
}

func rfcDisclosures(tb testing.TB) []rfcDisclosure {
	tb.Helper()
	var ds []rfcDisclosure
	if err := json.Unmarshal(mustRead(tb, "rfc9901-disclosures.json"), &ds); err != nil {
		tb.Fatal(err)
	}
	// Section 4.2.1 (one encoding of "Möbius") and 4.2.2 (an array element).
	ds = append(ds,
		rfcDisclosure{"4.2.1", "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0", "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0", `["_26bc4LT-ac6q2KI6cBW5es", "family_name", "Möbius"]`},
		rfcDisclosure{"4.2.2", "w0I8EKcdCtUPkGCNUrfwVp2xEgNjtoIDlOxc9-PlOhs", "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0", `["lklxF5jMYlGTPUovMNIvCA", "FR"]`},
	)
	return ds
}

// TestRFC9901Disclosures: for every Disclosure of the RFC, the digest
// matches, the decoder reads the salt, claim name and value the RFC
// lists, and the encoder, given them, writes the Disclosure byte for
// byte. Values that are objects keep the RFC's member order, which a Go
// map does not, so they go in as json.RawMessage cut from the decoded
// Disclosure; values the RFC wrote with \u escapes are compared by
// meaning only.
func TestRFC9901Disclosures(t *testing.T) {
	ds := rfcDisclosures(t)
	if len(ds) < 80 {
		t.Fatalf("%d disclosures, want the RFC's 87 and more", len(ds))
	}
	exact := 0
	for _, v := range ds {
		t.Run(v.Section+"/"+v.Digest[:8], func(t *testing.T) {
			if got := sdjwt.Digest(v.Disclosure); got != v.Digest {
				t.Fatalf("digest %s, want %s", got, v.Digest)
			}
			d, err := sdjwt.DecodeDisclosure(v.Disclosure)
			if err != nil {
				t.Fatal(err)
			}
			if d.Digest != v.Digest || d.Encoded != v.Disclosure {
				t.Fatalf("decoded %+v", d)
			}
			var want []any
			dec := json.NewDecoder(strings.NewReader(v.Contents))
			dec.UseNumber()
			if err := dec.Decode(&want); err != nil {
				t.Fatalf("contents %s: %v", v.Contents, err)
			}
			got := []any{d.Salt, d.Name, d.Value}
			if d.IsArrayElement {
				got = []any{d.Salt, d.Value}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("decoded %v, want %v", got, want)
			}
			raw := decodePart(t, v.Disclosure)
			if bytes.Contains(raw, []byte(`\u`)) {
				return // Python's ensure_ascii; idmesh writes UTF-8
			}
			value := d.Value
			switch d.Value.(type) {
			case map[string]any, []any:
				// The value is the last element: cut it out as written.
				head := 1 + len(mustJSON(t, d.Salt)) + 2
				if !d.IsArrayElement {
					head += len(mustJSON(t, d.Name)) + 2
				}
				value = json.RawMessage(raw[head : len(raw)-1])
			}
			e, err := sdjwt.EncodeDisclosure(d.Salt, d.Name, value, d.IsArrayElement)
			if err != nil {
				t.Fatal(err)
			}
			if e.Encoded != v.Disclosure || e.Digest != v.Digest {
				t.Fatalf("encoded\n%s (%s)\nwant\n%s (%s)", e.Encoded, decodePart(t, e.Encoded), v.Disclosure, raw)
			}
			exact++
		})
	}
	if exact < 60 {
		t.Fatalf("only %d disclosures encoded byte for byte", exact)
	}
}

// TestRFC9901DisclosureScalars: the encoder makes the RFC's scalar
// Disclosures from Go values alone (no raw JSON).
func TestRFC9901DisclosureScalars(t *testing.T) {
	for _, c := range []struct {
		salt, name string
		value      any
		array      bool
		want       string
	}{
		{"2GLC42sKQveCfGfryNRN9w", "given_name", "John", false, "WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd"},
		{"Qg_O64zqAxe412a108iroA", "phone_number_verified", true, false, "WyJRZ19PNjR6cUF4ZTQxMmExMDhpcm9BIiwgInBob25lX251bWJlcl92ZXJpZmllZCIsIHRydWVd"},
		{"G02NSrQfjFXQ7Io09syajA", "updated_at", 1570000000, false, "WyJHMDJOU3JRZmpGWFE3SW8wOXN5YWpBIiwgInVwZGF0ZWRfYXQiLCAxNTcwMDAwMDAwXQ"},
		{"lklxF5jMYlGTPUovMNIvCA", "", "US", true, "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIlVTIl0"},
		{"_26bc4LT-ac6q2KI6cBW5es", "family_name", "Möbius", false, "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0"},
	} {
		d, err := sdjwt.EncodeDisclosure(c.salt, c.name, c.value, c.array)
		if err != nil {
			t.Fatal(err)
		}
		if d.Encoded != c.want {
			t.Errorf("%s: %s, want %s", c.name, d.Encoded, c.want)
		}
	}
}

type rfcCompact struct{ Section, Text string }

// TestRFC9901Examples: every compact SD-JWT and SD-JWT+KB of the RFC
// verifies with the example issuer key under VerifyWithKey, the
// presentations' key-binding JWTs (by the cnf.jwk keys) with the
// example nonce and audience at the KB-JWT's iat, and section 5.2's
// presentation processes to the payload the RFC shows.
func TestRFC9901Examples(t *testing.T) {
	var cs []rfcCompact
	if err := json.Unmarshal(mustRead(t, "rfc9901-compact.json"), &cs); err != nil {
		t.Fatal(err)
	}
	key := rfcIssuerKey(t)
	now := time.Unix(1748537243, 0)
	n := 0
	for i, c := range cs {
		if !strings.Contains(c.Text, "~") {
			continue // the issuer-signed JWT alone
		}
		t.Run(c.Section, func(t *testing.T) {
			opts := sdjwt.VerifyOptions{Now: now}
			if !strings.HasSuffix(c.Text, "~") {
				opts.Nonce, opts.Audience = "1234567890", "https://verifier.example.org"
			}
			res, err := sdjwt.VerifyWithKey(c.Text, key, opts)
			if err != nil {
				t.Fatalf("example %d: %v", i, err)
			}
			if res.KeyBound != (opts.Nonce != "") {
				t.Fatalf("key bound %v", res.KeyBound)
			}
			if _, ok := res.Claims["_sd"]; ok {
				t.Fatal("_sd left in the claims")
			}
			if _, ok := res.Claims["_sd_alg"]; ok {
				t.Fatal("_sd_alg left in the claims")
			}
			n++
			if c.Section != "5.2" {
				return
			}
			want := `{"address":{"country":"US","locality":"Anytown","region":"Anystate","street_address":"123 Main St"},` +
				`"cnf":{"jwk":{"crv":"P-256","kty":"EC","x":"TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc","y":"ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ"}},` +
				`"exp":1883000000,"family_name":"Doe","given_name":"John","iat":1683000000,"iss":"https://issuer.example.com","nationalities":["US"],"sub":"user_42"}`
			if got := mustJSON(t, res.Claims); got != want {
				t.Fatalf("processed payload\n%s\nwant\n%s", got, want)
			}
			if want := []string{"/address", "/family_name", "/given_name", "/nationalities/0"}; !slices.Equal(res.Disclosed, want) {
				t.Fatalf("disclosed %v, want %v", res.Disclosed, want)
			}
			// The same presentation, one minute too late for its KB-JWT.
			opts.Now = now.Add(sdjwt.DefaultKeyBindingMaxAge + sdjwt.DefaultSkew + time.Minute)
			_, err = sdjwt.VerifyWithKey(c.Text, key, opts)
			wantCode(t, err, credential.HolderBindingError, nil)
		})
	}
	if n != 8 {
		t.Fatalf("%d examples verified, want 8", n)
	}
}
