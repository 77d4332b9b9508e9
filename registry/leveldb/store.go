package leveldb

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/storage"
	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/smt"
)

const (
	pMeta    = 'M'
	pGenesis = 'G'
	pBlock   = 'B'
	pCommit  = 'C'
	pBlockID = 'I'
	pTx      = 'T'
	pState   = 'S'
	pNode    = 'N'
	pStale   = 'O'
	pVersion = 'V'
	pFloor   = 'P'
	pFormat  = 'F'
	// pHeader holds each block's header alone (since 2026-12-05), so
	// that serving headers (state sync) reads a few hundred bytes a
	// height, not the whole block of up to 4 MiB. Blocks saved before
	// have none: their headers are read from the block.
	pHeader = 'H'
	// pRestore is in restore.go.
)

// Format is the version of what the store holds, recorded under 'F' (a
// uvarint) by the first SaveGenesis. Format 2 (issue 18) changed the
// did:idmesh state (no version index entry for the latest version, the
// DID stored once per value) and so every state root, and the
// transaction index (uvarints). A store without the mark that holds a
// chain was written in format 1, before the mark existed. Format 3
// journals a block's stale tree nodes as one record per height instead
// of one key per node. Format 4 (issue 18) keeps a DID's latest version
// in its record, so that a create writes one state key: every state root
// changed again, and a store of any earlier format is refused.
const Format = 4

// ErrFormat reports a store written in another format than Format: it
// cannot be read, only replaced.
var ErrFormat = errors.New("store format")

// nodeSize is the length of a node's encoding; a stored node is its
// encoding followed by the uvarint height that last created it.
const nodeSize = 65

// Store is a registry.Store on LevelDB. It is safe for concurrent use;
// SaveBlock calls must come from one goroutine (the chain's driver).
type Store struct {
	db *leveldb.DB
	// stor is the file storage under db (nil in memory), closed after it.
	stor storage.Storage
	// wmu orders SaveBlock and prune batches: a batch decides from the
	// nodes' stamps, which a block may renew.
	wmu   sync.Mutex
	floor atomic.Uint64 // the prune floor (pFloor)
	// journal makes SaveBlock journal stale nodes (JournalStale).
	journal atomic.Bool
	// saveBatch is SaveBlock's batch, kept for the next block (under wmu).
	saveBatch *leveldb.Batch
	// cursor is where the next prune batch starts in the journal: the
	// entries before it are done, and new ones are always above it.
	cursor []byte
	// absent answers reads of absent state keys and transactions
	// (absent.go).
	absent absentFilter
}

var (
	_ registry.Store        = (*Store)(nil)
	_ registry.VersionStore = (*Store)(nil)
)

// Open opens or creates the store in dir. It refuses a store written in
// another format (ErrFormat), with what to do in the message.
func Open(dir string) (*Store, error) {
	return openBuffered(dir, tableWriteBuffer)
}

