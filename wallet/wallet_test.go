package wallet_test

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/keystore"
	"github.com/idmesh/idmesh/wallet"
)

// TestStoreRoundTrip: every format imports, lists, reads back as it
// went in, exports its raw form, and deletes; reopening the keystore
// finds the same credentials.
func TestStoreRoundTrip(t *testing.T) {
	w, ks, path := MustWallet(t)
	iss := MustIssuer(t, 10)
	sd := MustSDJWT(t, iss, keys.PublicKey{})
	vcjwt := MustVCJWT(t, iss)
	ld, _ := json.Marshal(degree(iss.did))
	inputs := []struct {
		name, raw, format, want string
		types                   []string
	}{
		{"sd-jwt", sd, wallet.FormatSDJWT, sd, []string{"https://example.com/PersonCredential"}},
		{"vc+jwt", vcjwt, wallet.FormatVCJWT, vcjwt, []string{"VerifiableCredential", "UniversityDegreeCredential"}},
		{"jwt_vc_json", MustJWTVCJSON(t, iss), wallet.FormatJWTVCJSON, "", []string{"VerifiableCredential", "UniversityDegreeCredential"}},
		{"ldp_vc", string(ld), wallet.FormatLDPVC, string(ld), []string{"VerifiableCredential", "UniversityDegreeCredential"}},
		{"data: URL", "data:application/vc+jwt," + vcjwt, wallet.FormatVCJWT, vcjwt, nil},
		{"enveloped", mustJSON(t, jose.Envelope(vcjwt, "application/vc+jwt")), wallet.FormatVCJWT, vcjwt, nil},
		{"sd-jwt data: URL", "data:application/dc+sd-jwt," + sd, wallet.FormatSDJWT, sd, nil},
	}
	var ids []string
	for _, in := range inputs {
		c, err := w.Import(padded("\n"+in.raw, 3), "")
		if err != nil {
			t.Fatalf("%s: %v", in.name, err)
		}
		if c.Format != in.format || c.Issuer != iss.did || c.Source != "import" || !c.Received.Equal(t0) || len(c.ID) != 16 {
			t.Fatalf("%s: %+v", in.name, c)
		}
		if in.want != "" && c.Raw != in.want {
			t.Fatalf("%s: raw %q, want %q", in.name, c.Raw, in.want)
		}
		if in.types != nil && !slices.Equal(c.Types, in.types) {
			t.Fatalf("%s: types %v", in.name, c.Types)
		}
		got, err := w.Get(c.ID)
		if err != nil || got.Raw != c.Raw || got.Format != c.Format || !got.Received.Equal(c.Received) {
			t.Fatalf("%s: get: %+v, %v", in.name, got, err)
		}
		ids = append(ids, c.ID)
	}
	list, err := w.List()
	if err != nil || len(list) != len(inputs) {
		t.Fatalf("list: %d, %v", len(list), err)
	}
	if err := w.Delete(ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Get(ids[0]); !errors.Is(err, wallet.ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if err := w.Delete(ids[0]); !errors.Is(err, wallet.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	ks.Close()
	ks2, err := keystore.Open(path, []byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	defer ks2.Close()
	list, err = wallet.New(ks2).List()
	if err != nil || len(list) != len(inputs)-1 {
		t.Fatalf("reopened: %d, %v", len(list), err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestStolenFileRevealsNothing: the keystore file holds neither the
// credential, nor its issuer, type, format or received time, and every
// credential entry's ciphertext has a length that is a multiple of the
// padding block plus the AEAD tag.
func TestStolenFileRevealsNothing(t *testing.T) {
	w, _, path := MustWallet(t)
	iss := MustIssuer(t, 11)
	sd := MustSDJWT(t, iss, keys.PublicKey{})
	if _, err := w.Import([]byte(sd), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Import([]byte(MustVCJWT(t, iss)), ""); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{iss.did, "PersonCredential", "UniversityDegree", "dc+sd-jwt", "vc+jwt", "2026-12-04", "Erika", sd[:20]} {
		if strings.Contains(string(b), secret) {
			t.Errorf("the keystore file shows %q", secret)
		}
	}
	var doc struct {
		Entries []struct {
			ID, Type   string
			Created    string
			Ciphertext []byte
			Labels     map[string]string
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, e := range doc.Entries {
		if e.Type != wallet.EntryType || !strings.HasPrefix(e.ID, wallet.CredentialPrefix) || e.Labels != nil || e.Created != "1970-01-01T00:00:00Z" {
			t.Errorf("entry in clear: %+v", e)
		}
		if (len(e.Ciphertext)-16)%1024 != 0 {
			t.Errorf("ciphertext of %d bytes is not padded", len(e.Ciphertext))
		}
	}
}

// TestWrongPassphraseAndTamper: the store's protection is the
// keystore's: a wrong passphrase and a changed byte are refused.
func TestWrongPassphraseAndTamper(t *testing.T) {
	w, ks, path := MustWallet(t)
	if _, err := w.Import([]byte(MustVCJWT(t, MustIssuer(t, 12))), ""); err != nil {
		t.Fatal(err)
	}
	ks.Close()
	if _, err := keystore.Open(path, []byte("wrong")); !errors.Is(err, keystore.ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	b, _ := os.ReadFile(path)
	i := strings.Index(string(b), `"ciphertext": "`) + len(`"ciphertext": "`) + 10
	c := byte('A')
	if b[i] == 'A' {
		c = 'B'
	}
	b[i] = c
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := keystore.Open(path, []byte("correct horse")); !errors.Is(err, keystore.ErrCorrupt) {
		t.Fatalf("tampered: %v", err)
	}
}

// TestImportRefuses: oversized, empty, unknown and damaged input, and
// an SD-JWT presentation, are refused with their errors and store
// nothing.
func TestImportRefuses(t *testing.T) {
	w, _, _ := MustWallet(t)
	iss := MustIssuer(t, 13)
	sd := MustSDJWT(t, iss, keys.PublicKey{})
	vcjwt := MustVCJWT(t, iss)
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"oversized", padded(vcjwt, wallet.MaxCredentialBytes), wallet.ErrTooLarge},
		{"empty", []byte(" \n"), wallet.ErrUnknownFormat},
		{"text", []byte("hello"), wallet.ErrUnknownFormat},
		{"JSON not a credential", []byte(`{"a":1}`), wallet.ErrUnknownFormat},
		{"repeated member", []byte(`{"@context":[],"type":"VerifiableCredential","type":"X"}`), wallet.ErrMalformed},
		{"JWT not base64", []byte("a.b!.c"), wallet.ErrUnknownFormat},
		{"escape in a JWT signature", []byte(vcjwt + "\x1b[2J"), wallet.ErrUnknownFormat},
		{"JWT not a credential", []byte(b64j(`{"alg":"EdDSA"}`) + "." + b64j(`{"sub":"x"}`) + ".sig"), wallet.ErrUnknownFormat},
		{"SD-JWT with a key binding", []byte(sd + vcjwt), wallet.ErrMalformed},
		{"SD-JWT repeated disclosure", []byte(sd + strings.Split(sd, "~")[1] + "~"), wallet.ErrMalformed},
		{"data: URL of another type", []byte("data:text/plain,hello"), wallet.ErrUnknownFormat},
		{"envelope in a data: URL", []byte("data:application/vc," + mustJSON(t, jose.Envelope(vcjwt, "application/vc+jwt"))), wallet.ErrMalformed},
	}
	for _, tt := range tests {
		if _, err := w.Import(tt.in, ""); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if list, _ := w.List(); len(list) != 0 {
		t.Fatalf("stored %d", len(list))
	}
}

// TestDecodeSDJWT: the holder sees every disclosed claim in its place,
// nested and array ones included, and no digests.
func TestDecodeSDJWT(t *testing.T) {
	iss := MustIssuer(t, 14)
	c, err := wallet.Detect([]byte(MustSDJWT(t, iss, keys.PublicKey{})))
	if err != nil {
		t.Fatal(err)
	}
	got, err := wallet.Decode(c)
	if err != nil {
		t.Fatal(err)
	}
	cl := got.Claims
	addr, _ := cl["address"].(map[string]any)
	if cl["given_name"] != "Erika" || addr["locality"] != "Berlin" || addr["country"] != "DE" ||
		!slices.Equal(toStrings(cl["nationalities"]), []string{"DE", "FR"}) || cl["_sd"] != nil || cl["_sd_alg"] != nil || addr["_sd"] != nil {
		t.Fatalf("claims %v", cl)
	}
	if len(got.Disclosures) != 4 || got.Header["typ"] != "dc+sd-jwt" {
		t.Fatalf("disclosures %v, header %v", got.Disclosures, got.Header)
	}
}

func toStrings(v any) []string {
	a, _ := v.([]any)
	var out []string
	for _, x := range a {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// TestHolderKeys: created keys of both methods and types come back
// from the keystore, the default is the newest one the issuer accepts,
// and a retired DID key is not usable.
func TestHolderKeys(t *testing.T) {
	w, ks, _ := MustWallet(t)
	if _, err := w.DefaultKey(nil); !errors.Is(err, wallet.ErrNoHolderKey) {
		t.Fatalf("empty wallet: %v", err)
	}
	ed, err := wallet.NewHolderKey(keys.Ed25519, wallet.MethodKey, seeded(20))
	if err != nil {
		t.Fatal(err)
	}
	p, err := wallet.NewHolderKey(keys.P256, wallet.MethodJWK, seeded(21))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ed.ID, "did:key:z6Mk") || !strings.HasPrefix(p.ID, "did:jwk:") || !strings.HasSuffix(p.ID, "#0") {
		t.Fatalf("IDs %s %s", ed.ID, p.ID)
	}
	for _, h := range []wallet.HolderKey{ed, p} {
		if err := w.SaveKey(h); err != nil {
			t.Fatal(err)
		}
	}
	got, err := w.Key(p.ID)
	if err != nil || !got.Key.Public().Equal(p.Key.Public()) || got.DID != p.DID {
		t.Fatalf("load: %+v %v", got, err)
	}
	if d, err := w.DefaultKey([]string{"ES256"}); err != nil || d.ID != p.ID {
		t.Fatalf("default ES256: %v %v", d.ID, err)
	}
	if _, err := w.DefaultKey([]string{"ES384"}); !errors.Is(err, wallet.ErrNoHolderKey) {
		t.Fatalf("default ES384: %v", err)
	}
	if len(w.Keys()) != 2 {
		t.Fatalf("keys %v", w.Keys())
	}
	if _, err := wallet.NewHolderKey(keys.P256, "web", seeded(1)); !errors.Is(err, wallet.ErrUnsupported) {
		t.Fatalf("did:web: %v", err)
	}
	// A did:idmesh key of idmesh did create, retired by a rotation.
	k, _ := keys.Generate(keys.Ed25519, seeded(22))
	sk, _ := k.MarshalBinary()
	id := "did:idmesh:abc#key-1"
	if err := ks.Put(keystore.Entry{ID: id, Type: "Ed25519", Public: k.Public().Multibase(), Secret: sk, Created: t0,
		Labels: map[string]string{"did": "did:idmesh:abc", "status": "retired"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Key(id); !errors.Is(err, wallet.ErrUnusableKey) {
		t.Fatalf("retired key: %v", err)
	}
	if _, err := w.Key("wallet:credential:0000000000000000"); !errors.Is(err, wallet.ErrNotFound) {
		t.Fatalf("missing key: %v", err)
	}
}

// TestConcurrentImports: imports from many goroutines, through two
// Stores of one file (two processes), all land.
func TestConcurrentImports(t *testing.T) {
	w, _, path := MustWallet(t)
	ks2, err := keystore.Open(path, []byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	defer ks2.Close()
	w2 := wallet.New(ks2)
	jwt := MustVCJWT(t, MustIssuer(t, 15))
	errs := make(chan error, 16)
	for i := range 16 {
		go func() {
			ww := w
			if i%2 == 1 {
				ww = w2
			}
			_, err := ww.Import([]byte(jwt), "")
			errs <- err
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := ks2.Reload(); err != nil {
		t.Fatal(err)
	}
	if l, err := w2.List(); err != nil || len(l) != 16 {
		t.Fatalf("%d stored, %v", len(l), err)
	}
}
