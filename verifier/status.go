package verifier

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/ld"
	"github.com/idmesh/idmesh/credential/statuslist"
)

// CheckStatus names the status check.
const CheckStatus = "status"

// StatusLists reads status list credentials from the verifier's own node:
// nothing is fetched from the URL a credential names.
type StatusLists interface {
	// StatusList returns the latest version of the list a
	// statusListCredential URL names, and the chain height it was read
	// at. It fails for a URL that does not name a list of this chain.
	StatusList(url string) (list []byte, height uint64, err error)
}

// ChainHeight is implemented by StatusLists that read one chain, whose
// lists only its blocks change: Height returns the chain's height now.
// A verifier whose Lists implements it keeps, for each list URL, the
// verified, decoded version it read and the check of its signing keys
// until the height moves on: between blocks a status check reads no
// list, hashes nothing and resolves no key. At a new height the list is
// read again (and its keys resolved again) on its next use, so a
// revocation counts from the first check after its block is committed.
type ChainHeight interface {
	Height() uint64
}

// listCache remembers status lists whose proof verified, keyed by the
// hash of their bytes, so that a list is parsed and its proof verified
// once per version; with a ChainHeight source, also the version each
// list URL had at a height (current), so that between blocks nothing is
// read or hashed. It holds at most budget bytes (decoded lists, and the
// URLs of current with urlEntryOverhead each; default
// maxCachedListBytes) and is emptied when it would go over.
type listCache struct {
	mu      sync.Mutex
	m       map[[32]byte]*cachedList
	current map[string]currentList
	bytes   int
	budget  int

	hits, misses atomic.Uint64
}

// currentList is the verified version of a list URL at a chain height.
type currentList struct {
	height uint64
	list   *cachedList
}

// urlEntryOverhead is what an entry of listCache.current costs besides
// its URL.
const urlEntryOverhead = 64

// Stats counts what a Verifier's caches did since it was made.
type Stats struct {
	// StatusListCacheHits counts status list versions found verified in
	// the cache (their proof not verified again); StatusListCacheMisses
	// those that had to be parsed and verified.
	StatusListCacheHits, StatusListCacheMisses uint64
}

// Stats returns the counts of the verifier's caches; it may be called
// at any time, from any goroutine.
func (v *Verifier) Stats() Stats {
	return Stats{StatusListCacheHits: v.lists.hits.Load(), StatusListCacheMisses: v.lists.misses.Load()}
}

// cachedList is a verified list and the keys that signed it.
type cachedList struct {
	key  [32]byte // the hash of the list's bytes
	list *statuslist.List
	keys []credential.VerificationKey
	// created is each proof's claimed time (zero when none), for the
	// retired-key rule.
	created []time.Time
}

// maxCachedListBytes bounds the decoded lists a verifier keeps: a free
// did:key can publish many long, well-compressed lists.
const maxCachedListBytes = 64 << 20

func (c *listCache) get(k [32]byte) *cachedList {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.m[k]
	if l != nil {
		c.hits.Add(1)
	} else {
		c.misses.Add(1)
	}
	return l
}

// at returns the version of url verified at height h, or nil.
func (c *listCache) at(url string, h uint64) *cachedList {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.current[url]; ok && e.height == h {
		c.hits.Add(1)
		return e.list
	}
	return nil
}

func (c *listCache) limit() int {
	if c.budget > 0 {
		return c.budget
	}
	return maxCachedListBytes
}

// fits makes room for size more bytes, emptying the cache if they would
// not fit, and reports whether they fit at all.
func (c *listCache) fits(size int) bool {
	if c.m == nil || c.bytes+size > c.limit() || len(c.m)+len(c.current) >= 2*4096 {
		c.m, c.current, c.bytes = map[[32]byte]*cachedList{}, map[string]currentList{}, 0
	}
	return size <= c.limit()
}

func (c *listCache) put(k [32]byte, l *cachedList) {
	size := l.list.Bits.Len() / 8
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; ok || !c.fits(size) {
		return
	}
	c.m[k] = l
	c.bytes += size
}

// putCurrent records l as url's version at height h. A list that is not
// kept under its hash (too large) is not kept here either.
func (c *listCache) putCurrent(url string, h uint64, l *cachedList) {
	// The URL may be a substring of a request's body or token (a map
	// assignment keeps the new key): a copy keeps len(url) bytes, as
	// accounted, not the request.
	url = strings.Clone(url)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[l.key] != l {
		return
	}
	if e, ok := c.current[url]; ok {
		if e.height <= h {
			c.current[url] = currentList{height: h, list: l}
		}
		// else a later check recorded a later height
		return
	}
	size := len(url) + urlEntryOverhead
	if !c.fits(size) || c.m[l.key] != l { // fits may have emptied it
		return
	}
	c.current[url] = currentList{height: h, list: l}
	c.bytes += size
}

