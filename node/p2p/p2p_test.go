package p2p_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

var _ node.Transport = (*p2p.Host)(nil)

func TestMessageRoundTrip(t *testing.T) {
	b, c := firstBlock(validatorKeys...)
	k := validatorKeys[0]
	p := &p2p.Proposal{Height: 1, Round: 2, POLRound: consensus.NilRound, Block: b, Proposer: addrOf(k)}
	p.Signature = ed25519.Sign(k, p.SignBytes(testChainID))
	// A decoded block keeps its bytes (registry.Block.Encoding): sent
	// as it is, or with another header, it must carry its own bytes.
	decoded, err := registry.DecodeBlock(b.Encode())
	if err != nil {
		t.Fatal(err)
	}
	changed, err := registry.DecodeBlock(b.Encode())
	if err != nil {
		t.Fatal(err)
	}
	changed.Header.Time = changed.Header.Time.Add(1)
	withBlock := func(blk *registry.Block) *p2p.Proposal { q := *p; q.Block = blk; return &q }
	msgs := map[string]p2p.Message{
		"vote":                        signedVote(k, 7, 3),
		"proposal":                    {From: addrOf(k), Proposal: p},
		"proposal of a decoded block": {From: addrOf(k), Proposal: withBlock(decoded)},
		"proposal of a changed block": {From: addrOf(k), Proposal: withBlock(changed)},
		"decided":                     {From: addrOf(k), To: addrOf(validatorKeys[1]), Decided: &p2p.Decided{Block: b, Commit: c}},
		"decided, a changed block":    {From: addrOf(k), Decided: &p2p.Decided{Block: changed, Commit: c}},
		"status":                      {From: addrOf(k), Status: &consensus.Status{Height: 9, Round: 2, Stuck: true, Has: [2]consensus.RoundHas{{Proposal: true, Prevotes: []byte{5}}, {Precommits: []byte{1, 2}}}}},
	}
	for name, m := range msgs {
		t.Run(name, func(t *testing.T) {
			raw, err := p2p.EncodeMessage(m)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p2p.DecodeMessage(raw)
			if err != nil {
				t.Fatal(err)
			}
			again, err := p2p.EncodeMessage(got)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(raw, again) {
				t.Fatal("re-encoding differs")
			}
			if got.From != m.From || got.To != m.To || got.Height() != m.Height() {
				t.Fatalf("decoded %+v, want %+v", got, m)
			}
			if m.Proposal != nil && got.Proposal.Block.ID() != m.Proposal.Block.ID() {
				t.Fatal("block ID changed")
			}
			if m.Proposal != nil && !bytes.Equal(got.Proposal.Block.Encode(), m.Proposal.Block.Encode()) ||
				m.Decided != nil && !bytes.Equal(got.Decided.Block.Encode(), m.Decided.Block.Encode()) {
				t.Fatal("the message carries other bytes than its block's encoding")
			}
			for i := range raw {
				if _, err := p2p.DecodeMessage(raw[:i]); err == nil {
					t.Fatalf("truncated to %d bytes: decoded", i)
				}
			}
			if _, err := p2p.DecodeMessage(append(raw, 0)); !errors.Is(err, p2p.ErrMalformed) {
				t.Fatalf("trailing byte: %v", err)
			}
		})
	}
	if _, err := p2p.EncodeMessage(p2p.Message{}); err == nil {
		t.Fatal("empty message encoded")
	}
}

