package issuer

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/statuslist"
)

// Errors of the status service.
var (
	// ErrUnknownCredential reports a credential this node did not issue
	// with a status entry of the asked purpose.
	ErrUnknownCredential = errors.New("no status entry of that purpose for this credential on this node")
	// ErrDuplicateID reports a credential id that already has status
	// entries here: ids must be unique, or one credential's status could
	// no longer be changed.
	ErrDuplicateID = errors.New("a credential with this id was issued here before")
	// ErrSuperseded reports a change overtaken, before it was published,
	// by a later change of the same entry.
	ErrSuperseded = errors.New("a later change of the same status entry superseded this one")
	// ErrRevocationFinal reports an attempt to un-revoke.
	ErrRevocationFinal = errors.New("the credential is revoked, and revocation is final")
)

// Chain is what the status service needs of the ledger its lists live
// on. The node implements it (node.StatusChain); the service knows no
// transaction, block or state key.
//
// Where a list lives is the ledger's rule, not the Bitstring Status List
// spec's: the ledger lets an issuer write only lists whose IDs carry a
// prefix of its own (ListIDPrefix), and every node serves a list under
// its base URL at ListPath. The service names its lists by these rules,
// so that the ledger accepts them and a verifier finds them on any node.
type Chain interface {
	// PublishStatusList submits a version of a status list, the JSON of
	// its issuer-signed BitstringStatusListCredential, and waits for its
	// commit: it returns the height of the block that commits it, or why
	// the ledger refused it or did not commit it in time.
	PublishStatusList(ctx context.Context, credential []byte) (uint64, error)
	// StatusList returns the latest committed version of a list, parsed;
	// an error if there is none. The caller may keep the list but must
	// not modify it.
	StatusList(listID string) (*statuslist.List, error)
	// Height is the ledger's height.
	Height() uint64
	// ListIDPrefix returns the prefix the IDs of the lists an issuer
	// publishes must have; the service appends lowercase hex.
	ListIDPrefix(issuerDID string) string
	// ListPath returns the path, under a node's base URL, of a list: the
	// tail of its statusListCredential URL and its credential's id.
	ListPath(listID string) string
}

// EntryRef says where a credential's status lives.
type EntryRef struct {
	Issuer  string `json:"issuer"`
	Purpose string `json:"purpose"`
	ListID  string `json:"list"`
	Index   int    `json:"index"`
}

// StatusService gives the credentials a node issues their status entries
// and changes their status: it allocates indexes at random in lists of
// Length entries (herd privacy), publishes each list on the chain, signed
// by its issuer, and batches the changes to one list into one new
// version per round (one per block while changes keep coming).
//
// Allocations are kept in a LevelDB of the node's own (not chain state:
// which credential holds which index is the issuer's secret); each is
// synced before the credential that carries it leaves the node.
type StatusService struct {
	DB       *leveldb.DB
	Chain    Chain
	Registry *Registry
	// BaseURL is the node's public URL; lists are BaseURL/status-lists/{id}.
	BaseURL string
	// Length is the entries per list; default statuslist.MinLength.
	Length int
	Now    func() time.Time
	Rand   io.Reader

	mu      sync.Mutex // guards taken, current and lists
	alloc   map[string]*statuslist.Allocator
	current map[string]string // issuer/purpose -> list ID
	lists   map[string]*listBatch
	create  sync.Mutex // one new list at a time
	record  sync.Mutex // makes "is the id new, then record it" atomic
}

func (s *StatusService) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *StatusService) rand() io.Reader {
	if s.Rand != nil {
		return s.Rand
	}
	return rand.Reader
}

func (s *StatusService) length() int {
	if s.Length > 0 {
		return s.Length
	}
	return statuslist.MinLength
}

// ListURL is the statusListCredential URL of a list.
func (s *StatusService) ListURL(listID string) string {
	return s.BaseURL + s.Chain.ListPath(listID)
}

var syncWrite = &opt.WriteOptions{Sync: true}

