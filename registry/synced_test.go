package registry_test

import (
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/smt"
)

// mapState is a registry.StateReader over a map (no tree).
type mapState map[string][]byte

func (m mapState) Get(k []byte) ([]byte, error) {
	v, ok := m[string(k)]
	if !ok {
		return nil, registry.ErrNotFound
	}
	return v, nil
}

func (mapState) Node(smt.Hash) ([]byte, error) { return nil, smt.ErrMissingNode }

// TestSyncedState: the chain state after a restored height takes the
// sets of the height and the next from the caller only if the header
// names them, and the set after from the state (the genesis set when the
// state schedules none, a malformed scheduled set refused).
func TestSyncedState(t *testing.T) {
	vs, _ := testValidators(t, 2)
	other, _ := testValidators(t, 3)
	g := &registry.Genesis{ChainID: "test", GenesisTime: time.Unix(1_700_000_000, 0).UTC(), Validators: vs.Validators}
	h := &registry.Header{ChainID: "test", Height: 9, Time: g.GenesisTime.Add(time.Minute), StateRoot: registry.Hash{1}, ValidatorsHash: vs.Hash(), NextValidatorsHash: other.Hash()}
	st, err := registry.SyncedState(g, h, vs, other, mapState{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Height != 9 || st.LastBlockID != h.ID() || st.StateRoot != h.StateRoot || !st.LastBlockTime.Equal(h.Time) ||
		st.LastValidators.Hash() != vs.Hash() || st.Validators.Hash() != other.Hash() || st.NextValidators.Hash() != vs.Hash() {
		t.Fatalf("state %+v", st)
	}
	for name, f := range map[string]func() error{
		"validators not the header's": func() error { _, err := registry.SyncedState(g, h, other, other, mapState{}); return err },
		"next not the header's":       func() error { _, err := registry.SyncedState(g, h, vs, vs, mapState{}); return err },
		"no state":                    func() error { _, err := registry.SyncedState(g, h, vs, other, nil); return err },
		"another chain": func() error {
			g2 := *g
			g2.ChainID = "other"
			_, err := registry.SyncedState(&g2, h, vs, other, mapState{})
			return err
		},
		"malformed scheduled set": func() error {
			_, err := registry.SyncedState(g, h, vs, other, mapState{"gov\x00next-validators": []byte(`{"validators":[]}`)})
			return err
		},
	} {
		if f() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