// TestConsensusGossip: a correctly signed vote reaches the other hosts;
// votes with a bad signature or from a non-validator are rejected and
// never delivered; a vote relayed by another node is delivered. (Host a's
// network key is its validator key, so its own vote arrives From its
// signer: From names the sending peer's node address.)
func TestConsensusGossip(t *testing.T) {
	chain := newTestChain(t, validatorKeys...)
	nodes := MustHosts(t, chain, 3, validatorIdentity(t, 0))
	a := nodes[0]

	good := signedVote(a.key, 5, 0)
	a.Send(good)
	for _, n := range nodes[1:] {
		got := mustReceive(t, n.Receive())
		// From is the sender's address when the vote came straight from
		// a, and empty when another host's relay arrived first (bindSender:
		// a relayed message has no sender); never anybody else's.
		if got.Vote == nil || !bytes.Equal(got.Vote.Signature, good.Vote.Signature) || got.From != good.From && got.From != (registry.Address{}) {
			t.Fatalf("received %+v", got)
		}
	}

	badSig := signedVote(a.key, 5, 1)
	badSig.Vote.Signature[0] ^= 1
	outsider := signedVote(outsiderKey, 5, 1)
	cases := []struct {
		name string
		m    p2p.Message
		want error
	}{
		{"bad signature", badSig, consensus.ErrBadSignature},
		{"non-validator", outsider, consensus.ErrNotValidator},
	}
	for _, tc := range cases {
		a.Send(tc.m)
		for _, n := range nodes[1:] {
			v := n.verdicts.nextRefusal(t)
			if v.Outcome != p2p.Rejected || !errors.Is(v.Err, tc.want) {
				t.Fatalf("%s: verdict %v (%v), want rejected with %v", tc.name, v.Outcome, v.Err, tc.want)
			}
		}
	}
	// A rejected message is never delivered: the next message from a is
	// a vote by another validator that a relays, and it arrives.
	relayed := signedVote(nodes[1].key, 5, 2)
	relayed.From = addrOf(a.key)
	a.Send(relayed)
	got := mustReceive(t, nodes[2].Receive())
	if got.Vote == nil || got.Vote.Round != 2 || got.Vote.Validator != addrOf(nodes[1].key) {
		t.Fatalf("received %+v, want the relayed round 2 vote", got)
	}
	mustBeEmpty(t, nodes[2].Receive(), "message")
	// The counters are updated by the host's goroutine after it hands a
	// message over: wait for them, within a bound.
	deadline := time.Now().Add(10 * time.Second)
	for s := nodes[2].Stats(); s.Rejected != 2 || s.Delivered != 2; s = nodes[2].Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v", s)
		}
		time.Sleep(time.Millisecond)
	}
	mustBeEmpty(t, a.Receive(), "own message")

	// A stale height is ignored, not rejected.
	chain.height.Store(100)
	a.Send(signedVote(a.key, 5, 3))
	for _, n := range nodes[1:] {
		if v := n.verdicts.nextRefusal(t); v.Outcome != p2p.Ignored || !errors.Is(v.Err, p2p.ErrStale) {
			t.Fatalf("stale vote: %v (%v)", v.Outcome, v.Err)
		}
	}
}

