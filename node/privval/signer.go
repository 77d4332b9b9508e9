package privval

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sync"

	"github.com/idmesh/idmesh/registry"
)

// Errors of the Signer.
var (
	// ErrDoubleSign refuses a signature at or below the last-signed
	// watermark that is not exactly the message last signed.
	ErrDoubleSign = errors.New("privval: refusing to double sign")
	// ErrNotConsensus refuses bytes that are not a consensus message's.
	ErrNotConsensus = errors.New("privval: not consensus sign bytes")
)

// Step orders the messages a validator signs in one round.
type Step uint8

// Steps, in the order they are signed within a round.
const (
	StepProposal  Step = 1
	StepPrevote   Step = 2
	StepPrecommit Step = 3
)

var stepNames = map[Step]string{StepProposal: "proposal", StepPrevote: "prevote", StepPrecommit: "precommit"}

// String names the step.
func (s Step) String() string {
	if n, ok := stepNames[s]; ok {
		return n
	}
	return fmt.Sprintf("step(%d)", uint8(s))
}

// MarshalText encodes the step by name.
func (s Step) MarshalText() ([]byte, error) {
	if s == 0 {
		return []byte(""), nil
	}
	if _, ok := stepNames[s]; !ok {
		return nil, fmt.Errorf("encode step: unknown step %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText decodes a step name.
func (s *Step) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*s = 0
		return nil
	}
	for k, n := range stepNames {
		if n == string(b) {
			*s = k
			return nil
		}
	}
	return fmt.Errorf("decode step: unknown step %q", b)
}

// Target is what a consensus signature is for, read from its sign bytes.
type Target struct {
	ChainID string
	Height  uint64
	Round   int32
	Step    Step
}

// The domain tags of consensus sign bytes (node/consensus: Vote.SignBytes
// and Proposal.SignBytes).
const (
	tagProposal  = "idmesh/proposal/v1\x00"
	tagPrevote   = "idmesh/prevote/v1\x00"
	tagPrecommit = "idmesh/precommit/v1\x00"
)

// ParseSignBytes reads the chain, height, round and step of consensus
// sign bytes. A vote's are its domain tag, the chain ID with a uvarint
// length, height (8 bytes), round (4) and block ID (32); a proposal's are
// its tag, the chain ID with an 8-byte length, height (8), round (8),
// proof-of-lock round (8) and block ID (32); integers are big-endian.
// Anything else is an error wrapping ErrNotConsensus.
func ParseSignBytes(b []byte) (Target, error) {
	bad := func(why string) (Target, error) {
		return Target{}, fmt.Errorf("%w: %s", ErrNotConsensus, why)
	}
	var t Target
	switch {
	case bytes.HasPrefix(b, []byte(tagPrevote)), bytes.HasPrefix(b, []byte(tagPrecommit)):
		t.Step = StepPrevote
		rest := b[len(tagPrevote):]
		if bytes.HasPrefix(b, []byte(tagPrecommit)) {
			t.Step, rest = StepPrecommit, b[len(tagPrecommit):]
		}
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return bad("vote: bad chain ID length")
		}
		rest = rest[k:]
		t.ChainID, rest = string(rest[:n]), rest[n:]
		if len(rest) != 8+4+32 {
			return bad(fmt.Sprintf("vote: %d bytes after the chain ID, want 44", len(rest)))
		}
		t.Height = binary.BigEndian.Uint64(rest)
		r := binary.BigEndian.Uint32(rest[8:])
		if r > math.MaxInt32 {
			return bad("vote: round out of range")
		}
		t.Round = int32(r)
	case bytes.HasPrefix(b, []byte(tagProposal)):
		t.Step = StepProposal
		rest := b[len(tagProposal):]
		if len(rest) < 8 {
			return bad("proposal: short")
		}
		n := binary.BigEndian.Uint64(rest)
		rest = rest[8:]
		if n > uint64(len(rest)) {
			return bad("proposal: bad chain ID length")
		}
		t.ChainID, rest = string(rest[:n]), rest[n:]
		if len(rest) != 8+8+8+32 {
			return bad(fmt.Sprintf("proposal: %d bytes after the chain ID, want 56", len(rest)))
		}
		t.Height = binary.BigEndian.Uint64(rest)
		r := binary.BigEndian.Uint64(rest[8:])
		if r > math.MaxInt32 {
			return bad("proposal: round out of range")
		}
		t.Round = int32(r)
	default:
		return bad("unknown domain tag")
	}
	if t.Height == 0 {
		return bad("height 0")
	}
	return t, nil
}

// Watermark is the last consensus message a validator signed: its
// height, round and step, and the SHA-256 of its sign bytes. The zero
// Watermark is below everything.
type Watermark struct {
	Height        uint64        `json:"height"`
	Round         int32         `json:"round"`
	Step          Step          `json:"step"`
	SignBytesHash registry.Hash `json:"sign_bytes_hash"`
}

// Compare orders w against height, round and step: -1 if w is below, 0
// at the same step, +1 above.
func (w Watermark) Compare(height uint64, round int32, step Step) int {
	switch {
	case w.Height != height:
		return cmp(w.Height < height)
	case w.Round != round:
		return cmp(w.Round < round)
	case w.Step != step:
		return cmp(w.Step < step)
	}
	return 0
}

func cmp(below bool) int {
	if below {
		return -1
	}
	return 1
}

// String describes w for messages.
func (w Watermark) String() string {
	if w.Height == 0 {
		return "nothing signed"
	}
	if w.Round == math.MaxInt32 {
		return fmt.Sprintf("everything up to height %d", w.Height)
	}
	return fmt.Sprintf("%s at height %d round %d", w.Step, w.Height, w.Round)
}