func keyCurrent(issuer, purpose string) []byte { return []byte("c/" + issuer + "/" + purpose) }
func keyAlloc(listID string, i int) []byte {
	return binary.BigEndian.AppendUint64([]byte("a/"+listID+"/"), uint64(i))
}
func keyCredential(id string) []byte { return []byte("m/" + id) }

// Entries allocates a status entry per purpose for a new credential and
// records them under credentialID before returning the entries'
// objects.
func (s *StatusService) Entries(ctx context.Context, iss Issuer, credentialID string, purposes []string) ([]any, error) {
	var refs []EntryRef
	batch := new(leveldb.Batch)
	for _, p := range purposes {
		listID, idx, err := s.allocate(ctx, iss, p)
		if err != nil {
			return nil, err
		}
		refs = append(refs, EntryRef{Issuer: iss.DID, Purpose: p, ListID: listID, Index: idx})
		batch.Put(keyAlloc(listID, idx), []byte(credentialID))
	}
	b, err := json.Marshal(refs)
	if err != nil {
		return nil, err
	}
	batch.Put(keyCredential(credentialID), b)
	if err := s.recordOnce(batch, credentialID); err != nil {
		return nil, fmt.Errorf("record status entries: %w", err)
	}
	out := make([]any, 0, len(refs))
	for _, r := range refs {
		e := statuslist.Entry{ID: s.ListURL(r.ListID) + "#" + strconv.Itoa(r.Index), Type: statuslist.TypeEntry, Purpose: r.Purpose,
			ListCredential: s.ListURL(r.ListID), Index: r.Index, Size: 1}
		out = append(out, e.Object())
	}
	return out, nil
}

// allocate takes a free index of the issuer's current list for purpose,
// starting a new list when there is none or it is full.
func (s *StatusService) allocate(ctx context.Context, iss Issuer, purpose string) (string, int, error) {
	for range 2 {
		listID, err := s.currentList(ctx, iss, purpose)
		if err != nil {
			return "", 0, err
		}
		s.mu.Lock()
		idx, err := s.alloc[listID].Allocate(s.rand())
		s.mu.Unlock()
		if err == nil {
			return listID, idx, nil
		}
		if !errors.Is(err, statuslist.ErrFull) {
			return "", 0, err
		}
		// Full: the next call starts a new list.
		s.mu.Lock()
		delete(s.current, iss.DID+"/"+purpose)
		s.mu.Unlock()
		if err := s.DB.Delete(keyCurrent(iss.DID, purpose), syncWrite); err != nil {
			return "", 0, err
		}
	}
	return "", 0, errors.New("allocate status index: no list has room")
}

// currentList returns the issuer's list for purpose, loading its
// allocations, or publishes a new one.
func (s *StatusService) currentList(ctx context.Context, iss Issuer, purpose string) (string, error) {
	k := iss.DID + "/" + purpose
	s.mu.Lock()
	if id, ok := s.current[k]; ok {
		s.mu.Unlock()
		return id, nil
	}
	s.mu.Unlock()
	s.create.Lock()
	defer s.create.Unlock()
	s.mu.Lock()
	id, ok := s.current[k]
	s.mu.Unlock()
	if ok {
		return id, nil
	}
	b, err := s.DB.Get(keyCurrent(iss.DID, purpose), nil)
	switch {
	case err == nil:
		id = string(b)
	case errors.Is(err, leveldb.ErrNotFound):
		if id, err = s.publishNew(ctx, iss, purpose); err != nil {
			return "", err
		}
	default:
		return "", err
	}
	a, err := s.loadAllocator(id)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	if s.current == nil {
		s.current, s.alloc = map[string]string{}, map[string]*statuslist.Allocator{}
	}
	s.current[k], s.alloc[id] = id, a
	s.mu.Unlock()
	return id, nil
}

