package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/snapshot"
)

// Weak subjectivity (security review, long-range attack): a validator
// set that governance replaced still holds keys that decided real
// heights, and may sign another chain from there that every header check
// from the genesis accepts. Two checks narrow it: a trusted checkpoint
// (StateSync.Trust), a block ID the operator got from a source they
// trust, which the verified header chain must hold; and a cross-check of
// the target header with other peers (StateSync.CrossCheck).

// StateSyncTrust is a trusted checkpoint: the block ID the header chain
// must hold at Height (idmesh node --state-sync-trust HEIGHT:BLOCKID).
type StateSyncTrust struct {
	// Height is the checkpoint's height (at least 1).
	Height uint64
	// BlockID is the ID of the block at Height (its header's hash).
	BlockID registry.Hash
}

// String returns the checkpoint as HEIGHT:BLOCKID, the form
// ParseStateSyncTrust reads.
func (t StateSyncTrust) String() string { return fmt.Sprintf("%d:%s", t.Height, t.BlockID) }

// maxTrustBytes bounds the text of a checkpoint: 20 digits, a colon and
// 64 hex digits.
const maxTrustBytes = 20 + 1 + 64

// ErrTrustSyntax reports a checkpoint that is not HEIGHT:BLOCKID.
var ErrTrustSyntax = errors.New("want HEIGHT:BLOCKID, a decimal height of at least 1 and the block's 64-digit hex ID")

// ParseStateSyncTrust reads a checkpoint written HEIGHT:BLOCKID: a
// decimal height of at least 1 without sign, leading zeros or spaces, one
// colon, and the block ID as 64 hex digits. Errors wrap ErrTrustSyntax.
func ParseStateSyncTrust(s string) (StateSyncTrust, error) {
	if len(s) > maxTrustBytes {
		return StateSyncTrust{}, fmt.Errorf("parse checkpoint: %d bytes: %w", len(s), ErrTrustSyntax)
	}
	hs, id, ok := strings.Cut(s, ":")
	if !ok {
		return StateSyncTrust{}, fmt.Errorf("parse checkpoint %q: no colon: %w", s, ErrTrustSyntax)
	}
	if hs == "" || hs[0] == '0' || strings.TrimLeft(hs, "0123456789") != "" {
		return StateSyncTrust{}, fmt.Errorf("parse checkpoint %q: height %q: %w", s, hs, ErrTrustSyntax)
	}
	h, err := strconv.ParseUint(hs, 10, 64)
	if err != nil {
		return StateSyncTrust{}, fmt.Errorf("parse checkpoint %q: height %q out of range: %w", s, hs, ErrTrustSyntax)
	}
	bid, err := registry.ParseHash(id)
	if err != nil {
		return StateSyncTrust{}, fmt.Errorf("parse checkpoint %q: block ID: %w", s, ErrTrustSyntax)
	}
	return StateSyncTrust{Height: h, BlockID: bid}, nil
}

// CrossCheckMode says what state sync does when no peer other than the
// one that served the target header answers the cross-check.
type CrossCheckMode int

const (
	// CrossCheckBestEffort proceeds with a warning (a lone peer is the
	// common case in small test networks).
	CrossCheckBestEffort CrossCheckMode = iota
	// CrossCheckRequired refuses to proceed unless another peer confirms
	// the header, or a trusted checkpoint is given (StateSync.Trust).
	CrossCheckRequired
)

// String returns the mode's name as the flag spells it.
func (m CrossCheckMode) String() string {
	if m == CrossCheckRequired {
		return "required"
	}
	return "best-effort"
}

// ErrCrossCheckMode reports a cross-check mode that is neither
// best-effort nor required.
var ErrCrossCheckMode = errors.New("want best-effort or required")

// ParseCrossCheckMode reads "best-effort" or "required" (exactly).
func ParseCrossCheckMode(s string) (CrossCheckMode, error) {
	switch s {
	case "best-effort":
		return CrossCheckBestEffort, nil
	case "required":
		return CrossCheckRequired, nil
	}
	if len(s) > 32 {
		s = s[:32] + "…"
	}
	return 0, fmt.Errorf("parse cross-check mode %q: %w", s, ErrCrossCheckMode)
}

