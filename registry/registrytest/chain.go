// Package registrytest builds chains full of DIDs for benchmarks and load
// tests: signed did:idmesh create operations, generated in parallel from
// a seed, committed through the real chain in blocks.
package registrytest

import (
	"bufio"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
)

// ChainID is the chain the generated operations are signed for.
const ChainID = "idmesh-bench"

// ValidatorKey is the benchmark chain's single validator.
var ValidatorKey = ed25519.NewKeyFromSeed(make([]byte, 32))

// Genesis returns the benchmark chain's genesis.
func Genesis() *registry.Genesis {
	return &registry.Genesis{ChainID: ChainID, GenesisTime: time.Unix(1_750_000_000, 0).UTC(),
		Validators: []registry.Validator{{PubKey: ValidatorKey.Public().(ed25519.PublicKey), Power: 1}}}
}

// NewCreate returns the i-th of a deterministic sequence of did:idmesh
// create operations, signed for chainID with its key (also returned): a
// document with one Ed25519 Multikey "#key-1" for authentication,
// assertions and changes.
func NewCreate(chainID string, i uint64) (*idmesh.Operation, keys.PrivateKey, error) {
	var seed [32]byte
	binary.BigEndian.PutUint64(seed[:], i)
	k, err := keys.Generate(keys.Ed25519, rand.NewChaCha8(seed))
	if err != nil {
		return nil, k, err
	}
	ref := []did.Relationship{did.Ref("#key-1")}
	doc := &did.Document{
		Context:            []any{did.ContextV1, did.ContextMultikey},
		VerificationMethod: []did.VerificationMethod{did.NewMultikey("#key-1", "", k.Public())},
		Authentication:     ref, AssertionMethod: ref, CapabilityInvocation: ref,
	}
	op := &idmesh.Operation{Type: idmesh.Create, Document: doc}
	return op, k, op.Sign(chainID, "#key-1", k)
}

// CreateOp returns the i-th create operation signed for ChainID as a
// transaction, and its DID.
func CreateOp(i uint64) (registry.Tx, string, error) {
	op, _, err := NewCreate(ChainID, i)
	if err != nil {
		return registry.Tx{}, "", err
	}
	d, err := op.SubjectDID()
	if err != nil {
		return registry.Tx{}, "", err
	}
	tx, err := registry.DIDTx(op)
	return tx, d, err
}

// CreateOps generates operations [from, from+n) on all cores.
func CreateOps(from, n uint64) ([]registry.Tx, []string, error) {
	txs, dids := make([]registry.Tx, n), make([]string, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	workers := uint64(runtime.GOMAXPROCS(0))
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				tx, d, err := CreateOp(from + i)
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				txs[i], dids[i] = tx, d
			}
		})
	}
	wg.Wait()
	return txs, dids, firstErr
}

// Chain is an open benchmark chain.
type Chain struct {
	*registry.Chain
	Store *leveldb.Store
	now   time.Time
}

// Open opens (or creates) a benchmark chain in dir; dir "" keeps it in memory.
func Open(dir string) (*Chain, error) {
	var s *leveldb.Store
	var err error
	if dir == "" {
		s, err = leveldb.OpenMemory()
	} else {
		s, err = leveldb.Open(dir)
	}
	if err != nil {
		return nil, err
	}
	c, err := registry.OpenChain(s, Genesis(), registry.NewMachineDefault())
	if err != nil {
		s.Close()
		return nil, err
	}
	return &Chain{Chain: c, Store: s, now: c.State().LastBlockTime}, nil
}

// Close closes the store.
func (c *Chain) Close() error { return c.Store.Close() }

// CommitBlock proposes txs as the next block, signs and commits it, and
// fails if any transaction was rejected.
func (c *Chain) CommitBlock(txs []registry.Tx) (*registry.Block, error) {
	st := c.State()
	var last *registry.Commit
	if st.Height > 0 {
		var err error
		if last, err = c.Store.Commit(st.Height); err != nil {
			return nil, err
		}
	}
	c.now = st.LastBlockTime.Add(time.Second)
	addr := registry.AddressOf(ValidatorKey.Public().(ed25519.PublicKey))
	b, rej, err := c.Propose(txs, c.now, addr, last)
	if err != nil {
		return nil, err
	}
	if len(rej) > 0 {
		return nil, fmt.Errorf("%d transactions rejected, first: %w", len(rej), rej[0].Err)
	}
	id := b.ID()
	sig := ed25519.Sign(ValidatorKey, registry.VoteSignBytes(ChainID, b.Header.Height, 0, id))
	if _, err := c.Commit(b, &registry.Commit{Height: b.Header.Height, BlockID: id, Signatures: []registry.CommitSig{{Validator: addr, Signature: sig}}}); err != nil {
		return nil, err
	}
	return b, nil
}

// Fill commits n generated creates, starting at index from, in blocks of
// blockSize, calling progress after each block. It returns the DIDs.
func (c *Chain) Fill(from, n uint64, blockSize int, progress func(done uint64)) ([]string, error) {
	var all []string
	for done := uint64(0); done < n; {
		k := min(uint64(blockSize), n-done)
		txs, dids, err := CreateOps(from+done, k)
		if err != nil {
			return nil, err
		}
		c.checkParallel(txs)
		if _, err := c.CommitBlock(txs); err != nil {
			return nil, err
		}
		all = append(all, dids...)
		done += k
		if progress != nil {
			progress(done)
		}
	}
	return all, nil
}

// checkParallel checks txs against the chain on all cores, as mempools do
// when transactions arrive; the signature cache then spares the block
// its verifications.
func (c *Chain) checkParallel(txs []registry.Tx) {
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	now := c.State().LastBlockTime.Add(time.Second)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(txs); i += workers {
				_ = c.CheckTx(txs[i], now)
			}
		})
	}
	wg.Wait()
}

// Stored is a benchmark store on disk with its list of DIDs.
type Stored struct {
	Dir  string
	DIDs []string
}

// EnsureStore returns the store of n DIDs in dir, building it first if it
// is missing, incomplete or of another store format (leveldb.ErrFormat).
// A finished store has dir/dids.txt.
func EnsureStore(dir string, n uint64, progress func(done uint64)) (*Stored, error) {
	list := filepath.Join(dir, "dids.txt")
	if b, err := os.ReadFile(list); err == nil {
		dids := strings.Fields(string(b))
		if uint64(len(dids)) == n && !OldFormat(filepath.Join(dir, "chain")) {
			return &Stored{Dir: filepath.Join(dir, "chain"), DIDs: dids}, nil
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	c, err := Open(filepath.Join(dir, "chain"))
	if err != nil {
		return nil, err
	}
	dids, err := c.Fill(0, n, 5000, progress)
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	f, err := os.Create(list + ".tmp")
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriter(f)
	for _, d := range dids {
		w.WriteString(d)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return &Stored{Dir: filepath.Join(dir, "chain"), DIDs: dids}, os.Rename(list+".tmp", list)
}

// OldFormat reports whether the store in dir is of another store format
// than this build's, so that a benchmark rebuilds it.
func OldFormat(dir string) bool {
	s, err := leveldb.Open(dir)
	if err == nil {
		s.Close()
	}
	return errors.Is(err, leveldb.ErrFormat)
}

// DirSize returns the bytes of the files under dir.
func DirSize(dir string) (int64, error) {
	var total int64
	err := filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path != dir {
			return nil // removed since the directory was read: LevelDB drops compacted tables in the background
		}
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			total += fi.Size()
		}
		return nil
	})
	return total, err
}

// Percentile returns the p-th percentile (0..100) of sorted durations.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}
