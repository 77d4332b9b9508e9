package p2p

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	libp2pquic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"golang.org/x/sync/errgroup"

	"github.com/idmesh/idmesh/registry"
)

// gossipProtocol is the gossipsub protocol ID, our own, so that raising
// the message size bound cannot make us join the public libp2p
// network's meshes. Every chain uses it; topics and the other protocols
// name the chain.
const gossipProtocol = protocol.ID("/idmesh/meshsub/1.2.0")

// Host is a libp2p host on one chain: it gossips consensus messages and
// transactions, sends direct consensus messages, and serves and fetches
// blocks. It implements node.Transport. Its methods are safe for
// concurrent use.
type Host struct {
	cfg  Config
	host host.Host
	ps   *pubsub.PubSub
	log  *slog.Logger
	self peer.ID
	addr registry.Address // node address: AddressOf our network key

	consensusTopic, txTopic *pubsub.Topic
	consensusSub, txSub     *pubsub.Subscription
	mdns                    mdns.Service

	protoDirect, protoSync, protoStatus protocol.ID
	protoSnapshot                       protocol.ID
	snap                                *snapServer

	bootstrap []peer.AddrInfo
	found     chan peer.AddrInfo // peers found by mDNS, for the maintain loop

	outbox  chan Message     // Send's queue of the node's own messages, for sendLoop
	answers chan Message     // Send's queue of answers to peers (To set)
	learn   chan route       // validator routes, for sendLoop
	gone    chan peer.ID     // disconnected peers, whose routes sendLoop drops
	cuts    chan cut         // peers whose answer stream timed out, for sendLoop
	recv    chan Message     // Receive
	txs     chan registry.Tx // Txs
	batch   *txBatcher
	seq     atomic.Uint64 // consensus envelope sequence
	syncs   chan struct{} // bounds the sync requests served at once

	stats      stats
	gossip     gossipTracer  // per-topic gossip counts (Stats)
	linkChecks atomic.Uint64 // checkLinks runs, for tests

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	once     sync.Once
	closeErr error
}

// route says that peer p, which sent us a message directly, is
// authenticated as node address addr; with drop set it forgets that route
// instead, if it is still the one.
type route struct {
	addr registry.Address
	p    peer.ID
	drop bool
}

// cut asks sendLoop to drop the reply state r of peer p, whose answer
// stream timed out.
type cut struct {
	p peer.ID
	r *replyPeer
}

// New starts a host: it listens, joins the chain's topics, registers the
// stream protocols, starts mDNS if asked, and dials the bootstrap peers
// once, in parallel, each within cfg.DialTimeout; peers that do not answer
// are logged and dialed again later. ctx bounds only this start-up; the
// host runs until Close.
func New(ctx context.Context, cfg Config) (*Host, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	h := &Host{
		cfg:           cfg,
		log:           cfg.Log,
		protoDirect:   protocol.ID("/idmesh/" + cfg.ChainID + "/direct/1"),
		protoSync:     protocol.ID("/idmesh/" + cfg.ChainID + "/sync/1"),
		protoStatus:   protocol.ID("/idmesh/" + cfg.ChainID + "/status/1"),
		protoSnapshot: protocol.ID("/idmesh/" + cfg.ChainID + "/snapshot/1"),
		snap:          newSnapServer(),
		found:         make(chan peer.AddrInfo, 64),
		outbox:        make(chan Message, cfg.QueueSize),
		answers:       make(chan Message, cfg.QueueSize),
		learn:         make(chan route, cfg.QueueSize),
		gone:          make(chan peer.ID, cfg.QueueSize),
		cuts:          make(chan cut, replyStreams),
		recv:          make(chan Message, cfg.QueueSize),
		txs:           make(chan registry.Tx, cfg.QueueSize),
		batch:         newTxBatcher(),
		syncs:         make(chan struct{}, 4),
	}
	for _, a := range cfg.Bootstrap {
		pi, err := peer.AddrInfoFromString(a)
		if err != nil {
			return nil, fmt.Errorf("p2p: bootstrap address %q: %w", a, err)
		}
		h.bootstrap = append(h.bootstrap, *pi)
	}
	var seq [8]byte
	if _, err := rand.Read(seq[:]); err != nil {
		return nil, fmt.Errorf("p2p: sequence: %w", err)
	}
	// A random start keeps a restarted host's envelopes from repeating
	// ones its peers still remember as seen.
	h.seq.Store(binary.BigEndian.Uint64(seq[:]))

	opts := []libp2p.Option{
		libp2p.ListenAddrStrings(cfg.ListenAddrs...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(libp2pquic.NewTransport),
		libp2p.DisableRelay(),
		libp2p.UserAgent("idmesh"),
	}
	if cfg.Registerer != nil {
		opts = append(opts, libp2p.PrometheusRegisterer(cfg.Registerer))
	} else {
		opts = append(opts, libp2p.DisableMetrics())
	}
	if cfg.Identity != nil {
		opts = append(opts, libp2p.Identity(cfg.Identity))
	}
	lh, err := libp2p.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("p2p: start libp2p: %w", err)
	}
	h.host, h.self = lh, lh.ID()
	addr, ok := nodeAddress(lh.Peerstore().PubKey(lh.ID()))
	if !ok {
		lh.Close()
		return nil, errors.New("p2p: network key has no raw public key")
	}
	h.addr = addr
	h.ctx, h.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if err := h.start(ctx); err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}

