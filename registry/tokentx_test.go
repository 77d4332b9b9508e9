package registry_test

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/credential/tokenstatus"
	"github.com/idmesh/idmesh/registry"
)

const tokenBase = "https://node-a.example"

// tokenSpec describes a Status List Token for the tests.
type tokenSpec struct {
	ID     string
	Length int           // default tokenstatus.MinLength
	Set    map[int]uint8 // entries other than 0
	Iat    time.Time
	Exp    time.Time
	Sub    string // default tokenBase/status-lists/{ID}/token
	Iss    string // default the signer's DID
	NoIss  bool
	Bits   int // default 2
}

func tokenTx(payload []byte) registry.Tx {
	return registry.Tx{Type: registry.TxTokenStatusList, Payload: payload}
}

// signedToken signs s with iss's key.
func signedToken(tb testing.TB, s tokenSpec, iss issuer) []byte {
	tb.Helper()
	return []byte(mustSignClaims(tb, tokenClaims(tb, s, iss), "statuslist+jwt", iss))
}

func tokenClaims(tb testing.TB, s tokenSpec, iss issuer) map[string]any {
	tb.Helper()
	n, bits := s.Length, s.Bits
	if n == 0 {
		n = tokenstatus.MinLength
	}
	if bits == 0 {
		bits = tokenstatus.Bits
	}
	l, err := tokenstatus.New(n, bits)
	if err != nil {
		tb.Fatal(err)
	}
	for i, v := range s.Set {
		if err := l.Set(i, v); err != nil {
			tb.Fatal(err)
		}
	}
	lst, err := l.Encode()
	if err != nil {
		tb.Fatal(err)
	}
	c := map[string]any{"iat": s.Iat.Unix(), "status_list": map[string]any{"bits": bits, "lst": lst}}
	c["sub"] = s.Sub
	if s.Sub == "" {
		c["sub"] = tokenBase + "/status-lists/" + s.ID + "/token"
	}
	switch {
	case s.Iss != "":
		c["iss"] = s.Iss
	case !s.NoIss:
		c["iss"] = iss.DID
	}
	if !s.Exp.IsZero() {
		c["exp"] = s.Exp.Unix()
	}
	return c
}

func mustSignClaims(tb testing.TB, claims map[string]any, typ string, iss issuer) string {
	tb.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		tb.Fatal(err)
	}
	jwt, err := jose.SignCompact(b, typ, iss.VM, iss.signer(), "")
	if err != nil {
		tb.Fatal(err)
	}
	return jwt
}

func storedToken(tb testing.TB, r registry.StateReader, listID string) []byte {
	tb.Helper()
	b, err := registry.TokenStatusList(r, listID)
	if errors.Is(err, registry.ErrNotFound) {
		return nil
	}
	if err != nil {
		tb.Fatal(err)
	}
	return bytes.Clone(b)
}

