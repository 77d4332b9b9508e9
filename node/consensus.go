package node

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/node/privval"
	"github.com/idmesh/idmesh/node/wal"
	"github.com/idmesh/idmesh/registry"
)

// Engine decides and commits blocks. Consensus implements it; with one
// validator it is how `idmesh dev` makes blocks.
type Engine interface {
	// Run decides and commits blocks until ctx ends.
	Run(ctx context.Context) error
}

// Transport carries consensus messages between validators. A
// single-validator chain needs none.
type Transport interface {
	// Send delivers m to m.To, or to every peer if m.To is zero.
	Send(m p2p.Message)
	// Receive yields messages from peers.
	Receive() <-chan p2p.Message
}

// Consensus drives a consensus.Engine: it ticks it, feeds it messages,
// and carries out its Ready (WAL first, then the signer's watermark, then
// send, then commit in order).
// One goroutine (Run) owns the engine.
type Consensus struct {
	Chain   *registry.Chain
	Mempool *Mempool
	Key     ed25519.PrivateKey // nil (and no Signer): follow without signing
	// Signer, if set, signs instead of Key, keeping the last-signed
	// watermark on disk (see OpenSigner); with only a Key, the watermark
	// lives in memory.
	Signer  *privval.Signer
	WALPath string
	// Transport is nil for a single validator.
	Transport Transport
	// Tick is the engine's clock period; default 10ms. Timeouts are in
	// ticks (consensus.Config[*registry.Block] defaults: propose 300ms + 100ms per round).
	Tick time.Duration
	// Interval is how long after a commit the next block waits for
	// transactions; default 100ms. With Quiet it may start sooner.
	Interval time.Duration
	// Quiet, if positive, lets this validator propose the next block
	// before Interval is over, when it is the height's first proposer and
	// its mempool holds at least QuietMinTxs transactions and took no new
	// one for Quiet, checked from a fifth of Interval on: the wait exists
	// to gather the transactions that clients send when their last ones
	// commit, and once those stopped coming it only leaves the cores
	// idle (docs/benchmarks.md, stop 30). The other validators wait the
	// whole Interval, as before, so that their propose timeouts start no
	// sooner than the proposer's block could come; they prevote on a
	// proposal that arrives while they wait. Fewer transactions wait the
	// whole Interval too, so that a trickle of one transaction after
	// each commit cannot multiply the blocks. Zero waits the whole
	// Interval; a positive value is at least MinQuiet.
	Quiet time.Duration
	// EmptyBlocks makes blocks even with no transactions pending.
	EmptyBlocks bool
	Now         func() time.Time
	Log         *slog.Logger
	// Committed is called after each block is saved.
	Committed func(b *registry.Block, results []registry.Result)
	// Ticks and After replace the real ticker and timer in tests.
	Ticks <-chan time.Time
	After func(time.Duration) <-chan time.Time
	// ID names a node without a Key in its consensus messages.
	ID registry.Address
	// Audit, if set, receives every message this validator signs, one JSON
	// object a line ({"height":…,"message":…}), for audits and tests.
	Audit io.Writer
	// Metrics, if set, are kept up to date with the engine's height,
	// round and step, and time its rounds (with Now).
	Metrics *ConsensusMetrics
	// Verify, if set, checks the signatures of consensus messages for the
	// engine (consensus.Config.Verify); nil means
	// registry.VerifySignature. A node passes the Verify of the
	// p2p.SigCache its network host checks with, so that each signature
	// is checked once. It must answer as registry.VerifySignature does.
	Verify func(pub ed25519.PublicKey, msg, sig []byte) bool
	// Failpoint, if set, is called at each named point of handling a
	// Ready, with the height: crash tests make it exit the process there.
	// Points: "before-wal", "after-wal" (logged, not sent),
	// "after-send" (sent, not committed), "after-commit" (committed, log
	// not reset).
	Failpoint func(point string, height uint64)

	// lastBlock is the block this driver committed last, kept for
	// chainApp.Decided: a peer that stays one height behind is answered
	// with it (consensus.Engine.helpPeer), and reading and decoding it
	// from the store again costs a few microseconds per operation it
	// holds.
	lastBlock atomic.Pointer[registry.Block]
}

func (c *Consensus) failpoint(point string, height uint64) {
	if c.Failpoint != nil {
		c.Failpoint(point, height)
	}
}

var _ Engine = (*Consensus)(nil)