// TestDirect: a message with To goes over a direct stream to the host its
// validator was heard from, and only there; without a route it is
// dropped, never broadcast. (Host b's network key is its validator key,
// so its node address, the only address a route is learned for, is its
// validator address.)
func TestDirect(t *testing.T) {
	chain := newTestChain(t, validatorKeys...)
	nodes := MustHosts(t, chain, 3, validatorIdentity(t, 1))
	a, b, c := nodes[0], nodes[1], nodes[2]

	// a learns that b's validator is at host b.
	b.Send(signedVote(b.key, 1, 0))
	mustReceive(t, a.Receive())
	mustReceive(t, c.Receive())

	blk, commit := firstBlock(validatorKeys...)
	direct := p2p.Message{From: addrOf(a.key), To: addrOf(b.key), Decided: &p2p.Decided{Block: blk, Commit: commit}}
	a.Send(direct)
	got := mustReceive(t, b.Receive())
	if got.Decided == nil || got.Decided.Block.ID() != blk.ID() || got.To != direct.To {
		t.Fatalf("b received %+v", got)
	}
	// It came over the direct stream and was never broadcast, so c
	// cannot have seen it.
	if s := a.Stats(); s.Fallbacks != 0 || s.Published != 0 {
		t.Fatalf("a's stats after a direct send: %+v", s)
	}
	if !b.verdicts.sawDirect() {
		t.Fatal("b accepted no direct message")
	}

	// No route to c's validator: dropped and counted, never broadcast
	// (issue 11: answers go only to their peer). Neither b nor c
	// delivers it: the next message each delivers is a's following
	// broadcast.
	toC := direct
	toC.To = addrOf(c.key)
	a.Send(toC)
	marker := signedVote(a.key, 1, 1)
	a.Send(marker)
	for _, n := range []testNode{b, c} {
		if got := mustReceive(t, n.Receive()); got.Vote == nil || got.Vote.Round != 1 {
			t.Fatalf("received %+v, want the marker vote", got)
		}
	}
	// (The counters move after the sends return, which may be after the
	// receivers delivered; answers and own messages have separate
	// queues, so the marker may even go out first.)
	waitUntil(t, "the unroutable message counted and the marker published", func() bool {
		s := a.Stats()
		return s.Unroutable == 1 && s.Published == 1
	})
	if s := a.Stats(); s.Fallbacks != 0 || s.Unroutable != 1 || s.Published != 1 {
		t.Fatalf("a's stats after an unroutable message: %+v", s)
	}

	// A forged commit is rejected on the direct stream too.
	bad := direct
	forged := *commit
	forged.Signatures = append([]registry.CommitSig(nil), commit.Signatures...)
	forged.Signatures[0].Signature = bytes.Repeat([]byte{1}, 64)
	bad.Decided = &p2p.Decided{Block: blk, Commit: &forged}
	a.Send(bad)
	if v := b.verdicts.nextRefusal(t); v.Outcome != p2p.Rejected || !strings.HasSuffix(v.Protocol, "/direct/1") {
		t.Fatalf("forged commit: %+v", v)
	}
}

