package verifier_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/statuslist"
	"github.com/idmesh/idmesh/verifier"
)

// tailLists reads a list by the tail of its URL, as the node's
// statusLists does (registry.StatusListID takes whichever node's URL
// it carries).
type tailLists struct {
	fakeLists
	height atomic.Uint64
}

func (l *tailLists) Height() uint64 { return l.height.Load() }
func (l *tailLists) StatusList(url string) ([]byte, uint64, error) {
	i := strings.LastIndex(url, "/status-lists/")
	if i < 0 {
		return nil, 0, fmt.Errorf("not a list")
	}
	return l.fakeLists.StatusList(revocationList[:strings.LastIndex(revocationList, "/status-lists/")] + url[i:])
}

// TestStatusCacheRefusedURLs (review 2, F4): status entries naming a
// real list under other URLs are refused (the list's id differs) and
// leave no trace in the status-list cache: its size stays that of the
// honest list, and after more junk URLs than the cache has entries the
// honest list is still a hit, not verified again.
func TestStatusCacheRefusedURLs(t *testing.T) {
	f := newFixture(t)
	lists := &tailLists{}
	lists.put(revocationList, MustList(t, list{url: revocationList, issuer: f.iss.DID, purpose: statuslist.PurposeRevocation, signer: f.iss.Signer}), 1)
	lists.height.Store(1)
	v := &verifier.Verifier{Keys: f.keys, Now: f.clk.now, Lists: lists}
	check := func(url string) error {
		c := &credential.Credential{Issuer: f.iss.DID, Status: []map[string]any{
			statuslist.Entry{ID: url + "#1", Type: statuslist.TypeEntry, Purpose: statuslist.PurposeRevocation, ListCredential: url, Index: 1}.Object()}}
		_, err := verifier.StatusCheck(t.Context(), v, c)
		return err
	}
	if err := check(revocationList); err != nil {
		t.Fatal(err)
	}
	base := verifier.ListCacheBytes(v)
	for i := range 8200 {
		err := check(fmt.Sprintf("https://junk%d.example/status-lists/z6Mk-rev", i))
		if credential.CodeOf(err, "") != credential.StatusVerificationError {
			t.Fatalf("junk URL %d: %v", i, err)
		}
		if i == 2999 && verifier.ListCacheBytes(v) != base {
			t.Fatalf("cache grew from %d to %d bytes", base, verifier.ListCacheBytes(v))
		}
	}
	misses := v.Stats().StatusListCacheMisses
	if err := check(revocationList); err != nil {
		t.Fatal(err)
	}
	if m := v.Stats().StatusListCacheMisses; m != misses || verifier.ListCacheBytes(v) != base {
		t.Fatalf("honest list verified again (misses %d -> %d), cache %d bytes (was %d)", misses, m, verifier.ListCacheBytes(v), base)
	}
}
