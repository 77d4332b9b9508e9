package consensus

import (
	"crypto/ed25519"
	"errors"
	"fmt"
)

// Step is where a validator is within a round.
type Step uint8

// Steps of a round, in order. StepDecided means the height is decided and
// the engine waits for Advance.
const (
	StepPropose Step = iota + 1
	StepPrevote
	StepPrecommit
	StepDecided
)

func (s Step) String() string {
	switch s {
	case StepPropose:
		return "propose"
	case StepPrevote:
		return "prevote"
	case StepPrecommit:
		return "precommit"
	case StepDecided:
		return "decided"
	}
	return fmt.Sprintf("step-%d", uint8(s))
}

// App is what the engine needs of the application (the chain). Its
// methods must be deterministic for the same chain state.
type App[B Block] interface {
	// ProposeBlock builds a block for height on top of the last committed
	// one, carrying lastCommit.
	ProposeBlock(height uint64, round int32, lastCommit *Commit) (B, error)
	// ValidateBlock checks a proposed block, re-executing it.
	ValidateBlock(b B) error
	// Validators returns the validator set that decides height.
	Validators(height uint64) (*ValidatorSet, error)
	// Decided returns a committed block and its commit, to help a peer
	// that is behind; ok is false if the app does not have it.
	Decided(height uint64) (b B, c *Commit, ok bool)
}

// Signer signs with the validator's key. It is a pure function of its
// input (Ed25519 is deterministic). The double-sign guard lives in the
// engine and, across restarts, in the driver: its write-ahead log (replayed
// as Config.Signed) and its signer's last-signed watermark (node/privval),
// which the driver saves before it sends and which stops the validator
// rather than let it sign below it.
type Signer interface {
	Address() Address
	Sign(msg []byte) []byte
}

// Config configures an Engine. Timeouts are in ticks; the driver decides
// how long a tick is.
type Config[B Block] struct {
	ChainID string
	// Height is the first height to decide: the last committed height + 1.
	Height uint64
	// LastCommit is the commit of Height-1 (nil at height 1).
	LastCommit *Commit
	// Signer signs as a validator; nil for a node that only follows.
	Signer Signer
	// ID names a node without a Signer in the From of its messages, so
	// that peers can answer it; a validator is named by its address.
	ID  Address
	App App[B]

	// Timeouts of round r are Base + r*Delta ticks.
	TimeoutPropose, TimeoutProposeDelta     int
	TimeoutPrevote, TimeoutPrevoteDelta     int
	TimeoutPrecommit, TimeoutPrecommitDelta int
	// RebroadcastTicks is the period after which a node that made no
	// progress asks its peers for what it lacks (a Status message, which
	// peers answer with decided blocks, proposals and votes).
	RebroadcastTicks int
	// MaxRoundsAhead bounds how far past its round the engine keeps
	// messages; default 64.
	MaxRoundsAhead int32
	// MaxFuture bounds the messages kept for later heights; default 10,000.
	// Only messages whose signatures verify against the validator set of
	// their height (App.Validators) are kept, each once, and at most
	// MaxFuturePerValidator of them and MaxFutureBytesPerValidator bytes
	// per signer (decided blocks count as one signer); defaults
	// DefaultMaxFuturePerValidator and DefaultMaxFutureBytesPerValidator.
	MaxFuture                  int
	MaxFuturePerValidator      int
	MaxFutureBytesPerValidator int

	// Signed are this validator's own messages at Height from the
	// write-ahead log, replayed at start so that it never signs anything
	// conflicting after a restart.
	Signed []Message[B]

	// Verify checks an Ed25519 signature; nil means ed25519.Verify. Every
	// node of a chain must use the same rule (idmesh's node passes
	// registry.VerifySignature, ZIP-215, which accepts every signature
	// ed25519.Verify does): a driver may pass one that remembers answers
	// (the simulation does, since every node checks the same messages),
	// never one that skips checks.
	Verify func(pub ed25519.PublicKey, msg, sig []byte) bool

	// WaitForTxs makes each height wait, before its first round starts its
	// timers or proposes, until the driver calls TxsAvailable (or a
	// proposal arrives), so that an idle chain makes no empty blocks.
	WaitForTxs bool
}