// start joins the topics, registers the handlers and starts the loops.
func (h *Host) start(ctx context.Context) error {
	cfg := &h.cfg
	// A peer that leaves takes its routes with it (sendLoop).
	h.host.Network().Notify(&network.NotifyBundle{DisconnectedF: func(n network.Network, c network.Conn) {
		if n.Connectedness(c.RemotePeer()) != network.Connected {
			select {
			case h.gone <- c.RemotePeer():
			default: // a send to it fails and drops the route anyway
			}
		}
	}})
	topicPrefix := "/idmesh/" + cfg.ChainID
	consensusTopic, txTopic := topicPrefix+"/consensus/1", topicPrefix+"/txs/1"
	h.gossip = gossipTracer{consensus: consensusTopic, txs: txTopic}
	ps, err := pubsub.NewGossipSub(h.ctx, h.host,
		pubsub.WithGossipSubProtocols([]protocol.ID{gossipProtocol}, func(f pubsub.GossipSubFeature, p protocol.ID) bool {
			return p == gossipProtocol && (f == pubsub.GossipSubFeatureMesh || f == pubsub.GossipSubFeaturePX || f == pubsub.GossipSubFeatureIdontwant)
		}),
		// Our own messages go to every subscribed peer, not only to our
		// mesh: one hop to each connected validator, and publishing
		// works before the mesh forms (the first heartbeat).
		pubsub.WithFloodPublish(true),
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(messageID),
		pubsub.WithMaxMessageSize(cfg.MaxMessageBytes+64<<10),
		pubsub.WithPeerOutboundQueueSize(cfg.QueueSize),
		pubsub.WithValidateQueueSize(cfg.QueueSize),
		pubsub.WithPeerScore(scoreParams(consensusTopic, txTopic)),
		pubsub.WithLogger(h.log.With("component", "gossipsub")),
		pubsub.WithRawTracer(&h.gossip),
	)
	if err != nil {
		return fmt.Errorf("p2p: start gossipsub: %w", err)
	}
	h.ps = ps
	if h.consensusTopic, h.consensusSub, err = h.join(consensusTopic, h.validateConsensus); err != nil {
		return err
	}
	if h.txTopic, h.txSub, err = h.join(txTopic, h.validateTx); err != nil {
		return err
	}

	h.host.SetStreamHandler(h.protoDirect, h.handler(h.handleDirect))
	if cfg.Blocks != nil {
		h.host.SetStreamHandler(h.protoSync, h.handler(h.handleSync))
		h.host.SetStreamHandler(h.protoStatus, h.handler(h.handleStatus))
	}
	if cfg.Snapshots != nil {
		h.host.SetStreamHandler(h.protoSnapshot, h.handler(h.handleSnapshot))
	}

	h.spawn(h.sendLoop)
	h.spawn(h.readConsensus)
	h.spawn(h.readTxs)
	h.spawn(h.batchLoop)

	if cfg.MDNS {
		sum := sha256.Sum256([]byte(cfg.ChainID))
		name := "_idmesh-" + hex.EncodeToString(sum[:3]) + "._udp"
		h.mdns = mdns.NewMdnsService(h.host, name, notifee{h})
		if err := h.mdns.Start(); err != nil {
			return fmt.Errorf("p2p: start mDNS: %w", err)
		}
	}

	// Dial the bootstrap peers once now, then keep them connected.
	g, gctx := errgroup.WithContext(ctx)
	for _, pi := range h.bootstrap {
		h.host.ConnManager().Protect(pi.ID, "idmesh-bootstrap")
		g.Go(func() error {
			h.dial(gctx, pi)
			return nil
		})
	}
	g.Wait()
	h.spawn(h.maintain)
	return nil
}

