package p2p

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
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

// Send queues m for delivery and returns at once: a Status goes to every
// connected peer over a direct stream (never gossiped, so that each
// receiver knows its sender); another message with To unset is published
// on the consensus topic; one with To set (an answer to a
// peer) goes only over a direct stream to the peer whose node address To
// is (learned when that peer sent us a message), within that peer's reply rate
// (Config.ReplyRate, ReplyBurst). A message with To set is never
// published: without a route it is dropped (Stats.Unroutable), beyond the
// peer's rate or queue too (Stats.ReplyDropped). A Status goes out with
// From set to this host's node address (NodeAddress), the only sender
// peers accept for it. If Send's queue is full, m is dropped (the engine
// rebroadcasts its own messages) and counted in Stats.Dropped. Answers
// have a queue of their own, and the node's own messages go first.
func (h *Host) Send(m Message) {
	if h.ctx.Err() != nil {
		return
	}
	if m.Status != nil {
		m.From = h.addr
	}
	q := h.outbox
	if m.Status == nil && !m.Broadcast() {
		q = h.answers // an answer to a peer: its own queue
	}
	select {
	case q <- m:
	default:
		h.stats.dropped.Add(1)
		h.log.Warn("consensus send queue full; message dropped", "height", m.Height(), "answer", q == h.answers)
	}
}

// Receive returns the channel of consensus messages from peers that
// passed validation: never our own, and, if they have To set, only those
// addressed to Config.Self or to NodeAddress. It is closed by Close.
func (h *Host) Receive() <-chan Message { return h.recv }

// NodeAddress returns the address that names this host in the From of
// its Status messages: registry.AddressOf of its network public key.
// Peers accept a Status only if its From is the node address of the peer
// it came from, and answer it there.
func (h *Host) NodeAddress() registry.Address { return h.addr }

// sendLoop owns the routes and the reply state, and carries out Send's
// queue.
func (h *Host) sendLoop() {
	routes := newRouteTable(maxRoutes, func(p peer.ID) bool {
		return h.host.Network().Connectedness(p) == network.Connected
	})
	apply := func(r route) {
		if r.drop {
			routes.drop(r.addr, r.p)
		} else if n := routes.learn(r.addr, r.p); n > 0 {
			h.stats.routesEvicted.Add(uint64(n))
		}
		h.stats.routes.Store(uint64(routes.len()))
	}
	rs := &replies{
		peers:        make(map[peer.ID]*replyPeer),
		maxPeers:     h.cfg.maxReplyPeers,
		rate:         float64(h.cfg.ReplyRate),
		burst:        float64(h.cfg.ReplyBurst),
		maxQueueMsgs: h.cfg.QueueSize,
	}
	statusSlots := make(chan struct{}, maxStatusInFlight)
	var statusBusy sync.Map // peers with a Status send in flight
	// handle carries out one message; it reports false once the host is
	// closing.
	handle := func(m Message) bool {
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
			return true
		}
		if m.Status != nil {
			h.sendStatus(raw, statusSlots, &statusBusy)
			return true
		}
		if m.Broadcast() {
			h.publish(raw)
			return true
		}
		p, ok := routes.lookup(m.To)
		if !ok {
			h.stats.unroutable.Add(1)
			h.log.Debug("direct message dropped: no route", "to", m.To)
			return true
		}
		return h.queueReply(rs, p, m.To, raw)
	}
	for {
		// The node's own messages first: answers to peers wait while it
		// has its own to send, and have a queue of their own, so that
		// answers cannot crowd out its votes.
		select {
		case m := <-h.outbox:
			if !handle(m) {
				return
			}
			continue
		default:
		}
		select {
		case <-h.ctx.Done():
			return
		case r := <-h.learn:
			apply(r)
		case p := <-h.gone:
			routes.gone(p)
			h.stats.routes.Store(uint64(routes.len()))
		case c := <-h.cuts:
			removed, n, b := rs.cut(c.p, c.r)
			h.stats.replyDropped.Add(uint64(n))
			h.stats.replyDroppedBytes.Add(uint64(b))
			if removed {
				h.stats.replyCut.Add(1)
			}
			h.stats.replyPeers.Store(uint64(len(rs.peers)))
		case m := <-h.outbox:
			if !handle(m) {
				return
			}
		case m := <-h.answers:
			if !handle(m) {
				return
			}
		}
	}
}

// Status sends: at most one in flight per peer, each cut after
// statusTimeout, and maxStatusInFlight in all; a peer skipped misses this
// Status and gets the next (the engine sends one every period). A peer
// that accepts the stream and never acknowledges holds only its own slot,
// for statusTimeout, so stalling peers cannot keep this node's Status
// from the others.
const (
	maxStatusInFlight = 256
	statusTimeout     = 2 * time.Second
)

