package consensustest

import "encoding/binary"

// TrafficKind classifies what the network carries, for Stats.Traffic.
type TrafficKind int

// Kinds of traffic.
const (
	TrafficProposal TrafficKind = iota // proposals to everyone (gossiped, or sent to every peer)
	TrafficVote                        // prevotes and precommits to everyone
	TrafficStatus                      // Status messages (direct, to every peer)
	TrafficAnswer                      // messages to one peer (To set): answers to a Status or to an old height's message
	TrafficControl                     // gossip control: IHAVE, IWANT, IDONTWANT
	NumTrafficKinds
)

func (k TrafficKind) String() string {
	switch k {
	case TrafficProposal:
		return "proposal"
	case TrafficVote:
		return "vote"
	case TrafficStatus:
		return "status"
	case TrafficAnswer:
		return "answer"
	case TrafficControl:
		return "control"
	}
	return "?"
}

// Traffic counts messages put on the network and their bytes.
type Traffic struct {
	Messages int
	Bytes    int64
}

// Sizes of node/p2p's wire format (EncodeMessage, the gossip envelope)
// and of what frames it, as the simulation counts them. The simulated
// block is not the chain's: a proposal counts as a header of
// headerBytes, its transactions, Config.BlockBytes more and its last
// commit in registry's encoding, which has the size of
// consensus.Commit.Size. Transport framing (yamux, Noise or TLS, TCP/IP)
// is not counted.
const (
	wireHeaderBytes = 1 + 1 + 20 + 20 // version, kind, from, to
	envelopeBytes   = 1 + 8 + 1 + 38  // version, sequence, peer ID (Ed25519: 38 bytes)
	headerBytes     = 300             // a registry block header, about
	msgIDBytes      = 32              // a gossip message ID: SHA-256 of the envelope
)

// sizeOf returns the kind of traffic a message is and its size in bytes
// on the stream: a gossip publication in its envelope and gossipsub RPC,
// a direct message with its stream's protocol negotiation and one-byte
// acknowledgement, or a gossip control message.
func (s *Sim) sizeOf(m Message, pub uint64, ctl *control) (TrafficKind, int) {
	topic, proto := len("/idmesh/")+len(s.cfg.ChainID)+len("/consensus/1"), len("/idmesh/")+len(s.cfg.ChainID)+len("/direct/1")
	if ctl != nil {
		// RPC{control{ihave|iwant|idontwant{topic?, repeated id}}}
		ids := len(ctl.ids) * (2 + msgIDBytes)
		if ctl.kind == ctlIHave {
			ids += 2 + topic
		}
		return TrafficControl, framed(framed(framed(ids)))
	}
	kind, n := s.wireSize(m)
	if kind != TrafficStatus && !m.Broadcast() {
		kind = TrafficAnswer
	}
	if pub != 0 {
		// RPC{publish: Message{data: envelope, topic}}
		msg := framed(envelopeBytes+n) + 2 + topic
		return kind, framed(framed(msg))
	}
	return kind, n + 2*(proto+2) + 1
}

// framed returns the size of n bytes behind a protobuf tag or a length
// prefix: a byte and n's varint length.
func framed(n int) int { return 1 + uvarintLen(n) + n }

func uvarintLen(n int) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], uint64(n))
}

// wireSize returns EncodeMessage's length for m.
func (s *Sim) wireSize(m Message) (TrafficKind, int) {
	block := func(b *Block) int {
		if b == nil {
			return 0
		}
		n := headerBytes + 4 + s.cfg.BlockBytes
		for _, tx := range b.Txs {
			n += 4 + len(tx)
		}
		if b.LastCommit != nil {
			n += 4 + b.LastCommit.Size()
		}
		return n
	}
	switch {
	case m.Vote != nil:
		return TrafficVote, wireHeaderBytes + 1 + 8 + 4 + 32 + 20 + 4 + len(m.Vote.Signature)
	case m.Proposal != nil:
		return TrafficProposal, wireHeaderBytes + 8 + 4 + 4 + 20 + 4 + len(m.Proposal.Signature) + 4 + block(m.Proposal.Block)
	case m.Decided != nil:
		n := wireHeaderBytes + 4 + block(m.Decided.Block) + 4
		if m.Decided.Commit != nil {
			n += m.Decided.Commit.Size()
		}
		return TrafficAnswer, n
	case m.Status != nil:
		n := wireHeaderBytes + 8 + 4 + 1
		for _, h := range m.Status.Has {
			n += 4 + len(h.Prevotes) + 4 + len(h.Precommits)
		}
		return TrafficStatus, n
	}
	return TrafficStatus, wireHeaderBytes
}
