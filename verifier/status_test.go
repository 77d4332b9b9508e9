package verifier_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/ld"
	"github.com/idmesh/idmesh/credential/statuslist"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/verifier"
)

const (
	revocationList = "https://node.example/status-lists/z6Mk-rev"
	suspensionList = "https://node.example/status-lists/z6Mk-sus"
	statusIndex    = 94567
)

// fakeLists serves status lists from memory, with the height each was
// published at.
type fakeLists struct {
	mu      sync.Mutex
	lists   map[string][]byte
	heights map[string]uint64
	err     error
	calls   int
}

var _ verifier.StatusLists = (*fakeLists)(nil)

func (l *fakeLists) StatusList(url string) ([]byte, uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if l.err != nil {
		return nil, 0, l.err
	}
	b, ok := l.lists[url]
	if !ok {
		return nil, 0, errors.New("no such list on this chain")
	}
	return b, l.heights[url], nil
}

func (l *fakeLists) put(url string, b []byte, height uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lists == nil {
		l.lists, l.heights = map[string][]byte{}, map[string]uint64{}
	}
	l.lists[url], l.heights[url] = b, height
}

// countingKeys counts the key lookups it passes on.
type countingKeys struct {
	next credential.KeyResolver
	n    atomic.Int64
}

func (k *countingKeys) ResolveKey(ctx context.Context, methodID, purpose string) (credential.VerificationKey, error) {
	k.n.Add(1)
	return k.next.ResolveKey(ctx, methodID, purpose)
}

// list describes a status list to make.
type list struct {
	url, issuer, purpose string
	signer               credential.Signer
	set                  []int
	// edit changes the signed list; it may break its proof.
	edit func(m map[string]any)
}