// sendStatus sends an encoded Status to every connected peer, each over
// its own direct stream, so that the receiver knows which peer it came
// from (see judgeStatus) and nothing relays it.
func (h *Host) sendStatus(raw []byte, slots chan struct{}, busy *sync.Map) {
	for _, p := range h.host.Network().Peers() {
		if _, inFlight := busy.LoadOrStore(p, true); inFlight {
			h.stats.statusSkipped.Add(1)
			continue
		}
		select {
		case slots <- struct{}{}:
		default:
			busy.Delete(p)
			h.stats.statusSkipped.Add(1)
			continue
		}
		if !h.spawn(func() {
			ctx, cancel := context.WithTimeout(h.ctx, min(statusTimeout, h.cfg.RequestTimeout))
			err := h.sendDirect(ctx, p, raw)
			cancel()
			// Free the peer's turn before counting: once StatusSent moves,
			// the next Status to this peer is not skipped.
			<-slots
			busy.Delete(p)
			if err != nil {
				h.log.Debug("status not sent", "peer", p, "err", err)
				return
			}
			h.stats.statusSent.Add(1)
		}) {
			return
		}
	}
}

// queueReply queues raw for peer p if p's bucket and queue admit it,
// starting p's sender if none runs; it reports false once the host is
// closing.
func (h *Host) queueReply(rs *replies, p peer.ID, to registry.Address, raw []byte) bool {
	now := h.cfg.Now()
	r, evicted := rs.get(p, now)
	if evicted {
		h.stats.replyEvicted.Add(1)
	}
	h.stats.replyPeers.Store(uint64(len(rs.peers)))
	if r == nil || len(raw) > h.cfg.MaxMessageBytes || !r.admit(now, len(raw), rs.rate, rs.burst) {
		h.stats.replyDropped.Add(1)
		h.stats.replyDroppedBytes.Add(uint64(len(raw)))
		return true
	}
	queued, start := r.push(raw, h.cfg.ReplyBurst, rs.maxQueueMsgs)
	if !queued {
		h.stats.replyDropped.Add(1)
		h.stats.replyDroppedBytes.Add(uint64(len(raw)))
		return true
	}
	if !start {
		return true
	}
	h.stats.replyStreams.Add(1)
	ok := h.spawn(func() {
		defer h.stats.replyStreams.Add(^uint64(0))
		for {
			raw, ok := r.pop()
			if !ok {
				return
			}
			err := h.sendDirect(h.ctx, p, raw)
			if err == nil {
				h.stats.directSent.Add(1)
				h.stats.directSentBytes.Add(uint64(len(raw)))
				continue
			}
			if h.ctx.Err() != nil {
				return
			}
			// The rest of its queue would wait for the same fate: a peer
			// that does not take its answers holds no memory for them.
			n, b := r.clear()
			h.stats.replyDropped.Add(uint64(1 + n))
			h.stats.replyDroppedBytes.Add(uint64(len(raw) + b))
			h.forget(to, p)
			h.log.Debug("direct send failed; its queue dropped", "peer", p, "to", to, "queued", n, "err", err)
			if isTimeout(err) {
				// A peer that holds its stream past the timeout is cut:
				// its state goes too, so that it holds no place in the
				// table that it does not use.
				select {
				case h.cuts <- cut{p: p, r: r}:
				case <-h.ctx.Done():
					return
				}
			}
		}
	})
	if !ok {
		h.stats.replyStreams.Add(^uint64(0))
	}
	return ok
}

// isTimeout reports whether err is a stream or context deadline passing.
func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
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

// forget drops the route of addr if it still points at p.
func (h *Host) forget(addr registry.Address, p peer.ID) {
	select {
	case h.learn <- route{addr: addr, p: p, drop: true}:
	default:
	}
}

// learnRoute records that peer p, which sent us a message directly, is
// authenticated as node address addr. Routes are refreshed by every
// message, so one lost to a full queue does not matter.
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
	return nil
}

// handleDirect receives one direct message, judges it as a gossiped one
// and delivers it if it is addressed to us.
func (h *Host) handleDirect(s network.Stream) {
	defer s.Close()
	from := s.Conn().RemotePeer()
	// A sender that trickles its message holds a goroutine and a buffer:
	// no longer than a request may take.
	s.SetReadDeadline(time.Now().Add(h.cfg.RequestTimeout))
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
	} else if m.Status != nil {
		o, err := h.judgeStatus(m, from)
		res = h.verdict(string(h.protoDirect), from, o, err)
	} else {
		o, err := h.judge(m)
		res = h.verdict(string(h.protoDirect), from, o, err)
	}
	if res == pubsub.ValidationAccept {
		ack = ackAccepted
		m = h.bindSender(m, from, true)
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
	firstHop := peer.ID(env.origin) == from
	var o Outcome
	if env.msg.Status != nil {
		if !firstHop {
			// A relayed Status cannot be bound to its sender, and
			// answers go only to the peer a Status came from.
			o, err = Ignored, fmt.Errorf("%w: status relayed by %s", ErrUnboundStatus, from)
		} else {
			o, err = h.judgeStatus(env.msg, from)
		}
	} else {
		o, err = h.judge(env.msg)
	}
	res := h.verdict(topic, from, o, err)
	if res == pubsub.ValidationAccept {
		// Learn the route only from the first hop: the publisher
		// names itself in the envelope, and relays do not change it.
		msg.ValidatorData = h.bindSender(env.msg, from, firstHop)
	}
	return res
}

