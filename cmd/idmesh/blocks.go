package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/registry"
)

func newBlocksCmd(a *app) *cobra.Command {
	return a.groupCmd("blocks", "follow a node's chain", newBlocksTailCmd(a))
}

// blockLine is what `idmesh blocks tail` prints of a block.
type blockLine struct {
	Height   uint64           `json:"height"`
	Time     time.Time        `json:"time"`
	Txs      int              `json:"txs"`
	Proposer registry.Address `json:"proposer"`
	BlockID  registry.Hash    `json:"block_id"`
}

// minBlocksPoll bounds --poll from below: a client asks a node at most
// this often for a block it does not have yet.
const minBlocksPoll = 50 * time.Millisecond

func newBlocksTailCmd(a *app) *cobra.Command {
	var f clientFlags
	var from, count uint64
	var poll time.Duration
	c := a.command("tail [--from HEIGHT] [--count N] [--node URL]", "print a node's blocks as they are committed",
		func(ctx context.Context, e env, pos []string) error {
			if len(pos) != 0 {
				return usageError("blocks tail takes no arguments")
			}
			if poll < minBlocksPoll {
				return usageError(fmt.Sprintf("--poll %s is below %s", poll, minBlocksPoll))
			}
			return tailBlocks(ctx, e, f, from, count, poll)
		})
	c.Long = `Print a node's blocks, one line each (height, time, transactions, proposer,
block ID; with --json one JSON object a line), from --from (default the latest
block) and then each new one as the node commits it, until interrupted or --count
blocks are printed. A block not there yet is asked for again every --poll.`
	fs := c.Flags()
	f.register(fs)
	fs.Uint64Var(&from, "from", 0, "first height to print (0: the latest block)")
	fs.Uint64Var(&count, "count", 0, "stop after this many blocks (0: follow until interrupted)")
	fs.DurationVar(&poll, "poll", time.Second, "how often to ask for a block not committed yet")
	return c
}

func tailBlocks(ctx context.Context, e env, f clientFlags, from, count uint64, poll time.Duration) error {
	cl, err := f.client()
	if err != nil {
		return err
	}
	if from == 0 {
		var st api.StatusResponse
		if _, err := cl.do(ctx, http.MethodGet, "/v1/status", nil, "", &st); err != nil {
			return err
		}
		from = max(st.Height, 1)
	}
	enc := json.NewEncoder(e.stdout)
	for h, printed := from, uint64(0); count == 0 || printed < count; {
		var b api.BlockResponse
		_, err := cl.do(ctx, http.MethodGet, "/v1/blocks/"+strconv.FormatUint(h, 10), nil, "", &b)
		var pe *problemError
		switch {
		case errors.As(err, &pe) && pe.p.Type == api.ProblemNotFound:
			// Not committed yet: ask again.
			t := time.NewTimer(poll)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil // interrupted: what was asked for is printed
			case <-t.C:
			}
			continue
		case err != nil:
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		l := blockLine{Height: b.Header.Height, Time: b.Header.Time.UTC(), Txs: len(b.Txs), Proposer: b.Header.Proposer, BlockID: b.BlockID}
		if e.json {
			if err := enc.Encode(l); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(e.stdout, "height %d  time %s  txs %d  proposer %s  block %s\n", l.Height, l.Time.Format("2006-01-02T15:04:05.000Z"), l.Txs, inLine(fmt.Sprint(l.Proposer)), inLine(fmt.Sprint(l.BlockID)))
		}
		h, printed = h+1, printed+1
	}
	return nil
}
