package registry

import (
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/idmesh/idmesh/did"
)

// TxTrust accredits an issuer DID for credential types, or withdraws
// the accreditation. Like a validator-set change it needs signatures of
// validators holding more than two thirds of the current voting power.
const TxTrust TxType = 6

// Trust actions.
const (
	TrustAdd    = "add"
	TrustRemove = "remove"
)

// MaxTrustTypes bounds the credential types one change names.
const MaxTrustTypes = 64

var keyTrustSequence = []byte("gov\x00trust-sequence")

// TrustKey is the state key of an issuer's accreditation.
func TrustKey(issuer string) []byte { return append([]byte("tr\x00"), issuer...) }

// TrustChange is the payload of TxTrust.
type TrustChange struct {
	ChainID string `json:"chain_id"`
	// Sequence is the number of trust changes before this one: a change
	// applies once, in order.
	Sequence   uint64      `json:"sequence"`
	Action     string      `json:"action"`
	Issuer     string      `json:"issuer"`
	Types      []string    `json:"types"`
	Signatures []CommitSig `json:"signatures,omitempty"`
}

// TrustRecord is an issuer's accreditation in state.
type TrustRecord struct {
	Issuer string   `json:"issuer"`
	Types  []string `json:"types"`
	// Height is the block of the last change.
	Height uint64 `json:"height"`
}

// SignBytes is what each validator signs.
func (c *TrustChange) SignBytes() ([]byte, error) {
	body := *c
	body.Signatures = nil
	return governanceSignBytes("idmesh/governance/trust/v1", &body)
}

// Sign adds a validator's signature.
func (c *TrustChange) Sign(key ed25519.PrivateKey) error {
	sig, err := governanceSign(c.SignBytes, key)
	if err == nil {
		c.Signatures = append(c.Signatures, sig)
	}
	return err
}

// Tx returns the transaction carrying the change.
func (c *TrustChange) Tx() (Tx, error) { return canonicalTx(TxTrust, c) }

// Validate checks what needs no state.
func (c *TrustChange) Validate() error {
	if c.Action != TrustAdd && c.Action != TrustRemove {
		return fmt.Errorf("action %q: use %s or %s", c.Action, TrustAdd, TrustRemove)
	}
	if _, err := did.Parse(c.Issuer); err != nil {
		return fmt.Errorf("issuer: %w", err)
	}
	if len(c.Types) == 0 || len(c.Types) > MaxTrustTypes {
		return fmt.Errorf("name 1 to %d credential types", MaxTrustTypes)
	}
	for _, t := range c.Types {
		if t == "" || len(t) > 256 {
			return fmt.Errorf("credential type %q", t)
		}
	}
	return nil
}

// TrustSequence returns the sequence number the next trust change needs.
func TrustSequence(r StateReader) (uint64, error) {
	b, err := r.Get(keyTrustSequence)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("trust sequence: %w", err)
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("trust sequence: %d bytes, want 8", len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// Trust returns an issuer's accreditation (ErrNotFound if none).
func Trust(r StateReader, issuer string) (*TrustRecord, error) {
	b, err := r.Get(TrustKey(issuer))
	if err != nil {
		return nil, err
	}
	var rec TrustRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("trust record of %s: %w", issuer, err)
	}
	return &rec, nil
}

// TrustHandler applies TxTrust.
type TrustHandler struct{}

// DeliverTx checks the change's signatures against the validators
// deciding this block and updates the issuer's accredited types.
func (TrustHandler) DeliverTx(ctx TxContext, st *Overlay, payload []byte) error {
	var c TrustChange
	if err := decodeStrict(payload, &c); err != nil {
		return Reject(CodeInvalid, fmt.Errorf("%w: %w", ErrGovernance, err))
	}
	if err := c.Validate(); err != nil {
		return Reject(CodeInvalid, fmt.Errorf("%w: %w", ErrGovernance, err))
	}
	if c.ChainID != ctx.ChainID {
		return Reject(CodeUnauthorized, fmt.Errorf("%w: signed for chain %q", ErrGovernance, c.ChainID))
	}
	seq, err := TrustSequence(st)
	if err != nil {
		return Reject(CodeInternal, err)
	}
	if c.Sequence != seq {
		return Reject(CodeConflict, fmt.Errorf("%w: trust sequence %d, want %d (replayed or out of order)", ErrGovernance, c.Sequence, seq))
	}
	if ctx.Validators == nil {
		return Reject(CodeInternal, fmt.Errorf("%w: no current validator set", ErrGovernance))
	}
	msg, err := c.SignBytes()
	if err != nil {
		return Reject(CodeInvalid, err)
	}
	if err := quorumSigned(ctx.Validators, msg, c.Signatures); err != nil {
		return Reject(CodeUnauthorized, fmt.Errorf("%w: %w", ErrGovernance, err))
	}
	rec := &TrustRecord{Issuer: c.Issuer}
	if old, err := Trust(st, c.Issuer); err == nil {
		rec = old
	} else if !errors.Is(err, ErrNotFound) {
		return Reject(CodeInternal, err)
	}
	for _, t := range c.Types {
		i := slices.Index(rec.Types, t)
		switch {
		case c.Action == TrustAdd && i < 0:
			rec.Types = append(rec.Types, t)
		case c.Action == TrustRemove && i >= 0:
			rec.Types = slices.Delete(rec.Types, i, i+1)
		}
	}
	slices.Sort(rec.Types)
	rec.Height = ctx.Height
	b, err := json.Marshal(rec)
	if err != nil {
		return Reject(CodeInternal, err)
	}
	st.Set(keyTrustSequence, binary.BigEndian.AppendUint64(nil, seq+1))
	st.Set(TrustKey(c.Issuer), b)
	return nil
}

// CheckQuorum reports whether the change carries signatures of members of
// vs holding more than two thirds of its power.
func (c *TrustChange) CheckQuorum(vs *ValidatorSet) error {
	msg, err := c.SignBytes()
	if err != nil {
		return err
	}
	return quorumSigned(vs, msg, c.Signatures)
}