// MustList makes a signed BitstringStatusListCredential of MinLength
// entries.
func MustList(tb testing.TB, l list) []byte {
	tb.Helper()
	bits, err := statuslist.New(statuslist.MinLength)
	if err != nil {
		tb.Fatal(err)
	}
	for _, i := range l.set {
		if err := bits.Set(i, true); err != nil {
			tb.Fatal(err)
		}
	}
	vc, err := statuslist.NewListCredential(l.url, l.issuer, l.purpose, bits, issuedAt)
	if err != nil {
		tb.Fatal(err)
	}
	signed, err := dataintegrity.Sign(tb.Context(), vc, l.signer, dataintegrity.SignOptions{Created: issuedAt})
	if err != nil {
		tb.Fatal(err)
	}
	if l.edit != nil {
		l.edit(signed)
	}
	b, err := json.Marshal(signed)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// withStatus adds a revocation and a suspension entry at statusIndex.
func withStatus(m map[string]any) {
	m["credentialStatus"] = []any{
		statuslist.Entry{ID: revocationList + "#94567", Type: statuslist.TypeEntry, Purpose: statuslist.PurposeRevocation, ListCredential: revocationList, Index: statusIndex}.Object(),
		statuslist.Entry{ID: suspensionList + "#94567", Type: statuslist.TypeEntry, Purpose: statuslist.PurposeSuspension, ListCredential: suspensionList, Index: statusIndex}.Object(),
	}
}

// TestVerifyStatus checks credentials against status lists on the
// verifier's chain.
func TestVerifyStatus(t *testing.T) {
	all := []string{verifier.CheckParse, verifier.CheckContext, verifier.CheckProof, verifier.CheckValidity, verifier.CheckStatus}
	shortList := func(m map[string]any) {
		short, _ := statuslist.New(8)
		enc, err := short.Encode()
		if err != nil {
			panic(err)
		}
		m["credentialSubject"].(map[string]any)["encodedList"] = enc
	}
	cases := []struct {
		name string
		// rev and sus edit the default lists (issued by f.iss, nothing set).
		rev, sus func(f *fixture, l *list)
		// served replaces the lists.
		served     func(f *fixture, lists *fakeLists)
		noLists    bool
		opts       verifier.Options
		want       expect
		wantHeight uint64
	}{
		{name: "unset", want: expect{checks: all, passed: []string{verifier.CheckStatus}}, wantHeight: 12},
		{name: "another index set", rev: func(_ *fixture, l *list) { l.set = []int{statusIndex + 1, statusIndex - 1} }, want: expect{checks: all}, wantHeight: 12},
		{name: "revoked", rev: func(_ *fixture, l *list) { l.set = []int{statusIndex} }, want: expect{check: verifier.CheckStatus, code: credential.CredentialRevoked, checks: all}, wantHeight: 7},
		{name: "suspended", sus: func(_ *fixture, l *list) { l.set = []int{statusIndex} }, want: expect{check: verifier.CheckStatus, code: credential.CredentialSuspended, checks: all}, wantHeight: 12},
		{
			name: "list signed by another key",
			rev:  func(f *fixture, l *list) { l.signer = f.other.Signer },
			want: expect{check: verifier.CheckStatus, code: credential.StatusVerificationError, checks: all},
		},
		{
			name: "list issuer is not the credential's",
			rev:  func(f *fixture, l *list) { l.issuer, l.signer = f.other.DID, f.other.Signer },
			want: expect{check: verifier.CheckStatus, code: credential.StatusVerificationError, checks: all},
		},
		{
			name: "list changed after signing",
			rev:  func(_ *fixture, l *list) { l.edit = func(m map[string]any) { m["validFrom"] = "2020-01-01T00:00:00Z" } },
			want: expect{check: verifier.CheckStatus, code: credential.StatusVerificationError, checks: all},
		},
		{
			name: "list of another purpose",
			sus:  func(_ *fixture, l *list) { l.purpose = statuslist.PurposeRevocation },
			want: expect{check: verifier.CheckStatus, code: credential.StatusVerificationError, checks: all},
		},
		{
			name: "list served under another URL",
			served: func(f *fixture, lists *fakeLists) {
				lists.put(revocationList, MustList(t, list{url: suspensionList, issuer: f.iss.DID, purpose: statuslist.PurposeRevocation, signer: f.iss.Signer}), 1)
			},
			want: expect{check: verifier.CheckStatus, code: credential.StatusVerificationError, checks: all},
		},
		{
			// An inline context of unused terms keeps the list's graph
			// and proof; over ld.MaxInlineContextValues it is refused
			// before any JSON-LD work.
			name: "list with a large inline context",
			rev: func(_ *fixture, l *list) {
				l.edit = func(m map[string]any) {
					big := map[string]any{}
					for i := range ld.MaxInlineContextValues {
						big[fmt.Sprintf("unused%d", i)] = fmt.Sprintf("https://example.org/vocab#%d", i)
					}
					m["@context"] = append(m["@context"].([]any), big)
				}
			},
			want: expect{check: verifier.CheckStatus, code: credential.StatusVerificationError, checks: all},
		},
		{
			name: "list member aliased",
			rev: func(_ *fixture, l *list) {
				l.edit = func(m map[string]any) {
					m["@context"] = append(m["@context"].([]any), map[string]any{"from": map[string]any{
						"@id": "https://www.w3.org/2018/credentials#validFrom", "@type": "http://www.w3.org/2001/XMLSchema#dateTime"}})
					m["from"] = m["validFrom"]
					delete(m, "validFrom")
				}
			},
			want: expect{check: verifier.CheckStatus, code: credential.StatusVerificationError, checks: all},
		},
		{name: "short list", rev: func(_ *fixture, l *list) { l.edit = shortList }, want: expect{check: verifier.CheckStatus, code: credential.StatusListLengthError, checks: all}},
		{name: "retrieval failure", served: func(_ *fixture, lists *fakeLists) { lists.err = errors.New("node unavailable") }, want: expect{check: verifier.CheckStatus, code: credential.StatusRetrievalError, checks: all}},
		{name: "list not on the chain", served: func(_ *fixture, lists *fakeLists) { delete(lists.lists, suspensionList) }, want: expect{check: verifier.CheckStatus, code: credential.StatusRetrievalError, checks: all}},
		{
			name: "status not selected",
			rev:  func(_ *fixture, l *list) { l.set = []int{statusIndex} },
			opts: verifier.Options{Checks: []string{verifier.CheckProof}},
			want: expect{checks: []string{verifier.CheckParse, verifier.CheckProof}, warn: credential.StatusRetrievalError},
		},
		{name: "no lists: a warning", noLists: true, want: expect{checks: all[:4], warn: credential.StatusRetrievalError}},
		{
			name: "no lists: status asked for", noLists: true,
			opts: verifier.Options{Checks: []string{verifier.CheckStatus}},
			want: expect{check: verifier.CheckStatus, code: credential.StatusRetrievalError, checks: []string{verifier.CheckParse, verifier.CheckProof, verifier.CheckStatus}},
		},
	}
	for _, format := range issuer.Formats {
		for _, c := range cases {
			t.Run(format+"/"+c.name, func(t *testing.T) {
				f := newFixture(t)
				rev := list{url: revocationList, issuer: f.iss.DID, purpose: statuslist.PurposeRevocation, signer: f.iss.Signer}
				sus := list{url: suspensionList, issuer: f.iss.DID, purpose: statuslist.PurposeSuspension, signer: f.iss.Signer}
				if c.rev != nil {
					c.rev(f, &rev)
				}
				if c.sus != nil {
					c.sus(f, &sus)
				}
				lists := &fakeLists{}
				lists.put(revocationList, MustList(t, rev), 7)
				lists.put(suspensionList, MustList(t, sus), 12)
				if c.served != nil {
					c.served(f, lists)
				}
				v := f.verifier()
				if !c.noLists {
					v.Lists = lists
				}
				m := degree(f.iss.DID)
				withStatus(m)
				res := v.VerifyCredential(t.Context(), MustIssue(t, m, f.iss.Signer, format), c.opts)
				assertResult(t, res, c.want)
				if res.StatusHeight != c.wantHeight {
					t.Errorf("status height %d, want %d", res.StatusHeight, c.wantHeight)
				}
			})
		}
	}
}

// TestStatusListVerifiedOncePerVersion counts the key lookups: a list's
// proof is verified when a version is first seen; later checks only look
// its signing key up again (so that a compromise counts at once), and a
// key marked compromised stops a cached list.
func TestStatusListVerifiedOncePerVersion(t *testing.T) {
	f := newFixture(t)
	keys := &countingKeys{next: f.keys}
	lists := &fakeLists{}
	rev := list{url: revocationList, issuer: f.iss.DID, purpose: statuslist.PurposeRevocation, signer: f.iss.Signer}
	sus := list{url: suspensionList, issuer: f.iss.DID, purpose: statuslist.PurposeSuspension, signer: f.iss.Signer}
	lists.put(revocationList, MustList(t, rev), 1)
	lists.put(suspensionList, MustList(t, sus), 1)
	v := &verifier.Verifier{Keys: keys, Now: f.clk.now, Lists: lists}
	m := degree(f.iss.DID)
	withStatus(m)
	vc := MustIssue(t, m, f.iss.Signer, issuer.FormatJCS)

	verify := func(wantLookups int64, want expect) {
		t.Helper()
		before := keys.n.Load()
		assertResult(t, v.VerifyCredential(t.Context(), vc, verifier.Options{}), want)
		if got := keys.n.Load() - before; got != wantLookups {
			t.Errorf("%d key lookups, want %d", got, wantLookups)
		}
	}
	ok := expect{passed: []string{verifier.CheckStatus}}
	verify(3, ok) // the credential's proof and both lists'
	verify(3, ok) // the same, the lists' keys looked up again
	sus.set = []int{statusIndex}
	lists.put(suspensionList, MustList(t, sus), 2)
	verify(3, expect{check: verifier.CheckStatus, code: credential.CredentialSuspended}) // the new version
	sus.set = nil
	lists.put(suspensionList, MustList(t, sus), 3) // the same bytes as version 1
	verify(3, ok)
	// The issuer marks its key compromised: the cached lists stop counting
	// (and so does the credential).
	compromised := f.iss.Key()
	compromised.Compromised = true
	f.keys.Add(compromised, credential.PurposeAssertion)
	if res := v.VerifyCredential(t.Context(), vc, verifier.Options{Checks: []string{verifier.CheckStatus}}); res.Verified {
		t.Fatal("verified after the key was marked compromised")
	}
	if !hasDetail(v.VerifyCredential(t.Context(), vc, verifier.Options{Checks: []string{verifier.CheckStatus}}), verifier.CheckStatus, "no longer verifies") {
		t.Error("the status check did not notice the compromised key")
	}
}

// TestStatusListRetiredKey: a cached list signed by a key that its issuer
// has since retired counts only if the list's proof claims a time before
// the retirement, as for any proof.
func TestStatusListRetiredKey(t *testing.T) {
	f := newFixture(t)
	lists := &fakeLists{}
	signedAt := issuedAt.Add(30 * time.Minute)
	for _, l := range []struct{ url, purpose string }{{revocationList, statuslist.PurposeRevocation}, {suspensionList, statuslist.PurposeSuspension}} {
		bits, err := statuslist.New(statuslist.MinLength)
		if err != nil {
			t.Fatal(err)
		}
		vc, err := statuslist.NewListCredential(l.url, f.iss.DID, l.purpose, bits, signedAt)
		if err != nil {
			t.Fatal(err)
		}
		signed, err := dataintegrity.Sign(t.Context(), vc, f.iss.Signer, dataintegrity.SignOptions{Created: signedAt})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(signed)
		lists.put(l.url, b, 1)
	}
	v := &verifier.Verifier{Keys: f.keys, Now: f.clk.now, Lists: lists}
	m := degree(f.iss.DID)
	withStatus(m)
	vc := MustIssue(t, m, f.iss.Signer, issuer.FormatJCS) // created at issuedAt
	assertResult(t, v.VerifyCredential(t.Context(), vc, verifier.Options{}), expect{passed: []string{verifier.CheckStatus}})

	retire := func(at time.Time) {
		k := f.iss.Key()
		k.RetiredAt = at
		f.keys.Add(k, credential.PurposeAssertion)
	}
	retire(signedAt.Add(time.Minute)) // after the lists were signed: they still count
	assertResult(t, v.VerifyCredential(t.Context(), vc, verifier.Options{}), expect{passed: []string{verifier.CheckStatus}})
	retire(issuedAt.Add(10 * time.Minute)) // after the credential, before the lists
	res := v.VerifyCredential(t.Context(), vc, verifier.Options{})
	if res.Verified || !hasDetail(res, verifier.CheckStatus, "no longer verifies") || !hasDetail(res, verifier.CheckStatus, "KEY_RETIRED_ERROR") {
		t.Fatalf("cached lists signed after the key's retirement: %+v", res)
	}
}

// TestStatusListReadOncePerCredential: a credential whose entries name
// the same list many times reads and checks that list once, not once per
// entry (an entry costs a map lookup, not a hash of a large list).
func TestStatusListReadOncePerCredential(t *testing.T) {
	f := newFixture(t)
	keys := &countingKeys{next: f.keys}
	lists := &fakeLists{}
	rev := list{url: revocationList, issuer: f.iss.DID, purpose: statuslist.PurposeRevocation, signer: f.iss.Signer}
	lists.put(revocationList, MustList(t, rev), 1)
	v := &verifier.Verifier{Keys: keys, Now: f.clk.now, Lists: lists}
	m := degree(f.iss.DID)
	var entries []any
	for i := range 200 {
		entries = append(entries, statuslist.Entry{ID: fmt.Sprintf("%s#%d", revocationList, i), Type: statuslist.TypeEntry,
			Purpose: statuslist.PurposeRevocation, ListCredential: revocationList, Index: statusIndex + i}.Object())
	}
	m["credentialStatus"] = entries
	vc := MustIssue(t, m, f.iss.Signer, issuer.FormatJCS)
	assertResult(t, v.VerifyCredential(t.Context(), vc, verifier.Options{}), expect{passed: []string{verifier.CheckStatus}})
	if lists.calls != 1 || keys.n.Load() != 2 {
		t.Fatalf("%d list reads and %d key lookups for 200 entries of one list, want 1 and 2 (the credential's proof and the list's)", lists.calls, keys.n.Load())
	}
}
