package p2p

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/registry"
)

// The consensus engine's messages, carrying this chain's blocks: what the
// network encodes, gossips and delivers.
type (
	// Message is a consensus message of the chain.
	Message = consensus.Message[*registry.Block]
	// Proposal is a proposal of a chain block.
	Proposal = consensus.Proposal[*registry.Block]
	// Decided is a decided chain block with its commit.
	Decided = consensus.Decided[*registry.Block]
)

// ErrMalformed reports bytes from the network that do not decode.
var ErrMalformed = errors.New("p2p: malformed message")

// Wire format versions and message kinds.
const (
	wireVersion = 1

	kindProposal = 1
	kindVote     = 2
	kindDecided  = 3
	kindStatus   = 4

	// maxSigBytes bounds a signature on the wire (Ed25519's are 64).
	maxSigBytes = 128
	// maxStatusBitmap bounds a vote bitmap in a status (8,192 validators).
	maxStatusBitmap = 1024
	// maxPeerIDBytes bounds an encoded libp2p peer ID (an Ed25519 one
	// is 38 bytes).
	maxPeerIDBytes = 128
)

// EncodeMessage returns m's deterministic binary encoding:
//
//	u8 version (1) | u8 kind | from [20] | to [20] | payload
//	vote:     u8 type | u64 height | u32 round | block ID [32] | validator [20] | sig
//	proposal: u64 height | u32 round | u32 POL round | proposer [20] | sig | block
//	decided:  block | commit
//	status:   u64 height | u32 round | u8 flags (1 stuck, 2 and 4: has the
//	          proposal of round-1, of round) | four bitmaps (prevotes and
//	          precommits of round-1, then of round)
//
// Integers are big-endian, rounds are int32 in two's complement, and sig,
// block and commit are a u32 length followed by the bytes; blocks and
// commits use registry's deterministic encodings (Block.Encode,
// Commit.Encode), so a proposal's block keeps its ID. m must carry exactly
// one payload.
func EncodeMessage(m Message) ([]byte, error) {
	n := 0
	for _, set := range []bool{m.Proposal != nil, m.Vote != nil, m.Decided != nil, m.Status != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, fmt.Errorf("encode message: %w: %d payloads", consensus.ErrInvalidMessage, n)
	}
	w := writer{b: make([]byte, 0, 256)}
	w.u8(wireVersion)
	switch {
	case m.Proposal != nil:
		w.u8(kindProposal)
	case m.Vote != nil:
		w.u8(kindVote)
	case m.Status != nil:
		w.u8(kindStatus)
	default:
		w.u8(kindDecided)
	}
	w.fixed(m.From[:])
	w.fixed(m.To[:])
	switch {
	case m.Vote != nil:
		v := m.Vote
		w.u8(uint8(v.Type))
		w.u64(v.Height)
		w.u32(uint32(v.Round))
		w.fixed(v.BlockID[:])
		w.fixed(v.Validator[:])
		w.bytes(v.Signature)
	case m.Proposal != nil:
		p := m.Proposal
		if p.Block == nil {
			return nil, fmt.Errorf("encode message: %w: proposal without a block", consensus.ErrInvalidMessage)
		}
		w.u64(p.Height)
		w.u32(uint32(p.Round))
		w.u32(uint32(p.POLRound))
		w.fixed(p.Proposer[:])
		w.bytes(p.Signature)
		// The block a proposer made (or a node decoded) keeps its bytes:
		// Encoding does not encode it again.
		enc := p.Block.Encoding()
		w.b = slices.Grow(w.b, 4+len(enc))
		w.bytes(enc)
	case m.Status != nil:
		st := m.Status
		w.u64(st.Height)
		w.u32(uint32(st.Round))
		flags := uint8(0)
		if st.Stuck {
			flags |= 1
		}
		if st.Has[0].Proposal {
			flags |= 2
		}
		if st.Has[1].Proposal {
			flags |= 4
		}
		w.u8(flags)
		for _, h := range st.Has {
			w.bytes(h.Prevotes)
			w.bytes(h.Precommits)
		}
	default:
		d := m.Decided
		if d.Block == nil || d.Commit == nil {
			return nil, fmt.Errorf("encode message: %w: decided without block or commit", consensus.ErrInvalidMessage)
		}
		enc := d.Block.Encoding()
		w.b = slices.Grow(w.b, 4+len(enc)+4+d.Commit.Size())
		w.bytes(enc)
		w.bytes(d.Commit.Encode())
	}
	return w.b, nil
}