// openBuffered is Open with table files written through a buffer of
// tableBuffer bytes (bufferedTables; 0 writes them unbuffered).
func openBuffered(dir string, tableBuffer int) (*Store, error) {
	// As leveldb.OpenFile, with the file storage wrapped: it takes the
	// directory's lock, which Close releases.
	stor, err := storage.OpenFile(dir, false)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	db, err := leveldb.Open(bufferedTables{Storage: stor, size: tableBuffer}, options())
	if err != nil {
		stor.Close()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	s, err := newStore(db)
	if err != nil {
		stor.Close()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	s.stor = stor
	return s, nil
}

// bloomBitsPerKey is the size of the Bloom filter each table keeps of
// its keys: 10 bits a key, about 1% false positives.
const bloomBitsPerKey = 10

// options returns the LevelDB options of a store on disk.
func options() *opt.Options {
	return &opt.Options{
		BlockCacheCapacity: 64 << 20,
		WriteBuffer:        16 << 20,
		// Snappy compression is goleveldb's default (opt.DefaultCompression).
		// Blocks of 8 KiB rather than 4 give it more of the repeated JSON
		// names of state values to share: 3% less store, for about 2 µs more
		// CPU per read that misses the block cache (measured once, not by a
		// benchmark in the tree: docs/benchmarks.md).
		BlockSize: 8 << 10,
		// Every create reads keys that are not there (its DID's record, its
		// transaction in the replay index): without a filter each such read
		// searches a block of every level-0 table and of each deeper level.
		// keyFilter keeps one of state and transaction keys only. A table
		// written without it (by an older idmesh) is read as before, and an
		// older idmesh ignores it; compactions add it. BenchmarkGetAbsent
		// measures it.
		Filter: newKeyFilter(bloomBitsPerKey),
	}
}

// checkFormat returns nil for an empty store or one of Format, and an
// ErrFormat naming the store's format and what to do otherwise.
func checkFormat(db *leveldb.DB) error {
	v, err := db.Get([]byte{pFormat}, nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		for _, k := range []byte{pGenesis, pMeta} {
			has, err := db.Has([]byte{k}, nil)
			if err != nil {
				return fmt.Errorf("read store format: %w", err)
			}
			if has {
				return formatError(1)
			}
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read store format: %w", err)
	}
	f, n := binary.Uvarint(v)
	if n <= 0 || n != len(v) {
		return fmt.Errorf("%w mark %x: %w", ErrFormat, v, registry.ErrMalformed)
	}
	if f == Format {
		return nil
	}
	return formatError(f)
}

func formatError(f uint64) error {
	if f > Format {
		return fmt.Errorf("%w %d is newer than this idmesh's format %d: run a newer idmesh", ErrFormat, f, Format)
	}
	return fmt.Errorf("%w %d is older than this idmesh's format %d (state roots changed): remove the chain directory and re-sync from genesis, or join with idmesh node --state-sync", ErrFormat, f, Format)
}

func formatMark() []byte { return binary.AppendUvarint(nil, Format) }

func newStore(db *leveldb.DB) (*Store, error) {
	if err := checkFormat(db); err != nil {
		db.Close()
		return nil, err
	}
	s := &Store{db: db}
	v, err := db.Get([]byte{pFloor}, nil)
	switch {
	case errors.Is(err, leveldb.ErrNotFound):
	case err != nil:
		db.Close()
		return nil, fmt.Errorf("read prune floor: %w", err)
	case len(v) != 8:
		db.Close()
		return nil, fmt.Errorf("prune floor: %w", registry.ErrMalformed)
	default:
		s.floor.Store(binary.BigEndian.Uint64(v))
	}
	s.absent.seed = maphash.MakeSeed()
	s.wmu.Lock()
	s.startBuild()
	s.wmu.Unlock()
	return s, nil
}

// OpenMemory opens a store kept in memory, for tests and tools.
func OpenMemory() (*Store, error) {
	db, err := leveldb.Open(storage.NewMemStorage(), nil)
	if err != nil {
		return nil, fmt.Errorf("open memory store: %w", err)
	}
	return newStore(db)
}

// Close closes the database, and its directory's storage if it has one.
func (s *Store) Close() error {
	s.stopFilter()
	err := s.db.Close()
	if s.stor != nil {
		err = errors.Join(err, s.stor.Close())
		s.stor = nil // a second Close answers as the database does
	}
	return err
}

func key(prefix byte, parts ...[]byte) []byte {
	n := 1
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	k = append(k, prefix)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func (s *Store) get(k []byte, what string) ([]byte, error) {
	v, err := s.db.Get(k, nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil, fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return v, nil
}

// Get returns the current value of a state key.
func (s *Store) Get(k []byte) ([]byte, error) {
	sk := key(pState, k)
	if s.absent.absent(sk) {
		return nil, errAbsentState
	}
	return s.get(sk, "state key")
}

// errAbsentState is Get's error for a key the absence filter rules out,
// as s.get words it.
var errAbsentState = fmt.Errorf("state key: %w", registry.ErrNotFound)

// Node returns a state tree node.
func (s *Store) Node(h smt.Hash) ([]byte, error) {
	v, err := s.db.Get(key(pNode, h[:]), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil, fmt.Errorf("node %x: %w", h[:8], smt.ErrMissingNode)
	}
	if err != nil {
		return nil, fmt.Errorf("read node: %w", err)
	}
	if len(v) > nodeSize {
		v = v[:nodeSize:nodeSize] // without its stamp
	}
	return v, nil
}

// State returns the chain state after the last saved block.
func (s *Store) State() (registry.ChainState, bool, error) {
	var st registry.ChainState
	v, err := s.get([]byte{pMeta}, "chain state")
	if errors.Is(err, registry.ErrNotFound) {
		return st, false, nil
	}
	if err != nil {
		return st, false, err
	}
	if err := json.Unmarshal(v, &st); err != nil {
		return st, false, fmt.Errorf("decode chain state: %w", err)
	}
	return st, true, nil
}

// SaveGenesis records g and its initial state if no genesis is recorded,
// and checks that it matches otherwise.
func (s *Store) SaveGenesis(g *registry.Genesis) error {
	gb, err := json.Marshal(g)
	if err != nil {
		return fmt.Errorf("encode genesis: %w", err)
	}
	if r, err := s.restoring(); err != nil {
		return err
	} else if r {
		return fmt.Errorf("save genesis: %w: discard it and sync again", ErrRestoring)
	}
	old, err := s.get([]byte{pGenesis}, "genesis")
	switch {
	case err == nil:
		if !bytes.Equal(old, gb) {
			return fmt.Errorf("save genesis: the store holds a different genesis (chain %s)", chainOf(old))
		}
		// Marked already: by this write when the chain began, or by
		// FinishRestore's (Open refuses a genesis without a mark).
		return nil
	case !errors.Is(err, registry.ErrNotFound):
		return err
	}
	st, err := g.State()
	if err != nil {
		return err
	}
	sb, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode chain state: %w", err)
	}
	b := new(leveldb.Batch)
	b.Put([]byte{pFormat}, formatMark())
	b.Put([]byte{pGenesis}, gb)
	b.Put([]byte{pMeta}, sb)
	if err := s.db.Write(b, &opt.WriteOptions{Sync: true}); err != nil {
		return fmt.Errorf("save genesis: %w", err)
	}
	return nil
}

func chainOf(genesisJSON []byte) string {
	var g registry.Genesis
	_ = json.Unmarshal(genesisJSON, &g)
	return g.ChainID
}

// Genesis returns the recorded genesis.
func (s *Store) Genesis() (*registry.Genesis, error) {
	v, err := s.get([]byte{pGenesis}, "genesis")
	if err != nil {
		return nil, err
	}
	var g registry.Genesis
	if err := json.Unmarshal(v, &g); err != nil {
		return nil, fmt.Errorf("decode genesis: %w", err)
	}
	return &g, nil
}

// SaveBlock writes the block, its commit, the transaction index, the
// state writes, the new tree nodes and the chain state in one synced
// batch. It checks that the block extends the saved tip.
func (s *Store) SaveBlock(u *registry.BlockUpdate) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	cur, ok, err := s.State()
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("save block: no genesis recorded")
	}
	h := u.Block.Header.Height
	if h != cur.Height+1 || u.Block.Header.LastBlockID != cur.LastBlockID {
		return fmt.Errorf("save block %d: does not extend the stored tip %d", h, cur.Height)
	}
	if len(u.Results) != len(u.Block.Txs) {
		return fmt.Errorf("save block %d: %d results for %d transactions", h, len(u.Results), len(u.Block.Txs))
	}
	id := u.Block.ID()
	blk, err := u.BlockBytes()
	if err != nil {
		return fmt.Errorf("save block %d: %w", h, err)
	}
	b := s.batch(u, len(blk))
	defer s.release(b)
	// The batch copies keys and values: k and v are scratch space.
	var k []byte
	hb := u64(h)
	b.Put(append(append(k[:0], pBlock), hb...), blk)
	if u.Commit != nil {
		b.Put(append(append(k[:0], pCommit), hb...), u.Commit.Encode())
	}
	b.Put(append(append(k[:0], pBlockID), id[:]...), hb)
	b.Put(append(append(k[:0], pHeader), hb...), u.Block.Header.Encode())
	// The transaction index in hash order, as the other groups of keys
	// (state keys, tree nodes) come: LevelDB's memtable inserts a run of
	// ascending keys faster than scattered ones, its search paths staying
	// in the CPU's cache (half to two thirds of the time a key into
	// 10,000 to 150,000, measured under load). The order is stable, so a
	// transaction repeated in a block is indexed at its last place, as
	// before.
	txs := make([]txRef, len(u.Block.Txs))
	for i, t := range u.Block.Txs {
		txs[i] = txRef{t.Hash(), i}
	}
	slices.SortStableFunc(txs, func(a, b txRef) int { return bytes.Compare(a.hash[:], b.hash[:]) })
	var v []byte
	for _, t := range txs {
		k = append(append(k[:0], pTx), t.hash[:]...)
		v = appendTxRecord(v[:0], h, uint32(t.i), u.Results[t.i])
		b.Put(k, v)
		s.addKey(k)
	}
	for _, w := range u.Writes {
		k = append(append(k[:0], pState), w.Key...)
		if w.Value == nil {
			b.Delete(k)
		} else {
			b.Put(k, w.Value)
			s.addKey(k)
		}
	}
	// Each node is stamped with the height that (last) created it, and,
	// with a pruner, the nodes this version dropped are journaled under
	// its height (prune.go).
	var stamp [binary.MaxVarintLen64]byte
	sn := binary.PutUvarint(stamp[:], h)
	for _, n := range u.Nodes {
		k = append(append(k[:0], pNode), n.Hash[:]...)
		v = append(append(v[:0], n.Encoding...), stamp[:sn]...)
		b.Put(k, v)
	}
	if s.journal.Load() && len(u.Stale) > 0 {
		// One record for the block rather than one key per node: each
		// key costs a skip-list insert in LevelDB's memtable, a record a
		// copy (prune.go).
		j := make([]byte, 0, len(u.Stale)*len(u.Stale[0]))
		for _, st := range u.Stale {
			j = append(j, st[:]...)
		}
		b.Put(key(pStale, hb), j)
	}
	b.Put(key(pVersion, hb), binary.BigEndian.AppendUint64(nil, uint64(u.Block.Header.Time.UnixNano())))
	sb, err := json.Marshal(u.State)
	if err != nil {
		return fmt.Errorf("encode chain state: %w", err)
	}
	b.Put([]byte{pMeta}, sb)
	if err := s.db.Write(b, &opt.WriteOptions{Sync: true}); err != nil {
		return fmt.Errorf("save block %d: %w", h, err)
	}
	s.written()
	return nil
}

// txRef is a transaction's hash and place in its block.
type txRef struct {
	hash registry.Hash
	i    int
}

// saveBlockBytes is about what SaveBlock's batch holds for u (blockBytes
// of it the block's encoding), so that the batch is allocated once
// rather than grown by copying as it fills: each record costs its key
// and value and up to 11 bytes of framing.
func saveBlockBytes(u *registry.BlockUpdate, blockBytes int) int {
	const rec = 12                      // type byte, two length varints, a prefix byte
	n := 4*rec + 16 + blockBytes + 1024 // block, commit, block ID, version, state
	if u.Commit != nil {
		n += 100 * len(u.Commit.Signatures)
	}
	n += len(u.Block.Txs) * (rec + 32 + 64)
	for _, w := range u.Writes {
		n += rec + len(w.Key) + len(w.Value)
	}
	n += len(u.Nodes) * (rec + 32 + nodeSize + binary.MaxVarintLen64)
	n += rec + 8 + len(u.Stale)*32
	return n
}

// SaveCommit replaces the seen commit of a saved block (a later, fuller
// set of signatures).
func (s *Store) SaveCommit(c *registry.Commit) error {
	if err := s.db.Put(key(pCommit, u64(c.Height)), c.Encode(), &opt.WriteOptions{Sync: true}); err != nil {
		return fmt.Errorf("save commit %d: %w", c.Height, err)
	}
	return nil
}

// encodeTxRecord encodes a transaction's place (height, index in the
// block) and result as uvarints, then the log: 4 or 5 bytes for an
// accepted transaction rather than 16.
func encodeTxRecord(h uint64, i uint32, r registry.Result) []byte {
	return appendTxRecord(make([]byte, 0, 3*binary.MaxVarintLen32+len(r.Log)), h, i, r)
}

// appendTxRecord appends encodeTxRecord's encoding to b.
func appendTxRecord(b []byte, h uint64, i uint32, r registry.Result) []byte {
	b = binary.AppendUvarint(b, h)
	b = binary.AppendUvarint(b, uint64(i))
	b = binary.AppendUvarint(b, uint64(r.Code))
	return append(b, r.Log...)
}

// maxKeptBatch bounds the bytes of the batch a Store keeps between
// blocks; a larger one (a block of large state values) is dropped.
const maxKeptBatch = 16 << 20

// batch returns SaveBlock's batch for u (under wmu), empty: the one kept
// from the previous block, which grows as needed, or a new one with room
// for about what u writes (saveBlockBytes). Reusing it saves allocating
// and clearing a buffer of the block's size, and growing its index, for
// every block.
func (s *Store) batch(u *registry.BlockUpdate, blockBytes int) *leveldb.Batch {
	b := s.saveBatch
	if b == nil {
		return leveldb.MakeBatch(saveBlockBytes(u, blockBytes))
	}
	s.saveBatch = nil
	b.Reset()
	return b
}

// release keeps b for the next block unless it grew past maxKeptBatch.
func (s *Store) release(b *leveldb.Batch) {
	if len(b.Dump()) <= maxKeptBatch {
		s.saveBatch = b
	}
}

// decodeTxRecord is the inverse of encodeTxRecord.
func decodeTxRecord(hash registry.Hash, v []byte) (registry.TxRecord, error) {
	var f [3]uint64
	for i := range f {
		x, n := binary.Uvarint(v)
		if n <= 0 || i > 0 && x > math.MaxUint32 {
			return registry.TxRecord{}, fmt.Errorf("tx index: %w", registry.ErrMalformed)
		}
		f[i], v = x, v[n:]
	}
	return registry.TxRecord{
		Hash:   hash,
		Height: f[0],
		Index:  uint32(f[1]),
		Result: registry.Result{Code: uint32(f[2]), Log: string(v)},
	}, nil
}

// Block returns the block at height.
func (s *Store) Block(height uint64) (*registry.Block, error) {
	v, err := s.get(key(pBlock, u64(height)), fmt.Sprintf("block %d", height))
	if err != nil {
		return nil, err
	}
	return registry.DecodeBlock(v)
}

// BlockHeaderRead returns the header of the block at height, decoding
// nothing else of it, and the bytes it read from the store (a caller that
// serves many headers bounds its reads with them): the header's own key,
// or, for a block saved before headers had one, the whole block.
func (s *Store) BlockHeaderRead(height uint64) (*registry.Header, int, error) {
	hb := u64(height)
	v, err := s.db.Get(key(pHeader, hb), nil)
	switch {
	case err == nil:
		h, err := registry.DecodeHeader(v)
		if err != nil {
			return nil, len(v), fmt.Errorf("header %d: %w", height, err)
		}
		return h, len(v), nil
	case !errors.Is(err, leveldb.ErrNotFound):
		return nil, 0, fmt.Errorf("read header %d: %w", height, err)
	}
	v, err = s.get(key(pBlock, hb), fmt.Sprintf("block %d", height))
	if err != nil {
		return nil, 0, err
	}
	h, err := registry.DecodeBlockHeader(v)
	return h, len(v), err
}

// Commit returns the seen commit of the block at height.
func (s *Store) Commit(height uint64) (*registry.Commit, error) {
	v, err := s.get(key(pCommit, u64(height)), fmt.Sprintf("commit %d", height))
	if err != nil {
		return nil, err
	}
	return registry.DecodeCommit(v)
}

// HeightOf returns the height of a block by ID.
func (s *Store) HeightOf(id registry.Hash) (uint64, error) {
	v, err := s.get(key(pBlockID, id[:]), "block "+id.String())
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("block index: %w", registry.ErrMalformed)
	}
	return binary.BigEndian.Uint64(v), nil
}

// Tx returns the record of a committed transaction.
func (s *Store) Tx(hash registry.Hash) (registry.TxRecord, error) {
	k := key(pTx, hash[:])
	if s.absent.absent(k) {
		return registry.TxRecord{}, fmt.Errorf("transaction %s: %w", hash, registry.ErrNotFound)
	}
	v, err := s.get(k, "transaction "+hash.String())
	if err != nil {
		return registry.TxRecord{}, err
	}
	return decodeTxRecord(hash, v)
}

// Scan calls fn for each state key with the given prefix, in key order,
// until fn returns false.
func (s *Store) Scan(prefix []byte, fn func(k, v []byte) bool) error {
	it := s.db.NewIterator(util.BytesPrefix(key(pState, prefix)), nil)
	defer it.Release()
	for it.Next() {
		if !fn(it.Key()[1:], it.Value()) {
			break
		}
	}
	return it.Error()
}