// TestTokenStatusListVersions runs the versions of one token list in
// order: revocation is final, suspension may be lifted, versions need a
// later iat and the same length; after each step the stored token is the
// step's payload if it was accepted and the one before otherwise.
func TestTokenStatusListVersions(t *testing.T) {
	l := mustLedger(t, nil)
	a := l.mustDIDIssuer(t, 1)
	id := registry.StatusListOwner(a.DID) + "tok"
	at := func(d time.Duration) time.Time { return blockTime.Add(d) }
	tok := func(iat time.Duration, set map[int]uint8) []byte {
		return signedToken(t, tokenSpec{ID: id, Set: set, Iat: at(iat)}, a)
	}
	v1 := tok(-time.Hour, map[int]uint8{1: 1, 5: 2})
	v2 := tok(-50*time.Minute, map[int]uint8{1: 1, 5: 2, 9: 1, 100_000: 2})
	steps := []struct {
		name    string
		payload []byte
		code    uint32
		substr  string
	}{
		{"first version", v1, registry.CodeOK, ""},
		{"later iat, more entries set", v2, registry.CodeOK, ""},
		{"replay of the current version", v2, registry.CodeConflict, "replayed or out of order"},
		{"replay of an older version", v1, registry.CodeConflict, "replayed or out of order"},
		{"same iat, other entries", tok(-50*time.Minute, map[int]uint8{1: 1, 5: 2, 9: 1, 100_000: 2, 7: 1}), registry.CodeConflict, "replayed"},
		{"revoked entry cleared", tok(-45*time.Minute, map[int]uint8{1: 1, 5: 2, 100_000: 2}), registry.CodeConflict, "entry 9 is revoked: revocation is final"},
		{"revoked entry suspended", tok(-45*time.Minute, map[int]uint8{1: 2, 5: 2, 9: 1, 100_000: 2}), registry.CodeConflict, "entry 1 is revoked"},
		{"shorter", signedToken(t, tokenSpec{ID: id, Length: tokenstatus.MinLength - 4, Set: map[int]uint8{1: 1, 9: 1}, Iat: at(-45 * time.Minute)}, a), registry.CodeConflict, "entries, the list has"},
		{"longer", signedToken(t, tokenSpec{ID: id, Length: 2 * tokenstatus.MinLength, Set: map[int]uint8{1: 1, 9: 1}, Iat: at(-45 * time.Minute)}, a), registry.CodeConflict, "entries, the list has"},
		{"another host in sub", signedToken(t, tokenSpec{ID: id, Set: map[int]uint8{1: 1, 5: 2, 9: 1, 100_000: 2}, Iat: at(-44 * time.Minute), Sub: "https://elsewhere.example/status-lists/" + id + "/token"}, a), registry.CodeConflict, "sub"},
		{"suspension lifted, suspended revoked", tok(-40*time.Minute, map[int]uint8{1: 1, 5: 1, 9: 1}), registry.CodeOK, ""},
		{"status 3", tok(-30*time.Minute, map[int]uint8{1: 1, 5: 1, 9: 1, 11: 3}), registry.CodeInvalid, "entry 11 has status 3"},
		{"iat at the skew bound", tok(5*time.Minute, map[int]uint8{1: 1, 5: 1, 9: 1, 12: 2}), registry.CodeOK, ""},
		{"iat past the skew bound", tok(5*time.Minute+time.Second, map[int]uint8{1: 1, 5: 1, 9: 1, 12: 2}), registry.CodeInvalid, "iat"},
	}
	for _, s := range steps {
		before := storedToken(t, l.st, id)
		err := l.deliver(tokenTx(s.payload))
		wantCode(t, err, s.code, s.substr)
		after := storedToken(t, l.st, id)
		switch {
		case s.code == registry.CodeOK && !bytes.Equal(after, s.payload):
			t.Fatalf("%s: accepted, but the stored version is not the payload", s.name)
		case s.code != registry.CodeOK && !bytes.Equal(after, before):
			t.Fatalf("%s: rejected, but the stored version changed", s.name)
		}
	}
	u, err := tokenstatus.Parse(string(storedToken(t, l.st, id)), tokenstatus.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := u.Verify(a.Key.Public(), tokenstatus.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range map[int]uint8{1: 1, 5: 1, 9: 1, 12: 2, 100_000: 0} {
		if v, _ := got.List.Get(i); v != want {
			t.Errorf("entry %d = %d, want %d", i, v, want)
		}
	}
	// The Bitstring lists are another namespace.
	if storedList(t, l.st, id) != nil {
		t.Fatal("a token list is stored as a Bitstring list")
	}
}

// TestTokenStatusListRejected runs tokens the handler must refuse: wrong
// key, prefix, issuer, typ, alg none, sub, bits, length, oversize, a zip
// bomb, a tampered payload.
func TestTokenStatusListRejected(t *testing.T) {
	l := mustLedger(t, nil)
	a := l.mustDIDIssuer(t, 1)
	b := l.mustDIDIssuer(t, 2)
	dk := keyIssuer(t, 3)
	id := registry.StatusListOwner(a.DID) + "tok"
	now := blockTime.Add(-time.Minute)
	good := tokenSpec{ID: id, Iat: now}
	l.mustDeliver(t, tokenTx(signedToken(t, good, a)))
	held := storedToken(t, l.st, id)

	enc := base64.RawURLEncoding.EncodeToString
	var bomb bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&bomb, zlib.BestCompression)
	zw.Write(make([]byte, 64<<20))
	zw.Close()
	bombClaims := tokenClaims(t, tokenSpec{ID: registry.StatusListOwner(a.DID) + "bomb", Iat: now}, a)
	bombClaims["status_list"] = map[string]any{"bits": 2, "lst": enc(bomb.Bytes())}

	next := tokenSpec{ID: id, Iat: now.Add(time.Second), Set: map[int]uint8{3: 1}}
	nextClaims := tokenClaims(t, next, a)
	signed := string(signedToken(t, next, a))
	parts := strings.Split(signed, ".")
	hdr := func(h string) string { return enc([]byte(h)) + "." + parts[1] + "." + parts[2] }
	other := a.as(b.Key, b.VM)

	for _, c := range []struct {
		name    string
		payload string
		code    uint32
		substr  string
	}{
		{"signed by another DID's key", string(signedToken(t, next, other)), registry.CodeUnauthorized, "iss"},
		{"another DID's key named as the issuer's", string(signedToken(t, next, a.as(b.Key, a.VM))), registry.CodeUnauthorized, ""},
		{"iss is not the signer", string(signedToken(t, tokenSpec{ID: registry.StatusListOwner(b.DID) + "x", Iat: now, Iss: a.DID}, b)), registry.CodeUnauthorized, "iss"},
		{"list under another issuer's prefix", string(signedToken(t, tokenSpec{ID: registry.StatusListOwner(b.DID) + "x", Iat: now}, a)), registry.CodeUnauthorized, "prefix"},
		{"did:key under a did:idmesh prefix", string(signedToken(t, tokenSpec{ID: id, Iat: now.Add(time.Second)}, dk)), registry.CodeUnauthorized, "prefix"},
		{"unknown key id", string(signedToken(t, next, a.as(a.Key, a.DID+"#key-9"))), registry.CodeUnauthorized, ""},
		{"alg none", enc([]byte(`{"alg":"none","kid":"`+a.VM+`","typ":"statuslist+jwt"}`)) + "." + parts[1] + ".", registry.CodeInvalid, "none"},
		{"wrong typ", mustSignClaims(t, nextClaims, "JWT", a), registry.CodeInvalid, "typ"},
		{"dc+sd-jwt typ", mustSignClaims(t, nextClaims, "dc+sd-jwt", a), registry.CodeInvalid, "typ"},
		{"kid not a DID URL", hdr(`{"alg":"EdDSA","kid":"key-1","typ":"statuslist+jwt"}`), registry.CodeInvalid, "kid"},
		{"tampered payload", parts[0] + "." + enc([]byte(`{"iat":1,"status_list":{"bits":2,"lst":"eNpjAAAAAQAB"},"sub":"x"}`)) + "." + parts[2], registry.CodeUnauthorized, ""},
		{"sub not a token URI", string(signedToken(t, tokenSpec{ID: id, Sub: tokenBase + "/status-lists/" + id, Iat: now.Add(time.Second)}, a)), registry.CodeInvalid, "sub"},
		{"sub with a query", string(signedToken(t, tokenSpec{ID: id, Sub: tokenBase + "/status-lists/" + id + "/token?x=1", Iat: now.Add(time.Second)}, a)), registry.CodeInvalid, "sub"},
		{"sub not http", string(signedToken(t, tokenSpec{ID: id, Sub: "urn:x:/status-lists/" + id + "/token", Iat: now.Add(time.Second)}, a)), registry.CodeInvalid, "sub"},
		{"1 bit per entry", string(signedToken(t, tokenSpec{ID: id + "1", Iat: now, Bits: 1, Length: 2 * tokenstatus.MinLength}, a)), registry.CodeInvalid, "bits"},
		{"shorter than the minimum", string(signedToken(t, tokenSpec{ID: id + "2", Iat: now, Length: tokenstatus.MinLength - 4}, a)), registry.CodeInvalid, "at least"},
		{"expired", string(signedToken(t, tokenSpec{ID: id + "3", Iat: now.Add(-time.Hour), Exp: now.Add(-time.Minute)}, a)), registry.CodeInvalid, "exp"},
		{"zip bomb", mustSignClaims(t, bombClaims, "statuslist+jwt", a), registry.CodeInvalid, "more than"},
		{"oversize", signed + strings.Repeat("A", registry.MaxTxBytes), registry.CodeInvalid, ""},
		{"not a JWT", `{"not":"a token"}`, registry.CodeInvalid, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantCode(t, l.deliver(tokenTx([]byte(c.payload))), c.code, c.substr)
			if got := storedToken(t, l.st, id); !bytes.Equal(got, held) {
				t.Fatal("the stored version changed")
			}
		})
	}
	if len(mustSignClaims(t, bombClaims, "statuslist+jwt", a)) > registry.MaxTxBytes {
		t.Fatal("the zip bomb does not fit in a transaction: the test proves nothing")
	}
}