// DecodeMessage decodes what EncodeMessage produced and checks the result
// with ValidateBasic. Blocks are decoded with registry.DecodeBlock, which
// checks them structurally too. Nothing is verified against chain state.
func DecodeMessage(b []byte) (Message, error) {
	r := reader{b: b}
	var m Message
	if v := r.u8(); r.err == nil && v != wireVersion {
		return m, fmt.Errorf("%w: version %d", ErrMalformed, v)
	}
	kind := r.u8()
	copy(m.From[:], r.take(len(m.From)))
	copy(m.To[:], r.take(len(m.To)))
	switch kind {
	case kindVote:
		v := &consensus.Vote{Type: consensus.VoteType(r.u8()), Height: r.u64(), Round: int32(r.u32())}
		copy(v.BlockID[:], r.take(len(v.BlockID)))
		copy(v.Validator[:], r.take(len(v.Validator)))
		v.Signature = r.bytes(maxSigBytes)
		m.Vote = v
	case kindProposal:
		p := &Proposal{Height: r.u64(), Round: int32(r.u32()), POLRound: int32(r.u32())}
		copy(p.Proposer[:], r.take(len(p.Proposer)))
		p.Signature = r.bytes(maxSigBytes)
		p.Block = r.block()
		m.Proposal = p
	case kindStatus:
		st := &consensus.Status{Height: r.u64(), Round: int32(r.u32())}
		flags := r.u8()
		if flags&^7 != 0 && r.err == nil {
			r.err = fmt.Errorf("%w: status flags %#x", ErrMalformed, flags)
		}
		st.Stuck, st.Has[0].Proposal, st.Has[1].Proposal = flags&1 != 0, flags&2 != 0, flags&4 != 0
		for i := range st.Has {
			st.Has[i].Prevotes = r.bytes(maxStatusBitmap)
			st.Has[i].Precommits = r.bytes(maxStatusBitmap)
		}
		m.Status = st
	case kindDecided:
		d := &Decided{Block: r.block()}
		d.Commit = r.commit()
		m.Decided = d
	default:
		if r.err == nil {
			r.err = fmt.Errorf("%w: message kind %d", ErrMalformed, kind)
		}
	}
	if err := r.finish(); err != nil {
		return Message{}, err
	}
	if err := m.ValidateBasic(); err != nil {
		return Message{}, err
	}
	return m, nil
}

// envelope is what travels on the consensus topic: an encoded message,
// with the publishing host's peer ID and a per-publication sequence
// number, so that a message the engine sends again (it rebroadcasts its
// votes for liveness) is a new gossip message and not a duplicate:
//
//	u8 version (1) | u64 seq | u8 len, origin peer ID | encoded message
type envelope struct {
	seq    uint64
	origin []byte // the publisher's peer ID, as claimed by it
	msg    Message
	size   int
}

func encodeEnvelope(seq uint64, origin []byte, msg []byte) []byte {
	w := writer{b: make([]byte, 0, 1+8+1+len(origin)+len(msg))}
	w.u8(wireVersion)
	w.u64(seq)
	w.u8(uint8(len(origin)))
	w.fixed(origin)
	w.fixed(msg)
	return w.b
}

func decodeEnvelope(b []byte) (envelope, error) {
	r := reader{b: b}
	if v := r.u8(); r.err == nil && v != wireVersion {
		return envelope{}, fmt.Errorf("%w: envelope version %d", ErrMalformed, v)
	}
	e := envelope{seq: r.u64(), size: len(b)}
	e.origin = r.take(int(r.u8()))
	if r.err != nil {
		return envelope{}, r.err
	}
	m, err := DecodeMessage(r.b)
	if err != nil {
		return envelope{}, err
	}
	e.msg = m
	return e, nil
}

// writer appends big-endian fields.
type writer struct{ b []byte }

func (w *writer) u8(v uint8)      { w.b = append(w.b, v) }
func (w *writer) u32(v uint32)    { w.b = binary.BigEndian.AppendUint32(w.b, v) }
func (w *writer) u64(v uint64)    { w.b = binary.BigEndian.AppendUint64(w.b, v) }
func (w *writer) fixed(b []byte)  { w.b = append(w.b, b...) }
func (w *writer) bytes(b []byte)  { w.u32(uint32(len(b))); w.fixed(b) }
func (w *writer) str(s string)    { w.bytes([]byte(s)) }
func (w *writer) hash(h [32]byte) { w.fixed(h[:]) }

// reader consumes what writer wrote; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = fmt.Errorf("%w: truncated", ErrMalformed)
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() uint8 {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if b := r.take(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (r *reader) hash() (h registry.Hash) {
	copy(h[:], r.take(len(h)))
	return h
}

// bytes reads a u32 length and that many bytes, at most limit.
func (r *reader) bytes(limit int) []byte {
	n := r.u32()
	if r.err == nil && uint64(n) > uint64(limit) {
		r.err = fmt.Errorf("%w: field of %d bytes exceeds %d", ErrMalformed, n, limit)
		return nil
	}
	return r.take(int(n))
}

func (r *reader) str(limit int) string { return string(r.bytes(limit)) }

func (r *reader) block() *registry.Block {
	raw := r.bytes(len(r.b))
	if r.err != nil {
		return nil
	}
	b, err := registry.DecodeBlock(raw)
	if err != nil {
		r.err = fmt.Errorf("%w: block: %w", ErrMalformed, err)
		return nil
	}
	return b
}

func (r *reader) commit() *registry.Commit {
	raw := r.bytes(len(r.b))
	if r.err != nil {
		return nil
	}
	c, err := registry.DecodeCommit(raw)
	if err != nil {
		r.err = fmt.Errorf("%w: commit: %w", ErrMalformed, err)
		return nil
	}
	return c
}

func (r *reader) finish() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(r.b))
	}
	return r.err
}
