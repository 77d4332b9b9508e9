package registry

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/gowebpki/jcs"

	"github.com/idmesh/idmesh/did/strictjson"
)

// Governance and evidence transactions.
const (
	// TxValidatorSet changes the validator set. It needs signatures from
	// validators holding more than two thirds of the current voting
	// power, and takes effect two heights after the block that carries it.
	TxValidatorSet TxType = 2
	// TxEvidence records proof that a validator signed two conflicting
	// votes.
	TxEvidence TxType = 3
)

// ErrGovernance reports a governance transaction that breaks a rule.
var ErrGovernance = errors.New("invalid governance transaction")

// Governance state keys.
var (
	keyGovSequence = []byte("gov\x00sequence")
	keyGovNextVals = []byte("gov\x00next-validators")
)

// ValidatorSetChange is the payload of TxValidatorSet.
type ValidatorSetChange struct {
	ChainID string `json:"chain_id"`
	// Sequence is the number of validator-set changes before this one:
	// a change applies once, in order.
	Sequence   uint64      `json:"sequence"`
	Validators []Validator `json:"validators"`
	Signatures []CommitSig `json:"signatures,omitempty"`
}

// SignBytes is what each current validator signs.
func (c *ValidatorSetChange) SignBytes() ([]byte, error) {
	body := *c
	body.Signatures = nil
	return governanceSignBytes("idmesh/governance/validator-set/v1", &body)
}

// Sign adds a validator's signature.
func (c *ValidatorSetChange) Sign(key ed25519.PrivateKey) error {
	sig, err := governanceSign(c.SignBytes, key)
	if err == nil {
		c.Signatures = append(c.Signatures, sig)
	}
	return err
}

// Tx returns the transaction carrying the change.
func (c *ValidatorSetChange) Tx() (Tx, error) { return canonicalTx(TxValidatorSet, c) }

// decodeStrict decodes a governance or evidence payload: one JSON object
// of known members, none repeated, nothing after it, so that one signed
// change has one encoding (and one transaction hash).
func decodeStrict(payload []byte, v any) error {
	if err := strictjson.CheckDuplicates(payload); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return strictjson.ErrTrailing
	}
	return nil
}

// canonicalTx is a transaction whose payload is v's JSON in RFC 8785
// canonical form.
func canonicalTx(t TxType, v any) (Tx, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Tx{}, err
	}
	canon, err := jcs.Transform(b)
	if err != nil {
		return Tx{}, err
	}
	return Tx{Type: t, Payload: canon}, nil
}

// governanceSignBytes is what validators sign of a governance body: a
// domain separator and the body's canonical JSON.
func governanceSignBytes(domain string, body any) ([]byte, error) {
	t, err := canonicalTx(0, body)
	if err != nil {
		return nil, err
	}
	return append([]byte(domain+"\x00"), t.Payload...), nil
}

// governanceSign signs what signBytes returns with a validator's key.
func governanceSign(signBytes func() ([]byte, error), key ed25519.PrivateKey) (CommitSig, error) {
	msg, err := signBytes()
	if err != nil {
		return CommitSig{}, err
	}
	return CommitSig{Validator: AddressOf(key.Public().(ed25519.PublicKey)), Signature: ed25519.Sign(key, msg)}, nil
}

// ValidatorSetHandler applies TxValidatorSet.
type ValidatorSetHandler struct{}