func (c *Consensus) defaults() {
	if c.Tick <= 0 {
		c.Tick = 10 * time.Millisecond
	}
	if c.Interval <= 0 {
		c.Interval = 100 * time.Millisecond
	}
	if c.Quiet > 0 {
		c.Quiet = max(c.Quiet, MinQuiet)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.After == nil {
		c.After = time.After
	}
}

// guardedSigner is the engine's consensus.Signer: it signs through a
// privval.Signer, which refuses to sign at or below its watermark. The
// engine's Signer cannot report a refusal and would count its own
// unsigned message, so the first refusal is kept in err and the driver
// stops the validator before that Ready is logged or sent.
type guardedSigner struct {
	pv  *privval.Signer
	err error
}

func (s *guardedSigner) Address() registry.Address { return s.pv.Address() }

func (s *guardedSigner) Sign(msg []byte) []byte {
	sig, err := s.pv.Sign(msg)
	if err != nil {
		if s.err == nil {
			s.err = err
		}
		return nil
	}
	return sig
}

// OpenSigner opens the signer of a validator key with its watermark in
// the state file at statePath, raised to what the node knows it signed or
// will never sign again: the end of the chain's tip height (a home
// without a state file starts there) and its own messages in the
// write-ahead log at walPath, which Run resumes. It saves the result. A
// corrupt log is an error wrapping wal.ErrCorrupt.
func OpenSigner(key ed25519.PrivateKey, statePath string, chain *registry.Chain, walPath string) (*privval.Signer, error) {
	pv, err := privval.OpenSigner(key, statePath)
	if err != nil {
		return nil, err
	}
	st := chain.State()
	log, signed, err := wal.Open[p2p.Message](walPath, st.Height+1)
	if err != nil {
		return nil, err
	}
	_ = log.Close()
	if err := raiseWatermark(pv, st, signed); err != nil {
		return nil, err
	}
	return pv, nil
}

// raiseWatermark raises pv's watermark to the end of the tip's height and
// to the messages it signed that the write-ahead log restored (a crash
// after the log and before the watermark was saved), and saves it.
func raiseWatermark(pv *privval.Signer, st registry.ChainState, signed []p2p.Message) error {
	pv.Raise(privval.Floor(st.Height))
	self := pv.Address()
	for _, m := range signed {
		var b []byte
		switch {
		case m.Vote != nil && m.Vote.Validator == self:
			b = m.Vote.SignBytes(st.ChainID)
		case m.Proposal != nil && m.Proposal.Proposer == self:
			b = m.Proposal.SignBytes(st.ChainID)
		default:
			continue
		}
		if err := pv.RaiseTo(b); err != nil {
			return fmt.Errorf("validator state: %w", err)
		}
	}
	if err := pv.Save(); err != nil {
		return fmt.Errorf("validator state: %w", err)
	}
	return nil
}

// chainApp is the engine's view of the chain.
type chainApp struct {
	c    *Consensus
	self registry.Address
}

func (a chainApp) ProposeBlock(height uint64, _ int32, lastCommit *registry.Commit) (*registry.Block, error) {
	st := a.c.Chain.State()
	if height != st.Height+1 {
		return nil, fmt.Errorf("propose height %d on tip %d", height, st.Height)
	}
	// Reap by count and by bytes: the block, with lastCommit and the
	// proposal's framing, stays within the chain's max_block_bytes, which
	// genesis keeps below the p2p message limit. Propose enforces the
	// same bound (registry.ProposalBytes) and validators check it.
	cand := a.c.Mempool.Reap(MaxTxsPerBlock, a.c.Chain.TxRoom(lastCommit))
	b, rejected, err := a.c.Chain.Propose(cand, a.c.Now(), a.self, lastCommit)
	if err != nil {
		a.c.Log.Error("no block proposed", "height", height, "err", err)
		return nil, err
	}
	if len(rejected) > 0 {
		why := make(map[registry.Hash]error, len(rejected))
		for _, r := range rejected {
			why[r.Tx.Hash()] = r.Err
		}
		a.c.Mempool.Remove(nil, why)
	}
	if len(b.Txs) == 0 && !a.c.EmptyBlocks {
		return nil, nil
	}
	return b, nil
}

func (a chainApp) ValidateBlock(b *registry.Block) error { return a.c.Chain.Verify(b) }

func (a chainApp) Validators(height uint64) (*registry.ValidatorSet, error) {
	st := a.c.Chain.State()
	switch height {
	case st.Height + 1:
		return st.Validators, nil
	case st.Height + 2:
		return st.NextValidators, nil
	}
	return nil, fmt.Errorf("validators of height %d: the tip is %d", height, st.Height)
}

// Decided returns the saved block at height and its commit. The block
// committed last is taken from memory (it is the one saved, and a saved
// block never changes); the commit is always read from the store, which
// may hold a fuller one than the block was decided with.
func (a chainApp) Decided(height uint64) (*registry.Block, *registry.Commit, bool) {
	b := a.c.lastBlock.Load()
	if b == nil || b.Header.Height != height {
		var err error
		if b, err = a.c.Chain.Store().Block(height); err != nil {
			return nil, nil, false
		}
	}
	cm, err := a.c.Chain.Store().Commit(height)
	if err != nil {
		return nil, nil, false
	}
	return b, cm, true
}

// equivocate is nil except in binaries built with the equivocate tag
// (equivocate.go), for tests of evidence and jailing: there, when its
// knob is set, it returns a conflicting message that the driver sends
// after m.
var equivocate func(c *Consensus, m p2p.Message) (p2p.Message, bool)

// MaxTxsPerBlock bounds the transactions a proposer puts in a block, and
// so the time every validator spends re-executing it.
const MaxTxsPerBlock = 2000

// Run drives the engine until ctx ends.
func (c *Consensus) Run(ctx context.Context) error {
	c.defaults()
	st := c.Chain.State()
	height := st.Height + 1
	var last *registry.Commit
	if st.Height > 0 {
		var err error
		if last, err = c.Chain.Store().Commit(st.Height); err != nil {
			return fmt.Errorf("consensus: last commit: %w", err)
		}
	}
	log, signed, err := wal.Open[p2p.Message](c.WALPath, height)
	if err != nil {
		return err
	}
	defer log.Close()
	cfg := consensus.Config[*registry.Block]{ChainID: st.ChainID, Height: height, LastCommit: last, Signed: signed, WaitForTxs: !c.EmptyBlocks, ID: c.ID, Verify: c.Verify}
	if cfg.Verify == nil {
		cfg.Verify = registry.VerifySignature
	}
	var self registry.Address
	pv := c.Signer
	if pv == nil && c.Key != nil {
		if pv, err = privval.OpenSigner(c.Key, ""); err != nil {
			return err
		}
	}
	var guard *guardedSigner
	if pv != nil {
		if err := raiseWatermark(pv, st, signed); err != nil {
			return fmt.Errorf("consensus: %w", err)
		}
		guard = &guardedSigner{pv: pv}
		cfg.Signer, self = guard, pv.Address()
	}
	cfg.App = chainApp{c: c, self: self}
	if len(signed) > 0 {
		c.Log.InfoContext(ctx, "resuming height from the write-ahead log", "height", height, "messages", len(signed))
	}
	e, err := consensus.New(cfg)
	if err != nil {
		return err
	}
	ticks := c.Ticks
	if ticks == nil {
		t := time.NewTicker(c.Tick)
		defer t.Stop()
		ticks = t.C
	}
	var incoming <-chan p2p.Message
	if c.Transport != nil {
		incoming = c.Transport.Receive()
	}
	// The next block may start once transactions are waiting, Interval
	// after the last commit or sooner (Quiet).
	w := blockWait{pending: c.Mempool.Wait()}
	type where struct {
		h       uint64
		r       int32
		s       consensus.Step
		waiting bool
	}
	var at where
	// moved logs where the engine stands and updates the metrics, when
	// that changed.
	moved := func() {
		if now := (where{e.Height(), e.Round(), e.CurrentStep(), e.Waiting()}); now != at {
			c.Log.DebugContext(ctx, "consensus", "height", now.h, "round", now.r, "step", now.s, "waiting", now.waiting, "mempool", c.Mempool.Len())
			c.Metrics.update(now.h, now.r, now.s, now.waiting, c.Now())
			at = now
		}
	}
	for {
		moved()
		// A refused signature stops the validator before the Ready that
		// holds the unsigned message is logged or sent.
		if guard != nil && guard.err != nil {
			c.Log.ErrorContext(ctx, "refusing to sign: the validator stops", "height", e.Height(), "round", e.Round(), "err", guard.err)
			return fmt.Errorf("consensus: %w", guard.err)
		}
		// The engine may have work before any event: a height resumed
		// from the log decides at once.
		if e.HasReady() {
			if err := c.handle(e, log, pv, &w); err != nil {
				return err
			}
			moved()
		}
		if w.interval == nil && w.pending == nil && e.Waiting() {
			w.pending = c.Mempool.Wait()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticks:
			e.Tick()
		case m := <-incoming:
			if err := e.Step(m); err != nil {
				c.Log.DebugContext(ctx, "consensus message refused", "from", m.From, "err", err)
			}
		case <-w.interval:
			w.interval, w.quiet = nil, nil
		case <-w.quiet:
			w.quiet = nil
			proposer := self != (registry.Address{}) && e.Proposer(0) == self
			n := c.Mempool.Len()
			switch start, again := quietStart(e.Waiting(), proposer, n, w.quietLen); {
			case start:
				c.Log.DebugContext(ctx, "mempool quiet: the next block starts before the interval", "mempool", n)
				w.interval = nil
			case again:
				w.quietLen, w.quiet = n, c.After(c.Quiet)
			}
		case <-w.pending:
			w.pending = nil
			e.TxsAvailable()
		}
	}
}

// QuietMinTxs is the fewest pending transactions for which Quiet starts
// a block before Interval is over.
const QuietMinTxs = 16

// MinQuiet is the shortest Quiet: a positive one below is raised to it,
// so that the checks cannot keep a core busy.
const MinQuiet = time.Millisecond

// quietStart is the Quiet rule at one check: start reports that the
// next block may start now, again that the mempool should be checked
// again in Quiet. Only a validator waiting to start the height and
// proposing its first round starts early, with at least QuietMinTxs
// pending and as many as at the last check (last; -1 before the first).
func quietStart(waiting, proposer bool, n, last int) (start, again bool) {
	switch {
	case !waiting || !proposer:
		return false, false
	case n >= QuietMinTxs && n == last:
		return true, false
	}
	return false, true
}

// blockWait is what the next block waits for: interval, the time after
// the last commit (nil once over), and pending, transactions in the
// mempool; quiet checks every Quiet whether the mempool stopped growing
// (quietLen, its length at the last check; -1 before the first).
type blockWait struct {
	interval, quiet <-chan time.Time
	quietLen        int
	pending         <-chan struct{}
}

// handle carries out one Ready: log what was signed, send, commit the
// decided blocks in order, then Advance.
func (c *Consensus) handle(e *consensus.Engine[*registry.Block], log *wal.Log[p2p.Message], pv *privval.Signer, w *blockWait) error {
	rd := e.Ready()
	signedAt := uint64(0)
	if len(rd.Persist) > 0 {
		signedAt = rd.Persist[0].Height()
		c.failpoint("before-wal", signedAt)
	}
	if err := log.Append(rd.Persist); err != nil {
		return fmt.Errorf("consensus: %w", err)
	}
	// The watermark is saved after the log and before anything is sent:
	// a crash before the log loses signatures never released (signed
	// again after a restart, freely), and one between the log and the
	// watermark is repaired at start from the log (raiseWatermark).
	if pv != nil {
		if err := pv.Save(); err != nil {
			return fmt.Errorf("consensus: %w", err)
		}
	}
	if c.Audit != nil {
		for _, m := range rd.Persist {
			b, err := json.Marshal(struct {
				Height  uint64      `json:"height"`
				Message p2p.Message `json:"message"`
			}{m.Height(), m})
			if err == nil {
				_, _ = c.Audit.Write(append(b, '\n'))
			}
		}
	}
	if len(rd.Persist) > 0 {
		c.failpoint("after-wal", signedAt)
	}
	if c.Transport != nil {
		for _, m := range rd.Messages {
			c.Transport.Send(m)
			if equivocate != nil {
				if x, ok := equivocate(c, m); ok {
					c.Transport.Send(x)
				}
			}
		}
	}
	if len(rd.Decided) > 0 {
		c.failpoint("after-send", rd.Decided[0].Block.Header.Height)
	}
	for _, ev := range rd.Evidence {
		c.Log.Warn("equivocation detected", "validator", ev.A.Validator, "height", ev.A.Height, "round", ev.A.Round, "type", ev.A.Type)
		c.submitEvidence(ev)
	}
	for _, d := range rd.Decided {
		results, err := c.Chain.Commit(d.Block, d.Commit)
		if err != nil {
			return fmt.Errorf("consensus: %w", err)
		}
		c.lastBlock.Store(d.Block)
		c.Log.Info("committed block", "height", d.Block.Header.Height, "round", d.Commit.Round, "txs", len(d.Block.Txs), "block", d.Block.ID())
		c.logJailed(d.Block, results)
		if c.Committed != nil {
			c.Committed(d.Block, results)
		}
		// Leaving the mempool wakes the block's waiters (WaitStatus): only
		// once the node's bookkeeping of the block (Committed: validator
		// sets, metrics) is done, so that a client told "committed" sees it.
		c.Mempool.Remove(d.Block.TxHashes(), nil)
	}
	if len(rd.Decided) > 0 {
		c.failpoint("after-commit", rd.Decided[len(rd.Decided)-1].Block.Header.Height)
		if err := log.Reset(); err != nil {
			return fmt.Errorf("consensus: %w", err)
		}
		w.interval, w.pending, w.quiet = c.After(c.Interval), nil, nil
		if c.Quiet > 0 {
			w.quiet, w.quietLen = c.After(c.Interval/5), -1
		}
	}
	if err := e.Advance(); err != nil {
		return fmt.Errorf("consensus: %w", err)
	}
	return nil
}

// evidenceTx returns the transaction that records ev on the chain, for
// the validator set vs that the votes were counted against.
func evidenceTx(ev consensus.Evidence, vs *registry.ValidatorSet) (registry.Tx, error) {
	conv := func(v consensus.Vote) registry.SignedVote {
		return registry.SignedVote{Type: uint8(v.Type), Height: v.Height, Round: uint32(v.Round), BlockID: v.BlockID, Validator: v.Validator, Signature: v.Signature}
	}
	b, err := json.Marshal(registry.DuplicateVoteEvidence{ValidatorsHash: vs.Hash(), A: conv(ev.A), B: conv(ev.B)})
	if err != nil {
		return registry.Tx{}, fmt.Errorf("encode evidence: %w", err)
	}
	return registry.Tx{Type: registry.TxEvidence, Payload: b}.WithHash(), nil
}

// submitEvidence queues a transaction recording ev, so that it is
// included in a block.
func (c *Consensus) submitEvidence(ev consensus.Evidence) {
	tx, err := evidenceTx(ev, c.Chain.State().Validators)
	if err == nil {
		err = c.Chain.CheckTx(tx, c.Now())
	}
	if err == nil {
		err = c.Mempool.Add(tx.Hash(), tx)
	}
	switch {
	case errors.Is(err, registry.ErrEvidenceRecorded):
		// Another pair of votes of the same offence is already pending or
		// recorded: one offence, one piece of evidence.
		c.Log.Debug("evidence not queued", "validator", ev.A.Validator, "err", err)
	case err != nil:
		c.Log.Warn("evidence not queued", "validator", ev.A.Validator, "err", err)
	}
}

// Jailing is a validator that a block's evidence jailed.
type Jailing struct {
	Validator registry.Address
	Record    registry.JailRecord
}

// Jailed returns the validators that the evidence in block b (with its
// results) jailed, as the state after b records them: removed from a
// later height, or kept because removing them would leave no validator.
func Jailed(store registry.StateReader, b *registry.Block, results []registry.Result) []Jailing {
	var out []Jailing
	seen := map[registry.Address]bool{}
	for i, t := range b.Txs {
		if t.Type != registry.TxEvidence || i >= len(results) || !results[i].OK() {
			continue
		}
		var ev registry.DuplicateVoteEvidence
		if json.Unmarshal(t.Payload, &ev) != nil || seen[ev.A.Validator] {
			continue
		}
		seen[ev.A.Validator] = true
		raw, err := store.Get(registry.JailKey(ev.A.Validator))
		if err != nil {
			continue
		}
		var rec registry.JailRecord
		if json.Unmarshal(raw, &rec) != nil || rec.Height != b.Header.Height {
			continue
		}
		out = append(out, Jailing{Validator: ev.A.Validator, Record: rec})
	}
	return out
}

// logJailed logs each validator that b's evidence jailed.
func (c *Consensus) logJailed(b *registry.Block, results []registry.Result) {
	for _, j := range Jailed(c.Chain.Store(), b, results) {
		if j.Record.RemovedFrom != 0 {
			c.Log.Warn("validator jailed", "validator", j.Validator, "height", j.Record.Height, "removed_from", j.Record.RemovedFrom)
		} else {
			c.Log.Warn("validator jailed, removal skipped", "validator", j.Validator, "height", j.Record.Height, "why", j.Record.Skipped)
		}
	}
}