// join joins a topic with its validator and subscribes to it.
func (h *Host) join(name string, v pubsub.ValidatorEx) (*pubsub.Topic, *pubsub.Subscription, error) {
	if err := h.ps.RegisterTopicValidator(name, v, pubsub.WithValidatorInline(true)); err != nil {
		return nil, nil, fmt.Errorf("p2p: register validator of %s: %w", name, err)
	}
	t, err := h.ps.Join(name)
	if err != nil {
		return nil, nil, fmt.Errorf("p2p: join %s: %w", name, err)
	}
	s, err := t.Subscribe(pubsub.WithBufferSize(h.cfg.QueueSize))
	if err != nil {
		return nil, nil, fmt.Errorf("p2p: subscribe to %s: %w", name, err)
	}
	return t, s, nil
}

// messageID names a gossip message by SHA-256 of its data, so the same
// data reaching a host twice is dropped as a duplicate: a transaction
// submitted at several nodes travels once (its ID is its hash), and
// consensus envelopes differ per publication (see envelope).
func messageID(m *pubsubpb.Message) string {
	s := sha256.Sum256(m.Data)
	return string(s[:])
}

// scoreParams enables gossipsub's peer scoring with one component: each
// message a peer forwards that our validator rejects costs it 100 times
// the square of its (decaying) count of such messages. Three rejections
// stop our gossip to it, four our publishing to it, five graylist it. No
// positive scores, and no IP colocation penalty (validators may share a
// host; tests run on loopback).
func scoreParams(topics ...string) (*pubsub.PeerScoreParams, *pubsub.PeerScoreThresholds) {
	p := &pubsub.PeerScoreParams{
		Topics:           make(map[string]*pubsub.TopicScoreParams),
		AppSpecificScore: func(peer.ID) float64 { return 0 },
		DecayInterval:    time.Second,
		DecayToZero:      0.01,
		RetainScore:      10 * time.Minute,
	}
	for _, t := range topics {
		p.Topics[t] = &pubsub.TopicScoreParams{
			TopicWeight:                    1,
			TimeInMeshQuantum:              time.Second,
			InvalidMessageDeliveriesWeight: -100,
			InvalidMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(10 * time.Minute),
		}
	}
	return p, &pubsub.PeerScoreThresholds{
		GossipThreshold:   -500,
		PublishThreshold:  -1000,
		GraylistThreshold: -2500,
		AcceptPXThreshold: 100,
	}
}

// spawn runs f in a goroutine that Close waits for, unless the host is
// closing.
func (h *Host) spawn(f func()) bool {
	if !h.enter() {
		return false
	}
	go func() {
		defer h.wg.Done()
		f()
	}()
	return true
}

// enter counts a goroutine that Close must wait for; it fails once Close
// has begun.
func (h *Host) enter() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.wg.Add(1)
	return true
}

// handler wraps a stream handler so that Close waits for it and so that it
// gives up after RequestTimeout.
func (h *Host) handler(f func(network.Stream)) network.StreamHandler {
	return func(s network.Stream) {
		if !h.enter() {
			s.Reset()
			return
		}
		defer h.wg.Done()
		s.SetDeadline(time.Now().Add(h.cfg.RequestTimeout))
		f(s)
	}
}

// Close stops the host: it cancels its loops, closes the libp2p host
// (which resets open streams) and waits for its goroutines. The Receive
// and Txs channels are closed after. Close is idempotent.
func (h *Host) Close() error {
	h.once.Do(func() {
		h.mu.Lock()
		h.closed = true
		h.mu.Unlock()
		if h.cancel != nil {
			h.cancel()
		}
		if h.mdns != nil {
			h.mdns.Close()
		}
		for _, p := range []protocol.ID{h.protoDirect, h.protoSync, h.protoStatus, h.protoSnapshot} {
			h.host.RemoveStreamHandler(p)
		}
		for _, s := range []*pubsub.Subscription{h.consensusSub, h.txSub} {
			if s != nil {
				s.Cancel()
			}
		}
		if err := h.host.Close(); err != nil {
			h.closeErr = fmt.Errorf("p2p: close libp2p host: %w", err)
		}
		h.wg.Wait()
		close(h.recv)
		close(h.txs)
	})
	return h.closeErr
}

// ID returns the host's peer ID.
func (h *Host) ID() string { return h.self.String() }

// Addrs returns the host's listen addresses as full multiaddrs ending in
// /p2p/<id>, which other hosts can use as Bootstrap or with Connect.
func (h *Host) Addrs() []string {
	mas, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: h.self, Addrs: h.host.Addrs()})
	if err != nil {
		return nil
	}
	out := make([]string, len(mas))
	for i, m := range mas {
		out[i] = m.String()
	}
	return out
}