func TestTxGossip(t *testing.T) {
	nodes := MustHosts(t, newTestChain(t, validatorKeys...), 3, nil)
	ctx := t.Context()
	tx := registrytest.ToyTx("set a 1")
	if err := nodes[0].PublishTx(ctx, tx); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes[1:] {
		select {
		case got := <-n.Txs():
			if got.Hash() != tx.Hash() {
				t.Fatalf("received %x", got.Hash())
			}
		case <-time.After(failsafe):
			t.Fatal("transaction not received")
		}
	}
	// The same transaction again, from anyone, is a duplicate: accepted
	// locally, not sent again.
	if err := nodes[1].PublishTx(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if err := nodes[0].PublishTx(ctx, registry.Tx{Type: 200, Payload: []byte("x")}); err == nil {
		t.Fatal("invalid transaction published")
	}
	tx2 := registrytest.ToyTx("set b 2")
	if err := nodes[2].PublishTx(ctx, tx2); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes[:2] {
		select {
		case got := <-n.Txs():
			if got.Hash() != tx2.Hash() {
				t.Fatalf("received %x, want the second transaction", got.Hash())
			}
		case <-time.After(failsafe):
			t.Fatal("transaction not received")
		}
	}
	mustBeEmpty(t, nodes[2].Txs(), "own transaction")
	// Each batch reached each other host first once; a relay's copy is a
	// duplicate (at most one per host and batch among three hosts).
	for i, want := range []uint64{1, 2, 1} {
		g := nodes[i].Stats().GossipTxs
		if g.Received != want || g.ReceivedBytes == 0 || g.Duplicates > want || g.DuplicateBytes > g.ReceivedBytes {
			t.Errorf("host %d: gossip %+v, want %d received", i, g, want)
		}
	}
}

// blockSource serves a registrytest chain.
type blockSource struct{ c *registrytest.Chain }

func (s blockSource) Block(h uint64) (*registry.Block, error)   { return s.c.Store.Block(h) }
func (s blockSource) Commit(h uint64) (*registry.Commit, error) { return s.c.Store.Commit(h) }
func (s blockSource) Height() uint64                            { return s.c.State().Height }

func TestFetchBlocksAndStatus(t *testing.T) {
	chain, err := registrytest.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	if _, err := chain.Fill(0, 12, 3, nil); err != nil { // blocks 1..4
		t.Fatal(err)
	}
	for range 106 { // blocks 5..110, empty
		if _, err := chain.CommitBlock(nil); err != nil {
			t.Fatal(err)
		}
	}
	const tip = 110
	nodes := MustHosts(t, newTestChain(t, validatorKeys...), 2, func(i int, c *p2p.Config) {
		if i == 0 {
			c.Blocks = blockSource{chain}
		}
	})
	server, client := nodes[0], nodes[1]
	ctx := t.Context()

	st, err := client.Status(ctx, server.ID())
	if err != nil {
		t.Fatal(err)
	}
	last, _ := chain.Store.Block(tip)
	if st.Height != tip || st.LastBlockID != last.ID() || st.Peer != server.ID() {
		t.Fatalf("status %+v", st)
	}
	best, err := client.BestPeer(ctx)
	if err != nil || best != st {
		t.Fatalf("best peer %+v, %v", best, err)
	}
	// The server has no client to ask: the client serves no blocks.
	if _, err := server.BestPeer(ctx); !errors.Is(err, p2p.ErrNoPeers) {
		t.Fatalf("best peer of the server: %v", err)
	}

	// Fetch everything, verifying as a syncing node must.
	vs, err := registrytest.Genesis().ValidatorSet()
	if err != nil {
		t.Fatal(err)
	}
	var got []p2p.Decided
	for from := uint64(1); from <= tip; {
		batch, err := client.FetchBlocks(ctx, server.ID(), from, tip+50)
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 || len(batch) > p2p.DefaultMaxSyncBlocks {
			t.Fatalf("batch from %d: %d blocks", from, len(batch))
		}
		got = append(got, batch...)
		from += uint64(len(batch))
	}
	if len(got) != tip {
		t.Fatalf("fetched %d blocks", len(got))
	}
	if len(got[0].Block.Txs) != 3 {
		t.Fatalf("block 1 has %d transactions", len(got[0].Block.Txs))
	}
	for i, d := range got {
		want, _ := chain.Store.Block(uint64(i + 1))
		if d.Block.ID() != want.ID() {
			t.Fatalf("block %d differs", i+1)
		}
		if err := registry.VerifyCommit(registrytest.ChainID, vs, uint64(i+1), d.Block.ID(), d.Commit); err != nil {
			t.Fatalf("block %d: %v", i+1, err)
		}
	}
	if batch, err := client.FetchBlocks(ctx, server.ID(), tip+1, tip+10); err != nil || len(batch) != 0 {
		t.Fatalf("beyond the tip: %d blocks, %v", len(batch), err)
	}
	if _, err := server.FetchBlocks(ctx, client.ID(), 1, 2); err == nil {
		t.Fatal("fetched from a host without blocks")
	}
}

func TestFetchBlocksByteBound(t *testing.T) {
	chain, err := registrytest.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	if _, err := chain.Fill(0, 6, 2, nil); err != nil { // blocks 1..3
		t.Fatal(err)
	}
	nodes := MustHosts(t, newTestChain(t, validatorKeys...), 2, func(i int, c *p2p.Config) {
		c.Blocks = blockSource{chain}
		c.MaxSyncBytes = 1 // one block per response, whatever its size
	})
	for from := uint64(1); from <= 3; from++ {
		batch, err := nodes[1].FetchBlocks(t.Context(), nodes[0].ID(), from, 3)
		if err != nil || len(batch) != 1 || batch[0].Block.Header.Height != from {
			t.Fatalf("from %d: %d blocks, %v", from, len(batch), err)
		}
	}
}

// TestClose: after Close the host's channels are closed and none of its
// goroutines is left.
func TestClose(t *testing.T) {
	chain := newTestChain(t, validatorKeys...)
	ctx := t.Context()
	a, err := p2p.New(ctx, p2p.Config{ChainID: testChainID, Chain: chain, Blocks: emptySource{}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := p2p.New(ctx, p2p.Config{ChainID: testChainID, Chain: chain, Bootstrap: a.Addrs()})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.WaitPeers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Status(ctx, a.ID()); err != nil {
		t.Fatal(err)
	}
	for _, h := range []*p2p.Host{a, b} {
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
		if err := h.Close(); err != nil {
			t.Fatal("second close:", err)
		}
		if _, ok := <-h.Receive(); ok {
			t.Fatal("receive channel open after close")
		}
		if _, ok := <-h.Txs(); ok {
			t.Fatal("txs channel open after close")
		}
		h.Send(signedVote(validatorKeys[0], 1, 0)) // no panic, no effect
		if err := h.PublishTx(ctx, registrytest.ToyTx("set a 1")); !errors.Is(err, p2p.ErrClosed) {
			t.Fatalf("publish after close: %v", err)
		}
	}
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "idmesh/node/p2p.") {
			t.Errorf("goroutine left after close:\n%s", g)
		}
	}
}

type emptySource struct{}

func (emptySource) Block(uint64) (*registry.Block, error)   { return nil, registry.ErrNotFound }
func (emptySource) Commit(uint64) (*registry.Commit, error) { return nil, registry.ErrNotFound }
func (emptySource) Height() uint64                          { return 0 }

func TestIdentity(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "node_key")
	k1, err := p2p.LoadOrCreateIdentity(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %04o", fi.Mode().Perm())
	}
	k2, err := p2p.LoadOrCreateIdentity(path)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equals(k2) {
		t.Fatal("reloaded key differs")
	}
	h, err := p2p.New(t.Context(), p2p.Config{ChainID: testChainID, Chain: newTestChain(t, validatorKeys...), Identity: k1, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, a := range h.Addrs() {
		if !strings.HasSuffix(a, "/p2p/"+h.ID()) {
			t.Fatalf("address %s lacks /p2p/%s", a, h.ID())
		}
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := p2p.LoadOrCreateIdentity(path); err == nil {
		t.Fatal("loaded a key readable by others")
	}
	s1, err := p2p.IdentityFromSeed(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := p2p.IdentityFromSeed(make([]byte, 32))
	if !s1.Equals(s2) {
		t.Fatal("seeded keys differ")
	}
}

func TestConfigErrors(t *testing.T) {
	chain := newTestChain(t, validatorKeys...)
	for name, cfg := range map[string]p2p.Config{
		"no chain ID":   {Chain: chain},
		"no chain":      {ChainID: testChainID},
		"bad bootstrap": {ChainID: testChainID, Chain: chain, Bootstrap: []string{"/ip4/127.0.0.1/tcp/1"}},
		"bad listen":    {ChainID: testChainID, Chain: chain, ListenAddrs: []string{"nonsense"}},
	} {
		if h, err := p2p.New(t.Context(), cfg); err == nil {
			h.Close()
			t.Errorf("%s: no error", name)
		}
	}
}

// TestMDNS finds a peer by mDNS. It needs multicast on a network
// interface, so it runs only with IDMESH_TEST_MDNS=1.
func TestMDNS(t *testing.T) {
	if os.Getenv("IDMESH_TEST_MDNS") != "1" {
		t.Skip("set IDMESH_TEST_MDNS=1 to run (needs multicast)")
	}
	chain := newTestChain(t, validatorKeys...)
	var hosts []*p2p.Host
	for range 2 {
		h, err := p2p.New(t.Context(), p2p.Config{ChainID: testChainID, Chain: chain, MDNS: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		hosts = append(hosts, h)
	}
	ctx, cancel := context.WithTimeout(t.Context(), failsafe)
	defer cancel()
	if err := hosts[0].WaitPeers(ctx, 1); err != nil {
		t.Fatal(err)
	}
}

// FuzzDecodeMessage: whatever decodes re-encodes to the same bytes.
func FuzzDecodeMessage(f *testing.F) {
	k := validatorKeys[0]
	for _, m := range []p2p.Message{signedVote(k, 7, 3), {From: addrOf(k), Status: &consensus.Status{Height: 9}}} {
		raw, err := p2p.EncodeMessage(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := p2p.DecodeMessage(data)
		if err != nil {
			return
		}
		again, err := p2p.EncodeMessage(m)
		if err != nil {
			t.Fatalf("decoded message does not encode: %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatal("two encodings for one message")
		}
	})
}
