package p2p

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/registry"
)

// Direct stream acknowledgements.
const (
	ackAccepted = 0
	ackRefused  = 1
)

// maxDirectInFlight bounds the direct sends running at once; beyond it a
// direct message is broadcast instead.
const maxDirectInFlight = 16

// Send queues m for delivery and returns at once: a message with To unset
// is published on the consensus topic; one with To set goes over a direct
// stream to the peer we last heard that validator from directly, or is
// published if there is none or the stream fails (only its addressee
// delivers it). If the queue is full, m is dropped (the engine
// rebroadcasts its own messages) and counted in Stats.Dropped.
func (h *Host) Send(m Message) {
	if h.ctx.Err() != nil {
		return
	}
	select {
	case h.outbox <- m:
	default:
		h.stats.dropped.Add(1)
		h.log.Warn("consensus send queue full; message dropped", "height", m.Height())
	}
}

// Receive returns the channel of consensus messages from peers that
// passed validation: never our own, and, if they have To set, only those
// addressed to Config.Self. It is closed by Close.
func (h *Host) Receive() <-chan Message { return h.recv }

// sendLoop owns the validator routes and carries out Send's queue.
func (h *Host) sendLoop() {
	routes := make(map[registry.Address]peer.ID)
	apply := func(r route) {
		if !r.drop {
			routes[r.addr] = r.p
		} else if routes[r.addr] == r.p {
			delete(routes, r.addr)
		}
	}
	inflight := make(chan struct{}, maxDirectInFlight)
	for {
		select {
		case <-h.ctx.Done():
			return
		case r := <-h.learn:
			apply(r)
		case m := <-h.outbox:
			// Routes learned before m was sent count for it.
			for drained := false; !drained; {
				select {
				case r := <-h.learn:
					apply(r)
				default:
					drained = true
				}
			}
			raw, err := EncodeMessage(m)
			if err != nil {
				h.log.Error("consensus message not sent", "err", err)
				continue
			}
			if m.Broadcast() {
				h.publish(raw)
				continue
			}
			p, ok := routes[m.To]
			if !ok {
				h.fallback(raw)
				continue
			}
			select {
			case inflight <- struct{}{}:
			default:
				h.fallback(raw)
				continue
			}
			if !h.spawn(func() {
				defer func() { <-inflight }()
				if err := h.sendDirect(h.ctx, p, raw); err != nil {
					h.log.Debug("direct send failed; broadcasting", "peer", p, "to", m.To, "err", err)
					h.forget(m.To, p)
					h.fallback(raw)
				}
			}) {
				return
			}
		}
	}
}

// publish broadcasts an encoded message on the consensus topic.
func (h *Host) publish(raw []byte) {
	if len(raw) > h.cfg.MaxMessageBytes {
		h.log.Error("consensus message not sent", "err", fmt.Errorf("%w: %d bytes", ErrTooLarge, len(raw)))
		return
	}
	env := encodeEnvelope(h.seq.Add(1), []byte(h.self), raw)
	if err := h.consensusTopic.Publish(h.ctx, env); err != nil {
		if h.ctx.Err() == nil {
			h.log.Warn("consensus publish failed", "err", err)
		}
		return
	}
	h.stats.published.Add(1)
}

func (h *Host) fallback(raw []byte) {
	h.stats.fallbacks.Add(1)
	h.publish(raw)
}

// forget drops the route of addr if it still points at p.
func (h *Host) forget(addr registry.Address, p peer.ID) {
	select {
	case h.learn <- route{addr: addr, p: p, drop: true}:
	default:
	}
}

// learnRoute records that validator addr was heard from peer p directly.
// Routes are refreshed by every message, so one lost to a full queue
// does not matter.
func (h *Host) learnRoute(addr registry.Address, p peer.ID) {
	select {
	case h.learn <- route{addr: addr, p: p}:
	default:
	}
}

// sendDirect opens a direct stream to p, writes raw and waits for the
// acknowledgement.
func (h *Host) sendDirect(ctx context.Context, p peer.ID, raw []byte) error {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.RequestTimeout)
	defer cancel()
	s, err := h.host.NewStream(network.WithNoDial(ctx, "direct consensus message"), p, h.protoDirect)
	if err != nil {
		return fmt.Errorf("open direct stream: %w", err)
	}
	defer s.Close()
	s.SetDeadline(h.deadline(ctx))
	if _, err := s.Write(raw); err != nil {
		s.Reset()
		return fmt.Errorf("write direct message: %w", err)
	}
	if err := s.CloseWrite(); err != nil {
		s.Reset()
		return fmt.Errorf("write direct message: %w", err)
	}
	var ack [1]byte
	if _, err := io.ReadFull(s, ack[:]); err != nil {
		s.Reset()
		return fmt.Errorf("read direct acknowledgement: %w", err)
	}
	if ack[0] != ackAccepted {
		return fmt.Errorf("direct message refused by %s", p)
	}
	h.stats.directSent.Add(1)
	return nil
}

// handleDirect receives one direct message, judges it as a gossiped one
// and delivers it if it is addressed to us.
func (h *Host) handleDirect(s network.Stream) {
	defer s.Close()
	from := s.Conn().RemotePeer()
	raw, err := io.ReadAll(io.LimitReader(s, int64(h.cfg.MaxMessageBytes)+1))
	if err != nil {
		s.Reset()
		return
	}
	ack := byte(ackRefused)
	var m Message
	var res pubsub.ValidationResult
	if len(raw) > h.cfg.MaxMessageBytes {
		res = h.verdict(string(h.protoDirect), from, Rejected, ErrTooLarge)
	} else if m, err = DecodeMessage(raw); err != nil {
		res = h.verdict(string(h.protoDirect), from, Rejected, err)
	} else {
		o, err := h.judge(m)
		res = h.verdict(string(h.protoDirect), from, o, err)
	}
	if res == pubsub.ValidationAccept {
		ack = ackAccepted
		if signer(m) == m.From && m.From != (registry.Address{}) {
			h.learnRoute(m.From, from)
		}
	}
	if _, err := s.Write([]byte{ack}); err != nil {
		s.Reset()
		return
	}
	if ack == ackAccepted {
		h.deliver(m)
	}
}

