package p2p_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/snapshot"
)

// memSnapshots serves one snapshot of fixed chunks at height 7 and the
// header of block 1.
type memSnapshots struct {
	chunks [][]byte
	block  *registry.Block
	commit *registry.Commit
	vals   *registry.ValidatorSet
}

func (m *memSnapshots) Offers() []p2p.SnapshotOffer {
	return []p2p.SnapshotOffer{{Height: 7, Chunks: uint32(len(m.chunks)), Format: 1}}
}

func (m *memSnapshots) Chunk(height uint64, index uint32) ([]byte, error) {
	if height != 7 || int(index) >= len(m.chunks) {
		return nil, registry.ErrNotFound
	}
	return m.chunks[index], nil
}

func (m *memSnapshots) HeaderRead(height uint64) (*registry.Header, *registry.Commit, int, error) {
	if height != 1 {
		return nil, nil, 0, registry.ErrNotFound
	}
	return &m.block.Header, m.commit, len(m.block.Header.Encode()), nil
}

func (m *memSnapshots) ValidatorSet(h registry.Hash) (*registry.ValidatorSet, bool) {
	return m.vals, true // the test header names no set
}

func newMemSnapshots(t *testing.T) *memSnapshots {
	b, c := firstBlock(validatorKeys...)
	return &memSnapshots{chunks: [][]byte{[]byte("chunk zero"), make([]byte, 1<<20)}, block: b, commit: c, vals: newTestChain(t, validatorKeys...).vals}
}

// TestSnapshotProtocol: offers, chunks and headers travel as served; a
// chunk or header the server does not hold is a peer error, not a hang;
// the served chunks are counted.
func TestSnapshotProtocol(t *testing.T) {
	src := newMemSnapshots(t)
	nodes := MustHosts(t, newTestChain(t, validatorKeys...), 2, func(i int, c *p2p.Config) {
		if i == 0 {
			c.Snapshots = src
		}
	})
	server, client := nodes[0], nodes[1]
	ctx := t.Context()
	offers := client.SnapshotOffers(ctx)
	if len(offers) != 1 || offers[0].Peer != server.ID() || len(offers[0].Offers) != 1 || offers[0].Offers[0].Height != 7 || offers[0].Offers[0].Chunks != 2 {
		t.Fatalf("offers %+v", offers)
	}
	for i, want := range src.chunks {
		got, err := client.FetchSnapshotChunk(ctx, server.ID(), 7, uint32(i))
		if err != nil || string(got) != string(want) {
			t.Fatalf("chunk %d: %d bytes, %v", i, len(got), err)
		}
	}
	if _, err := client.FetchSnapshotChunk(ctx, server.ID(), 7, 2); !errors.Is(err, p2p.ErrRemote) {
		t.Fatalf("chunk beyond the end: %v", err)
	}
	if _, err := client.FetchSnapshotChunk(ctx, server.ID(), 6, 0); !errors.Is(err, p2p.ErrRemote) {
		t.Fatalf("chunk of a height not held: %v", err)
	}
	b, err := client.FetchHeaders(ctx, server.ID(), 1, 100)
	if err != nil || len(b.Headers) != 1 || b.Headers[0].Header.ID() != src.block.ID() || b.Headers[0].Validators == nil || b.Next == nil {
		t.Fatalf("headers %+v, %v", b, err)
	}
	if _, err := client.FetchHeaders(ctx, server.ID(), 2, 3); !errors.Is(err, p2p.ErrRemote) {
		t.Fatalf("headers beyond the tip: %v", err)
	}
	if got := server.Stats().SnapshotChunksServed; got != 2 {
		t.Fatalf("served %d chunks", got)
	}
	// A host without snapshots does not speak the protocol.
	if _, err := server.SnapshotOffersOf(ctx, client.ID()); err == nil {
		t.Fatal("offers from a host that serves none")
	}
}

