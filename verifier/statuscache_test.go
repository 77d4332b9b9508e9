package verifier_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/statuslist"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/verifier"
)

// chainLists are fakeLists on a chain: a block publishes lists and then
// moves the height, as a node's state does.
type chainLists struct {
	fakeLists
	height atomic.Uint64
}

var _ verifier.ChainHeight = (*chainLists)(nil)

func (l *chainLists) Height() uint64 { return l.height.Load() }

// StatusList reads the latest version, at the current height, as a node
// does.
func (l *chainLists) StatusList(url string) ([]byte, uint64, error) {
	h := l.height.Load()
	b, _, err := l.fakeLists.StatusList(url)
	return b, h, err
}

// block publishes lists (url, bytes pairs) at the next height.
func (l *chainLists) block(lists ...any) {
	h := l.height.Load() + 1
	for i := 0; i < len(lists); i += 2 {
		l.put(lists[i].(string), lists[i+1].([]byte), h)
	}
	l.height.Store(h)
}

func (l *chainLists) reads() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}

// TestStatusListKeptUntilBlock: from a chain source, a list version and
// the check of its keys are kept until the height moves: at one height
// the lists are neither read nor their keys looked up again; a block that
// changes a list counts at the next check (re-read, re-verified); a block
// that changes nothing costs a read, a hash and the key lookups, not a
// verification; a key marked compromised stops the lists at the next
// height.
func TestStatusListKeptUntilBlock(t *testing.T) {
	f := newFixture(t)
	keys := &countingKeys{next: f.keys}
	lists := &chainLists{}
	rev := list{url: revocationList, issuer: f.iss.DID, purpose: statuslist.PurposeRevocation, signer: f.iss.Signer}
	sus := list{url: suspensionList, issuer: f.iss.DID, purpose: statuslist.PurposeSuspension, signer: f.iss.Signer}
	lists.block(revocationList, MustList(t, rev), suspensionList, MustList(t, sus))
	v := &verifier.Verifier{Keys: keys, Now: f.clk.now, Lists: lists}
	m := degree(f.iss.DID)
	withStatus(m)
	vc := MustIssue(t, m, f.iss.Signer, issuer.FormatJCS)
	ok := expect{passed: []string{verifier.CheckStatus}}
	step := func(name string, want expect, wantReads, wantLookups int, wantMisses uint64) {
		t.Helper()
		reads, lookups, misses := lists.reads(), keys.n.Load(), v.Stats().StatusListCacheMisses
		res := v.VerifyCredential(t.Context(), vc, verifier.Options{})
		assertResult(t, res, want)
		if res.Verified && res.StatusHeight != lists.Height() {
			t.Errorf("%s: status height %d at height %d", name, res.StatusHeight, lists.Height())
		}
		if got := lists.reads() - reads; got != wantReads {
			t.Errorf("%s: %d list reads, want %d", name, got, wantReads)
		}
		if got := keys.n.Load() - lookups; got != int64(wantLookups) {
			t.Errorf("%s: %d key lookups, want %d", name, got, wantLookups)
		}
		if got := v.Stats().StatusListCacheMisses - misses; got != wantMisses {
			t.Errorf("%s: %d lists verified, want %d", name, got, wantMisses)
		}
	}
	step("first check: both lists read and verified", ok, 2, 3, 2)
	step("same height: nothing read, only the credential's key", ok, 0, 1, 0)
	step("same height again", ok, 0, 1, 0)
	lists.block() // a block that changes neither list
	step("new height, same lists: read, hashed, keys looked up", ok, 2, 3, 0)
	step("then kept again", ok, 0, 1, 0)
	sus.set = []int{statusIndex}
	lists.block(suspensionList, MustList(t, sus))
	step("the suspension's block: seen at once", expect{check: verifier.CheckStatus, code: credential.CredentialSuspended}, 2, 3, 1)
	step("and kept", expect{check: verifier.CheckStatus, code: credential.CredentialSuspended}, 0, 1, 0)
	rev.set = []int{statusIndex}
	lists.block(revocationList, MustList(t, rev))
	step("the revocation's block: seen at once", expect{check: verifier.CheckStatus, code: credential.CredentialRevoked}, 1, 2, 1)
	// A block marks the issuer's key compromised: the kept lists stop
	// counting at the next check.
	compromised := f.iss.Key()
	compromised.Compromised = true
	f.keys.Add(compromised, credential.PurposeAssertion)
	lists.block()
	if res := v.VerifyCredential(t.Context(), vc, verifier.Options{Checks: []string{verifier.CheckStatus}}); res.Verified || !hasDetail(res, verifier.CheckStatus, "no longer verifies") {
		t.Errorf("after the compromise's block: %+v", res)
	}
}