func (c *Config[B]) validate() error {
	if c.ChainID == "" || c.Height == 0 || c.App == nil {
		return errors.New("consensus: config needs a chain ID, a height and an app")
	}
	if c.Height > 1 && c.LastCommit == nil {
		return errors.New("consensus: config needs the last commit above height 1")
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	// With 10 ms ticks: propose 1 s, prevote and precommit 500 ms, each
	// 500 ms longer per round: time for a 2,000-operation block to be
	// built, sent and re-executed on a loaded 2-core machine.
	def(&c.TimeoutPropose, 100)
	def(&c.TimeoutProposeDelta, 50)
	def(&c.TimeoutPrevote, 50)
	def(&c.TimeoutPrevoteDelta, 50)
	def(&c.TimeoutPrecommit, 50)
	def(&c.TimeoutPrecommitDelta, 50)
	def(&c.RebroadcastTicks, 20)
	def(&c.MaxFuture, 10_000)
	if c.Verify == nil {
		c.Verify = ed25519.Verify
	}
	def(&c.MaxFuturePerValidator, DefaultMaxFuturePerValidator)
	def(&c.MaxFutureBytesPerValidator, DefaultMaxFutureBytesPerValidator)
	if c.MaxRoundsAhead <= 0 {
		c.MaxRoundsAhead = 64
	}
	return nil
}

// Ready is what the engine asks its driver to do. The driver must
// persist Persist (synced) before it sends Messages, must apply Decided
// in order, and then calls Advance.
type Ready[B Block] struct {
	// Persist holds the messages this validator just signed.
	Persist []Message[B]
	// Messages are to be sent: to To, or to everyone if To is zero.
	Messages []Message[B]
	// Decided holds decided blocks with their commits, in height order.
	Decided []Decided[B]
	// Evidence holds newly detected equivocations.
	Evidence []Evidence
}

func (r Ready[B]) empty() bool {
	return len(r.Persist) == 0 && len(r.Messages) == 0 && len(r.Decided) == 0 && len(r.Evidence) == 0
}

type timeout struct {
	at     uint64
	step   Step
	height uint64
	round  int32
}

type signKey struct {
	typ   VoteType
	round int32
}

type replyKey struct {
	peer   Address
	height uint64
}

// maxRepliesPerPeer bounds the catch-up answers (decided blocks, or the
// round's proposals and votes) one peer gets in a rebroadcast period:
// enough for a peer a few heights behind to follow at once, not enough
// for one that names every old height to make the node read and send a
// block for each.
const maxRepliesPerPeer = 8

type ruleKey struct {
	line  int // the paper's line number of the rule
	round int32
}

// Engine is Tendermint consensus ("The latest gossip on BFT consensus",
// Buchman, Kwon and Milosevic, 2018) as a deterministic state machine:
// messages and ticks in, a Ready out. It has no goroutines, clock,
// network or randomness; one goroutine drives it.
type Engine[B Block] struct {
	cfg  Config[B]
	self Address
	tick uint64

	height uint64
	round  int32
	step   Step

	lockedRound int32
	lockedID    Hash
	validRound  int32
	validBlock  B

	vals   *ValidatorSet
	power  map[Address]int64
	total  int64
	sched  schedule
	commit *Commit // of height-1

	proposals  map[int32]*Proposal[B]
	proposalAt map[int32]uint64 // the tick each round's proposal came
	prevotes   map[int32]*voteSet
	precommits map[int32]*voteSet
	senders    map[int32]map[Address]bool // who sent anything at a round
	validity   map[Hash]error
	done       map[ruleKey]bool
	signed     map[signKey]*Vote
	timeouts   []timeout
	future     futureBuf[B]
	seenEv     map[[2]Hash]bool
	replied    map[replyKey]bool  // catch-up replies in this rebroadcast period
	perPeer    map[Address]int    // and their number per peer
	lagging    map[Address]uint64 // peers whose Status named the height before this one, not stuck
	progressAt uint64             // tick of the last change of height, round or step
	progress   [3]uint64          // the height, round and step seen then
	caughtUp   bool               // the last decision came from a peer's Decided
	lastResend uint64
	waiting    bool // WaitForTxs: round 0 not started yet
	txsReady   bool // WaitForTxs: TxsAvailable was called at this height

	ready Ready[B]
	cover map[string]int // times each rule and branch fired (Coverage)
}

// New returns an engine at cfg.Height, round 0, with its first round
// started.
func New[B Block](cfg Config[B]) (*Engine[B], error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	e := &Engine[B]{cfg: cfg, height: cfg.Height, commit: cfg.LastCommit, replied: make(map[replyKey]bool), perPeer: make(map[Address]int), lagging: make(map[Address]uint64), self: cfg.ID, cover: map[string]int{}}
	if cfg.Signer != nil {
		e.self = cfg.Signer.Address()
	}
	if err := e.resetHeight(); err != nil {
		return nil, err
	}
	e.restore(cfg.Signed)
	e.startRound(e.round)
	e.checkRules()
	return e, nil
}

// Coverage returns how many times each rule of the algorithm, and each
// branch of a rule, fired in this engine's life, by name: the paper's line
// and what happened ("22 prevote value", "36 valid only", ...). It is how
// the simulation shows which paths its runs exercise; the counters cost a
// map increment per rule fired.
func (e *Engine[B]) Coverage() map[string]int { return e.cover }

// Branches lists every name Coverage may report.
var Branches = []string{
	"14 propose new value", "14 propose valid value", "14 resend restored proposal",
	"22 prevote value", "22 prevote nil", "28 prevote value", "28 prevote nil",
	"34 schedule timeout prevote", "36 lock and precommit", "36 valid only",
	"44 precommit nil", "47 schedule timeout precommit", "49 decide", "55 skip to round",
	"57 timeout propose", "61 timeout prevote", "65 timeout precommit",
	"decided by a peer's commit", "restored own vote",
}

func (e *Engine[B]) fired(branch string) { e.cover[branch]++ }

// Height returns the height being decided.
func (e *Engine[B]) Height() uint64 { return e.height }

// Round returns the current round.
func (e *Engine[B]) Round() int32 { return e.round }

// CurrentStep returns the current step.
func (e *Engine[B]) CurrentStep() Step { return e.step }

// Locked returns the locked round and block ID.
func (e *Engine[B]) Locked() (int32, Hash) { return e.lockedRound, e.lockedID }

// Valid returns the valid round and block.
func (e *Engine[B]) Valid() (int32, B) { return e.validRound, e.validBlock }

func (e *Engine[B]) resetHeight() error {
	vs, err := e.cfg.App.Validators(e.height)
	if err != nil {
		return fmt.Errorf("consensus: validators of height %d: %w", e.height, err)
	}
	e.vals = vs
	e.power = make(map[Address]int64, len(vs.Validators))
	for _, v := range vs.Validators {
		e.power[v.Address()] = v.Power
	}
	e.total = vs.TotalPower()
	e.sched = newSchedule(vs)
	e.round, e.step = 0, StepPropose
	e.lockedRound, e.lockedID = NilRound, Hash{}
	e.validRound, e.validBlock = NilRound, zero[B]()
	e.proposals = make(map[int32]*Proposal[B])
	e.proposalAt = make(map[int32]uint64)
	e.prevotes = make(map[int32]*voteSet)
	e.precommits = make(map[int32]*voteSet)
	e.senders = make(map[int32]map[Address]bool)
	e.validity = make(map[Hash]error)
	e.done = make(map[ruleKey]bool)
	e.signed = make(map[signKey]*Vote)
	e.txsReady, e.waiting = false, false
	e.timeouts = nil
	e.seenEv = make(map[[2]Hash]bool)
	clear(e.lagging)
	return nil
}

// restore replays this validator's own signed messages of the current
// height: its votes count again and its double-sign guard knows them;
// its round, step and lock are where those votes put it.
func (e *Engine[B]) restore(msgs []Message[B]) {
	for _, m := range msgs {
		switch {
		case m.Vote != nil && m.Vote.Height == e.height && m.Vote.Validator == e.self:
			e.fired("restored own vote")
			v := m.Vote
			e.signed[signKey{v.Type, v.Round}] = v
			e.addVote(v)
			if v.Round > e.round {
				e.round, e.step = v.Round, StepPropose
			}
			if v.Round == e.round {
				if s := stepAfter(v.Type); s > e.step {
					e.step = s
				}
			}
			if v.Type == Precommit && !v.BlockID.IsZero() && v.Round > e.lockedRound {
				e.lockedRound, e.lockedID = v.Round, v.BlockID
			}
		case m.Proposal != nil && m.Proposal.Height == e.height && m.Proposal.Proposer == e.self:
			e.addProposal(m.Proposal)
		}
	}
}

func stepAfter(t VoteType) Step {
	if t == Prevote {
		return StepPrevote
	}
	return StepPrecommit
}

// proposer returns the proposer of round r at the current height.
func (e *Engine[B]) proposer(r int32) Address { return e.sched.proposer(e.height, r) }

// Proposer returns the validator that proposes round r of the engine's
// current height.
func (e *Engine[B]) Proposer(r int32) Address { return e.proposer(r) }

// HasReady reports whether the driver has work.
func (e *Engine[B]) HasReady() bool { return !e.ready.empty() }

// Ready returns the pending work. Call Advance once it is done.
func (e *Engine[B]) Ready() Ready[B] { return e.ready }

// Advance acknowledges the last Ready: its messages were persisted and
// sent and its decided blocks applied. After a decision it moves to the
// next height.
func (e *Engine[B]) Advance() error {
	decided := len(e.ready.Decided) > 0
	e.ready = Ready[B]{}
	if !decided {
		return nil
	}
	if err := e.resetHeight(); err != nil {
		return err
	}
	if e.caughtUp {
		// Catching up: ask for the next height at once, not at the next
		// rebroadcast.
		e.caughtUp = false
		e.send(Message[B]{Status: &Status{Height: e.height}})
	}
	e.startRound(0)
	for _, m := range e.future.reset() {
		_ = e.step1(m)
	}
	e.checkRules()
	return nil
}

// Waiting reports whether the engine waits for TxsAvailable.
func (e *Engine[B]) Waiting() bool { return e.waiting }

// TxsAvailable tells an engine configured with WaitForTxs that
// transactions are waiting, so the height's first round may start.
func (e *Engine[B]) TxsAvailable() {
	e.txsReady = true
	if !e.waiting {
		return
	}
	e.waiting = false
	// A proposal may have moved the round on while waiting; start it
	// only if nothing has happened yet.
	if e.round == 0 && e.step == StepPropose && len(e.signed) == 0 {
		e.startRound(0)
		e.checkRules()
	}
}

// Tick advances the engine's clock by one tick, firing due timeouts.
func (e *Engine[B]) Tick() {
	e.tick++
	if e.step == StepDecided {
		return
	}
	var due []timeout
	keep := e.timeouts[:0]
	for _, t := range e.timeouts {
		if t.at <= e.tick {
			due = append(due, t)
		} else {
			keep = append(keep, t)
		}
	}
	e.timeouts = keep
	for _, t := range due {
		e.onTimeout(t)
	}
	e.noteProgress()
	if e.tick-e.lastResend >= uint64(e.cfg.RebroadcastTicks) {
		e.lastResend = e.tick
		clear(e.replied)
		clear(e.perPeer)
		e.rebroadcast()
	}
	e.checkRules()
	e.noteProgress()
}

// Step takes one message from a peer (or from the write-ahead log).
func (e *Engine[B]) Step(m Message[B]) error {
	if err := e.step1(m); err != nil {
		return err
	}
	e.checkRules()
	e.noteProgress()
	return nil
}

// noteProgress records the tick of the last change of height, round or
// step, which tells rebroadcast whether this node is stuck.
func (e *Engine[B]) noteProgress() {
	now := [3]uint64{e.height, uint64(e.round), uint64(e.step)}
	if now != e.progress {
		e.progress, e.progressAt = now, e.tick
	}
}

func (e *Engine[B]) step1(m Message[B]) error {
	if err := m.ValidateBasic(); err != nil {
		return err
	}
	h := m.Height()
	if m.Status != nil {
		switch {
		case h < e.height:
			if e.behind(m.From, h, m.Status.Stuck) {
				e.helpPeer(m.From, h)
			}
		case h == e.height && e.step != StepDecided && m.From != (Address{}) && m.From != e.self:
			if e.mayReply(replyKey{m.From, h}) {
				e.answer(m.From, m.Status)
			}
		}
		return nil
	}
	switch {
	case h < e.height:
		// A late proposal, vote or decided block: its sender is behind,
		// or was. Under load the slowest validator's votes arrive after
		// the others decide at nearly every height, and it decides from
		// the same gossip a moment later; answering each late vote with
		// the block sent every node about one copy of every block, all
		// duplicates. A peer that stays behind says so in its Status,
		// which every node sends once a period (behind).
		return nil
	case h > e.height || e.step == StepDecided:
		return e.keepFuture(m, h)
	}
	switch {
	case m.Decided != nil:
		return e.onDecided(m.Decided)
	case m.Proposal != nil:
		return e.onProposal(m.Proposal)
	default:
		return e.onVote(m.Vote)
	}
}

// helpPeer answers a peer whose Status names a height this engine
// already decided (and that is behind enough: see behind) with that
// height's block and commit, at most once per peer and height, and
// maxRepliesPerPeer times per peer, in a rebroadcast period.
func (e *Engine[B]) helpPeer(peer Address, h uint64) {
	if peer == (Address{}) || peer == e.self || !e.mayReply(replyKey{peer, h}) {
		return // (the budget is spent before the block is read)
	}
	b, c, ok := e.cfg.App.Decided(h)
	if !ok {
		return
	}
	e.send(Message[B]{To: peer, Decided: &Decided[B]{Block: b, Commit: c}})
}

// behind reports whether a peer whose Status names height h, below this
// engine's, is to be sent that height's decided block (helpPeer): when
// it is two or more heights behind, when it says it is stuck (no progress
// for a whole period, or it signs nothing and so always asks), or when
// its previous Status named the same height, one below this one: it has
// stayed there for a period. A peer one height behind and moving is
// usually deciding from gossip already, and gets no block it is about to
// have (lagging remembers such peers for the current height only, at
// most 10,000; once it is full, every such peer is answered, within
// mayReply's budget).
func (e *Engine[B]) behind(peer Address, h uint64, stuck bool) bool {
	if stuck || h+1 < e.height {
		return true
	}
	if last, ok := e.lagging[peer]; ok && last == h {
		return true
	}
	if len(e.lagging) >= 10_000 {
		// Full (many peers, or many network keys): answer as before
		// lagging existed, within mayReply's budget, rather than never
		// answer a peer that comes after them at this height.
		return true
	}
	e.lagging[peer] = h
	return false
}

// mayReply reports whether k's answer fits this period's budget (once per
// peer and height, maxRepliesPerPeer per peer, 10,000 in all) and counts
// it if so.
func (e *Engine[B]) mayReply(k replyKey) bool {
	if e.replied[k] || e.perPeer[k.peer] >= maxRepliesPerPeer || len(e.replied) > 10_000 {
		return false
	}
	e.replied[k] = true
	e.perPeer[k.peer]++
	return true
}

func (e *Engine[B]) roundInWindow(r int32) bool { return r <= e.round+e.cfg.MaxRoundsAhead }

func (e *Engine[B]) onProposal(p *Proposal[B]) error {
	if !e.roundInWindow(p.Round) {
		return nil
	}
	if p.Proposer != e.proposer(p.Round) {
		return fmt.Errorf("%w: %s is not the proposer of %d/%d", ErrInvalidMessage, p.Proposer, p.Height, p.Round)
	}
	val, ok := e.vals.ByAddress(p.Proposer)
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotValidator, p.Proposer)
	}
	if !e.cfg.Verify(val.PubKey, p.SignBytes(e.cfg.ChainID), p.Signature) {
		return fmt.Errorf("%w: proposal by %s", ErrBadSignature, p.Proposer)
	}
	e.addProposal(p)
	return nil
}

