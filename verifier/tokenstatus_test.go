package verifier_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/tokenstatus"
	"github.com/idmesh/idmesh/verifier"
)

const tokenURI = "https://node-a.example/status-lists/z6Mk-00aa/token"

// tokenSource is a chain holding token bytes by URI, at a height.
type tokenSource struct {
	mu     sync.Mutex
	tokens map[string][]byte
	height uint64
}

func (s *tokenSource) TokenStatusList(uri string) ([]byte, uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.tokens[uri]
	if !ok {
		return nil, s.height, errors.New("no such list")
	}
	return b, s.height, nil
}

func (s *tokenSource) put(uri string, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[uri] = b
	s.height++
}

// swapKeys counts key lookups and can swap its resolver.
type swapKeys struct {
	n    atomic.Int64
	next atomic.Pointer[credential.StaticKeys]
}

func (k *swapKeys) ResolveKey(ctx context.Context, id, purpose string) (credential.VerificationKey, error) {
	k.n.Add(1)
	return k.next.Load().ResolveKey(ctx, id, purpose)
}

func signToken(tb testing.TB, p party, sub string, iat time.Time, exp time.Time, set map[int]uint8) []byte {
	tb.Helper()
	l, err := tokenstatus.New(tokenstatus.MinLength, tokenstatus.Bits)
	if err != nil {
		tb.Fatal(err)
	}
	for i, v := range set {
		l.Set(i, v)
	}
	t := tokenstatus.Token{Subject: sub, Issuer: p.DID, IssuedAt: iat, Expires: exp, List: l}
	jwt, err := t.Sign(p.Signer, "")
	if err != nil {
		tb.Fatal(err)
	}
	return []byte(jwt)
}

