package registry

import (
	"encoding/json"
	"errors"
	"fmt"
)

// SyncedState returns the chain state after the block of header h for a
// node that restored the state of h's height from a snapshot instead of
// executing the blocks up to it. vals must be the set that decided h and
// next the set h names as next (both checked against h). The set after
// next is the last one a block scheduled, which the state holds (the
// genesis set if none was ever scheduled), so r must read the restored
// state; r nil fails.
func SyncedState(g *Genesis, h *Header, vals, next *ValidatorSet, r StateReader) (ChainState, error) {
	switch {
	case vals == nil || vals.Hash() != h.ValidatorsHash:
		return ChainState{}, fmt.Errorf("synced state at %d: the validator set is not the header's", h.Height)
	case next == nil || next.Hash() != h.NextValidatorsHash:
		return ChainState{}, fmt.Errorf("synced state at %d: the next validator set is not the header's", h.Height)
	case r == nil:
		return ChainState{}, fmt.Errorf("synced state at %d: no state to read", h.Height)
	case h.ChainID != g.ChainID:
		return ChainState{}, fmt.Errorf("synced state at %d: chain %q, genesis is %q", h.Height, h.ChainID, g.ChainID)
	}
	var after *ValidatorSet
	b, err := r.Get(keyGovNextVals)
	switch {
	case errors.Is(err, ErrNotFound):
		// Nothing was ever scheduled: the genesis set decides.
		if after, err = g.ValidatorSet(); err != nil {
			return ChainState{}, fmt.Errorf("synced state at %d: %w", h.Height, err)
		}
	case err != nil:
		return ChainState{}, fmt.Errorf("synced state at %d: read scheduled validators: %w", h.Height, err)
	default:
		var vs ValidatorSet
		if err := json.Unmarshal(b, &vs); err != nil {
			return ChainState{}, fmt.Errorf("synced state at %d: decode scheduled validator set: %w", h.Height, err)
		}
		if err := vs.Validate(); err != nil {
			return ChainState{}, fmt.Errorf("synced state at %d: scheduled validator set: %w", h.Height, err)
		}
		after = &vs
	}
	return ChainState{
		ChainID:        h.ChainID,
		Height:         h.Height,
		LastBlockID:    h.ID(),
		LastBlockTime:  h.Time.UTC(),
		StateRoot:      h.StateRoot,
		LastValidators: vals,
		Validators:     next,
		NextValidators: after,
	}, nil
}