// loadAllocator rebuilds a list's allocator from the allocation records.
func (s *StatusService) loadAllocator(listID string) (*statuslist.Allocator, error) {
	a, err := statuslist.NewAllocator(s.length(), nil)
	if err != nil {
		return nil, err
	}
	it := s.DB.NewIterator(util.BytesPrefix([]byte("a/"+listID+"/")), nil)
	defer it.Release()
	for it.Next() {
		k := it.Key()
		if err := a.Reserve(int(binary.BigEndian.Uint64(k[len(k)-8:]))); err != nil {
			return nil, fmt.Errorf("allocation record of %s: %w", listID, err)
		}
	}
	return a, it.Error()
}

// publishNew puts an empty list for the issuer and purpose on the chain
// and records it as current.
func (s *StatusService) publishNew(ctx context.Context, iss Issuer, purpose string) (string, error) {
	var suffix [8]byte
	if _, err := io.ReadFull(s.rand(), suffix[:]); err != nil {
		return "", err
	}
	id := s.Chain.ListIDPrefix(iss.DID) + hex.EncodeToString(suffix[:])
	if purpose == TokenPurpose {
		if err := s.publishNewToken(ctx, iss, id); err != nil {
			return "", fmt.Errorf("publish token status list: %w", err)
		}
	} else {
		bits, err := statuslist.New(s.length())
		if err != nil {
			return "", err
		}
		if _, err := s.publish(ctx, iss, id, purpose, bits, time.Time{}); err != nil {
			return "", fmt.Errorf("publish status list: %w", err)
		}
	}
	if err := s.DB.Put(keyCurrent(iss.DID, purpose), []byte(id), syncWrite); err != nil {
		return "", err
	}
	return id, nil
}

// publish signs a version of a list and commits it.
func (s *StatusService) publish(ctx context.Context, iss Issuer, listID, purpose string, bits *statuslist.Bitstring, prev time.Time) (uint64, error) {
	signer, err := s.Registry.Signer(iss)
	if err != nil {
		return 0, err
	}
	// validFrom orders the versions: strictly later than the last one,
	// at millisecond precision.
	from := s.now().UTC().Truncate(time.Millisecond)
	if !from.After(prev) {
		from = prev.Add(time.Millisecond)
	}
	vc, err := statuslist.NewListCredential(s.ListURL(listID), iss.DID, purpose, bits, from)
	if err != nil {
		return 0, err
	}
	signed, err := dataintegrity.Sign(ctx, vc, signer, dataintegrity.SignOptions{Cryptosuite: dataintegrity.CryptosuiteRDFC, Created: from.Truncate(time.Second)})
	if err != nil {
		return 0, err
	}
	payload, err := json.Marshal(signed)
	if err != nil {
		return 0, err
	}
	return s.Chain.PublishStatusList(ctx, payload)
}

// Refs returns where a credential's status entries live.
func (s *StatusService) Refs(credentialID string) ([]EntryRef, error) {
	b, err := s.DB.Get(keyCredential(credentialID), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrUnknownCredential, credentialID)
	}
	if err != nil {
		return nil, err
	}
	var refs []EntryRef
	return refs, json.Unmarshal(b, &refs)
}

// listBatch collects the pending changes of one list; the first caller
// to find it idle publishes rounds until none are pending.
type listBatch struct {
	pending []*change
	running bool
}

type change struct {
	ctx     context.Context // the caller's: a change nobody waits for any more is dropped
	index   int
	purpose string // the purpose asked (for a token list entry, which has both)
	value   bool
	height  uint64
	err     error
	done    chan struct{}
}