// bindSender makes an accepted message's From name the peer p it came
// from, and learns the route there: the engine answers From (with decided
// blocks, proposals, votes), and must not be made to answer anybody but
// the peer that asked. From becomes p's node address (the address p is
// authenticated as by the connection: peerAddress), which is what a
// Status already carries (judgeStatus). A vote or proposal keeps its
// signer as From only when that is p's node address, i.e. when the
// validator's network key is its validator key; otherwise a peer could
// replay a validator's signed message and draw the validator's answers.
// A relayed message (not the first hop) gets no From, and so no answer.
func (h *Host) bindSender(m Message, p peer.ID, direct bool) Message {
	a, ok := h.peerAddress(p)
	if !direct || !ok {
		m.From = registry.Address{}
		return m
	}
	m.From = a
	h.learnRoute(a, p)
	return m
}

// judgeStatus checks that a Status's From is the node address of p, the
// peer it came from directly. A Status claiming any other sender (another
// validator's address, say) is a spoof: rejected and counted in
// Stats.Spoofed, so that nobody can make a node answer a third party.
func (h *Host) judgeStatus(m Message, p peer.ID) (Outcome, error) {
	if a, ok := h.peerAddress(p); !ok || a != m.From {
		h.stats.spoofed.Add(1)
		return Rejected, fmt.Errorf("%w: status from %s claims %s", ErrSpoofedStatus, p, m.From)
	}
	return Accepted, nil
}

// peerAddress returns the node address of peer p: registry.AddressOf of
// its network public key (from the handshake, kept in the peerstore, or
// embedded in an Ed25519 peer ID).
func (h *Host) peerAddress(p peer.ID) (registry.Address, bool) {
	pub := h.host.Peerstore().PubKey(p)
	if pub == nil {
		var err error
		if pub, err = p.ExtractPublicKey(); err != nil {
			return registry.Address{}, false
		}
	}
	return nodeAddress(pub)
}

// nodeAddress returns registry.AddressOf of a network public key's raw
// bytes.
func nodeAddress(pub crypto.PubKey) (registry.Address, bool) {
	raw, err := pub.Raw()
	if err != nil {
		return registry.Address{}, false
	}
	return registry.AddressOf(raw), true
}

// judge checks a decoded message against the chain: its height is not
// stale, its validator set is known, and it is signed by a validator of
// that set (votes and proposals, whose From must be their signer) or
// carries a commit by more than two thirds of it (decided blocks).
func (h *Host) judge(m Message) (Outcome, error) {
	height := m.Height()
	if m.Status != nil {
		// A Status is judged with the peer it came from (judgeStatus).
		return Rejected, fmt.Errorf("%w: status without its peer", ErrUnboundStatus)
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
		// counts. Routes are learned only for the sending peer's own
		// node address (bindSender).
		v := m.Vote
		val, ok := vs.ByAddress(v.Validator)
		if !ok {
			return Rejected, fmt.Errorf("%w: %s at height %d", consensus.ErrNotValidator, v.Validator, height)
		}
		if err := v.VerifyWith(h.verify, chainID, val); err != nil {
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
		if !h.verify(val.PubKey, p.SignBytes(chainID), p.Signature) {
			return Rejected, fmt.Errorf("%w: proposal by %s at %d/%d", consensus.ErrBadSignature, p.Proposer, p.Height, p.Round)
		}
	case m.Decided != nil:
		d := m.Decided
		if d.Block.Header.ChainID != chainID {
			return Rejected, fmt.Errorf("%w: block of chain %q", ErrWrongChain, d.Block.Header.ChainID)
		}
		if err := consensus.VerifyCommitWith(h.verify, chainID, vs, height, d.Block.ID(), d.Commit); err != nil {
			return Rejected, fmt.Errorf("%w: %w", registry.ErrInvalidBlock, err)
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
		// Taken from our own messages too, which gossipsub caches alike.
		m, ok := takeValidated[Message](msg)
		if !ok || msg.ReceivedFrom == h.self || msg.Local {
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
	if !m.Broadcast() && m.To != h.addr && (m.To != h.cfg.Self || h.cfg.Self == registry.Address{}) {
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