// govSequence returns the governance sequence: the number of changes of
// the validator set (by governance or jailing) so far.
func govSequence(st *Overlay) uint64 {
	if b, err := st.Get(keyGovSequence); err == nil && len(b) == 8 {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

// scheduleSet records next as the set deciding height+2 and advances the
// governance sequence, so that a change signed against the old sequence
// no longer applies.
func scheduleSet(st *Overlay, next *ValidatorSet) error {
	enc, err := json.Marshal(next)
	if err != nil {
		return Reject(CodeInternal, err)
	}
	st.Set(keyGovSequence, binary.BigEndian.AppendUint64(nil, govSequence(st)+1))
	st.Set(keyGovNextVals, enc)
	return nil
}

// DeliverTx checks the change against the current validators (those
// deciding this block) and records the new set for height+2.
func (ValidatorSetHandler) DeliverTx(ctx TxContext, st *Overlay, payload []byte) error {
	var c ValidatorSetChange
	if err := decodeStrict(payload, &c); err != nil {
		return Reject(CodeInvalid, fmt.Errorf("%w: %w", ErrGovernance, err))
	}
	if c.ChainID != ctx.ChainID {
		return Reject(CodeUnauthorized, fmt.Errorf("%w: signed for chain %q", ErrGovernance, c.ChainID))
	}
	next, err := NewValidatorSet(c.Validators)
	if err != nil {
		return Reject(CodeInvalid, fmt.Errorf("%w: %w", ErrGovernance, err))
	}
	seq := govSequence(st)
	if c.Sequence != seq {
		return Reject(CodeConflict, fmt.Errorf("%w: sequence %d, want %d (replayed or out of order)", ErrGovernance, c.Sequence, seq))
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
	if err := scheduleSet(st, next); err != nil {
		return err
	}
	// A change that names a jailed validator lets it back in: that is the
	// only way out of jail.
	// Its offences up to this height are pardoned: evidence of them is
	// refused from now on, so that an older offence cannot jail it again.
	for _, v := range next.Validators {
		if _, err := st.Get(JailKey(v.Address())); err == nil {
			st.Set(JailKey(v.Address()), nil)
			st.Set(PardonKey(v.Address()), binary.BigEndian.AppendUint64(nil, ctx.Height))
		}
	}
	return nil
}

// quorumSigned checks that sigs are valid signatures of msg by distinct
// members of vs holding more than two thirds of its power.
func quorumSigned(vs *ValidatorSet, msg []byte, sigs []CommitSig) error {
	seen := map[Address]bool{}
	var power int64
	for _, s := range sigs {
		v, ok := vs.ByAddress(s.Validator)
		if !ok {
			return fmt.Errorf("signer %s is not a validator", s.Validator)
		}
		if seen[s.Validator] {
			return fmt.Errorf("two signatures by %s", s.Validator)
		}
		seen[s.Validator] = true
		if !VerifySignature(v.PubKey, msg, s.Signature) {
			return fmt.Errorf("bad signature by %s", s.Validator)
		}
		power += v.Power
	}
	if 3*power <= 2*vs.TotalPower() {
		return fmt.Errorf("signers hold %d of %d voting power, not more than two thirds", power, vs.TotalPower())
	}
	return nil
}

// nextValidators returns the validator set a block's writes schedule,
// if any.
func nextValidators(writes []KV) (*ValidatorSet, error) {
	for _, w := range writes {
		if bytes.Equal(w.Key, keyGovNextVals) && w.Value != nil {
			var vs ValidatorSet
			if err := json.Unmarshal(w.Value, &vs); err != nil {
				return nil, fmt.Errorf("decode scheduled validator set: %w", err)
			}
			return &vs, vs.Validate()
		}
	}
	return nil, nil
}

// SignedVote is a consensus vote as evidence carries it. Its sign bytes
// are the consensus engine's: VoteSignBytes for a precommit,
// PrevoteSignBytes for a prevote.
type SignedVote struct {
	Type      uint8   `json:"type"` // 1 prevote, 2 precommit
	Height    uint64  `json:"height"`
	Round     uint32  `json:"round"`
	BlockID   Hash    `json:"block_id"`
	Validator Address `json:"validator"`
	Signature []byte  `json:"signature"`
}

// SignBytes returns what the validator signed.
func (v *SignedVote) SignBytes(chainID string) []byte {
	if v.Type == 2 {
		return VoteSignBytes(chainID, v.Height, v.Round, v.BlockID)
	}
	return PrevoteSignBytes(chainID, v.Height, v.Round, v.BlockID)
}

// DuplicateVoteEvidence proves that a validator signed two votes of one
// type at one height and round for different blocks. ValidatorsHash names
// the set the votes were counted against, for the record; the signatures
// are checked with the validator's key in the set deciding the block that
// includes the evidence.
type DuplicateVoteEvidence struct {
	ValidatorsHash Hash       `json:"validators_hash"`
	A              SignedVote `json:"a"`
	B              SignedVote `json:"b"`
}

// EvidenceHandler applies TxEvidence: it verifies the evidence with the
// validator's key in the current validator set, refuses it if its votes are more than
// MaxEvidenceAge heights old, records it once per offence (validator,
// height, round, type), and jails the validator (see jail).
type EvidenceHandler struct{}

// DeliverTx verifies and records evidence, and jails its validator.
func (EvidenceHandler) DeliverTx(ctx TxContext, st *Overlay, payload []byte) error {
	var ev DuplicateVoteEvidence
	if err := decodeStrict(payload, &ev); err != nil {
		return Reject(CodeInvalid, fmt.Errorf("evidence: %w", err))
	}
	a, b := ev.A, ev.B
	if a.Validator != b.Validator || a.Type != b.Type || a.Height != b.Height || a.Round != b.Round || a.BlockID == b.BlockID || (a.Type != 1 && a.Type != 2) {
		return Reject(CodeInvalid, errors.New("evidence: the votes do not conflict"))
	}
	if ctx.Height > a.Height && ctx.Height-a.Height > MaxEvidenceAge {
		return Reject(CodeInvalid, fmt.Errorf("%w: votes of height %d are more than %d heights older than block %d", ErrEvidenceTooOld, a.Height, MaxEvidenceAge, ctx.Height))
	}
	if ctx.Validators == nil {
		return Reject(CodeInternal, errors.New("evidence: no validator set"))
	}
	// The votes are checked against the key the validator has in the set
	// deciding this block, not against the set of their height named by
	// ValidatorsHash: an address is the hash of its key, so the key is
	// the same, and a set changed in between (by the jailing of another
	// validator who equivocated at the same height, say) must not let an
	// offender escape. A validator no longer in the set is out already.
	val, ok := ctx.Validators.ByAddress(a.Validator)
	if !ok {
		return Reject(CodeInvalid, fmt.Errorf("evidence: %s is not a validator", a.Validator))
	}
	if !VerifySignature(val.PubKey, a.SignBytes(ctx.ChainID), a.Signature) || !VerifySignature(val.PubKey, b.SignBytes(ctx.ChainID), b.Signature) {
		return Reject(CodeInvalid, errors.New("evidence: bad signature"))
	}
	if b, err := st.Get(PardonKey(a.Validator)); err == nil && len(b) == 8 && a.Height <= binary.BigEndian.Uint64(b) {
		return Reject(CodeConflict, fmt.Errorf("%w: %s was readmitted at height %d, after these votes of height %d", ErrEvidencePardoned, a.Validator, binary.BigEndian.Uint64(b), a.Height))
	}
	k := EvidenceKey(a.Validator, a.Height, a.Round, a.Type)
	if _, err := st.Get(k); err == nil {
		return Reject(CodeConflict, fmt.Errorf("%w: %s at height %d round %d type %d", ErrEvidenceRecorded, a.Validator, a.Height, a.Round, a.Type))
	}
	st.Set(k, payload)
	if err := jail(ctx, st, a.Validator, k); err != nil {
		return err
	}
	return nil
}

// EvidenceKey is the state key of a validator's recorded equivocation.
func EvidenceKey(v Address, height uint64, round uint32, typ uint8) []byte {
	k := append([]byte("ev\x00"), v[:]...)
	k = binary.BigEndian.AppendUint64(k, height)
	k = binary.BigEndian.AppendUint32(k, round)
	return append(k, typ)
}