// SetStatus sets (true) or clears (false) the credential's status of the
// given purpose and returns the height of the block that commits it.
// Clearing a revocation fails with ErrRevocationFinal. A credential with
// a token status list entry (TokenStatus) has both purposes in it:
// revocation sets it to 1, suspension to 2 and clearing a suspension to
// 0; a revoked entry takes no other change (ErrRevocationFinal).
func (s *StatusService) SetStatus(ctx context.Context, credentialID, purpose string, value bool) (uint64, error) {
	refs, err := s.Refs(credentialID)
	if err != nil {
		return 0, err
	}
	i := slices.IndexFunc(refs, func(r EntryRef) bool { return r.Purpose == purpose })
	if i < 0 && (purpose == statuslist.PurposeRevocation || purpose == statuslist.PurposeSuspension) {
		i = slices.IndexFunc(refs, func(r EntryRef) bool { return r.Purpose == TokenPurpose })
	}
	if i < 0 {
		return 0, fmt.Errorf("%w: %s has no %s entry", ErrUnknownCredential, credentialID, purpose)
	}
	ref := refs[i]
	c := &change{ctx: ctx, index: ref.Index, purpose: purpose, value: value, done: make(chan struct{})}
	s.mu.Lock()
	if s.lists == nil {
		s.lists = map[string]*listBatch{}
	}
	lb := s.lists[ref.ListID]
	if lb == nil {
		lb = &listBatch{}
		s.lists[ref.ListID] = lb
	}
	lb.pending = append(lb.pending, c)
	lead := !lb.running
	lb.running = true
	s.mu.Unlock()
	if lead {
		// The rounds outlive this request: other requests wait on them.
		go s.run(context.WithoutCancel(ctx), ref, lb)
	}
	select {
	case <-c.done:
		return c.height, c.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// run publishes rounds of a list's pending changes until none remain.
func (s *StatusService) run(ctx context.Context, ref EntryRef, lb *listBatch) {
	for {
		s.mu.Lock()
		batch := lb.pending
		lb.pending = nil
		if len(batch) == 0 {
			lb.running = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		if ref.Purpose == TokenPurpose {
			s.tokenRound(ctx, ref, batch)
		} else {
			s.round(ctx, ref, batch)
		}
	}
}

func (s *StatusService) round(ctx context.Context, ref EntryRef, batch []*change) {
	finish := func(c *change, h uint64, err error) {
		c.height, c.err = h, err
		close(c.done)
	}
	fail := func(err error) {
		for _, c := range batch {
			finish(c, 0, err)
		}
	}
	cur, err := s.Chain.StatusList(ref.ListID)
	if err != nil {
		fail(fmt.Errorf("read status list %s: %w", ref.ListID, err))
		return
	}
	iss, err := s.Registry.Find(cur.Issuer)
	if err != nil {
		fail(err)
		return
	}
	bits := cur.Bits.Clone()
	var apply []*change
	last := map[int]*change{} // the last change of each entry in the round
	for _, c := range batch {
		if c.ctx.Err() == nil {
			last[c.index] = c
		}
	}
	for _, c := range batch {
		was, err := bits.Get(c.index)
		switch {
		case c.ctx.Err() != nil:
			// The caller was answered that it failed: do not apply it.
			finish(c, 0, c.ctx.Err())
		case err != nil:
			finish(c, 0, err)
		case was && !c.value && ref.Purpose == statuslist.PurposeRevocation:
			finish(c, 0, ErrRevocationFinal)
		case last[c.index] != c:
			// A later change of the same entry in this round decides it.
			finish(c, 0, ErrSuperseded)
		default:
			_ = bits.Set(c.index, c.value)
			apply = append(apply, c)
		}
	}
	if len(apply) == 0 {
		return
	}
	if bits.Equal(cur.Bits) { // nothing changes: already so
		h := s.Chain.Height()
		for _, c := range apply {
			finish(c, h, nil)
		}
		return
	}
	h, err := s.publish(ctx, iss, ref.ListID, ref.Purpose, bits, cur.ValidFrom)
	for _, c := range apply {
		finish(c, h, err)
	}
}

// Purposes are the status purposes a new credential gets by default.
var Purposes = []string{statuslist.PurposeRevocation, statuslist.PurposeSuspension}

// recordOnce writes batch, which records credentialID's status entries,
// unless the credential has entries already (ErrDuplicateID): one ID,
// one set of entries, checked and written under one lock.
func (s *StatusService) recordOnce(batch *leveldb.Batch, credentialID string) error {
	s.record.Lock()
	defer s.record.Unlock()
	if has, err := s.DB.Has(keyCredential(credentialID), nil); err != nil {
		return err
	} else if has {
		return fmt.Errorf("%w: %s", ErrDuplicateID, credentialID)
	}
	return s.DB.Write(batch, syncWrite)
}