// TestTokenStatusListDIDKeyIssuer publishes versions of a did:key
// issuer's list, without iss.
func TestTokenStatusListDIDKeyIssuer(t *testing.T) {
	l := mustLedger(t, nil)
	k := keyIssuer(t, 9)
	id := registry.StatusListOwner(k.DID) + "0001"
	for i, s := range []tokenSpec{
		{ID: id, Iat: blockTime.Add(-time.Hour)},
		{ID: id, Set: map[int]uint8{42: 2}, Iat: blockTime.Add(-time.Minute), NoIss: true},
		{ID: id, Set: map[int]uint8{42: 0, 43: 1}, Iat: blockTime},
	} {
		p := signedToken(t, s, k)
		if err := l.deliver(tokenTx(p)); err != nil {
			t.Fatalf("version %d: %v", i+1, err)
		}
		if got := storedToken(t, l.st, id); !bytes.Equal(got, p) {
			t.Fatalf("version %d is not the stored one", i+1)
		}
	}
}

func TestTokenStatusListID(t *testing.T) {
	for uri, want := range map[string]string{
		"https://a.example/status-lists/abc-1/token":         "abc-1",
		"http://localhost:8080/x/status-lists/abc.d_e/token": "abc.d_e",
		"https://a.example/status-lists/abc":                 "",
		"https://a.example/status-lists/abc/token/":          "",
		"https://a.example/status-lists//token":              "",
		"https://a.example/status-lists/a%2Fb/token":         "",
		"https://a.example/status-lists/abc/token#x":         "",
		"https://u@a.example/status-lists/abc/token":         "",
		"ftp://a.example/status-lists/abc/token":             "",
		"/status-lists/abc/token":                            "",
	} {
		got, ok := registry.TokenStatusListID(uri)
		if ok != (want != "") || ok && got != want {
			t.Errorf("TokenStatusListID(%q) = %q, %t; want %q", uri, got, ok, want)
		}
	}
}

func ExampleTokenStatusListID() {
	id, ok := registry.TokenStatusListID("https://node.example/status-lists/z6Mk-00aa/token")
	fmt.Println(id, ok)
	// Output: z6Mk-00aa true
}