// addProposal keeps the first proposal of a round; a proposer that signs
// two is ignored the second time (its votes are what can be proven).
func (e *Engine[B]) addProposal(p *Proposal[B]) {
	if _, ok := e.proposals[p.Round]; ok {
		return
	}
	e.proposals[p.Round] = p
	e.proposalAt[p.Round] = e.tick
	e.sender(p.Round, p.Proposer)
}

func (e *Engine[B]) sender(r int32, a Address) {
	s := e.senders[r]
	if s == nil {
		s = make(map[Address]bool)
		e.senders[r] = s
	}
	s[a] = true
}

func (e *Engine[B]) onVote(v *Vote) error {
	if !e.roundInWindow(v.Round) {
		return nil
	}
	val, ok := e.vals.ByAddress(v.Validator)
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotValidator, v.Validator)
	}
	if !e.cfg.Verify(val.PubKey, v.SignBytes(e.cfg.ChainID), v.Signature) {
		return fmt.Errorf("%w: %s by %s at %d/%d", ErrBadSignature, v.Type, v.Validator, v.Height, v.Round)
	}
	e.addVote(v)
	return nil
}

func (e *Engine[B]) addVote(v *Vote) {
	sets := e.prevotes
	if v.Type == Precommit {
		sets = e.precommits
	}
	s := sets[v.Round]
	if s == nil {
		s = newVoteSet()
		sets[v.Round] = s
	}
	conflict, _ := s.add(v, e.power[v.Validator])
	if conflict != nil {
		key := [2]Hash{Sum(conflict.Signature), Sum(v.Signature)}
		if !e.seenEv[key] {
			e.seenEv[key] = true
			e.ready.Evidence = append(e.ready.Evidence, Evidence{A: *conflict, B: *v})
		}
	}
	e.sender(v.Round, v.Validator)
}

// onDecided takes a peer's decided block for the current height: a valid
// commit from this height's validators is enough to decide it.
func (e *Engine[B]) onDecided(d *Decided[B]) error {
	id := d.Block.ID()
	if err := VerifyCommitWith(e.cfg.Verify, e.cfg.ChainID, e.vals, e.height, id, d.Commit); err != nil {
		return fmt.Errorf("%w: decided block: %w", ErrInvalidMessage, err)
	}
	if !e.valid(d.Block) {
		return fmt.Errorf("%w: decided block %s is invalid: %w", ErrInvalidMessage, id, e.validity[id])
	}
	e.caughtUp = true
	e.fired("decided by a peer's commit")
	e.decide(d.Block, d.Commit)
	return nil
}

// valid is the paper's valid(v), cached per block ID.
func (e *Engine[B]) valid(b B) bool {
	id := b.ID()
	err, ok := e.validity[id]
	if !ok {
		err = e.cfg.App.ValidateBlock(b)
		e.validity[id] = err
	}
	return err == nil
}
