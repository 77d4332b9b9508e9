package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Errors of the OpenID4VCI state (offers, pre-authorized codes, access
// tokens and c_nonces).
var (
	// errVCIFull reports a store holding its byte bound of unexpired
	// offers and tokens.
	errVCIFull = errors.New("the offer store is full: try again later")
	// errVCIUnknown reports a code, token or offer never issued, already
	// spent or expired (one error: a caller learns nothing more).
	errVCIUnknown = errors.New("unknown, used or expired")
	// errVCITxCode reports a wrong transaction code.
	errVCITxCode = errors.New("wrong transaction code")
	// errVCIBurnt reports the wrong transaction code that burnt the
	// pre-authorized code.
	errVCIBurnt = errors.New("wrong transaction code: too many attempts, the pre-authorized code is no longer valid")
	// errVCINonce reports a c_nonce this issuer did not make, or one
	// expired or spent.
	errVCINonce = errors.New("the c_nonce is not one this issuer gave, or it expired or was used")
)

// Defaults of the OpenID4VCI state.
const (
	// DefaultOfferTTL is how long an offer and its pre-authorized code
	// stay valid.
	DefaultOfferTTL = 10 * time.Minute
	// DefaultAccessTokenTTL is how long an access token stays valid.
	DefaultAccessTokenTTL = 5 * time.Minute
	// DefaultNonceTTL is how long a c_nonce stays valid.
	DefaultNonceTTL = 5 * time.Minute
	// DefaultOfferStoreBytes bounds the memory of unexpired offers,
	// codes, tokens and spent nonces.
	DefaultOfferStoreBytes = 16 << 20
	// MaxTxCodeAttempts is how many wrong transaction codes a
	// pre-authorized code survives: the last burns it.
	MaxTxCodeAttempts = 3
	// secretBytes is the size of random values: codes, tokens, offer
	// IDs and nonces (256 bits).
	secretBytes = 32
	// entryOverhead is what an entry costs besides its claims and
	// strings (maps, pointers, times).
	entryOverhead = 512
)

// vciGrant is an offer: what it issues, to be redeemed once.
type vciGrant struct {
	offerID  string
	code     string
	issuer   string // the issuer's name
	config   string // the credential configuration ID
	claims   map[string]any
	offer    []byte // the Credential Offer object, as served
	txCode   [sha256.Size]byte
	hasTx    bool
	wrong    int
	expires  time.Time
	size     int
	redeemed bool
}

// vciToken is an access token: one credential of its grant.
type vciToken struct {
	grant   *vciGrant
	expires time.Time
}

// vciStore keeps the OpenID4VCI state in memory, bounded in bytes and
// swept of expired entries when full. c_nonces are stateless (an expiry
// and a random value tagged with the store's secret); only spent ones
// are kept, until they expire.
type vciStore struct {
	now                      func() time.Time
	offerTTL, tokenTTL, nTTL time.Duration
	max                      int
	secret                   []byte
	rand                     io.Reader

	mu     sync.Mutex
	bytes  int
	offers map[string]*vciGrant // by offer ID
	codes  map[string]*vciGrant // by pre-authorized code
	tokens map[string]*vciToken // by access token
	spent  map[string]time.Time // spent c_nonces, until they expire
}

func newVCIStore(now func() time.Time, random io.Reader, offerTTL time.Duration, maxBytes int) (*vciStore, error) {
	if offerTTL <= 0 {
		offerTTL = DefaultOfferTTL
	}
	if maxBytes <= 0 {
		maxBytes = DefaultOfferStoreBytes
	}
	st := &vciStore{now: now, rand: random, offerTTL: offerTTL, tokenTTL: DefaultAccessTokenTTL, nTTL: DefaultNonceTTL, max: maxBytes,
		offers: map[string]*vciGrant{}, codes: map[string]*vciGrant{}, tokens: map[string]*vciToken{}, spent: map[string]time.Time{}}
	st.secret = make([]byte, secretBytes)
	if _, err := io.ReadFull(random, st.secret); err != nil {
		return nil, fmt.Errorf("read nonce secret: %w", err)
	}
	return st, nil
}

// randomString returns 256 random bits, base64url.
func (st *vciStore) randomString() (string, error) { return randomToken(st.rand, secretBytes) }

// reserve makes room for n bytes, sweeping expired entries if needed.
// st.mu is held.
func (st *vciStore) reserve(n int) error {
	return reserveBytes(&st.bytes, st.max, n, st.sweep, errVCIFull)
}

// sweep forgets every expired entry. st.mu is held.
func (st *vciStore) sweep() {
	now := st.now()
	for _, g := range st.offers {
		if !now.Before(g.expires) {
			st.dropGrant(g)
		}
	}
	for t, tok := range st.tokens {
		if !now.Before(tok.expires) {
			delete(st.tokens, t)
			st.bytes -= tok.grant.size
		}
	}
	for n, exp := range st.spent {
		if !now.Before(exp) {
			delete(st.spent, n)
			st.bytes -= entryOverhead
		}
	}
}

// dropGrant forgets a grant's offer and code. st.mu is held.
func (st *vciStore) dropGrant(g *vciGrant) {
	if _, ok := st.offers[g.offerID]; ok {
		delete(st.offers, g.offerID)
		delete(st.codes, g.code)
		st.bytes -= g.size
	}
}

// add keeps a new grant; g.offer is made by build from the grant's code
// once it has one.
func (st *vciStore) add(g *vciGrant, txCode string, build func(code string) ([]byte, error)) error {
	var err error
	if g.offerID, err = st.randomString(); err != nil {
		return err
	}
	if g.code, err = st.randomString(); err != nil {
		return err
	}
	if g.offer, err = build(g.code); err != nil {
		return err
	}
	if txCode != "" {
		g.txCode, g.hasTx = sha256.Sum256([]byte(txCode)), true
	}
	g.expires = st.now().Add(st.offerTTL)
	// The claims are kept decoded: charge them at a multiple of their
	// JSON (maps, strings and interface values cost several times the
	// text), so that the store's bound is one in memory.
	claims, err := json.Marshal(g.claims)
	if err != nil {
		return err
	}
	g.size = entryOverhead + 2*len(g.offer) + len(g.issuer) + len(g.config) + 4*len(claims)
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.reserve(g.size); err != nil {
		return err
	}
	st.offers[g.offerID], st.codes[g.code] = g, g
	return nil
}

// offer returns the Credential Offer object of an unredeemed,
// unexpired offer.
func (st *vciStore) offer(id string) ([]byte, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	g, ok := st.offers[id]
	if !ok || !st.now().Before(g.expires) {
		return nil, errVCIUnknown
	}
	return g.offer, nil
}

// requiresTxCode reports whether code is an unexpired pre-authorized
// code whose offer has a transaction code. It changes nothing, so a
// token request without tx_code costs no attempt.
func (st *vciStore) requiresTxCode(code string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	g, ok := st.codes[code]
	return ok && g.hasTx && st.now().Before(g.expires)
}

// redeem spends a pre-authorized code for an access token, checking the
// transaction code in constant time: a wrong one counts, and the
// MaxTxCodeAttempts-th burns the code. An unexpired code is spent once.
func (st *vciStore) redeem(code, txCode string) (string, time.Duration, error) {
	tok, err := st.randomString()
	if err != nil {
		return "", 0, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	g, ok := st.codes[code]
	if !ok {
		return "", 0, errVCIUnknown
	}
	if !st.now().Before(g.expires) {
		st.dropGrant(g)
		return "", 0, errVCIUnknown
	}
	if g.hasTx {
		got := sha256.Sum256([]byte(txCode))
		if subtle.ConstantTimeCompare(got[:], g.txCode[:]) != 1 {
			g.wrong++
			if g.wrong >= MaxTxCodeAttempts {
				st.dropGrant(g)
				return "", 0, errVCIBurnt
			}
			return "", 0, fmt.Errorf("%w: %d attempts left", errVCITxCode, MaxTxCodeAttempts-g.wrong)
		}
	}
	// The grant leaves the offer and code maps (its bytes now count for
	// the token).
	st.dropGrant(g)
	st.bytes += g.size
	g.redeemed = true
	st.tokens[tok] = &vciToken{grant: g, expires: st.now().Add(st.tokenTTL)}
	return tok, st.tokenTTL, nil
}

// token returns the grant of an unexpired access token, not spending it.
func (st *vciStore) token(tok string) (*vciGrant, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.tokens[tok]
	if !ok {
		return nil, errVCIUnknown
	}
	if !st.now().Before(t.expires) {
		delete(st.tokens, tok)
		st.bytes -= t.grant.size
		return nil, errVCIUnknown
	}
	return t.grant, nil
}

// spendToken forgets an access token once its credential is issued; it
// reports false when another request spent it first.
func (st *vciStore) spendToken(tok string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.tokens[tok]
	if !ok {
		return false
	}
	delete(st.tokens, tok)
	st.bytes -= t.grant.size
	return true
}

// Form of a c_nonce: base64url of 16 random bytes, the expiry (Unix
// seconds, 8 bytes big-endian) and the first 16 bytes of
// HMAC-SHA-256(secret, label || random || expiry).
const (
	nonceLabel     = "idmesh openid4vci c_nonce v1\x00"
	nonceRandBytes = 16
	nonceTagBytes  = 16
	nonceRawBytes  = nonceRandBytes + 8 + nonceTagBytes
)

func (st *vciStore) nonceTag(body []byte) []byte {
	m := hmac.New(sha256.New, st.secret)
	m.Write([]byte(nonceLabel))
	m.Write(body)
	return m.Sum(nil)[:nonceTagBytes]
}

// newNonce makes a c_nonce; it costs no memory until it is spent.
func (st *vciStore) newNonce() (string, time.Duration, error) {
	b := make([]byte, nonceRawBytes)
	if _, err := io.ReadFull(st.rand, b[:nonceRandBytes]); err != nil {
		return "", 0, fmt.Errorf("read random: %w", err)
	}
	binary.BigEndian.PutUint64(b[nonceRandBytes:], uint64(st.now().Add(st.nTTL).Unix()))
	copy(b[nonceRandBytes+8:], st.nonceTag(b[:nonceRandBytes+8]))
	return base64.RawURLEncoding.EncodeToString(b), st.nTTL, nil
}

// spendNonce accepts a c_nonce once: made by this store, unexpired and
// not spent before.
func (st *vciStore) spendNonce(n string) error {
	if len(n) != base64.RawURLEncoding.EncodedLen(nonceRawBytes) {
		return errVCINonce
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(n)
	if err != nil || len(b) != nonceRawBytes || !hmac.Equal(b[nonceRandBytes+8:], st.nonceTag(b[:nonceRandBytes+8])) {
		return errVCINonce
	}
	exp := time.Unix(int64(binary.BigEndian.Uint64(b[nonceRandBytes:])), 0)
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.now().Before(exp) {
		return errVCINonce
	}
	if _, used := st.spent[n]; used {
		return errVCINonce
	}
	if err := st.reserve(entryOverhead); err != nil {
		return err
	}
	st.spent[n] = exp
	return nil
}
