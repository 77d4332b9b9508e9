package issuer_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/statuslist"
	"github.com/idmesh/idmesh/credential/tokenstatus"
	"github.com/idmesh/idmesh/issuer"
)

// fakeTokenChain adds token status lists to fakeChain, checked as a
// ledger would: a token under its issuer's prefix at tokenPath, signed
// by the issuer's key, with a later iat, the same length and every
// revoked entry kept.
type fakeTokenChain struct {
	*fakeChain
	tmu    sync.Mutex
	tokens map[string][]*tokenstatus.Token
	raw    map[string][]byte
}

var _ issuer.TokenChain = (*fakeTokenChain)(nil)

const tokenSuffix = "/tok"

func (c *fakeTokenChain) TokenPath(listID string) string { return listPath + listID + tokenSuffix }

func (c *fakeTokenChain) PublishTokenStatusList(ctx context.Context, token []byte) (uint64, error) {
	u, err := tokenstatus.Parse(string(token), tokenstatus.Limits{})
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errRefused, err)
	}
	k, err := c.keys.ResolveKey(ctx, u.KeyID, credential.PurposeAssertion)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errRefused, err)
	}
	t, err := u.Verify(k.Public, tokenstatus.Limits{})
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errRefused, err)
	}
	id, ok := strings.CutPrefix(t.Subject, baseURL+listPath)
	id, ok2 := strings.CutSuffix(id, tokenSuffix)
	if !ok || !ok2 || !strings.HasPrefix(id, listPrefix(u.Signer())) || t.Issuer != u.Signer() {
		return 0, fmt.Errorf("%w: token %s of %s", errRefused, t.Subject, u.Signer())
	}
	c.tmu.Lock()
	defer c.tmu.Unlock()
	if vs := c.tokens[id]; len(vs) > 0 {
		prev := vs[len(vs)-1]
		if !t.IssuedAt.After(prev.IssuedAt) || t.List.Len() != prev.List.Len() {
			return 0, fmt.Errorf("%w: iat or length", errRefused)
		}
		for i := range prev.List.Len() {
			was, _ := prev.List.Get(i)
			now, _ := t.List.Get(i)
			if was == tokenstatus.Invalid && now != was {
				return 0, fmt.Errorf("%w: entry %d un-revoked", errRefused, i)
			}
		}
	}
	c.tokens[id] = append(c.tokens[id], t)
	c.raw[id] = token
	c.mu.Lock()
	defer c.mu.Unlock()
	c.height++
	c.submits++
	return c.height, nil
}

func (c *fakeTokenChain) TokenStatusList(listID string) ([]byte, error) {
	c.tmu.Lock()
	defer c.tmu.Unlock()
	b, ok := c.raw[listID]
	if !ok {
		return nil, fmt.Errorf("no token list %s", listID)
	}
	return b, nil
}

func (c *fakeTokenChain) latestToken(id string) (*tokenstatus.Token, int) {
	c.tmu.Lock()
	defer c.tmu.Unlock()
	vs := c.tokens[id]
	if len(vs) == 0 {
		return nil, 0
	}
	return vs[len(vs)-1], len(vs)
}

// tokenEnv is env with a chain that keeps token lists.
type tokenEnv struct {
	*env
	tc *fakeTokenChain
}

func mustTokenEnv(tb testing.TB, length int) *tokenEnv {
	tb.Helper()
	e := MustEnv(tb)
	te := &tokenEnv{env: e, tc: &fakeTokenChain{fakeChain: e.chain, tokens: map[string][]*tokenstatus.Token{}, raw: map[string][]byte{}}}
	te.reopen(1, length)
	return te
}

func (e *tokenEnv) reopen(seed byte, length int) {
	e.svc = &issuer.StatusService{DB: e.db, Chain: e.tc, Registry: e.reg, BaseURL: baseURL, Length: length,
		Now: func() time.Time { return e.now }, Rand: rand.NewChaCha8([32]byte{seed})}
}

// ref is a credential's token entry as TokenStatus returned it.
type ref struct {
	list string
	idx  int
}

