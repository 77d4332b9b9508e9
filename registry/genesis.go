package registry

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Genesis fixes what every node of a chain starts from.
type Genesis struct {
	ChainID     string      `json:"chain_id"`
	GenesisTime time.Time   `json:"genesis_time"`
	Validators  []Validator `json:"validators"`
	// MaxBlockBytes bounds every block's ProposalBytes (the encoded
	// block with its last commit, plus the proposal's framing). Zero
	// (absent) means DefaultMaxBlockBytes; otherwise it must lie in
	// [MinBlockBytes, MaxBlockBytesCeiling], so that any block can be
	// sent over the p2p layer.
	MaxBlockBytes int `json:"max_block_bytes,omitempty"`
}

// BlockBytes returns the chain's block byte limit: MaxBlockBytes, or
// DefaultMaxBlockBytes if it is not set.
func (g *Genesis) BlockBytes() int {
	if g.MaxBlockBytes == 0 {
		return DefaultMaxBlockBytes
	}
	return g.MaxBlockBytes
}

// ValidatorSet returns the genesis validators in canonical order.
func (g *Genesis) ValidatorSet() (*ValidatorSet, error) { return NewValidatorSet(g.Validators) }

// Validate checks the chain ID, the validators and the block byte
// limit.
func (g *Genesis) Validate() error {
	if g.ChainID == "" || len(g.ChainID) > MaxChainIDBytes {
		return fmt.Errorf("genesis: chain id must be 1 to %d bytes", MaxChainIDBytes)
	}
	if n := g.MaxBlockBytes; n != 0 && (n < MinBlockBytes || n > MaxBlockBytesCeiling) {
		return fmt.Errorf("genesis: max_block_bytes %d is outside %d..%d (a maximal block with its commit must fit a p2p message of 8 MiB)", n, MinBlockBytes, MaxBlockBytesCeiling)
	}
	if _, err := g.ValidatorSet(); err != nil {
		return fmt.Errorf("genesis: %w", err)
	}
	return nil
}

// State returns the chain state before the first block.
func (g *Genesis) State() (ChainState, error) {
	vs, err := g.ValidatorSet()
	if err != nil {
		return ChainState{}, fmt.Errorf("genesis: %w", err)
	}
	return ChainState{ChainID: g.ChainID, LastBlockTime: g.GenesisTime.UTC(), Validators: vs, NextValidators: vs}, nil
}

// LoadGenesis reads and validates a genesis file.
func LoadGenesis(path string) (*Genesis, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load genesis: %w", err)
	}
	var g Genesis
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, fmt.Errorf("load genesis %s: %w", path, err)
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("load genesis %s: %w", path, err)
	}
	return &g, nil
}

// ChainState is what a node knows of the chain's tip: enough to build or
// check the next block.
type ChainState struct {
	ChainID       string    `json:"chain_id"`
	Height        uint64    `json:"height"`
	LastBlockID   Hash      `json:"last_block_id"`
	LastBlockTime time.Time `json:"last_block_time"`
	StateRoot     Hash      `json:"state_root"`
	// LastValidators decided the last block (nil before the first);
	// Validators decide the next one; NextValidators the one after.
	LastValidators *ValidatorSet `json:"last_validators,omitempty"`
	Validators     *ValidatorSet `json:"validators"`
	NextValidators *ValidatorSet `json:"next_validators"`
}
