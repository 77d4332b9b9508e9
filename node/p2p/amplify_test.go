package p2p_test

import (
	"crypto/ed25519"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
)

// fakeClock is an injected clock that moves only when told.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) Now() time.Time          { return time.Unix(1_750_000_000, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// answerStatuses makes h answer every Status it receives with reply, sent
// To the Status's From, as the engine answers a peer; it returns the
// count of Statuses received.
func answerStatuses(h testNode, reply p2p.Message) *atomic.Int64 {
	var n atomic.Int64
	go func() {
		for m := range h.Receive() {
			if m.Status != nil {
				n.Add(1)
				r := reply
				r.To = m.From
				h.Send(r)
			}
		}
	}()
	return &n
}

// waitUntil polls cond until it holds, failing the test after failsafe.
func waitUntil(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(failsafe)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// askStatus sends a Status at height from client once acked of its
// Statuses were acknowledged (Stats.StatusSent; a Status goes to every
// connected peer): with one still in flight to the server the new one
// would be skipped (one in flight per peer; the answer to the last may
// arrive before its acknowledgement), and its answer never come.
func askStatus(tb testing.TB, client testNode, acked, height uint64) {
	tb.Helper()
	waitUntil(tb, "the earlier Statuses acknowledged", func() bool { return client.Stats().StatusSent == acked })
	client.Send(p2p.Message{Status: &consensus.Status{Height: height}})
}

func signCommit(k ed25519.PrivateKey, id registry.Hash) []byte {
	return ed25519.Sign(k, registry.VoteSignBytes(testChainID, 1, 0, id))
}

func decidedFirst() p2p.Message {
	blk, commit := firstBlock(validatorKeys...)
	return p2p.Message{Decided: &p2p.Decided{Block: blk, Commit: commit}}
}

// TestStatusSpoofRefused: a peer that sends a Status claiming another
// validator's address, on gossip or on a direct stream, gets nothing: the
// node refuses it (counted in Stats.Spoofed), never delivers it to its
// engine, sends and publishes nothing; the same peer's honest Status is
// answered, to it alone, over a direct stream.
func TestStatusSpoofRefused(t *testing.T) {
	nodes := MustHosts(t, newTestChain(t, validatorKeys...), 3, nil)
	server, attacker, victim := nodes[0], nodes[1], nodes[2]
	statuses := answerStatuses(server, decidedFirst())

	spoof := p2p.Message{From: addrOf(victim.key), Status: &consensus.Status{Height: 1}}
	// Two on gossip (more would graylist the attacker at the server, and
	// its honest Status below would not arrive), two on direct streams.
	for range 2 {
		if err := attacker.PublishAsIs(spoof); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := attacker.SendDirectAsIs(t.Context(), server.ID(), spoof); err == nil {
			t.Fatal("a spoofed Status on a direct stream was acknowledged")
		}
	}
	// The victim's node address is no better a disguise.
	spoof.From = victim.NodeAddress()
	if err := attacker.SendDirectAsIs(t.Context(), server.ID(), spoof); err == nil {
		t.Fatal("a Status claiming the victim's node address was acknowledged")
	}
	waitUntil(t, "five spoofs counted", func() bool { return server.Stats().Spoofed == 5 })
	for i := 0; i < 5; i++ {
		v := server.verdicts.nextRefusal(t)
		if v.Outcome != p2p.Rejected || !errors.Is(v.Err, p2p.ErrSpoofedStatus) || v.Peer != attacker.ID() {
			t.Fatalf("verdict on a spoof: %+v", v)
		}
	}

	// The attacker's honest Status (Send names it by its node address)
	// is answered, on a direct stream, to the attacker only.
	attacker.Send(p2p.Message{From: addrOf(victim.key), Status: &consensus.Status{Height: 1}})
	got := mustReceive(t, attacker.Receive())
	if got.Decided == nil || got.To != attacker.NodeAddress() {
		t.Fatalf("attacker received %+v, want the decided block addressed to its node", got)
	}
	if n := statuses.Load(); n != 1 {
		t.Fatalf("the server's engine got %d statuses, want only the honest one", n)
	}
	waitUntil(t, "the answer acknowledged", func() bool { return server.Stats().DirectSent == 1 })
	if s := server.Stats(); s.Published != 0 || s.DirectSent != 1 || s.Spoofed != 5 {
		t.Fatalf("server stats %+v: want nothing published, one direct answer, five spoofs", s)
	}
	// Nothing reached the victim but gossiped Statuses.
	for {
		select {
		case m := <-victim.Receive():
			if m.Status == nil {
				t.Fatalf("victim received %+v", m)
			}
			continue
		default:
		}
		break
	}
}

// TestReplyRateLimit: a peer flooding Status gets at most the reply
// bucket's bytes of answers while the (injected) clock stands still, and
// at most the rate's bytes more per second of clock; the rest is dropped
// and counted, not queued.
func TestReplyRateLimit(t *testing.T) {
	const maxMsg = 4096
	var clock fakeClock
	nodes := MustHosts(t, newTestChain(t, validatorKeys...), 2, func(i int, c *p2p.Config) {
		if i == 0 {
			c.MaxMessageBytes = maxMsg
			c.Now = clock.Now
		}
	})
	server, client := nodes[0], nodes[1]
	reply := decidedFirst()
	reply.To = client.NodeAddress()
	raw, err := p2p.EncodeMessage(reply)
	if err != nil {
		t.Fatal(err)
	}
	size := len(raw)
	rate := p2p.MinReplyRate(maxMsg) // the default: burst = rate = 8 KiB
	statuses := answerStatuses(server, decidedFirst())

	sent := 0
	flood := func(n int) {
		sent += n
		total := sent
		for range n {
			// Each Status as Send sends it, one after the other.
			st := p2p.Message{From: client.NodeAddress(), Status: &consensus.Status{Height: 1}}
			if err := client.SendDirectAsIs(t.Context(), server.ID(), st); err != nil {
				t.Fatal(err)
			}
		}
		waitUntil(t, "the flood answered or dropped", func() bool {
			s := server.Stats()
			return statuses.Load() == int64(total) && int(s.DirectSent+s.ReplyDropped) == total
		})
		waitUntil(t, "the answers delivered", func() bool { return client.Stats().Delivered == server.Stats().DirectSent })
	}
	// While the clock stands still: one bucket's worth.
	flood(100)
	perBucket := rate / size
	if s := server.Stats(); int(s.DirectSent) != perBucket || s.ReplyDropped != uint64(100-perBucket) || s.ReplyDroppedBytes != uint64((100-perBucket)*size) {
		t.Fatalf("after a flood at a standing clock: %+v, want %d answers of %d bytes (%d bytes per second)", s, perBucket, size, rate)
	}
	// One second later: at most one second's worth more.
	clock.Advance(time.Second)
	flood(100)
	s := server.Stats()
	if got := int(s.DirectSent) * size; got > 2*rate || int(s.DirectSent) != 2*perBucket {
		t.Fatalf("after one second: %d bytes in %d answers, want at most %d", got, s.DirectSent, 2*rate)
	}
	if s.Published != 0 {
		t.Fatalf("the server published %d messages; answers go to their peer only", s.Published)
	}
}

// TestReplyRateKeepsSync: the reply rate is at least two maximal blocks a
// second, so a node behind by many blocks that asks for one every half
// second (of the server's injected clock) gets every one: catch-up never
// stalls. Asking faster than the rate is what gets dropped.
func TestReplyRateKeepsSync(t *testing.T) {
	const (
		maxMsg   = 256 << 10
		maxBlock = 200 << 10 // the chain's max_block_bytes: a block and its commit fit a message
		behind   = 20
	)
	var clock fakeClock
	nodes := MustHosts(t, newTestChain(t, validatorKeys...), 2, func(i int, c *p2p.Config) {
		if i == 0 {
			c.MaxMessageBytes = maxMsg
			c.Now = clock.Now
		}
	})
	server, client := nodes[0], nodes[1]
	blk := p2p.FullBlock(t, testChainID, 1, nil, 0, 0, maxBlock)
	id := blk.ID()
	commit := &registry.Commit{Height: 1, BlockID: id}
	for _, k := range validatorKeys {
		commit.Signatures = append(commit.Signatures, registry.CommitSig{Validator: addrOf(k), Signature: signCommit(k, id)})
	}
	answerStatuses(server, p2p.Message{Decided: &p2p.Decided{Block: blk, Commit: commit}})
	if p2p.MinReplyRate(maxMsg) < 2*maxBlock {
		t.Fatalf("reply rate %d below twice the block bound %d", p2p.MinReplyRate(maxMsg), maxBlock)
	}

	for i := range behind {
		askStatus(t, client, uint64(i), 1)
		got := mustReceive(t, client.Receive())
		if got.Decided == nil || got.Decided.Block.ID() != id {
			t.Fatalf("answer %d: %+v", i, got)
		}
		clock.Advance(500 * time.Millisecond)
	}
	waitUntil(t, "the answers acknowledged", func() bool { return server.Stats().DirectSent == behind })
	if s := server.Stats(); s.DirectSent != behind || s.ReplyDropped != 0 {
		t.Fatalf("server stats after catch-up at two blocks a second: %+v, want %d sent, none dropped", s, behind)
	}
}

// TestAnswersOnlyToSender: whatever From a peer puts on a message, the
// engine gets a From its answers reach only that peer by: a vote whose
// From is not its signer arrives with From set to the sending peer's node
// address (on gossip and on a direct stream), so answering it goes back
// to that peer; a message relayed in another publisher's name arrives
// with no From at all, and so gets no answer.
func TestAnswersOnlyToSender(t *testing.T) {
	// Two hosts, so that nothing reaches the server through a relay.
	nodes := MustHosts(t, newTestChain(t, validatorKeys...), 2, nil)
	server, attacker := nodes[0], nodes[1]
	victim := validatorKeys[2]
	victimID, err := p2p.IdentityFromSeed(victim.Seed())
	if err != nil {
		t.Fatal(err)
	}
	victimPeer, err := peer.IDFromPrivateKey(victimID)
	if err != nil {
		t.Fatal(err)
	}

	claim := signedVote(attacker.key, 1, 0)
	claim.From = addrOf(victim)
	if err := attacker.PublishAsIs(claim); err != nil {
		t.Fatal(err)
	}
	if got := mustReceive(t, server.Receive()); got.Vote == nil || got.From != attacker.NodeAddress() {
		t.Fatalf("gossiped vote claiming the victim arrived from %x, want the attacker's node %x", got.From, attacker.NodeAddress())
	}
	claim.Vote.Round = 1
	claim.Vote.Signature = signedVote(attacker.key, 1, 1).Vote.Signature
	if err := attacker.SendDirectAsIs(t.Context(), server.ID(), claim); err != nil {
		t.Fatal(err)
	}
	if got := mustReceive(t, server.Receive()); got.Vote == nil || got.Vote.Round != 1 || got.From != attacker.NodeAddress() {
		t.Fatalf("direct vote claiming the victim arrived as %+v, want From the attacker's node", got)
	}
	// Answering what arrived reaches the attacker, over a direct stream.
	answer := decidedFirst()
	answer.To = attacker.NodeAddress()
	server.Send(answer)
	if got := mustReceive(t, attacker.Receive()); got.Decided == nil {
		t.Fatalf("attacker received %+v", got)
	}

	// A vote published in the victim's name (its peer ID as origin) is
	// delivered without a From: nobody to answer.
	relayed := signedVote(victim, 1, 2)
	if err := attacker.PublishAsRelay(relayed, victimPeer.String()); err != nil {
		t.Fatal(err)
	}
	if got := mustReceive(t, server.Receive()); got.Vote == nil || got.Vote.Round != 2 || got.From != (registry.Address{}) {
		t.Fatalf("relayed vote arrived as %+v, want no From", got)
	}
	waitUntil(t, "the answer acknowledged", func() bool { return server.Stats().DirectSent == 1 })
	if s := server.Stats(); s.Published != 0 || s.Unroutable != 0 {
		t.Fatalf("server stats %+v", s)
	}
}

// TestRouteTakeoverRefused: a peer that replays a validator's real, validly
// signed vote with From set to that validator (on gossip as its first hop,
// and on direct streams, many times) does not take over the validator's
// route: the replays reach the engine From the attacker's own node
// address (or none, if relayed), and answers to the validator still go to the validator's host
// alone. This holds whether the victim's network key is its validator key
// (its votes then arrive From its validator address) or a separate key,
// as nodes have in practice (they then arrive From its node address).
func TestRouteTakeoverRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		adjust func(i int, c *p2p.Config)
	}{
		{"network key is validator key", validatorIdentity(t, 2)},
		{"separate network key", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes := MustHosts(t, newTestChain(t, validatorKeys...), 3, tc.adjust)
			server, attacker, victim := nodes[0], nodes[1], nodes[2]

			// The victim's own vote teaches the server its route. (Sent
			// on direct streams, so that it cannot reach the server
			// relayed first; the attacker gets it too.)
			vote := signedVote(victim.key, 1, 0)
			for _, to := range []testNode{server, attacker} {
				if err := victim.SendDirectAsIs(t.Context(), to.ID(), vote); err != nil {
					t.Fatal(err)
				}
			}
			own := mustReceive(t, server.Receive())
			if own.Vote == nil {
				t.Fatalf("server received %+v", own)
			}
			// The attacker got the same vote, and replays it in the
			// victim's name.
			replay := mustReceive(t, attacker.Receive())
			if replay.Vote == nil || replay.Vote.Validator != addrOf(victim.key) {
				t.Fatalf("attacker received %+v", replay)
			}
			attacker.verdicts.sawDirect() // (consumes the verdicts so far)
			replay.From = addrOf(victim.key)
			const times = 3
			for range times {
				if err := attacker.PublishAsIs(replay); err != nil {
					t.Fatal(err)
				}
				if err := attacker.SendDirectAsIs(t.Context(), server.ID(), replay); err != nil {
					t.Fatal(err)
				}
			}
			var replays []p2p.Message
			for range 2 * times {
				replays = append(replays, mustReceive(t, server.Receive()))
			}

			// Answers to the victim, by the address its vote came From
			// and by its validator address, go to the victim or nowhere.
			for _, to := range []registry.Address{own.From, addrOf(victim.key)} {
				answer := decidedFirst()
				answer.To = to
				server.Send(answer)
			}
			waitUntil(t, "both answers sent or dropped", func() bool {
				s := server.Stats()
				return s.DirectSent+s.Unroutable == 2
			})
			if attacker.verdicts.sawDirect() {
				t.Fatal("the attacker received a direct answer meant for the victim: it took over the route")
			}
			// (The victim also receives the attacker's gossiped replays.)
			got := receiveDecided(t, victim.Receive())
			if got.To != own.From {
				t.Fatalf("victim received %+v, want the answer to %v", got, own.From)
			}
			s := server.Stats()
			wantSent := uint64(1)
			if own.From == addrOf(victim.key) {
				// The same address twice: both reach the victim.
				wantSent = 2
				receiveDecided(t, victim.Receive())
			}
			if s.DirectSent != wantSent || s.Published != 0 {
				t.Fatalf("server stats %+v: want %d answers sent to the victim, nothing published", s, wantSent)
			}
			mustBeEmpty(t, attacker.Receive(), "message at the attacker")
			if own.From != victim.NodeAddress() {
				t.Fatalf("the victim's vote arrived From %v, want its node address %v", own.From, victim.NodeAddress())
			}
			// A gossiped replay may reach the server through the victim
			// first (relayed: no From); never From the victim.
			for i, got := range replays {
				if got.Vote == nil || (got.From != attacker.NodeAddress() && got.From != registry.Address{}) {
					t.Fatalf("replay %d arrived as %+v, want From the attacker's node %v (or none, relayed)", i, got, attacker.NodeAddress())
				}
			}
		})
	}
}

// receiveDecided waits for the next decided block on ch, skipping the
// votes and statuses before it.
func receiveDecided(tb testing.TB, ch <-chan p2p.Message) p2p.Message {
	tb.Helper()
	for {
		m := mustReceive(tb, ch)
		if m.Decided != nil {
			return m
		}
		if m.Vote == nil && m.Status == nil {
			tb.Fatalf("received %+v, want votes or statuses, then a decided block", m)
		}
	}
}
