package p2p

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/sync/errgroup"

	"github.com/idmesh/idmesh/registry"
)

// Sync response tags.
const (
	tagEnd   = 0
	tagBlock = 1
	tagError = 2
)

// maxErrorBytes bounds an error message in a response.
const maxErrorBytes = 1024

// Status is a peer's view of its chain, from the status protocol.
type Status struct {
	// Peer is the peer's ID.
	Peer string
	// Height is the height of its last committed block, LastBlockID that
	// block's ID (zero at height 0).
	Height      uint64
	LastBlockID registry.Hash
}

// FetchBlocks asks peer for the committed blocks from..to (inclusive) and
// their commits, over the sync protocol. The peer answers with a prefix of
// the range: at most Config.MaxSyncBlocks blocks or about MaxSyncBytes,
// and nothing beyond its tip, so the caller asks again from the height
// after the last block returned. An empty result means the peer has
// nothing from `from` on.
//
// Only the shape is checked here (the blocks decode and pass
// ValidateBasic, their heights run from `from` without gaps, and each
// commit names its block's height and ID); nothing is verified: the caller
// must check each commit against the validator set of its height
// (registry.VerifyCommit) and the chain's rules (registry.Chain.Verify)
// before trusting or committing a block.
func (h *Host) FetchBlocks(ctx context.Context, peerID string, from, to uint64) ([]Decided, error) {
	if from == 0 || to < from {
		return nil, fmt.Errorf("p2p: fetch blocks: bad range %d..%d", from, to)
	}
	p, err := peer.Decode(peerID)
	if err != nil {
		return nil, fmt.Errorf("p2p: fetch blocks: %w", err)
	}
	s, err := h.host.NewStream(ctx, p, h.protoSync)
	if err != nil {
		return nil, fmt.Errorf("p2p: fetch blocks from %s: %w", p, err)
	}
	defer s.Close()
	s.SetDeadline(h.deadline(ctx))
	var w writer
	w.u8(wireVersion)
	w.u64(from)
	w.u64(to)
	if _, err := s.Write(w.b); err != nil {
		s.Reset()
		return nil, fmt.Errorf("p2p: fetch blocks from %s: %w", p, err)
	}
	// The server may answer and close before our half-close lands (its
	// close cancels our side), so a failed CloseWrite is no failure: the
	// response tells.
	_ = s.CloseWrite()
	out, err := h.readBlocks(bufio.NewReader(io.LimitReader(s, int64(h.cfg.MaxSyncBytes+h.cfg.MaxMessageBytes+64<<10))), from)
	if err != nil {
		s.Reset()
		return nil, fmt.Errorf("p2p: fetch blocks from %s: %w", p, err)
	}
	return out, nil
}

// readBlocks reads a sync response.
func (h *Host) readBlocks(r *bufio.Reader, from uint64) ([]Decided, error) {
	var out []Decided
	for {
		tag, err := r.ReadByte()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		switch tag {
		case tagEnd:
			return out, nil
		case tagError:
			msg, err := readField(r, maxErrorBytes)
			if err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %s", ErrRemote, msg)
		case tagBlock:
		default:
			return nil, fmt.Errorf("%w: response tag %d", ErrMalformed, tag)
		}
		if len(out) >= h.cfg.MaxSyncBlocks {
			return nil, fmt.Errorf("%w: more than %d blocks", ErrTooLarge, h.cfg.MaxSyncBlocks)
		}
		rb, err := readField(r, h.cfg.MaxMessageBytes)
		if err != nil {
			return nil, err
		}
		rc, err := readField(r, h.cfg.MaxMessageBytes)
		if err != nil {
			return nil, err
		}
		b, err := registry.DecodeBlock(rb)
		if err != nil {
			return nil, fmt.Errorf("%w: block: %w", ErrMalformed, err)
		}
		c, err := registry.DecodeCommit(rc)
		if err != nil {
			return nil, fmt.Errorf("%w: commit: %w", ErrMalformed, err)
		}
		want := from + uint64(len(out))
		if b.Header.Height != want || c.Height != want || c.BlockID != b.ID() {
			return nil, fmt.Errorf("%w: block %d (commit for %d) where %d was due", ErrMalformed, b.Header.Height, c.Height, want)
		}
		out = append(out, Decided{Block: b, Commit: c})
	}
}

// readField reads a u32 length and that many bytes, at most limit.
func readField(r io.Reader, limit int) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	size := binary.BigEndian.Uint32(n[:])
	if uint64(size) > uint64(limit) {
		return nil, fmt.Errorf("%w: field of %d bytes", ErrTooLarge, size)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return b, nil
}

// handleSync serves one sync request from Config.Blocks.
func (h *Host) handleSync(s network.Stream) {
	defer s.Close()
	select {
	case h.syncs <- struct{}{}:
		defer func() { <-h.syncs }()
	default:
		s.Reset() // busy: the peer asks someone else
		return
	}
	var req [17]byte
	if _, err := io.ReadFull(s, req[:]); err != nil || req[0] != wireVersion {
		s.Reset()
		return
	}
	from, to := binary.BigEndian.Uint64(req[1:9]), binary.BigEndian.Uint64(req[9:17])
	bw := bufio.NewWriter(s)
	if err := h.serveBlocks(bw, from, to); err != nil {
		h.log.Debug("sync request not served", "peer", s.Conn().RemotePeer(), "err", err)
		s.Reset()
		return
	}
	if err := bw.Flush(); err != nil {
		s.Reset()
	}
}