func (e *tokenEnv) mustAllocate(tb testing.TB, id string) ref {
	tb.Helper()
	st, err := e.svc.TokenStatus(tb.Context(), e.iss, id)
	if err != nil {
		tb.Fatal(err)
	}
	sl, _ := st["status_list"].(map[string]any)
	idx, ok := sl["idx"].(int)
	uri, _ := sl["uri"].(string)
	if len(st) != 1 || len(sl) != 2 || !ok {
		tb.Fatalf("status claim %v", st)
	}
	list, ok := strings.CutPrefix(uri, baseURL+listPath)
	list, ok2 := strings.CutSuffix(list, tokenSuffix)
	if !ok || !ok2 {
		tb.Fatalf("uri %s", uri)
	}
	if want, _ := e.svc.TokenURL(list); want != uri {
		tb.Fatalf("uri %s, TokenURL %s", uri, want)
	}
	return ref{list, idx}
}

func (e *tokenEnv) value(tb testing.TB, r ref) uint8 {
	tb.Helper()
	t, _ := e.tc.latestToken(r.list)
	if t == nil {
		tb.Fatalf("no token list %s", r.list)
	}
	v, err := t.List.Get(r.idx)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// TestTokenStatusAllocation gives 300 credentials token entries: one
// list of 131,072 entries is published, indexes are unique, spread at
// random, and recorded; a reopened service does not reuse them; an id
// issued before is refused.
func TestTokenStatusAllocation(t *testing.T) {
	e := mustTokenEnv(t, 0)
	seen := map[ref]string{}
	lists := map[string]bool{}
	ascending := 0
	var last int
	for i := range 300 {
		if i == 150 {
			e.reopen(1, 0) // the same randomness: the records must keep indexes apart
		}
		id := fmt.Sprintf("urn:uuid:sd-%d", i)
		r := e.mustAllocate(t, id)
		if other, ok := seen[r]; ok {
			t.Fatalf("entry %v given to %s and %s", r, other, id)
		}
		seen[r], lists[r.list] = id, true
		if r.idx < 0 || r.idx >= tokenstatus.MinLength {
			t.Fatalf("index %d", r.idx)
		}
		if r.idx > last {
			ascending++
		}
		last = r.idx
		refs, err := e.svc.Refs(id)
		if err != nil || len(refs) != 1 || refs[0] != (issuer.EntryRef{Issuer: e.iss.DID, Purpose: issuer.TokenPurpose, ListID: r.list, Index: r.idx}) {
			t.Fatalf("refs %+v, %v", refs, err)
		}
	}
	if len(lists) != 1 || e.chain.submitted() != 1 {
		t.Fatalf("%d lists, %d published; want 1", len(lists), e.chain.submitted())
	}
	if ascending < 100 || ascending > 200 {
		t.Fatalf("%d of 300 indexes above the one before: not random", ascending)
	}
	for l := range lists {
		tok, _ := e.tc.latestToken(l)
		if tok.List.Len() != tokenstatus.MinLength || tok.List.Bits() != 2 || tok.Issuer != e.iss.DID {
			t.Fatalf("list of %d entries of %d bits by %s", tok.List.Len(), tok.List.Bits(), tok.Issuer)
		}
	}
	if _, err := e.svc.TokenStatus(t.Context(), e.iss, "urn:uuid:sd-7"); !errors.Is(err, issuer.ErrDuplicateID) {
		t.Fatalf("repeated id: %v", err)
	}
	if _, err := e.svc.Entries(t.Context(), e.iss, "urn:uuid:sd-8", issuer.Purposes); !errors.Is(err, issuer.ErrDuplicateID) {
		t.Fatalf("repeated id as a Bitstring credential: %v", err)
	}
}

// TestTokenStatusFull starts a new list when the current one is full.
func TestTokenStatusFull(t *testing.T) {
	e := mustTokenEnv(t, 8)
	lists := map[string]int{}
	for i := range 12 {
		lists[e.mustAllocate(t, fmt.Sprintf("urn:uuid:f-%d", i)).list]++
	}
	if len(lists) != 2 {
		t.Fatalf("lists %v, want a full one and a new one", lists)
	}
}

// TestTokenStatusSetStatus suspends, unsuspends and revokes token
// entries through SetStatus: each change publishes a new version with a
// later iat; revocation is final; other entries keep their values.
func TestTokenStatusSetStatus(t *testing.T) {
	ctx := t.Context()
	e := mustTokenEnv(t, 0)
	a, b := e.mustAllocate(t, "urn:uuid:a"), e.mustAllocate(t, "urn:uuid:b")
	versions := func() int { _, n := e.tc.latestToken(a.list); return n }
	steps := []struct {
		purpose string
		value   bool
		want    uint8
		err     error
		publish bool
	}{
		{statuslist.PurposeSuspension, true, tokenstatus.Suspended, nil, true},
		{statuslist.PurposeSuspension, true, tokenstatus.Suspended, nil, false},  // already so
		{statuslist.PurposeRevocation, false, tokenstatus.Suspended, nil, false}, // not revoked: nothing to clear
		{statuslist.PurposeSuspension, false, tokenstatus.Valid, nil, true},
		{statuslist.PurposeRevocation, true, tokenstatus.Invalid, nil, true},
		{statuslist.PurposeRevocation, true, tokenstatus.Invalid, nil, false},
		{statuslist.PurposeRevocation, false, tokenstatus.Invalid, issuer.ErrRevocationFinal, false},
		{statuslist.PurposeSuspension, false, tokenstatus.Invalid, issuer.ErrRevocationFinal, false},
		{statuslist.PurposeSuspension, true, tokenstatus.Invalid, issuer.ErrRevocationFinal, false},
	}
	for i, s := range steps {
		before := versions()
		prev, _ := e.tc.latestToken(a.list)
		h, err := e.svc.SetStatus(ctx, "urn:uuid:a", s.purpose, s.value)
		if !errors.Is(err, s.err) || (err == nil && h != e.chain.Height()) {
			t.Fatalf("step %d (%s %t): height %d, %v; want %v", i, s.purpose, s.value, h, err, s.err)
		}
		if got := e.value(t, a); got != s.want {
			t.Fatalf("step %d: entry %d, want %d", i, got, s.want)
		}
		if got := e.value(t, b); got != tokenstatus.Valid {
			t.Fatalf("step %d: another entry is %d", i, got)
		}
		if published := versions() > before; published != s.publish {
			t.Fatalf("step %d: published %t, want %t", i, published, s.publish)
		}
		if cur, _ := e.tc.latestToken(a.list); s.publish && !cur.IssuedAt.After(prev.IssuedAt) {
			t.Fatalf("step %d: iat %v not after %v (the clock is frozen)", i, cur.IssuedAt, prev.IssuedAt)
		}
	}
	if _, err := e.svc.SetStatus(ctx, "urn:uuid:b", "refresh", true); !errors.Is(err, issuer.ErrUnknownCredential) {
		t.Fatalf("another purpose: %v", err)
	}
}

// TestTokenStatusConcurrent revokes and suspends 40 credentials at once:
// every change lands, in fewer versions than changes.
func TestTokenStatusConcurrent(t *testing.T) {
	e := mustTokenEnv(t, 0)
	refs := make([]ref, 40)
	for i := range refs {
		refs[i] = e.mustAllocate(t, fmt.Sprintf("urn:uuid:c-%d", i))
	}
	_, before := e.tc.latestToken(refs[0].list)
	var wg sync.WaitGroup
	errs := make(chan error, len(refs))
	for i := range refs {
		wg.Go(func() {
			purpose := statuslist.PurposeRevocation
			if i%2 == 1 {
				purpose = statuslist.PurposeSuspension
			}
			_, err := e.svc.SetStatus(t.Context(), fmt.Sprintf("urn:uuid:c-%d", i), purpose, true)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range refs {
		want := tokenstatus.Invalid
		if i%2 == 1 {
			want = tokenstatus.Suspended
		}
		if got := e.value(t, r); got != want {
			t.Fatalf("credential %d: %d, want %d", i, got, want)
		}
	}
	if _, after := e.tc.latestToken(refs[0].list); after-before > len(refs) {
		t.Fatalf("%d versions for %d changes", after-before, len(refs))
	}
}

// TestTokenStatusNoTokenChain: a chain without token lists refuses
// TokenStatus with ErrNoTokenLists.
func TestTokenStatusNoTokenChain(t *testing.T) {
	e := MustEnv(t)
	if _, err := e.svc.TokenStatus(t.Context(), e.iss, "urn:uuid:x"); !errors.Is(err, issuer.ErrNoTokenLists) {
		t.Fatalf("TokenStatus = %v", err)
	}
}