// Peers returns the IDs of the connected peers.
func (h *Host) Peers() []string {
	ps := h.host.Network().Peers()
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// Connect dials the peer at a full multiaddr (with /p2p/<id>).
func (h *Host) Connect(ctx context.Context, addr string) error {
	pi, err := peer.AddrInfoFromString(addr)
	if err != nil {
		return fmt.Errorf("p2p: connect: %w", err)
	}
	if err := h.host.Connect(ctx, *pi); err != nil {
		return fmt.Errorf("p2p: connect to %s: %w", pi.ID, err)
	}
	return nil
}

// WaitPeers waits until at least n peers are subscribed to both the
// consensus and the transaction topic, so that what we publish reaches
// them.
func (h *Host) WaitPeers(ctx context.Context, n int) error {
	for _, t := range []*pubsub.Topic{h.consensusTopic, h.txTopic} {
		if err := waitTopicPeers(ctx, t, n); err != nil {
			return err
		}
	}
	return nil
}

func waitTopicPeers(ctx context.Context, t *pubsub.Topic, n int) error {
	ev, err := t.EventHandler()
	if err != nil {
		return fmt.Errorf("p2p: wait for peers: %w", err)
	}
	defer ev.Cancel()
	peers := make(map[peer.ID]bool)
	for len(peers) < n {
		e, err := ev.NextPeerEvent(ctx)
		if err != nil {
			return fmt.Errorf("p2p: wait for %d peers on %s (have %d): %w", n, t, len(peers), err)
		}
		if e.Type == pubsub.PeerJoin {
			peers[e.Peer] = true
		} else {
			delete(peers, e.Peer)
		}
	}
	return nil
}

// maintain redials bootstrap peers that are not connected, dials peers
// found by mDNS and checks the gossip links (checkLinks), until the host
// closes.
func (h *Host) maintain() {
	t := time.NewTicker(h.cfg.RedialInterval)
	defer t.Stop()
	links := time.NewTicker(h.cfg.LinkCheckInterval)
	defer links.Stop()
	var w linkWatch
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-links.C:
			h.checkLinks(&w)
		case pi := <-h.found:
			h.spawn(func() { h.dial(h.ctx, pi) })
		case <-t.C:
			for _, pi := range h.bootstrap {
				if h.host.Network().Connectedness(pi.ID) != network.Connected {
					h.spawn(func() { h.dial(h.ctx, pi) })
				}
			}
		}
	}
}

// dial connects to pi within DialTimeout and logs failure.
func (h *Host) dial(ctx context.Context, pi peer.AddrInfo) {
	if pi.ID == h.self {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.DialTimeout)
	defer cancel()
	if err := h.host.Connect(ctx, pi); err != nil && !errors.Is(h.ctx.Err(), context.Canceled) {
		h.log.DebugContext(ctx, "dial failed", "peer", pi.ID, "err", err)
	}
}

// notifee hands peers found by mDNS to the maintain loop.
type notifee struct{ h *Host }

// HandlePeerFound is called by mDNS from its own goroutines; it must not
// block, so a peer found while the queue is full is dropped (mDNS
// announces it again).
func (n notifee) HandlePeerFound(pi peer.AddrInfo) {
	select {
	case n.h.found <- pi:
	default:
	}
}