// TestForgedListNeverKept: a list whose proof does not verify is read and
// refused at every check, at one height or another, and never counts as
// verified; its genuine version, published by a later block, verifies.
func TestForgedListNeverKept(t *testing.T) {
	f := newFixture(t)
	lists := &chainLists{}
	forged := list{url: revocationList, issuer: f.iss.DID, purpose: statuslist.PurposeRevocation, signer: f.iss.Signer,
		edit: func(m map[string]any) {
			m["credentialSubject"].(map[string]any)["statusPurpose"] = statuslist.PurposeSuspension
		}}
	sus := list{url: suspensionList, issuer: f.iss.DID, purpose: statuslist.PurposeSuspension, signer: f.iss.Signer}
	// Signed by another key than its issuer's, or changed after signing.
	other := list{url: revocationList, issuer: f.iss.DID, purpose: statuslist.PurposeRevocation, signer: f.other.Signer}
	v := &verifier.Verifier{Keys: f.keys, Now: f.clk.now, Lists: lists}
	m := degree(f.iss.DID)
	withStatus(m)
	vc := MustIssue(t, m, f.iss.Signer, issuer.FormatJCS)
	for _, bad := range []list{forged, other} {
		lists.block(revocationList, MustList(t, bad), suspensionList, MustList(t, sus))
		for i := range 3 {
			reads, misses := lists.reads(), v.Stats().StatusListCacheMisses
			res := v.VerifyCredential(t.Context(), vc, verifier.Options{})
			assertResult(t, res, expect{check: verifier.CheckStatus, code: credential.StatusVerificationError})
			if lists.reads() == reads || v.Stats().StatusListCacheMisses == misses {
				t.Fatalf("check %d: the forged list was not read and verified again", i)
			}
		}
	}
	genuine := forged
	genuine.edit = nil
	lists.block(revocationList, MustList(t, genuine))
	assertResult(t, v.VerifyCredential(t.Context(), vc, verifier.Options{}), expect{passed: []string{verifier.CheckStatus}})
}

// TestStatusListCacheBounded: lists from many URLs and versions never
// take more than the cache's budget, whatever it is, and the answers stay
// right when little or nothing fits.
func TestStatusListCacheBounded(t *testing.T) {
	f := newFixture(t)
	const listBytes = statuslist.MinLength / 8
	for _, budget := range []int{100, listBytes + 200, 3*listBytes + 500, 0} {
		t.Run(fmt.Sprint(budget), func(t *testing.T) {
			lists := &chainLists{}
			v := &verifier.Verifier{Keys: f.keys, Now: f.clk.now, Lists: lists}
			verifier.SetListCacheBudget(v, budget)
			for i := range 12 {
				url := fmt.Sprintf("https://node.example/status-lists/z6Mk-%d", i%5)
				l := list{url: url, issuer: f.iss.DID, purpose: statuslist.PurposeRevocation, signer: f.iss.Signer}
				revoked := i%3 == 0
				if revoked {
					l.set = []int{7}
				}
				lists.block(url, MustList(t, l))
				m := degree(f.iss.DID)
				m["credentialStatus"] = statuslist.Entry{ID: url + "#7", Type: statuslist.TypeEntry, Purpose: statuslist.PurposeRevocation, ListCredential: url, Index: 7}.Object()
				vc := MustIssue(t, m, f.iss.Signer, issuer.FormatJCS)
				for range 2 {
					res := v.VerifyCredential(t.Context(), vc, verifier.Options{Checks: []string{verifier.CheckStatus}})
					if res.Verified == revoked {
						t.Fatalf("list %d (revoked %t): %+v", i, revoked, res)
					}
				}
				if b := verifier.ListCacheBytes(v); budget > 0 && b > budget {
					t.Fatalf("after %d lists: %d bytes kept, budget %d", i+1, b, budget)
				}
			}
		})
	}
}