// Floor is a watermark at the very end of height: nothing at or below it
// is signed again. A validator whose chain is at height h never signs at
// h again, so Floor(h) is always safe to raise the watermark to.
func Floor(height uint64) Watermark {
	return Watermark{Height: height, Round: math.MaxInt32, Step: StepPrecommit}
}

// Signer signs consensus messages with a validator key, keeping the
// last-signed watermark. Its methods are safe for concurrent use.
type Signer struct {
	key  ed25519.PrivateKey
	path string // empty: the watermark lives in memory only

	mu     sync.Mutex
	last   Watermark
	saved  Watermark // what the state file holds
	onDisk bool      // the state file exists
}

// OpenSigner returns a signer for key whose watermark is kept in the
// state file at path (read if it exists; created by the first Save). An
// empty path keeps the watermark in memory only (tests).
func OpenSigner(key ed25519.PrivateKey, path string) (*Signer, error) {
	s := &Signer{key: key, path: path}
	if path == "" {
		return s, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load validator state: %w", err)
	}
	if err := json.Unmarshal(b, &s.last); err != nil {
		return nil, fmt.Errorf("load validator state %s: %w", path, err)
	}
	if s.last.Height > 0 && stepNames[s.last.Step] == "" {
		return nil, fmt.Errorf("load validator state %s: no step", path)
	}
	s.saved, s.onDisk = s.last, true
	return s, nil
}

// Address returns the validator's address.
func (s *Signer) Address() registry.Address {
	return registry.AddressOf(s.key.Public().(ed25519.PublicKey))
}

// Sign signs consensus sign bytes above the watermark, and raises the
// watermark to them; Save must follow before the signature leaves the
// process. It gives the same signature again for exactly the message last
// signed, and refuses anything else at or below the watermark with an
// error wrapping ErrDoubleSign, and anything that is not consensus sign
// bytes with ErrNotConsensus.
func (s *Signer) Sign(signBytes []byte) ([]byte, error) {
	t, err := ParseSignBytes(signBytes)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(signBytes)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch c := s.last.Compare(t.Height, t.Round, t.Step); {
	case c == 0 && s.last.SignBytesHash == sum:
		// The very message last signed: the same signature again.
	case c == 0:
		return nil, fmt.Errorf("%w: a different %s at height %d round %d was already signed", ErrDoubleSign, t.Step, t.Height, t.Round)
	case c > 0:
		return nil, fmt.Errorf("%w: %s at height %d round %d is below the last signed (%s)", ErrDoubleSign, t.Step, t.Height, t.Round, s.last)
	default:
		s.last = Watermark{Height: t.Height, Round: t.Round, Step: t.Step, SignBytesHash: sum}
	}
	return ed25519.Sign(s.key, signBytes), nil
}

// Last returns the watermark.
func (s *Signer) Last() Watermark {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Raise lifts the watermark to w if w is above it: to what the
// write-ahead log shows was signed, or to a Floor below which nothing
// will be signed again. Save must follow to make it durable.
func (s *Signer) Raise(w Watermark) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last.Compare(w.Height, w.Round, w.Step) < 0 {
		s.last = w
	}
}

// RaiseTo raises the watermark to consensus sign bytes already signed
// (restored from the write-ahead log), as if Sign had signed them.
func (s *Signer) RaiseTo(signBytes []byte) error {
	t, err := ParseSignBytes(signBytes)
	if err != nil {
		return err
	}
	s.Raise(Watermark{Height: t.Height, Round: t.Round, Step: t.Step, SignBytesHash: sha256.Sum256(signBytes)})
	return nil
}

// Save writes the watermark to the state file, atomically and durably,
// if it changed since the last Save or the file does not exist yet. It
// does nothing for a signer
// without a state file.
func (s *Signer) Save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.path == "" || (s.onDisk && s.last == s.saved) {
		return nil
	}
	b, err := json.MarshalIndent(s.last, "", "  ")
	if err != nil {
		return fmt.Errorf("save validator state: %w", err)
	}
	if err := writeFileSync(s.path, append(b, '\n')); err != nil {
		return fmt.Errorf("save validator state: %w", err)
	}
	s.saved, s.onDisk = s.last, true
	return nil
}

// ErrSignedAbove reports a commit that carries the validator's precommit
// above its watermark: the state is older than what its key signed (a
// home restored from a backup, or the key in use elsewhere).
var ErrSignedAbove = errors.New("privval: signed above the watermark")

// CheckCommits looks for self's precommit in commits at a height, round
// and step above last, and reports the highest such commit with an error
// wrapping ErrSignedAbove. A validator whose own signatures are on the
// chain above its watermark must not sign: its watermark no longer
// guards what it signed.
func CheckCommits(last Watermark, self registry.Address, commits []*registry.Commit) error {
	var worst *registry.Commit
	for _, c := range commits {
		if c == nil || c.Round > math.MaxInt32 || last.Compare(c.Height, int32(c.Round), StepPrecommit) >= 0 {
			continue
		}
		for _, s := range c.Signatures {
			if s.Validator == self && (worst == nil || c.Height > worst.Height || (c.Height == worst.Height && c.Round > worst.Round)) {
				worst = c
			}
		}
	}
	if worst != nil {
		return fmt.Errorf("%w: the commit of height %d round %d carries validator %s's precommit, above its last-signed watermark (%s): the validator state is older than what its key signed (a home restored from a backup, or the key running elsewhere); refusing to sign", ErrSignedAbove, worst.Height, worst.Round, self, last)
	}
	return nil
}
