package snapshot

import (
	"crypto/ed25519"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/idmesh/idmesh/did/zip215"
	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/registry"
)

// HeaderChain checks a header chain from the genesis in batches, as a
// syncing node receives it from peers, by exactly the rules of
// VerifyHeaders: each header extends the previous one, is decided by the
// set the previous header named as next (the genesis set first) and is
// committed by more than two thirds of that set's power. A batch that
// fails changes nothing, so the same heights can be asked of another
// peer. Not safe for concurrent use.
type HeaderChain struct {
	g        *registry.Genesis
	vs       *registry.ValidatorSet
	want     registry.Hash // the hash of the set deciding the next height
	prevID   registry.Hash
	prevTime time.Time
	last     *SignedHeader
	sets     []*registry.ValidatorSet
}

// NewHeaderChain starts a header chain of g at height 0.
func NewHeaderChain(g *registry.Genesis) (*HeaderChain, error) {
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("header chain: %w: %w", ErrUntrustedHeader, err)
	}
	vs, err := g.ValidatorSet()
	if err != nil {
		return nil, fmt.Errorf("header chain: %w: %w", ErrUntrustedHeader, err)
	}
	return &HeaderChain{g: g, vs: vs, want: vs.Hash(), prevTime: g.GenesisTime, sets: []*registry.ValidatorSet{vs}}, nil
}

// Height returns the height of the last header checked.
func (c *HeaderChain) Height() uint64 {
	if c.last == nil {
		return 0
	}
	return c.last.Header.Height
}

// Sets returns the validator sets met so far, the genesis set first:
// those that decided a checked header.
func (c *HeaderChain) Sets() []*registry.ValidatorSet { return c.sets }

// Add checks the headers of batch, which must start at Height()+1, and
// extends the chain with them. On error nothing is added; errors wrap
// ErrUntrustedHeader.
func (c *HeaderChain) Add(batch []SignedHeader) error {
	vs, want, prevID, prevTime := c.vs, c.want, c.prevID, c.prevTime
	sets := c.sets
	// The links, heights, times and sets are checked in order; the
	// commits of the headers that pass them after, together
	// (verifyCommits), and the first failure by height is the error, as
	// if each header were checked whole before the next.
	jobs := make([]commitJob, 0, len(batch))
	linkErr := func() error {
		for i := range batch {
			s := &batch[i]
			h := &s.Header
			height := c.Height() + uint64(i) + 1
			switch {
			case h.ChainID != c.g.ChainID:
				return fmt.Errorf("verify header %d: chain %q, want %q: %w", height, h.ChainID, c.g.ChainID, ErrUntrustedHeader)
			case h.Height != height:
				return fmt.Errorf("verify header %d: height %d: %w", height, h.Height, ErrUntrustedHeader)
			case h.LastBlockID != prevID:
				return fmt.Errorf("verify header %d: previous block %s, want %s: %w", height, h.LastBlockID, prevID, ErrUntrustedHeader)
			case !h.Time.After(prevTime):
				return fmt.Errorf("verify header %d: time %s not after %s: %w", height, h.Time, prevTime, ErrUntrustedHeader)
			}
			if s.Validators != nil {
				if err := s.Validators.Validate(); err != nil {
					return fmt.Errorf("verify header %d: %w: %w", height, ErrUntrustedHeader, err)
				}
				if s.Validators.Hash() != vs.Hash() {
					vs = s.Validators
					sets = append(sets[:len(sets):len(sets)], vs)
				}
			}
			if got := vs.Hash(); got != want || h.ValidatorsHash != want {
				return fmt.Errorf("verify header %d: validator set %s, header says %s, the previous header named %s: %w", height, got, h.ValidatorsHash, want, ErrUntrustedHeader)
			}
			id := h.ID()
			jobs = append(jobs, commitJob{height: height, vs: vs, id: id, commit: s.Commit})
			want, prevID, prevTime = h.NextValidatorsHash, id, h.Time
		}
		return nil
	}()
	if err := verifyCommits(c.g.ChainID, jobs); err != nil {
		return err
	}
	if linkErr != nil {
		return linkErr
	}
	if len(batch) == 0 {
		return nil
	}
	c.vs, c.want, c.prevID, c.prevTime, c.sets = vs, want, prevID, prevTime, sets
	last := batch[len(batch)-1]
	c.last = &last
	return nil
}