// TestTokenLists reads entries of a token list on the chain, verified
// once per version, and refuses tokens that are not the issuer's or the
// uri's, expired, tampered, or signed by a key since compromised.
func TestTokenLists(t *testing.T) {
	ctx := t.Context()
	iss, other := MustParty(t, 1), MustParty(t, 2)
	ks := &credential.StaticKeys{}
	ks.Add(iss.Key(), credential.PurposeAssertion)
	ks.Add(other.Key(), credential.PurposeAssertion)
	keys := &swapKeys{}
	keys.next.Store(ks)
	src := &tokenSource{tokens: map[string][]byte{}}
	src.put(tokenURI, signToken(t, iss, tokenURI, issuedAt, time.Time{}, map[int]uint8{7: tokenstatus.Invalid, 9: tokenstatus.Suspended}))
	tl := &verifier.TokenLists{Source: src, Keys: keys, Now: func() time.Time { return t0 }}

	for idx, want := range map[int]uint8{7: 1, 9: 2, 8: 0, tokenstatus.MinLength - 1: 0} {
		v, h, err := tl.TokenStatus(ctx, iss.DID, tokenURI, idx)
		if err != nil || v != want || h != 1 {
			t.Fatalf("entry %d: %d at %d, %v; want %d at 1", idx, v, h, err, want)
		}
	}
	if n := keys.n.Load(); n != 4 {
		t.Fatalf("%d key lookups for 4 reads of one version: want one per read (the key's status), and one parse", n)
	}

	// A new version on the chain is read.
	src.put(tokenURI, signToken(t, iss, tokenURI, issuedAt.Add(time.Second), time.Time{}, map[int]uint8{7: 1}))
	if v, h, err := tl.TokenStatus(ctx, iss.DID, tokenURI, 9); err != nil || v != 0 || h != 2 {
		t.Fatalf("new version: %d at %d, %v", v, h, err)
	}

	code := func(err error) credential.Code { return credential.CodeOf(err, "") }
	for _, c := range []struct {
		name   string
		token  []byte
		issuer string
		uri    string
		idx    int
		want   credential.Code
		substr string
	}{
		{"another issuer's credential", nil, other.DID, tokenURI, 1, credential.StatusVerificationError, "signed by"},
		{"another issuer's token", signToken(t, other, tokenURI, issuedAt, time.Time{}, nil), iss.DID, tokenURI, 1, credential.StatusVerificationError, "signed by"},
		{"sub is another uri", signToken(t, iss, tokenURI+"x", issuedAt, time.Time{}, nil), iss.DID, tokenURI, 1, credential.StatusVerificationError, "sub"},
		{"expired", signToken(t, iss, tokenURI, issuedAt, t0.Add(-2*time.Minute), nil), iss.DID, tokenURI, 1, credential.StatusVerificationError, "expired"},
		{"index past the end", nil, iss.DID, tokenURI, tokenstatus.MinLength, credential.RangeError, ""},
		{"negative index", nil, iss.DID, tokenURI, -1, credential.RangeError, ""},
		{"not on the chain", nil, iss.DID, "https://node-a.example/status-lists/none/token", 1, credential.StatusRetrievalError, ""},
		{"tampered", []byte(strings.Replace(string(signToken(t, iss, tokenURI, issuedAt, time.Time{}, nil)), ".", ".e", 1)), iss.DID, tokenURI, 1, credential.StatusVerificationError, ""},
		{"not a JWT", []byte(`{"bits":2}`), iss.DID, tokenURI, 1, credential.StatusVerificationError, ""},
		{"signed by another's key under the issuer's kid", func() []byte {
			forger := other
			forger.Signer.ID = iss.Signer.ID
			forger.DID = iss.DID
			return signToken(t, forger, tokenURI, issuedAt, time.Time{}, nil)
		}(), iss.DID, tokenURI, 1, credential.StatusVerificationError, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &tokenSource{tokens: map[string][]byte{}}
			tok := c.token
			if tok == nil {
				tok = src.tokens[tokenURI]
			}
			s.put(tokenURI, tok)
			tl := &verifier.TokenLists{Source: s, Keys: ks, Now: func() time.Time { return t0 }}
			_, _, err := tl.TokenStatus(ctx, c.issuer, c.uri, c.idx)
			if code(err) != c.want || !strings.Contains(errString(err), c.substr) {
				t.Fatalf("err %v, want %s mentioning %q", err, c.want, c.substr)
			}
		})
	}

	// A key marked compromised after the version was cached stops it.
	bad := &credential.StaticKeys{}
	k := iss.Key()
	k.Compromised = true
	bad.Add(k, credential.PurposeAssertion)
	keys.next.Store(bad)
	if _, _, err := tl.TokenStatus(ctx, iss.DID, tokenURI, 7); code(err) != credential.KeyCompromisedError {
		t.Fatalf("compromised key: %v", err)
	}
	if _, _, err := (&verifier.TokenLists{}).TokenStatus(ctx, iss.DID, tokenURI, 1); code(err) != credential.StatusRetrievalError {
		t.Fatalf("zero TokenLists: %v", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestTokenListsConcurrent reads one list from many goroutines (run with
// -race).
func TestTokenListsConcurrent(t *testing.T) {
	iss := MustParty(t, 1)
	ks := &credential.StaticKeys{}
	ks.Add(iss.Key(), credential.PurposeAssertion)
	src := &tokenSource{tokens: map[string][]byte{}}
	src.put(tokenURI, signToken(t, iss, tokenURI, issuedAt, time.Time{}, map[int]uint8{3: 1}))
	tl := &verifier.TokenLists{Source: src, Keys: ks}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if v, _, err := tl.TokenStatus(t.Context(), iss.DID, tokenURI, 3); err != nil || v != 1 {
				t.Errorf("goroutine %d: %d, %v", i, v, err)
			}
		})
	}
	wg.Wait()
}

// The node's token lists are the checker SD-JWT VC verification uses.
var _ verifier.TokenStatusChecker = (*verifier.TokenLists)(nil)