// Errors of the checkpoint and the cross-check.
var (
	// ErrTrustMismatch reports that the peers' header chains do not hold
	// the trusted checkpoint's block (a wrong checkpoint, or peers on a
	// fork).
	ErrTrustMismatch = errors.New("the header chain does not hold the checkpoint's block (a wrong checkpoint, or peers on another chain)")
	// ErrHeaderConflict reports two header chains, each verified from
	// the genesis, that hold different blocks at the same height: a
	// fork signed by a validator set (a long-range attack), which only a
	// trusted checkpoint can settle.
	ErrHeaderConflict = errors.New("peers disagree on a header verified from the genesis")
	// ErrNotCrossChecked reports, with CrossCheckRequired and no
	// checkpoint, that no other peer confirmed the target header.
	ErrNotCrossChecked = errors.New("no other peer confirmed the header")
)

// Bounds of the cross-check.
const (
	// maxCrossCheckPeers bounds the peers asked for the target header.
	maxCrossCheckPeers = 16
	// crossCheckParallel bounds the requests in flight.
	crossCheckParallel = 4
	// DefaultCrossCheckWait is StateSync.CrossCheckWait's default.
	DefaultCrossCheckWait = 30 * time.Second
)

// peerLister is what lists the connected peers (a *p2p.Host); without
// it the cross-check asks the peers that offered snapshots.
type peerLister interface{ Peers() []string }

// trustCheck checks the batch that starts at from against the
// checkpoint: nil if the batch does not reach its height or holds its
// block there.
func (s *StateSync) trustCheck(q string, from uint64, batch []snapshot.SignedHeader) error {
	t := s.Trust
	if t == nil || t.Height < from || t.Height-from >= uint64(len(batch)) {
		return nil
	}
	if got := batch[t.Height-from].Header.ID(); got != t.BlockID {
		return fmt.Errorf("%w: peer %s serves block %s at height %d, the checkpoint says %s", ErrTrustMismatch, q, got, t.Height, t.BlockID)
	}
	return nil
}

// fallbackHeights returns the heights a witness without a header at
// target is asked at, in turn, until it holds one: target-1, target-2,
// target-4, ... and 1 (at most 65). The joiner chooses them: offers
// cannot push them out (security review R6).
func fallbackHeights(target uint64) []uint64 {
	var hs []uint64
	for step := uint64(1); step < target; step *= 2 {
		hs = append(hs, target-step)
		if step > target/2 {
			break
		}
	}
	if target > 1 && hs[len(hs)-1] != 1 {
		hs = append(hs, 1)
	}
	return hs
}

// crossAnswer is one peer's answer to the cross-check.
type crossAnswer struct {
	peer   string
	height uint64
	header *snapshot.SignedHeader
	err    error
	// lie says the answer was malformed: the peer is refused.
	lie bool
}

// crossCheck asks other peers than server for the header at height and
// compares it with the verified one (ours; s.ours holds the verified
// IDs of the lower heights a peer lacking height is asked at instead). A peer that
// answers a different header must prove it where its chain parts from
// ours (proveFork): proven, a set signed two chains and the run ends
// (ErrHeaderConflict); not, the peer is refused. With no confirmation it warns, or, in CrossCheckRequired mode
// without a checkpoint, asks again every Retry for CrossCheckWait and
// then fails (ErrNotCrossChecked).
func (s *StateSync) crossCheck(ctx context.Context, height uint64, ours registry.Hash, server string) error {
	began := s.Now()
	for {
		agreed, err := s.crossCheckOnce(ctx, height, ours, server)
		if err != nil {
			return err
		}
		if agreed > 0 {
			s.Log.InfoContext(ctx, "state sync: header cross-checked", "height", height, "block", ours, "agreed", agreed)
			return nil
		}
		if s.CrossCheck != CrossCheckRequired || s.Trust != nil {
			s.Log.WarnContext(ctx, "state sync: no other peer confirmed the header, going on the word of the peer that served it", "height", height, "block", ours, "peer", server)
			return nil
		}
		if waited := s.Now().Sub(began); waited >= s.CrossCheckWait {
			return fmt.Errorf("%w at height %d (block %s, served by %s) within %s, and the cross-check is required without a checkpoint", ErrNotCrossChecked, height, ours, server, s.CrossCheckWait)
		}
		s.Log.InfoContext(ctx, "state sync: waiting for another peer to confirm the header", "height", height)
		if err := sleep(ctx, s.Retry); err != nil {
			return err
		}
	}
}