// NextHash returns the hash of the validator set that decides the height
// after the last header: the set Trusted needs.
func (c *HeaderChain) NextHash() registry.Hash { return c.want }

// Current returns the validator set that decided the last header.
func (c *HeaderChain) Current() *registry.ValidatorSet { return c.vs }

// Trusted returns the last header as trusted, as VerifyHeaders does; next
// must be the set it names as next.
func (c *HeaderChain) Trusted(next *registry.ValidatorSet) (*Trusted, error) {
	if c.last == nil {
		return nil, fmt.Errorf("verify headers: no headers: %w", ErrUntrustedHeader)
	}
	if next == nil {
		return nil, fmt.Errorf("verify headers: no next validator set: %w", ErrUntrustedHeader)
	}
	if err := next.Validate(); err != nil {
		return nil, fmt.Errorf("verify headers: next validators: %w: %w", ErrUntrustedHeader, err)
	}
	if next.Hash() != c.want {
		return nil, fmt.Errorf("verify headers: next validator set %s, the last header names %s: %w", next.Hash(), c.want, ErrUntrustedHeader)
	}
	return &Trusted{Header: c.last.Header, Commit: c.last.Commit, Validators: c.vs, NextValidators: next}, nil
}

// Entries returns the number of state entries restored so far.
func (r *Restorer) Entries() int { return r.entries }

// commitJob is a header's commit to verify against the set deciding it.
type commitJob struct {
	height uint64
	vs     *registry.ValidatorSet
	id     registry.Hash
	commit *registry.Commit
}

// verifyCommits verifies the commits of jobs exactly as
// registry.VerifyCommit does one by one and returns the error of the
// lowest height that fails, or nil. First every commit's rules are
// checked with its signatures queued instead of verified, and the
// signatures then verified together (zip215.Batch, the rule
// registry.VerifySignature applies alone, which accepts exactly the same
// signatures), a share of the jobs on each core. If anything fails there,
// the commits are checked again one by one, in height order, for the
// error.
func verifyCommits(chainID string, jobs []commitJob) error {
	if batchCommits(chainID, jobs) {
		return nil
	}
	for i := range jobs {
		j := &jobs[i]
		if err := registry.VerifyCommit(chainID, j.vs, j.height, j.id, j.commit); err != nil {
			return fmt.Errorf("verify header %d: %w: %w", j.height, ErrUntrustedHeader, err)
		}
	}
	// The batch refused a signature each check accepts: zip215 promises
	// this never happens; the answer is the checks'.
	return nil
}

// commitsPerWorker is the fewest commits worth a goroutine of their own.
const commitsPerWorker = 64

// batchCommits reports whether every commit of jobs passes, checking
// their signatures in batches on every core.
func batchCommits(chainID string, jobs []commitJob) bool {
	if len(jobs) == 0 {
		return true
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), len(jobs)/commitsPerWorker))
	per := (len(jobs) + workers - 1) / workers
	ok := make([]bool, workers)
	var wg sync.WaitGroup
	for w := range workers {
		part := jobs[min(w*per, len(jobs)):min((w+1)*per, len(jobs))]
		wg.Go(func() {
			var b zip215.Batch
			queue := func(pub ed25519.PublicKey, msg, sig []byte) bool {
				b.Add(pub, msg, sig)
				return true
			}
			for i := range part {
				j := &part[i]
				if consensus.VerifyCommitWith(queue, chainID, j.vs, j.height, j.id, j.commit) != nil {
					return
				}
			}
			ok[w] = b.Verify()
		})
	}
	wg.Wait()
	return !slices.Contains(ok, false)
}
