package p2p_test

import (
	"context"
	"crypto/ed25519"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
)

const testChainID = "idmesh-p2p-test"

// failsafe bounds every wait; tests wait on conditions, not time.
const failsafe = 20 * time.Second

// validatorKeys are the test chain's validators; outsiderKey is not one.
var (
	validatorKeys = []ed25519.PrivateKey{keyOf(1), keyOf(2), keyOf(3)}
	outsiderKey   = keyOf(99)
)

func keyOf(i byte) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = i
	return ed25519.NewKeyFromSeed(seed)
}

func addrOf(k ed25519.PrivateKey) registry.Address {
	return registry.AddressOf(k.Public().(ed25519.PublicKey))
}

// testChain is a ChainView whose validator set is the same at every
// height up to 1,000.
type testChain struct {
	vals   *registry.ValidatorSet
	height atomic.Uint64
}

func newTestChain(tb testing.TB, keys ...ed25519.PrivateKey) *testChain {
	tb.Helper()
	var vals []registry.Validator
	for _, k := range keys {
		vals = append(vals, registry.Validator{PubKey: k.Public().(ed25519.PublicKey), Power: 1})
	}
	vs, err := registry.NewValidatorSet(vals)
	if err != nil {
		tb.Fatal(err)
	}
	return &testChain{vals: vs}
}

func (c *testChain) Height() uint64 { return c.height.Load() }

func (c *testChain) Validators(h uint64) (*registry.ValidatorSet, bool) {
	if h == 0 || h > 1000 {
		return nil, false
	}
	return c.vals, true
}

// verdicts collects a host's verdicts.
type verdicts chan p2p.Verdict

func (v verdicts) record(x p2p.Verdict) {
	select {
	case v <- x:
	default:
	}
}

// sawDirect reports whether an accepted direct message is among the
// verdicts recorded so far (consuming them).
func (v verdicts) sawDirect() bool {
	for {
		select {
		case x := <-v:
			if x.Outcome == p2p.Accepted && strings.HasSuffix(x.Protocol, "/direct/1") {
				return true
			}
		default:
			return false
		}
	}
}

// nextRefusal returns the next verdict that is not an acceptance.
func (v verdicts) nextRefusal(tb testing.TB) p2p.Verdict {
	tb.Helper()
	timeout := time.After(failsafe)
	for {
		select {
		case x := <-v:
			if x.Outcome != p2p.Accepted {
				return x
			}
		case <-timeout:
			tb.Fatal("no refusal within the failsafe timeout")
		}
	}
}

// testNode is a test host with its validator key.
type testNode struct {
	*p2p.Host
	key      ed25519.PrivateKey
	verdicts verdicts
}

// MustHosts starts n hosts on loopback, host i bootstrapping from hosts
// 0..i-1, and waits until each has exactly one connection to each other
// host and knows it subscribed to both topics. Host i's validator key is
// validatorKeys[i]. Hosts are closed at cleanup.
//
// The hosts listen on TCP only, so that each pair has one connection:
// a host dialing another over TCP and QUIC at once may keep one
// connection and close the other after the listener accepted it, and
// when gossipsub's stream to the peer was on the closed one, the
// listener loses the link until its link watch cuts and redials it
// (TestLinkLostWhileConnected), seconds later, while a test's message
// is on its way. These tests are about messages, not transports.
func MustHosts(tb testing.TB, chain p2p.ChainView, n int, adjust func(i int, c *p2p.Config)) []testNode {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), failsafe)
	defer cancel()
	nodes := make([]testNode, n)
	var boot []string
	for i := range nodes {
		v := make(verdicts, 1024)
		cfg := p2p.Config{
			ChainID:     testChainID,
			ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
			Bootstrap:   boot,
			Self:        addrOf(validatorKeys[i]),
			Chain:       chain,
			OnVerdict:   v.record,
		}
		if adjust != nil {
			adjust(i, &cfg)
		}
		h, err := p2p.New(ctx, cfg)
		if err != nil {
			tb.Fatalf("host %d: %v", i, err)
		}
		tb.Cleanup(func() {
			if err := h.Close(); err != nil {
				tb.Errorf("close host %d: %v", i, err)
			}
		})
		nodes[i] = testNode{Host: h, key: validatorKeys[i], verdicts: v}
		boot = append(boot, h.Addrs()...)
	}
	for i, nd := range nodes {
		if err := nd.WaitPeers(ctx, n-1); err != nil {
			tb.Fatalf("host %d: %v", i, err)
		}
	}
	for i, a := range nodes {
		for j, b := range nodes {
			for i != j && !a.Linked(b.ID()) {
				if ctx.Err() != nil {
					tb.Fatalf("host %d has no single gossip link to host %d", i, j)
				}
				time.Sleep(time.Millisecond)
			}
		}
	}
	return nodes
}

// validatorIdentity returns an adjust function for MustHosts that gives
// the hosts listed their validator key as their network key: their node
// address is then their validator address, and a vote or proposal they
// send directly keeps its signer as From (and teaches the route to it).
func validatorIdentity(tb testing.TB, hosts ...int) func(i int, c *p2p.Config) {
	return func(i int, c *p2p.Config) {
		for _, h := range hosts {
			if h == i {
				id, err := p2p.IdentityFromSeed(validatorKeys[i].Seed())
				if err != nil {
					tb.Fatal(err)
				}
				c.Identity = id
			}
		}
	}
}

// signedVote returns a prevote by k at height and round, sent From k.
func signedVote(k ed25519.PrivateKey, height uint64, round int32) p2p.Message {
	v := &consensus.Vote{Type: consensus.Prevote, Height: height, Round: round, BlockID: registry.Sum([]byte("block")), Validator: addrOf(k)}
	v.Signature = ed25519.Sign(k, v.SignBytes(testChainID))
	return p2p.Message{From: v.Validator, Vote: v}
}

// mustReceive waits for the next consensus message on ch.
func mustReceive(tb testing.TB, ch <-chan p2p.Message) p2p.Message {
	tb.Helper()
	select {
	case m, ok := <-ch:
		if !ok {
			tb.Fatal("receive channel closed")
		}
		return m
	case <-time.After(failsafe):
		tb.Fatal("no message within the failsafe timeout")
	}
	return p2p.Message{}
}

// mustBeEmpty checks that nothing is waiting on ch.
func mustBeEmpty[T any](tb testing.TB, ch <-chan T, what string) {
	tb.Helper()
	select {
	case m := <-ch:
		tb.Fatalf("unexpected %s: %+v", what, m)
	default:
	}
}

// firstBlock returns a valid first block of the test chain and a commit
// for it by every key.
func firstBlock(keys ...ed25519.PrivateKey) (*registry.Block, *registry.Commit) {
	b := &registry.Block{Header: registry.Header{ChainID: testChainID, Height: 1, Time: time.Unix(1_750_000_000, 0).UTC(), TxRoot: registry.MerkleRoot(nil)}}
	id := b.ID()
	c := &registry.Commit{Height: 1, BlockID: id}
	for _, k := range keys {
		c.Signatures = append(c.Signatures, registry.CommitSig{Validator: addrOf(k), Signature: ed25519.Sign(k, registry.VoteSignBytes(testChainID, 1, 0, id))})
	}
	return b, c
}
