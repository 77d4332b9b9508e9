package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/snapshot"
)

// StateSyncProgress reports how a state sync advances.
type StateSyncProgress struct {
	// Phase is "offers" (looking for a snapshot), "headers" (checking
	// the header chain), "chunks" (fetching and verifying the state),
	// "block" (fetching the snapshot's block from the peers), "finish"
	// (checking the restored tree and recording the block) or "done".
	Phase string
	// Waited is how long the "block" or "finish" phase has run: they
	// are reported as they begin and then every Heartbeat.
	Waited time.Duration
	// Height is the snapshot's height (0 before one is chosen).
	Height uint64
	// Headers is the number of headers checked.
	Headers uint64
	// Chunks is the number of chunks verified and written; ChunksTotal
	// the number the peers said they have (their word, for display).
	Chunks, ChunksTotal uint64
	// Entries is the number of state entries verified and written;
	// Bytes the chunk bytes they came in.
	Entries, Bytes uint64
	// Fetched counts the chunks received from peers (before they are
	// verified); Refused the chunks and header batches refused (a peer
	// lied or sent something malformed); Peers the peers still trusted.
	Fetched, Refused uint64
	Peers            int
	// Conflicts counts the peers whose header chain, verified from the
	// genesis like the chosen one, held another block at a height the
	// cross-check asked (a fork signed by a validator set).
	Conflicts uint64
}

// StateSyncPeers is what state sync needs of the network (a *p2p.Host).
type StateSyncPeers interface {
	SnapshotOffers(ctx context.Context) []p2p.PeerOffers
	FetchHeaders(ctx context.Context, peerID string, from, to uint64) (p2p.HeaderBatch, error)
	FetchSnapshotChunk(ctx context.Context, peerID string, height uint64, index uint32) ([]byte, error)
	FetchBlocks(ctx context.Context, peerID string, from, to uint64) ([]p2p.Decided, error)
}

// StateSync restores a node's empty store from a snapshot its peers
// serve, trusting only the genesis and, if given, a checkpoint (Trust).
type StateSync struct {
	// Peers is the network.
	Peers StateSyncPeers
	// Store is the empty store restored into.
	Store snapshot.Sink
	// Genesis is the chain's genesis: the only thing trusted.
	Genesis *registry.Genesis
	// Parallel is the number of chunks fetched at once; default 4.
	Parallel int
	// RequestTimeout bounds one request to a peer; default 30 s.
	RequestTimeout time.Duration
	// Retry is how long to wait between looks for offers while no peer
	// offers a snapshot; default 1 s.
	Retry time.Duration
	// Progress, if set, is told of each step (never from two goroutines
	// at once).
	Progress func(StateSyncProgress)
	// Heartbeat is how often Progress is told again while the base block
	// is fetched and the restore finished; default 1 s.
	Heartbeat time.Duration
	// Now is the clock of Waited; default time.Now.
	Now func() time.Time
	// Log receives the sync's log lines; default none.
	Log *slog.Logger
	// Trust, if set, is a checkpoint the verified header chain must
	// hold; offers below its height are refused. Without it the chain is
	// trusted from the genesis alone.
	Trust *StateSyncTrust
	// CrossCheck says whether the target header must be confirmed by
	// another peer than the one that served it when no checkpoint is
	// given; default CrossCheckBestEffort.
	CrossCheck CrossCheckMode
	// CrossCheckWait is how long a required cross-check waits for
	// another peer to confirm; default DefaultCrossCheckWait.
	CrossCheckWait time.Duration

	prog StateSyncProgress
	bad  map[string]bool // peers that lied: never asked again
	// gaveUp holds the peers that could not serve a snapshot they
	// offered: their offers are not picked again in this run, whatever
	// height they name (security review R3: a peer offering ever higher
	// heights it cannot serve starved the sync).
	gaveUp map[string]bool
	// offered holds the heights each peer offered at the last look, for
	// the cross-check.
	offered map[string][]uint64
	// failure is why an offer was refused for its verified chain (a
	// checkpoint mismatch): Run fails with it when no offer is left.
	failure error
	// verifyBudget bounds the proof of each peer that answers the
	// cross-check with another header (proveFork).
	verifyBudget time.Duration
	// ours holds the ID and set hash of each header of the offer's
	// verified chain (height h at index h-1), ourSets its sets: a
	// witness's fork is proven where it parts from it.
	ours    []ourHeader
	ourSets map[registry.Hash]*registry.ValidatorSet
}