// validateConsensus is the consensus topic's validator. Our own messages
// are accepted unchecked (they come from our engine); peers' are judged.
// The decoded message is kept in the gossip message's ValidatorData.
func (h *Host) validateConsensus(_ context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	topic := msg.GetTopic()
	if len(msg.Data) > h.cfg.MaxMessageBytes+1+8+1+maxPeerIDBytes {
		return h.verdict(topic, from, Rejected, ErrTooLarge)
	}
	env, err := decodeEnvelope(msg.Data)
	if err != nil {
		return h.verdict(topic, from, Rejected, err)
	}
	if from == h.self {
		msg.ValidatorData = env.msg
		return pubsub.ValidationAccept
	}
	o, err := h.judge(env.msg)
	res := h.verdict(topic, from, o, err)
	if res == pubsub.ValidationAccept {
		msg.ValidatorData = env.msg
		// Learn the route only from the first hop: the publisher
		// names itself in the envelope, and relays do not change it.
		if peer.ID(env.origin) == from && signer(env.msg) == env.msg.From && env.msg.From != (registry.Address{}) {
			h.learnRoute(env.msg.From, from)
		}
	}
	return res
}

// signer returns the validator that signed a vote or proposal; zero for a
// decided block, whose From is not authenticated.
func signer(m Message) registry.Address {
	switch {
	case m.Vote != nil:
		return m.Vote.Validator
	case m.Proposal != nil:
		return m.Proposal.Proposer
	}
	return registry.Address{}
}

// judge checks a decoded message against the chain: its height is not
// stale, its validator set is known, and it is signed by a validator of
// that set (votes and proposals, whose From must be their signer) or
// carries a commit by more than two thirds of it (decided blocks).
func (h *Host) judge(m Message) (Outcome, error) {
	height := m.Height()
	if m.Status != nil {
		// Unsigned and cheap: a peer at any height may ask for help; the
		// engine answers at most once per peer and height in a period.
		return Accepted, nil
	}
	if height+h.cfg.StaleHeights < h.cfg.Chain.Height() {
		return Ignored, fmt.Errorf("%w: %d", ErrStale, height)
	}
	vs, ok := h.cfg.Chain.Validators(height)
	if !ok || vs == nil {
		return Ignored, fmt.Errorf("%w: height %d", ErrUnknownValidators, height)
	}
	chainID := h.cfg.ChainID
	switch {
	case m.Vote != nil:
		// A vote may be relayed by another node (the proof of lock a
		// validator passes on): its signature, not its sender, is what
		// counts. Routes are learned only where sender and signer match.
		v := m.Vote
		val, ok := vs.ByAddress(v.Validator)
		if !ok {
			return Rejected, fmt.Errorf("%w: %s at height %d", consensus.ErrNotValidator, v.Validator, height)
		}
		if err := v.Verify(chainID, val); err != nil {
			return Rejected, err
		}
	case m.Proposal != nil:
		// Like votes, proposals are relayed (a peer answering a node that
		// asks for what it lacks): the signature is what counts.
		p := m.Proposal
		if p.Block.Header.ChainID != chainID {
			return Rejected, fmt.Errorf("%w: proposal of chain %q", ErrWrongChain, p.Block.Header.ChainID)
		}
		val, ok := vs.ByAddress(p.Proposer)
		if !ok {
			return Rejected, fmt.Errorf("%w: proposer %s at height %d", consensus.ErrNotValidator, p.Proposer, height)
		}
		if !ed25519.Verify(val.PubKey, p.SignBytes(chainID), p.Signature) {
			return Rejected, fmt.Errorf("%w: proposal by %s at %d/%d", consensus.ErrBadSignature, p.Proposer, p.Height, p.Round)
		}
	case m.Decided != nil:
		d := m.Decided
		if d.Block.Header.ChainID != chainID {
			return Rejected, fmt.Errorf("%w: block of chain %q", ErrWrongChain, d.Block.Header.ChainID)
		}
		if err := registry.VerifyCommit(chainID, vs, height, d.Block.ID(), d.Commit); err != nil {
			return Rejected, err
		}
	default:
		return Rejected, errors.New("p2p: empty consensus message")
	}
	return Accepted, nil
}

// readConsensus hands validated consensus messages from peers to
// Receive.
func (h *Host) readConsensus() {
	for {
		msg, err := h.consensusSub.Next(h.ctx)
		if err != nil {
			return
		}
		if msg.ReceivedFrom == h.self || msg.Local {
			continue
		}
		m, ok := msg.ValidatorData.(Message)
		if !ok {
			continue
		}
		if !h.deliver(m) {
			return
		}
	}
}

// deliver hands m to Receive if it is for us; it reports false once the
// host is closing.
func (h *Host) deliver(m Message) bool {
	if !m.Broadcast() && (m.To != h.cfg.Self || h.cfg.Self == registry.Address{}) {
		return true
	}
	select {
	case h.recv <- m:
		h.stats.delivered.Add(1)
		return true
	case <-h.ctx.Done():
		return false
	}
}