// size returns the bytes the cache accounts for.
func (c *listCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// status checks every BitstringStatusListEntry of the credential against
// the list on the verifier's chain: the list's proof by the credential's
// issuer, its length, and the entry's bit. It returns the height read.
func (v *Verifier) status(ctx context.Context, c *credential.Credential) (uint64, error) {
	if v.Lists == nil {
		return 0, credential.Errorf(credential.StatusRetrievalError, "this verifier reads no status lists")
	}
	var height uint64
	// Each list is read and checked once per credential, however many
	// entries name it: a credential of thousands of entries naming one
	// large list costs one hash of it, not thousands.
	// The lists read are kept in a slice while they are few (most
	// credentials name one or two), in a map beyond.
	type read struct {
		url string
		l   *statuslist.List
		h   uint64
	}
	var few [4]read
	seen := few[:0]
	var many map[string]read
	find := func(url string) (read, bool) {
		if many != nil {
			rd, ok := many[url]
			return rd, ok
		}
		for _, rd := range seen {
			if rd.url == url {
				return rd, true
			}
		}
		return read{}, false
	}
	for _, raw := range c.Status {
		if err := ctx.Err(); err != nil {
			return 0, credential.Errorf(credential.StatusRetrievalError, "status check cut: %v", err)
		}
		e, err := statuslist.ParseEntry(raw)
		if err != nil {
			return 0, credential.Errorf(credential.StatusVerificationError, "credentialStatus: %v", err)
		}
		rd, ok := find(e.ListCredential)
		if !ok {
			l, h, err := v.statusList(ctx, e.ListCredential)
			if err != nil {
				return 0, err
			}
			rd = read{e.ListCredential, l, h}
			switch {
			case many != nil:
				many[rd.url] = rd
			case len(seen) < 8:
				seen = append(seen, rd)
			default:
				many = make(map[string]read, 2*len(seen))
				for _, r := range seen {
					many[r.url] = r
				}
				many[rd.url] = rd
			}
		}
		l, h := rd.l, rd.h
		height = max(height, h)
		if l.Issuer != c.Issuer {
			return 0, credential.Errorf(credential.StatusVerificationError, "the status list is issued by %s, the credential by %s", l.Issuer, c.Issuer)
		}
		if l.ID != e.ListCredential {
			return 0, credential.Errorf(credential.StatusVerificationError, "the status list's id is %s, not %s", l.ID, e.ListCredential)
		}
		st, err := statuslist.Check(e, l)
		if err != nil {
			return 0, err
		}
		if st.Set {
			switch e.Purpose {
			case statuslist.PurposeRevocation:
				return height, credential.Errorf(credential.CredentialRevoked, "revoked (status list %s, entry %d, height %d)", e.ListCredential, e.Index, h)
			case statuslist.PurposeSuspension:
				return height, credential.Errorf(credential.CredentialSuspended, "suspended (status list %s, entry %d, height %d)", e.ListCredential, e.Index, h)
			}
		}
	}
	return height, nil
}

// statusList returns the verified list that url names and the height it
// was read at: with a ChainHeight source, the version verified at the
// current height if there is one, else the list read and verified.
func (v *Verifier) statusList(ctx context.Context, url string) (*statuslist.List, uint64, error) {
	src, tracked := v.Lists.(ChainHeight)
	var now uint64
	if tracked {
		// Read before the list: what is read is at least this recent.
		now = src.Height()
		if c := v.lists.at(url, now); c != nil {
			return c.list, now, nil
		}
	}
	b, h, err := v.Lists.StatusList(url)
	if err != nil {
		return nil, 0, credential.Errorf(credential.StatusRetrievalError, "%s: %v", url, err)
	}
	c, err := v.verifiedList(ctx, b)
	if err != nil {
		return nil, 0, err
	}
	if tracked && c.list.ID == url {
		// Only under its own id: a URL that names a list with another id
		// (refused by the caller) never takes room in the cache.
		v.lists.putCurrent(url, now, c)
	}
	return c.list, h, nil
}

// verifiedList parses a status list credential and verifies its proof,
// once per version; a cached version's signing keys are looked up again,
// so that a list signed by a key later marked compromised stops counting.
func (v *Verifier) verifiedList(ctx context.Context, b []byte) (*cachedList, error) {
	k := sha256.Sum256(b)
	if c := v.lists.get(k); c != nil {
		for i, key := range c.keys {
			now, err := v.Keys.ResolveKey(ctx, key.ID, credential.PurposeAssertion)
			if err == nil {
				if err = now.CheckClaimedTime(c.created[i]); err == nil && !now.Public.Equal(key.Public) {
					err = errors.New("another key")
				}
			}
			if err != nil {
				return nil, credential.Errorf(credential.StatusVerificationError, "status list signed by %s, which no longer verifies (%v)", key.ID, err)
			}
		}
		return c, nil
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, credential.Errorf(credential.StatusVerificationError, "status list: %v", err)
	}
	// The list's members are read by name, as a credential's are.
	if err := ld.CheckTerms(ctx, obj, ld.Options{}); err != nil {
		return nil, credential.Errorf(credential.StatusVerificationError, "status list: %v", err)
	}
	l, err := statuslist.ParseListCredential(obj, 0)
	if err != nil {
		if credential.CodeOf(err, "") == credential.StatusListLengthError {
			return nil, err
		}
		return nil, credential.Errorf(credential.StatusVerificationError, "status list: %v", err)
	}
	res, err := dataintegrity.Verify(ctx, obj, v.Keys, dataintegrity.VerifyOptions{ExpectedProofPurpose: credential.PurposeAssertion})
	if err != nil {
		return nil, credential.Errorf(credential.StatusVerificationError, "status list proof: %v", err)
	}
	c := &cachedList{key: k, list: l}
	for _, p := range res.Proofs {
		if p.Key.Controller != l.Issuer {
			return nil, credential.Errorf(credential.StatusVerificationError, "status list signed by %s, not its issuer", p.Proof.VerificationMethod)
		}
		created, _ := dataintegrity.ParseDateTime(p.Proof.Created)
		c.keys, c.created = append(c.keys, p.Key), append(c.created, created)
	}
	v.lists.put(k, c)
	return c, nil
}