// TestSnapshotRequestRate: a peer that asks more often than
// SnapshotRate, beyond SnapshotBurst, is answered with ErrRateLimited
// (counted), until its bucket refills.
func TestSnapshotRequestRate(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Unix(1_800_000_000, 0).UnixNano())
	nodes := MustHosts(t, newTestChain(t, validatorKeys...), 2, func(i int, c *p2p.Config) {
		if i == 0 {
			c.Snapshots = newMemSnapshots(t)
			c.SnapshotRate, c.SnapshotBurst = 1, 3
			c.Now = func() time.Time { return time.Unix(0, now.Load()) }
		}
	})
	server, client := nodes[0], nodes[1]
	for i := range 3 {
		if _, err := client.FetchSnapshotChunk(t.Context(), server.ID(), 7, 0); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if _, err := client.FetchSnapshotChunk(t.Context(), server.ID(), 7, 0); !errors.Is(err, p2p.ErrRateLimited) {
		t.Fatalf("request over the burst: %v", err)
	}
	if server.Stats().SnapshotDenied != 1 {
		t.Fatalf("denied %d", server.Stats().SnapshotDenied)
	}
	now.Add(int64(time.Second))
	if _, err := client.FetchSnapshotChunk(t.Context(), server.ID(), 7, 0); err != nil {
		t.Fatalf("after a second: %v", err)
	}
}

// TestSnapshotClientBounds: answers from a hostile peer speaking the
// protocol are refused by their size before they are read (a chunk over
// snapshot.MaxChunkBytes, more headers than MaxSyncHeaders), bytes after
// an answer are malformed, and a peer that never answers costs the
// request's deadline, no more.
func TestSnapshotClientBounds(t *testing.T) {
	nodes := MustHosts(t, newTestChain(t, validatorKeys...), 1, func(i int, c *p2p.Config) { c.MaxSyncHeaders = 1 })
	client := nodes[0]
	b, c := firstBlock(validatorKeys...)
	field := func(x []byte) []byte { return append(binary.BigEndian.AppendUint32(nil, uint32(len(x))), x...) }
	header := append(append(append(append([]byte{5}, field(b.Header.Encode())...), field(c.Encode())...), field(nil)...), field(nil)...)
	release := make(chan struct{})
	defer close(release)
	answers := map[string][]byte{
		"oversized chunk":    append([]byte{4}, binary.BigEndian.AppendUint32(nil, snapshot.MaxChunkBytes+1)...),
		"bytes after":        append(append([]byte{4}, field([]byte("x"))...), 9),
		"too many headers":   append(append(header, header...), 0),
		"malformed header":   append(append([]byte{5}, field([]byte("junk"))...), 0),
		"unknown answer tag": {77},
	}
	for name, answer := range append2(answers, "slow") {
		t.Run(name, func(t *testing.T) {
			h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableMetrics())
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			h.SetStreamHandler(protocol.ID("/idmesh/"+testChainID+"/snapshot/1"), func(s network.Stream) {
				var req [2]byte
				io.ReadFull(s, req[:])
				if answer == nil {
					<-release
					s.Reset()
					return
				}
				s.Write(answer)
				s.Close()
			})
			ai := peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}
			mas, _ := peer.AddrInfoToP2pAddrs(&ai)
			if err := client.Connect(t.Context(), mas[0].String()); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
			defer cancel()
			began := time.Now()
			_, cerr := client.FetchSnapshotChunk(ctx, h.ID().String(), 7, 0)
			_, herr := client.FetchHeaders(ctx, h.ID().String(), 1, 5)
			switch name {
			case "oversized chunk":
				if !errors.Is(cerr, p2p.ErrTooLarge) {
					t.Fatalf("chunk: %v", cerr)
				}
			case "too many headers":
				if !errors.Is(herr, p2p.ErrTooLarge) {
					t.Fatalf("headers: %v", herr)
				}
			case "slow":
				if cerr == nil || herr == nil || time.Since(began) > 10*time.Second {
					t.Fatalf("slow peer: %v %v after %s", cerr, herr, time.Since(began))
				}
			default:
				if !errors.Is(cerr, p2p.ErrMalformed) || !errors.Is(herr, p2p.ErrMalformed) {
					t.Fatalf("chunk: %v; headers: %v", cerr, herr)
				}
			}
		})
	}
}

func append2(m map[string][]byte, k string) map[string][]byte {
	m[k] = nil
	return m
}