// Stats counts what the host did since it started.
type Stats struct {
	// Published counts consensus messages we broadcast (including
	// fallbacks); Delivered those from peers handed to Receive.
	Published, Delivered uint64
	// DirectSent counts direct messages a peer acknowledged
	// (DirectSentBytes their bytes); Dropped messages Send dropped because
	// its queue was full. Fallbacks is always zero: a direct message is
	// never broadcast instead.
	DirectSent, DirectSentBytes, Fallbacks, Dropped uint64
	// Unroutable counts direct messages dropped because no route to
	// their addressee is known. ReplyDropped (ReplyDroppedBytes) counts
	// direct messages (their bytes) dropped beyond the addressee peer's
	// reply rate or queue, or because its stream failed.
	Unroutable, ReplyDropped, ReplyDroppedBytes uint64
	// Spoofed counts Status messages refused because their From was not
	// the node address of the peer that sent them.
	Spoofed uint64
	// StatusSent counts our Status messages a peer acknowledged;
	// StatusSkipped those not sent to a peer because one was still in
	// flight to it, or too many were in flight.
	StatusSent, StatusSkipped uint64
	// Routes is the number of node addresses with a known peer to send
	// their answers to; RoutesEvicted counts routes dropped to make room
	// in a full table (of peers gone, or the least recently used).
	Routes, RoutesEvicted uint64
	// ReplyPeers is the number of peers with reply state (bucket, queue,
	// streams), at most 1,024. ReplyEvicted counts idle peers whose state
	// a new peer took when the table was full; ReplyCut counts peers cut
	// (queue and state dropped) because a stream of theirs timed out.
	ReplyPeers, ReplyEvicted, ReplyCut uint64
	// ReplyStreams is the number of answer senders running, each with at
	// most one direct stream open (at most four per peer).
	ReplyStreams uint64
	// Rejected and Ignored count verdicts on peers' messages.
	Rejected, Ignored uint64
	// TxsPublished counts PublishTx calls that succeeded; TxsReceived
	// transactions from peers handed to Txs.
	TxsPublished, TxsReceived uint64
	// SnapshotChunksServed counts snapshot chunks sent to peers,
	// SnapshotChunksFetched those received from peers (before they are
	// verified), SnapshotDenied snapshot requests refused because the
	// peer asked too often or too many were served at once.
	SnapshotChunksServed, SnapshotChunksFetched, SnapshotDenied uint64
	// GossipRelinks counts peers disconnected, to be dialed again,
	// because gossipsub had lost their subscriptions while they were
	// connected (linkWatch).
	GossipRelinks uint64
	// GossipConsensus and GossipTxs count the gossip messages from peers
	// on the consensus and the transaction topic: first copies and
	// duplicates dropped.
	GossipConsensus, GossipTxs GossipStats
}

type stats struct {
	published, delivered, directSent, fallbacks, dropped atomic.Uint64
	rejected, ignored, txsPublished, txsReceived         atomic.Uint64
	unroutable, replyDropped, replyDroppedBytes, spoofed atomic.Uint64
	statusSent, statusSkipped, routes                    atomic.Uint64
	routesEvicted, replyPeers, replyEvicted, replyCut    atomic.Uint64
	replyStreams, directSentBytes, relinks               atomic.Uint64
}

// Stats returns the host's counters.
func (h *Host) Stats() Stats {
	s := &h.stats
	return Stats{
		Published: s.published.Load(), Delivered: s.delivered.Load(),
		DirectSent: s.directSent.Load(), DirectSentBytes: s.directSentBytes.Load(), Fallbacks: s.fallbacks.Load(), Dropped: s.dropped.Load(),
		Rejected: s.rejected.Load(), Ignored: s.ignored.Load(),
		TxsPublished: s.txsPublished.Load(), TxsReceived: s.txsReceived.Load(),
		Unroutable: s.unroutable.Load(), ReplyDropped: s.replyDropped.Load(), ReplyDroppedBytes: s.replyDroppedBytes.Load(),
		Spoofed: s.spoofed.Load(), StatusSent: s.statusSent.Load(), StatusSkipped: s.statusSkipped.Load(),
		Routes: s.routes.Load(), RoutesEvicted: s.routesEvicted.Load(),
		ReplyPeers: s.replyPeers.Load(), ReplyEvicted: s.replyEvicted.Load(), ReplyCut: s.replyCut.Load(),
		ReplyStreams:         s.replyStreams.Load(),
		SnapshotChunksServed: h.snap.served.Load(), SnapshotChunksFetched: h.snap.fetched.Load(), SnapshotDenied: h.snap.denied.Load(),
		GossipRelinks:   s.relinks.Load(),
		GossipConsensus: h.gossip.counts[0].load(), GossipTxs: h.gossip.counts[1].load(),
	}
}

// verdict records the outcome on a message from p and returns it as
// gossipsub's validation result.
func (h *Host) verdict(proto string, p peer.ID, o Outcome, err error) pubsub.ValidationResult {
	switch o {
	case Rejected:
		h.stats.rejected.Add(1)
		h.log.Debug("message rejected", "protocol", proto, "peer", p, "err", err)
	case Ignored:
		h.stats.ignored.Add(1)
	}
	if h.cfg.OnVerdict != nil {
		h.cfg.OnVerdict(Verdict{Protocol: proto, Peer: p.String(), Outcome: o, Err: err})
	}
	switch o {
	case Rejected:
		return pubsub.ValidationReject
	case Ignored:
		return pubsub.ValidationIgnore
	}
	return pubsub.ValidationAccept
}

// deadline returns ctx's deadline, or RequestTimeout from now.
func (h *Host) deadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(h.cfg.RequestTimeout)
}