// serveBlocks writes the response to a request for from..to.
func (h *Host) serveBlocks(bw *bufio.Writer, from, to uint64) error {
	fail := func(msg string) error {
		var w writer
		w.u8(tagError)
		w.str(msg)
		_, err := bw.Write(w.b)
		return err
	}
	if from == 0 || to < from {
		return fail(fmt.Sprintf("bad range %d..%d", from, to))
	}
	to = min(to, h.cfg.Blocks.Height())
	if span := uint64(h.cfg.MaxSyncBlocks) - 1; to-from > span && to >= from {
		to = from + span
	}
	total := 0
	for height := from; height <= to; height++ {
		b, err := h.cfg.Blocks.Block(height)
		if err != nil {
			if height == from && !errors.Is(err, registry.ErrNotFound) {
				return fail("block unavailable")
			}
			break
		}
		c, err := h.cfg.Blocks.Commit(height)
		if err != nil {
			if height == from && !errors.Is(err, registry.ErrNotFound) {
				return fail("commit unavailable")
			}
			break
		}
		rb, rc := b.Encode(), c.Encode()
		size := 1 + 8 + len(rb) + len(rc)
		if height > from && total+size > h.cfg.MaxSyncBytes {
			break
		}
		total += size
		var w writer
		w.u8(tagBlock)
		w.bytes(rb)
		w.bytes(rc)
		if _, err := bw.Write(w.b); err != nil {
			return err
		}
	}
	return bw.WriteByte(tagEnd)
}

// Status asks peer for its chain's height and last block ID.
func (h *Host) Status(ctx context.Context, peerID string) (Status, error) {
	p, err := peer.Decode(peerID)
	if err != nil {
		return Status{}, fmt.Errorf("p2p: status: %w", err)
	}
	st, err := h.status(ctx, p)
	if err != nil {
		return Status{}, fmt.Errorf("p2p: status of %s: %w", p, err)
	}
	return st, nil
}

func (h *Host) status(ctx context.Context, p peer.ID) (Status, error) {
	s, err := h.host.NewStream(network.WithNoDial(ctx, "status"), p, h.protoStatus)
	if err != nil {
		return Status{}, err
	}
	defer s.Close()
	s.SetDeadline(h.deadline(ctx))
	_ = s.CloseWrite() // the server reads nothing; see FetchBlocks
	raw, err := io.ReadAll(io.LimitReader(s, 1+4+registry.MaxChainIDBytes+8+32+1))
	if err != nil {
		s.Reset()
		return Status{}, err
	}
	st, err := decodeStatus(raw, h.cfg.ChainID)
	if err != nil {
		return Status{}, err
	}
	st.Peer = p.String()
	return st, nil
}

// decodeStatus decodes a status answer of a peer on chainID.
func decodeStatus(raw []byte, chainID string) (Status, error) {
	r := reader{b: raw}
	if v := r.u8(); r.err == nil && v != wireVersion {
		return Status{}, fmt.Errorf("%w: status version %d", ErrMalformed, v)
	}
	peerChain := r.str(registry.MaxChainIDBytes)
	st := Status{Height: r.u64(), LastBlockID: r.hash()}
	if err := r.finish(); err != nil {
		return Status{}, err
	}
	if peerChain != chainID {
		return Status{}, fmt.Errorf("%w: peer is on %q", ErrWrongChain, peerChain)
	}
	return st, nil
}

// handleStatus answers a status request from Config.Blocks.
func (h *Host) handleStatus(s network.Stream) {
	defer s.Close()
	height := h.cfg.Blocks.Height()
	var id registry.Hash
	if height > 0 {
		c, err := h.cfg.Blocks.Commit(height)
		if err != nil {
			s.Reset()
			return
		}
		id = c.BlockID
	}
	var w writer
	w.u8(wireVersion)
	w.str(h.cfg.ChainID)
	w.u64(height)
	w.hash(id)
	if _, err := s.Write(w.b); err != nil {
		s.Reset()
	}
}

// Statuses asks every connected peer for its status, at most eight at a
// time, and returns the answers, highest first. Peers that fail to answer
// are left out.
func (h *Host) Statuses(ctx context.Context) []Status {
	peers := h.host.Network().Peers()
	res := make([]*Status, len(peers))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, p := range peers {
		g.Go(func() error {
			if st, err := h.status(gctx, p); err == nil {
				res[i] = &st
			}
			return nil
		})
	}
	g.Wait()
	var out []Status
	for _, st := range res {
		if st != nil {
			out = append(out, *st)
		}
	}
	slices.SortStableFunc(out, func(a, b Status) int {
		switch {
		case a.Height > b.Height:
			return -1
		case a.Height < b.Height:
			return 1
		}
		return 0
	})
	return out
}

// BestPeer returns the status of the connected peer with the highest
// chain, which a syncing node fetches blocks from. It fails with
// ErrNoPeers if no peer answers.
func (h *Host) BestPeer(ctx context.Context) (Status, error) {
	all := h.Statuses(ctx)
	if len(all) == 0 {
		return Status{}, ErrNoPeers
	}
	return all[0], nil
}
