package leveldb_test

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
)

// kvHandler: payload "KEY=VALUE" writes a state key.
type kvHandler struct{}

func (kvHandler) DeliverTx(_ registry.TxContext, st *registry.Overlay, p []byte) error {
	k, v, ok := bytes.Cut(p, []byte("="))
	if !ok {
		return registry.Reject(registry.CodeInvalid, errors.New("want KEY=VALUE"))
	}
	st.Set(k, v)
	return nil
}

func machine() *registry.Machine {
	return registry.NewMachine(map[registry.TxType]registry.Handler{registry.TxDIDOperation: kvHandler{}})
}

var validatorKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))

func genesis() *registry.Genesis {
	return &registry.Genesis{ChainID: "crash", GenesisTime: time.Unix(1_700_000_000, 0).UTC(),
		Validators: []registry.Validator{{PubKey: validatorKey.Public().(ed25519.PublicKey), Power: 1}}}
}

// commitNext proposes and commits one block of n writes.
func commitNext(t testing.TB, c *registry.Chain, store registry.Store, n int) {
	st := c.State()
	var last *registry.Commit
	if st.Height > 0 {
		var err error
		if last, err = store.Commit(st.Height); err != nil {
			t.Fatal(err)
		}
	}
	txs := make([]registry.Tx, n)
	for i := range txs {
		txs[i] = registry.Tx{Type: registry.TxDIDOperation, Payload: fmt.Appendf(nil, "k%d-%d=v%d", st.Height+1, i, i)}
	}
	addr := registry.AddressOf(validatorKey.Public().(ed25519.PublicKey))
	b, rej, err := c.Propose(txs, st.LastBlockTime.Add(time.Second), addr, last)
	if err != nil || len(rej) > 0 {
		t.Fatalf("propose: %v %v", err, rej)
	}
	id := b.ID()
	commit := &registry.Commit{Height: b.Header.Height, BlockID: id, Signatures: []registry.CommitSig{{Validator: addr, Signature: ed25519.Sign(validatorKey, registry.VoteSignBytes(st.ChainID, b.Header.Height, 0, id))}}}
	if _, err := c.Commit(b, commit); err != nil {
		t.Fatal(err)
	}
}

func TestSaveBlockMustExtendTip(t *testing.T) {
	store, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	c, err := registry.OpenChain(store, genesis(), machine())
	if err != nil {
		t.Fatal(err)
	}
	commitNext(t, c, store, 3)
	b, err := store.Block(1)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SaveBlock(&registry.BlockUpdate{Block: b, Results: make([]registry.Result, len(b.Txs))}); err == nil {
		t.Fatal("saved block 1 twice")
	}
	other := genesis()
	other.ChainID = "other"
	if err := store.SaveGenesis(other); err == nil {
		t.Fatal("accepted a second, different genesis")
	}
}

// TestCrashRecovery kills a process that commits blocks at arbitrary
// moments, many times, and checks after each kill that the store opens
// at a complete block whose state matches a replay of the chain.
func TestCrashRecovery(t *testing.T) {
	if os.Getenv("IDMESH_CRASH_CHILD") != "" {
		crashChild(t, os.Getenv("IDMESH_CRASH_CHILD"))
		return
	}
	dir := t.TempDir()
	rounds := 6
	if os.Getenv("IDMESH_LONG") != "" {
		rounds = 60
	}
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashRecovery$", "-test.count=1")
		cmd.Env = append(os.Environ(), "IDMESH_CRASH_CHILD="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill after a varying number of committed blocks: the child is
		// then somewhere inside its next block.
		sc := bufio.NewScanner(out)
		want := 1 + round%4
		for seen := 0; seen < want && sc.Scan(); {
			if strings.HasPrefix(sc.Text(), "committed") {
				seen++
			}
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		checkStore(t, dir)
	}
}

func crashChild(t *testing.T, dir string) {
	store, err := leveldb.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := registry.OpenChain(store, genesis(), machine())
	if err != nil {
		t.Fatal(err)
	}
	for {
		commitNext(t, c, store, 200)
		fmt.Printf("committed %d\n", c.State().Height)
	}
}

// checkStore opens the store, checks that its tip is a complete block,
// and replays every block into a fresh store to compare state roots.
func checkStore(t *testing.T, dir string) {
	t.Helper()
	store, err := leveldb.Open(dir)
	if err != nil {
		t.Fatalf("reopen after crash: %v", err)
	}
	defer store.Close()
	st, ok, err := store.State()
	if err != nil || !ok {
		t.Fatalf("state after crash: %v", err)
	}
	if _, err := store.Block(st.Height + 1); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("a block above the tip %d exists: %v", st.Height, err)
	}
	replay, _ := leveldb.OpenMemory()
	defer replay.Close()
	rc, err := registry.OpenChain(replay, genesis(), machine())
	if err != nil {
		t.Fatal(err)
	}
	for h := uint64(1); h <= st.Height; h++ {
		b, err := store.Block(h)
		if err != nil {
			t.Fatalf("block %d below the tip %d: %v", h, st.Height, err)
		}
		c, err := store.Commit(h)
		if err != nil {
			t.Fatalf("commit %d: %v", h, err)
		}
		if _, err := rc.Commit(b, c); err != nil {
			t.Fatalf("replay block %d: %v", h, err)
		}
		for i, tx := range b.Txs {
			rec, err := store.Tx(tx.Hash())
			if err != nil || rec.Height != h || rec.Index != uint32(i) {
				t.Fatalf("tx index at %d/%d: %+v %v", h, i, rec, err)
			}
		}
	}
	if rc.State().StateRoot != st.StateRoot || rc.State().LastBlockID != st.LastBlockID {
		t.Fatalf("replayed state root differs at height %d", st.Height)
	}
	// Every state key the replay wrote is in the crashed store with the same value.
	k := fmt.Appendf(nil, "k%d-%d", st.Height, 199)
	if st.Height > 0 {
		if _, err := store.Get(k); err != nil {
			t.Fatalf("last block's write %s missing: %v", k, err)
		}
	}
}