// crossCheckOnce asks the other peers once; it returns how many
// confirmed the header.
func (s *StateSync) crossCheckOnce(ctx context.Context, height uint64, ours registry.Hash, server string) (int, error) {
	var cands []string
	if l, ok := s.Peers.(peerLister); ok {
		cands = l.Peers()
	} else {
		for q := range s.offered {
			cands = append(cands, q)
		}
		slices.Sort(cands)
	}
	cands = slices.DeleteFunc(slices.Clone(cands), func(q string) bool { return q == server || s.bad[q] })
	cands = slices.Compact(cands)
	// Peers that offered snapshots hold headers: asked first, so that
	// IDs that offer nothing cannot crowd them out (security review R6).
	slices.SortStableFunc(cands, func(a, b string) int {
		_, oa := s.offered[a]
		_, ob := s.offered[b]
		switch {
		case oa && !ob:
			return -1
		case ob && !oa:
			return 1
		}
		return 0
	})
	if len(cands) > maxCrossCheckPeers {
		cands = cands[:maxCrossCheckPeers]
	}
	answers := make([]crossAnswer, len(cands))
	var wg sync.WaitGroup
	slots := make(chan struct{}, crossCheckParallel)
	for i, q := range cands {
		wg.Go(func() {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				answers[i] = crossAnswer{peer: q, err: ctx.Err()}
				return
			}
			defer func() { <-slots }()
			answers[i] = s.askHeader(ctx, q, height)
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	agreed := 0
	var conflicts []string
	for _, a := range answers {
		if a.lie {
			s.refuse(a.peer, "cross-check header", a.err)
			continue
		}
		if a.err != nil {
			s.Log.DebugContext(ctx, "state sync: cross-check unanswered", "peer", a.peer, "height", height, "err", a.err)
			continue
		}
		want := ours
		if a.height != height {
			want = s.ours[a.height-1].id
		}
		got := a.header.Header.ID()
		if got == want {
			agreed++
			continue
		}
		if t := s.Trust; t != nil && a.height < t.Height {
			// Ours holds the checkpoint, which descends from ours here:
			// no chain through another block here can hold it.
			s.refuse(a.peer, "cross-check header", fmt.Errorf("%w: peer %s serves block %s at height %d, below the checkpoint, on another chain than the checkpoint's", ErrTrustMismatch, a.peer, got, a.height))
			continue
		}
		vctx, cancel := context.WithTimeout(ctx, s.verifyBudget)
		at, err := s.proveFork(vctx, a.peer, a.height, a.header)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			// Not proven in time, or not at all: not asked again.
			s.Log.WarnContext(ctx, "state sync: a peer's different header did not verify", "peer", a.peer, "height", a.height, "block", got, "err", err)
			s.refuse(a.peer, "cross-check header", fmt.Errorf("block %s at height %d not proven: %w", got, a.height, err))
			continue
		}
		s.prog.Conflicts++
		s.report()
		s.Log.WarnContext(ctx, "state sync: peers disagree on a verified header", "height", a.height,
			"peer", server, "block", want, "other_peer", a.peer, "other_block", got, "parted_at", at)
		conflicts = append(conflicts, fmt.Sprintf("at height %d the chain served by %s holds block %s, the chain of %s block %s (they part at height %d, both committed by the set that decided it)", a.height, server, want, a.peer, got, at))
	}
	if len(conflicts) > 0 {
		return 0, fmt.Errorf("%w (conflicts: %d; %s): a validator set signed two chains; give a checkpoint (HEIGHT:BLOCKID) from a source you trust", ErrHeaderConflict, len(conflicts), strings.Join(conflicts, "; "))
	}
	return agreed, nil
}

// askHeader asks q for its header at height, or, if it answers that it
// has none there (p2p.ErrRemote), for its highest header below: first at
// fallbackHeights(height) until it holds one, then by halves between that
// and the lowest height it lacks (security review R6: a witness was asked
// only at offered heights, which a fork's IDs chose).
func (s *StateSync) askHeader(ctx context.Context, q string, height uint64) crossAnswer {
	a := s.fetchOne(ctx, q, height)
	if !a.noHeader() {
		return a
	}
	lacks, found := height, crossAnswer{}
	for _, h := range fallbackHeights(height) {
		b := s.fetchOne(ctx, q, h)
		if !b.noHeader() {
			found = b
			break
		}
		lacks = h
	}
	if found.header == nil {
		if found.err != nil || found.lie {
			return found
		}
		return a
	}
	for lacks-found.height > 1 {
		mid := found.height + (lacks-found.height)/2
		b := s.fetchOne(ctx, q, mid)
		switch {
		case b.noHeader():
			lacks = mid
		case b.lie:
			return b
		case b.err != nil:
			return found // the highest it answered
		default:
			found = b
		}
	}
	return found
}

// noHeader reports whether the answer says the peer holds no header
// there (an error answer, not a failure to answer).
func (a crossAnswer) noHeader() bool {
	return a.err != nil && !a.lie && errors.Is(a.err, p2p.ErrRemote)
}

// fetchOne asks q for the one header at height.
func (s *StateSync) fetchOne(ctx context.Context, q string, height uint64) crossAnswer {
	rctx, cancel := context.WithTimeout(ctx, s.RequestTimeout)
	defer cancel()
	b, err := s.Peers.FetchHeaders(rctx, q, height, height)
	switch {
	case errors.Is(err, p2p.ErrMalformed) || errors.Is(err, p2p.ErrTooLarge):
		return crossAnswer{peer: q, height: height, lie: true, err: err}
	case err != nil:
		return crossAnswer{peer: q, height: height, err: err}
	case len(b.Headers) != 1 || b.Headers[0].Header.Height != height:
		return crossAnswer{peer: q, height: height, lie: true, err: fmt.Errorf("%w: %d headers answered for height %d", p2p.ErrMalformed, len(b.Headers), height)}
	}
	return crossAnswer{peer: q, height: height, header: &b.Headers[0]}
}

// refuse marks q as a liar.
func (s *StateSync) refuse(q, what string, err error) {
	s.bad[q] = true
	s.prog.Refused++
	s.Log.Warn("state sync: peer refused", "peer", q, "what", what, "err", err)
}

// proveFork finds where q's chain, whose header sh at height differs
// from ours, parts from ours (one header a request, by halves: at most
// 64 requests, each within RequestTimeout), and checks q's header there
// against our verified chain: it must follow our header below and be
// committed by the set that decided ours there. Then that set signed two
// headers at one height: a fork, proven without the rest of q's chain
// (security review R6: each witness's chain was fetched and checked from
// the genesis). It returns the height where the chains part; an error
// says the fork is not proven (the caller refuses q).
func (s *StateSync) proveFork(ctx context.Context, q string, height uint64, sh *snapshot.SignedHeader) (uint64, error) {
	if height == 0 || height > uint64(len(s.ours)) {
		return 0, fmt.Errorf("no verified header at %d", height)
	}
	lo, hi, top := uint64(0), height, sh
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		a := s.fetchOne(ctx, q, mid)
		if a.err != nil {
			return 0, fmt.Errorf("header %d: %w", mid, a.err)
		}
		if a.header.Header.ID() == s.ours[mid-1].id {
			lo = mid
		} else {
			hi, top = mid, a.header
		}
	}
	var prev registry.Hash // the genesis: height 1 follows none
	if lo > 0 {
		prev = s.ours[lo-1].id
	}
	h, want := &top.Header, s.ours[hi-1]
	set := s.ourSets[want.vals]
	switch {
	case set == nil:
		return 0, fmt.Errorf("no verified set of height %d", hi)
	case h.ChainID != s.Genesis.ChainID || h.Height != hi || h.LastBlockID != prev || h.ValidatorsHash != want.vals:
		return 0, fmt.Errorf("%w: header %d does not follow the verified chain", snapshot.ErrUntrustedHeader, hi)
	}
	if err := registry.VerifyCommit(s.Genesis.ChainID, set, hi, h.ID(), top.Commit); err != nil {
		return 0, fmt.Errorf("%w: header %d: %w", snapshot.ErrUntrustedHeader, hi, err)
	}
	if t := s.Trust; t != nil && hi <= t.Height {
		// Ours holds the checkpoint: a chain parting from it at or
		// below its height does not.
		return 0, fmt.Errorf("%w: peer %s's chain parts from the checkpoint's at height %d", ErrTrustMismatch, q, hi)
	}
	return hi, nil
}