// ourHeader is a header of the verified chain: its ID and the hash of
// the set that decided it.
type ourHeader struct{ id, vals registry.Hash }

// maxBelowCheckpointWait bounds, on the sync's clock (Now), how long Run
// waits while every offer is below the checkpoint's height (security
// review R6: a checkpoint above the chain's tip, or a mistyped height,
// waited forever).
const maxBelowCheckpointWait = 10 * time.Minute

// ErrNoSnapshot reports that no peer offered a snapshot that could be
// restored.
var ErrNoSnapshot = errors.New("state sync: no usable snapshot offered")

// StateSyncResult is what a finished state sync established.
type StateSyncResult struct {
	// State is the chain state after the snapshot's height.
	State registry.ChainState
	// Sets are the validator sets of the verified header chain, the
	// genesis set first.
	Sets []*registry.ValidatorSet
	// Progress is the last progress report.
	Progress StateSyncProgress
}

// Run looks for the highest snapshot offered, checks the header chain
// from the genesis to its height (each header decided by the set the
// previous one named and committed by more than two thirds of it), takes
// the state root from the verified header, fetches the chunks from the
// peers offering that height, several at once, verifies each against
// that root as it arrives (a refused chunk is asked of another peer, and
// a peer that lied is not asked again) and writes them, then records
// the snapshot's block as the store's first. With Trust, the verified
// header chain must hold the checkpoint's block (a verified chain that
// does not refuses the offer; when no offer is left Run fails with
// ErrTrustMismatch), offers below its height are refused, and when for
// maxBelowCheckpointWait no offer reaches it Run fails (ErrNoSnapshot).
// Before the chunks, other peers are asked for the target header
// (crossCheck): a different header one of them proves to be committed by
// the set that decided ours there ends the run (ErrHeaderConflict). The
// store must be empty; when Run fails it discards what it wrote
// (restoreDiscarder), except when ctx ends: then the store holds an
// unfinished restore (and refuses to open as a chain) until it is
// discarded.
func (s *StateSync) Run(ctx context.Context) (res *StateSyncResult, err error) {
	defer func() {
		if d, ok := s.Store.(restoreDiscarder); ok && err != nil && ctx.Err() == nil {
			// Security review R6: a mismatch left an earlier offer's
			// unfinished restore.
			_ = d.DiscardRestore() // an error: no restore under way
		}
	}()
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.Parallel <= 0 {
		s.Parallel = 4
	}
	if s.RequestTimeout <= 0 {
		s.RequestTimeout = 30 * time.Second
	}
	if s.Retry <= 0 {
		s.Retry = time.Second
	}
	if s.Heartbeat <= 0 {
		s.Heartbeat = time.Second
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.CrossCheckWait <= 0 {
		s.CrossCheckWait = DefaultCrossCheckWait
	}
	if s.Trust != nil && s.Trust.Height == 0 {
		return nil, fmt.Errorf("state sync: checkpoint at height 0: %w", ErrTrustSyntax)
	}
	s.failure = nil
	s.bad = map[string]bool{}
	s.gaveUp = map[string]bool{}
	s.prog = StateSyncProgress{Phase: "offers"}
	s.report()
	for {
		height, peers, total, err := s.pick(ctx)
		if err != nil {
			return nil, err
		}
		s.prog = StateSyncProgress{Phase: "headers", Height: height, ChunksTotal: uint64(total), Peers: len(peers), Fetched: s.prog.Fetched, Refused: s.prog.Refused,
			Conflicts: s.prog.Conflicts}
		s.report()
		s.Log.InfoContext(ctx, "state sync: snapshot chosen", "height", height, "chunks", total, "peers", len(peers))
		res, err := s.restore(ctx, height, peers)
		if err == nil {
			s.prog.Phase = "done"
			s.report()
			res.Progress = s.prog
			return res, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !errors.Is(err, errPeersExhausted) {
			return nil, err
		}
		// Every peer of that height failed or lied, or its chain was
		// refused: look again, without those offers.
		for _, q := range peers {
			s.gaveUp[q] = true
		}
		if len(s.gaveUp) > maxGaveUp {
			return nil, fmt.Errorf("%w: %d peers could not serve what they offered", ErrNoSnapshot, len(s.gaveUp))
		}
		s.Log.WarnContext(ctx, "state sync: no peer could serve the snapshot, looking again", "height", height, "err", err)
		if err := sleep(ctx, s.Retry); err != nil {
			return nil, err
		}
	}
}

// restoreDiscarder is a Sink that can drop an unfinished restore
// (registry/leveldb.Store).
type restoreDiscarder interface{ DiscardRestore() error }

// maxGaveUp bounds the peers whose offers a run has given up on; past it
// the run fails (ErrNoSnapshot) rather than keep a table a peer that
// cycles identities could grow.
const maxGaveUp = 4096

// errPeersExhausted reports that no peer is left to ask.
var errPeersExhausted = errors.New("state sync: no peer left to ask")

func (s *StateSync) report() {
	if s.Progress != nil {
		s.Progress(s.prog)
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// pick waits for offers and returns the highest height offered in the
// format this node reads, the peers offering it and the largest chunk
// count they claim.
func (s *StateSync) pick(ctx context.Context) (uint64, []string, uint32, error) {
	warned, below := false, false
	var belowSince time.Time
	var highest uint64
	for {
		var best uint64
		var peers []string
		var total uint32
		s.offered = map[string][]uint64{}
		for _, po := range s.Peers.SnapshotOffers(ctx) {
			if s.bad[po.Peer] {
				continue
			}
			for _, o := range po.Offers {
				if o.Format != SnapshotFormat || o.Height == 0 {
					continue
				}
				if len(s.offered[po.Peer]) < p2p.MaxSnapshotOffers {
					s.offered[po.Peer] = append(s.offered[po.Peer], o.Height)
				}
				if s.gaveUp[po.Peer] {
					continue
				}
				if s.Trust != nil && o.Height < s.Trust.Height {
					highest = max(highest, o.Height)
					if !below {
						below = true
						s.Log.WarnContext(ctx, "state sync: refusing offers below the checkpoint's height", "peer", po.Peer, "height", o.Height, "checkpoint", s.Trust.Height)
					}
					continue
				}
				switch {
				case o.Height > best:
					best, peers, total = o.Height, []string{po.Peer}, o.Chunks
				case o.Height == best && !slices.Contains(peers, po.Peer):
					peers = append(peers, po.Peer)
					total = max(total, o.Chunks)
				}
			}
		}
		if best > 0 {
			return best, peers, total, nil
		}
		if s.failure != nil {
			return 0, nil, 0, s.failure
		}
		if highest > 0 {
			if belowSince.IsZero() {
				belowSince = s.Now()
			} else if waited := s.Now().Sub(belowSince); waited >= maxBelowCheckpointWait {
				return 0, nil, 0, fmt.Errorf("%w: the checkpoint's height %d is above every offer for %s (the highest %d)", ErrNoSnapshot, s.Trust.Height, waited, highest)
			}
		}
		if !warned {
			warned = true
			s.Log.InfoContext(ctx, "state sync: waiting for a peer to offer a snapshot")
		}
		if err := sleep(ctx, s.Retry); err != nil {
			return 0, nil, 0, fmt.Errorf("%w: %w", ErrNoSnapshot, err)
		}
	}
}

// peerSet hands out the peers still trusted, in turn.
type peerSet struct {
	s     *StateSync
	peers []string
	next  int
	fails map[string]int
}

// get returns a peer other than avoid if there is one.
func (p *peerSet) get(avoid string) (string, bool) {
	var ok []string
	for _, q := range p.peers {
		if !p.s.bad[q] && p.fails[q] < 3 {
			ok = append(ok, q)
		}
	}
	if len(ok) == 0 {
		return "", false
	}
	for range ok {
		q := ok[p.next%len(ok)]
		p.next++
		if q != avoid || len(ok) == 1 {
			return q, true
		}
	}
	return ok[0], true
}

// lied marks q as a liar.
func (p *peerSet) lied(q string, what string, err error) { p.s.refuse(q, what, err) }

// failed counts a failure of q (a timeout, an error answer): three and
// it is not asked again in this attempt.
func (p *peerSet) failed(q string, what string, err error) {
	p.fails[q]++
	p.s.Log.Debug("state sync: request failed", "peer", q, "what", what, "err", err)
}

func (p *peerSet) alive() int {
	n := 0
	for _, q := range p.peers {
		if !p.s.bad[q] && p.fails[q] < 3 {
			n++
		}
	}
	return n
}

// restore syncs the snapshot at height from peers.
func (s *StateSync) restore(ctx context.Context, height uint64, peers []string) (*StateSyncResult, error) {
	ps := &peerSet{s: s, peers: peers, fails: map[string]int{}}
	began := s.Now()
	trusted, sets, server, err := s.headers(ctx, height, ps)
	if err != nil {
		return nil, err
	}
	// A peer proving another header does so within twice the time this
	// chain took (and at least RequestTimeout).
	s.verifyBudget = max(s.RequestTimeout, 2*s.Now().Sub(began))
	// Before the target header is taken: do other peers hold it too? A
	// proven conflict ends the run (security review R6): which chain is
	// real only a checkpoint below the fork can say, and the next
	// offer's honest witnesses may be kept from answering.
	if err := s.crossCheck(ctx, height, trusted.Header.ID(), server); err != nil {
		return nil, err
	}
	s.prog.Phase = "chunks"
	s.report()
	var r *snapshot.Restorer
	for r == nil {
		// All the chunks of an attempt come from one peer, its source:
		// nothing fixes where a chunk starts, so when chunks of two
		// peers do not follow each other, either may have lied (or the
		// two cut the state differently); from one source, a chunk that
		// does not follow is its source's lie (security review R3). A
		// source that fails or lies ends the attempt, and the next
		// starts over with another.
		src, ok := ps.get("")
		if !ok {
			return nil, fmt.Errorf("%w: chunks of %d", errPeersExhausted, height)
		}
		if d, ok := s.Store.(restoreDiscarder); ok {
			// What an earlier attempt wrote before it failed (security
			// review R3: a retry refused its own store).
			_ = d.DiscardRestore() // an error: no restore under way
		}
		s.prog.Chunks, s.prog.Entries, s.prog.Bytes = 0, 0, 0
		if r, err = snapshot.NewRestorer(s.Store, s.Genesis, trusted); err != nil {
			return nil, fmt.Errorf("state sync: %w", err)
		}
		err := s.chunks(ctx, r, height, uint32(s.prog.ChunksTotal), ps, src)
		switch {
		case errors.Is(err, errSourceFailed):
			s.Log.WarnContext(ctx, "state sync: starting the chunks over from another peer", "height", height, "peer", src, "err", err)
			r = nil
		case err != nil:
			return nil, err
		}
	}
	// The snapshot's block, whose header is the trusted one.
	var base *registry.Block
	err = s.phase(ctx, "block", func() error {
		for {
			q, ok := ps.get("")
			if !ok {
				return fmt.Errorf("%w: block %d", errPeersExhausted, height)
			}
			rctx, cancel := context.WithTimeout(ctx, s.RequestTimeout)
			got, err := s.Peers.FetchBlocks(rctx, q, height, height)
			cancel()
			if err != nil || len(got) != 1 {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				ps.failed(q, "base block", err)
				continue
			}
			if got[0].Block.ID() != trusted.Header.ID() {
				ps.lied(q, "base block", snapshot.ErrUntrustedHeader)
				continue
			}
			base = got[0].Block
			return nil
		}
	})
	if err != nil {
		return nil, err
	}
	var st registry.ChainState
	err = s.phase(ctx, "finish", func() (err error) {
		st, err = r.Finish(base)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("state sync: %w", err)
	}
	return &StateSyncResult{State: st, Sets: append(sets, trusted.NextValidators)}, nil
}

// phase runs fn as phase name, reporting it as it begins and then every
// Heartbeat with the time it has run (Waited), from a copy of the
// progress: fn may change s.prog, and Progress is never called from two
// goroutines at once.
func (s *StateSync) phase(ctx context.Context, name string, fn func() error) error {
	s.prog.Phase, s.prog.Waited = name, 0
	s.report()
	began := s.Now()
	p := s.prog
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(s.Heartbeat)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				p.Waited = s.Now().Sub(began)
				if s.Progress != nil {
					s.Progress(p)
				}
			}
		}
	}()
	err := fn()
	close(stop)
	<-done
	s.prog.Waited = s.Now().Sub(began)
	return err
}

// verifiedChain is a header chain checked from the genesis.
type verifiedChain struct {
	hc *snapshot.HeaderChain
	// next is the next set the last batch came with; peer served it.
	next *registry.ValidatorSet
	peer string
	// last is the header at the chain's height.
	last registry.Header
}

// chain fetches and checks the header chain 1..height from the peers of
// ps, then each verified batch against the checkpoint, keeps the chain's
// IDs and sets (s.ours, s.ourSets: the cross-check compares witnesses'
// headers with them) and tells Progress of each batch.
func (s *StateSync) chain(ctx context.Context, height uint64, ps *peerSet) (*verifiedChain, error) {
	hc, err := snapshot.NewHeaderChain(s.Genesis)
	if err != nil {
		return nil, err
	}
	c := &verifiedChain{hc: hc}
	s.ours, s.ourSets = s.ours[:0], map[registry.Hash]*registry.ValidatorSet{}
	sets := 0 // of hc.Sets(), in s.ourSets
	for hc.Height() < height {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		q, ok := ps.get(c.peer)
		if !ok {
			return nil, fmt.Errorf("%w: headers from %d", errPeersExhausted, hc.Height()+1)
		}
		c.peer = q
		from := hc.Height() + 1
		rctx, cancel := context.WithTimeout(ctx, s.RequestTimeout)
		b, err := s.Peers.FetchHeaders(rctx, q, from, height)
		cancel()
		if err != nil || len(b.Headers) == 0 {
			if errors.Is(err, p2p.ErrMalformed) || errors.Is(err, p2p.ErrTooLarge) {
				ps.lied(q, "headers", err)
			} else {
				ps.failed(q, "headers", err)
			}
			continue
		}
		if n := height - from + 1; uint64(len(b.Headers)) > n {
			// Past the height asked: not this chain's business, and the
			// next set belongs to the last header sent.
			b.Headers, b.Next = b.Headers[:n], nil
		}
		// Verified first, then compared with the checkpoint: a header
		// no set signed is a lie, not a mismatch (security review R6).
		if err := hc.Add(b.Headers); err != nil {
			ps.lied(q, "headers", err)
			continue
		}
		if err := s.trustCheck(q, from, b.Headers); err != nil {
			// Verified and off the checkpoint: a fork signed by a set
			// (or a wrong checkpoint). The chain holds it now: start
			// over from the genesis without that peer.
			s.failure = err
			ps.lied(q, "headers", err)
			if hc, err = snapshot.NewHeaderChain(s.Genesis); err != nil {
				return nil, err
			}
			c.hc, c.next = hc, nil
			s.ours, s.ourSets, sets = s.ours[:0], map[registry.Hash]*registry.ValidatorSet{}, 0
			s.prog.Headers = 0
			continue
		}
		for i := range b.Headers {
			h := from + uint64(i)
			s.ours = append(s.ours[:h-1], ourHeader{id: b.Headers[i].Header.ID(), vals: b.Headers[i].Header.ValidatorsHash})
		}
		for _, vs := range hc.Sets()[sets:] {
			s.ourSets[vs.Hash()] = vs
		}
		sets = len(hc.Sets())
		c.next, c.last = b.Next, b.Headers[len(b.Headers)-1].Header
		ps.fails[q] = 0
		s.prog.Headers = hc.Height()
		s.report()
	}
	return c, nil
}

// headers fetches and checks the header chain 1..height; it returns the
// target header as trusted, the sets met, and the peer that served the
// target header.
func (s *StateSync) headers(ctx context.Context, height uint64, ps *peerSet) (*snapshot.Trusted, []*registry.ValidatorSet, string, error) {
	c, err := s.chain(ctx, height, ps)
	if err != nil {
		return nil, nil, "", err
	}
	hc, last := c.hc, c.peer
	trusted, err := hc.Trusted(c.next)
	if err != nil {
		// The next set came from the peer of the last batch: it lied
		// about it, or did not know it. Ask the others.
		for {
			q, ok := ps.get(last)
			if !ok {
				return nil, nil, "", fmt.Errorf("%w: next validator set at %d: %w", errPeersExhausted, height, err)
			}
			last = q
			rctx, cancel := context.WithTimeout(ctx, s.RequestTimeout)
			b, ferr := s.Peers.FetchHeaders(rctx, q, height, height)
			cancel()
			if ferr != nil || len(b.Headers) != 1 {
				ps.failed(q, "next validator set", ferr)
				continue
			}
			if trusted, err = hc.Trusted(b.Next); err == nil {
				break
			}
			ps.lied(q, "next validator set", err)
		}
	}
	return trusted, hc.Sets(), c.peer, nil
}

// chunkResult is a fetched chunk, checked on its own against the
// trusted root, or why not: err, the fetch failed; lie, the peer's answer
// was refused.
type chunkResult struct {
	index   uint32
	peer    string
	size    int
	checked *snapshot.Checked
	err     error
	lie     error
}

// isChunkLie reports whether err refuses a chunk for what it holds (a
// lie, or another state), not for this node's trouble.
func isChunkLie(err error) bool {
	return errors.Is(err, snapshot.ErrMalformed) || errors.Is(err, snapshot.ErrChunkTooLarge) || errors.Is(err, snapshot.ErrWrongHeight) ||
		errors.Is(err, snapshot.ErrChunkOrder) || errors.Is(err, snapshot.ErrChunkGap) || errors.Is(err, snapshot.ErrChunkProof) || errors.Is(err, snapshot.ErrComplete)
}

// errSourceFailed reports that an attempt's source lied or failed.
var errSourceFailed = errors.New("state sync: the peer serving the chunks failed")

// chunks fetches, verifies and writes the chunks until the state is
// complete, all from src: up to Parallel chunks are in flight, each
// checked against the trusted root by the goroutine that fetched it (on
// every core), and written in order. It returns errSourceFailed when src
// lied (it is marked) or failed three times.
func (s *StateSync) chunks(ctx context.Context, r *snapshot.Restorer, height uint64, total uint32, ps *peerSet, src string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan chunkResult, s.Parallel)
	inflight := map[uint32]bool{}
	ready := map[uint32]chunkResult{}
	v := r.Verifier()
	launch := func(i uint32) {
		inflight[i] = true
		go func() {
			rctx, cancel := context.WithTimeout(ctx, s.RequestTimeout)
			defer cancel()
			raw, err := s.Peers.FetchSnapshotChunk(rctx, src, height, i)
			res := chunkResult{index: i, peer: src, size: len(raw), err: err}
			if err == nil {
				res.checked, err = r.Check(raw)
				switch {
				case err != nil && isChunkLie(err):
					res.lie = err
				case err != nil:
					res.err = err
				case res.checked.Index() != i:
					res.lie = fmt.Errorf("%w: chunk %d asked, chunk %d answered", snapshot.ErrChunkOrder, i, res.checked.Index())
				}
			}
			select {
			case results <- res:
			case <-ctx.Done():
			}
		}()
	}
	lie := func(i uint32, err error) error {
		ps.lied(src, fmt.Sprintf("chunk %d", i), err)
		return fmt.Errorf("%w: %w", errSourceFailed, err)
	}
	for !v.Done() {
		next := v.Next()
		// Keep Parallel chunks in flight or waiting, from next on, up to
		// the count the peers claimed (beyond it one at a time: the
		// state's end is seen in the chunks, not taken from the offer).
		for i := next; i < next+uint32(s.Parallel) && (i == next || i < total); i++ {
			if _, ok := ready[i]; !ok && !inflight[i] {
				launch(i)
			}
		}
		if c, ok := ready[next]; ok {
			delete(ready, next)
			if err := r.Write(c.checked); err != nil {
				if isChunkLie(err) {
					return lie(next, err)
				}
				return fmt.Errorf("state sync: %w", err)
			}
			ps.fails[src] = 0
			s.prog.Chunks++
			s.prog.Bytes += uint64(c.size)
			s.prog.Entries = uint64(r.Entries())
			s.prog.Peers = ps.alive()
			s.report()
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case c := <-results:
			delete(inflight, c.index)
			if c.lie != nil {
				return lie(c.index, c.lie)
			}
			if c.err != nil {
				if errors.Is(c.err, p2p.ErrMalformed) || errors.Is(c.err, p2p.ErrTooLarge) {
					return lie(c.index, c.err)
				}
				ps.failed(src, fmt.Sprintf("chunk %d", c.index), c.err)
				if ps.fails[src] >= 3 {
					return fmt.Errorf("%w: %w", errSourceFailed, c.err)
				}
				continue // asked again by the loop
			}
			s.prog.Fetched++
			if c.index >= v.Next() {
				ready[c.index] = c
			}
		}
	}
	return nil
}
