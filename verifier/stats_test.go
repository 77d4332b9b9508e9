package verifier_test

import (
	"testing"

	"github.com/idmesh/idmesh/credential/statuslist"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/verifier"
)

// TestStatsCountListCacheHits: the first check of a status list version
// is a miss (parsed, proof verified), every later one a hit; a new
// version is a miss again, and a verifier that never checked status
// counts nothing.
func TestStatsCountListCacheHits(t *testing.T) {
	f := newFixture(t)
	lists := &fakeLists{}
	rev := list{url: revocationList, issuer: f.iss.DID, purpose: statuslist.PurposeRevocation, signer: f.iss.Signer}
	sus := list{url: suspensionList, issuer: f.iss.DID, purpose: statuslist.PurposeSuspension, signer: f.iss.Signer}
	lists.put(revocationList, MustList(t, rev), 1)
	lists.put(suspensionList, MustList(t, sus), 1)
	v := &verifier.Verifier{Keys: f.keys, Now: f.clk.now, Lists: lists}
	if st := v.Stats(); st != (verifier.Stats{}) {
		t.Fatalf("a new verifier's stats %+v", st)
	}
	m := degree(f.iss.DID)
	withStatus(m)
	vc := MustIssue(t, m, f.iss.Signer, issuer.FormatJCS)
	steps := []struct {
		name               string
		change             func()
		wantHits, wantMiss uint64
	}{
		{"first check: both lists verified", nil, 0, 2},
		{"second check: both cached", nil, 2, 2},
		{"third check: both cached", nil, 4, 2},
		{"a new suspension list version", func() {
			sus.set = []int{1}
			lists.put(suspensionList, MustList(t, sus), 2)
		}, 5, 3},
	}
	for _, s := range steps {
		if s.change != nil {
			s.change()
		}
		if res := v.VerifyCredential(t.Context(), vc, verifier.Options{}); !res.Verified {
			t.Fatalf("%s: not verified: %+v", s.name, res)
		}
		if st := v.Stats(); st.StatusListCacheHits != s.wantHits || st.StatusListCacheMisses != s.wantMiss {
			t.Errorf("%s: stats %+v, want %d hits and %d misses", s.name, st, s.wantHits, s.wantMiss)
		}
	}
}