// TestRevocationSeenByEveryLaterCheck: checks run on many goroutines
// while blocks revoke the credential and then change other lists; every
// check that starts after the revocation's block was committed reports
// it revoked (the kept versions never hide a block).
func TestRevocationSeenByEveryLaterCheck(t *testing.T) {
	f := newFixture(t)
	lists := &chainLists{}
	rev := list{url: revocationList, issuer: f.iss.DID, purpose: statuslist.PurposeRevocation, signer: f.iss.Signer}
	sus := list{url: suspensionList, issuer: f.iss.DID, purpose: statuslist.PurposeSuspension, signer: f.iss.Signer}
	lists.block(revocationList, MustList(t, rev), suspensionList, MustList(t, sus))
	v := &verifier.Verifier{Keys: f.keys, Now: f.clk.now, Lists: lists}
	m := degree(f.iss.DID)
	withStatus(m)
	vc := MustIssue(t, m, f.iss.Signer, issuer.FormatJCS)
	revokedList := rev
	revokedList.set = []int{statusIndex}
	versions := [][]byte{MustList(t, revokedList)}
	for i := range 4 {
		s := sus
		s.set = []int{i + 1}
		versions = append(versions, MustList(t, s))
	}
	var revoked atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var checks atomic.Int64
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				after := revoked.Load()
				res := v.VerifyCredential(t.Context(), vc, verifier.Options{Checks: []string{verifier.CheckStatus}})
				checks.Add(1)
				if after && (res.Verified || len(res.ProblemDetails) == 0 || res.ProblemDetails[0].Type != verifier.Problem(credential.Errorf(credential.CredentialRevoked, "x"), "").Type) {
					t.Errorf("a check after the revocation's block: %+v", res)
					return
				}
			}
		})
	}
	waitChecks := func(n int64) {
		for target := checks.Load() + n; checks.Load() < target && !t.Failed(); {
			select {
			case <-t.Context().Done():
				return
			default:
			}
		}
	}
	waitChecks(20)
	lists.block(revocationList, versions[0])
	revoked.Store(true)
	for _, s := range versions[1:] {
		waitChecks(20)
		lists.block(suspensionList, s)
	}
	waitChecks(20)
	close(stop)
	wg.Wait()
}

// BenchmarkStatusCheck measures the status check of a credential with
// two entries (revocation and suspension, on two lists of 131,072
// entries) between blocks, as a node runs it: the lists' versions and
// their keys kept since the last block. It reports the time per entry
// (goal: at most 2 µs).
//
//	go test -run '^$' -bench StatusCheck -benchmem ./verifier/
func BenchmarkStatusCheck(b *testing.B) {
	f := newFixture(b)
	lists := &chainLists{}
	rev := list{url: revocationList, issuer: f.iss.DID, purpose: statuslist.PurposeRevocation, signer: f.iss.Signer, set: []int{1, 99, 4000}}
	sus := list{url: suspensionList, issuer: f.iss.DID, purpose: statuslist.PurposeSuspension, signer: f.iss.Signer, set: []int{2, 98}}
	lists.block(revocationList, MustList(b, rev), suspensionList, MustList(b, sus))
	v := &verifier.Verifier{Keys: f.keys, Now: f.clk.now, Lists: lists}
	m := degree(f.iss.DID)
	m["issuer"] = f.iss.DID
	withStatus(m)
	c, err := credential.CredentialFrom(m)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := verifier.StatusCheck(b.Context(), v, c); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := verifier.StatusCheck(b.Context(), v, c); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(c.Status)), "ns/entry")
}

// TestStatusManyLists: a credential whose entries name more lists than
// the check keeps in its small table still checks each entry against its
// own list (a set bit on the last list counts).
func TestStatusManyLists(t *testing.T) {
	f := newFixture(t)
	lists := &chainLists{}
	v := &verifier.Verifier{Keys: f.keys, Now: f.clk.now, Lists: lists}
	const n = 11
	var entries []any
	for i := range n {
		url := fmt.Sprintf("https://node.example/status-lists/z6Mk-many-%d", i)
		lists.block(url, MustList(t, list{url: url, issuer: f.iss.DID, purpose: statuslist.PurposeRevocation, signer: f.iss.Signer}))
		// Two entries per list, so that every list is also found again.
		for _, idx := range []int{i, i + 100} {
			entries = append(entries, statuslist.Entry{ID: fmt.Sprintf("%s#%d", url, idx), Type: statuslist.TypeEntry, Purpose: statuslist.PurposeRevocation, ListCredential: url, Index: idx}.Object())
		}
	}
	m := degree(f.iss.DID)
	m["credentialStatus"] = entries
	vc := MustIssue(t, m, f.iss.Signer, issuer.FormatJCS)
	assertResult(t, v.VerifyCredential(t.Context(), vc, verifier.Options{}), expect{passed: []string{verifier.CheckStatus}})
	last := fmt.Sprintf("https://node.example/status-lists/z6Mk-many-%d", n-1)
	lists.block(last, MustList(t, list{url: last, issuer: f.iss.DID, purpose: statuslist.PurposeRevocation, signer: f.iss.Signer, set: []int{n - 1 + 100}}))
	assertResult(t, v.VerifyCredential(t.Context(), vc, verifier.Options{}), expect{check: verifier.CheckStatus, code: credential.CredentialRevoked})
}
