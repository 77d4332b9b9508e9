package api

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"sync"
	"time"
)

// Errors of the OpenID4VP verifier's state.
var (
	// errVPFull reports a store holding its byte bound of transactions.
	errVPFull = errors.New("the presentation request store is full: try again later")
	// errVPResultsFull reports results holding their share of the store.
	errVPResultsFull = errors.New("the results held for relying parties fill their share of the store: try again later")
	// errVPUnknown reports a transaction or request never made, or
	// forgotten since it expired.
	errVPUnknown = errors.New("unknown or expired presentation request")
	// errVPExpired reports a request whose time to answer ran out.
	errVPExpired = errors.New("the presentation request expired")
	// errVPAnswered reports a request answered already: a response is
	// accepted once.
	errVPAnswered = errors.New("the presentation request was already answered")
	// errVPState reports a response whose state is not the request's.
	errVPState = errors.New("state does not match the request's")
	// errVPResponseCode reports a read of the result of a request made
	// with a redirect_uri, without its response code or with another.
	errVPResponseCode = errors.New("the request was made with a redirect_uri: its result is read with the response_code the wallet's redirect carried (in its fragment)")
)

// Defaults of the OpenID4VP verifier's state.
const (
	// DefaultVPRequestTTL is how long a presentation request may be
	// answered.
	DefaultVPRequestTTL = 5 * time.Minute
	// DefaultVPResultTTL is how long a transaction's result stays
	// readable once it is answered (or expired).
	DefaultVPResultTTL = 10 * time.Minute
	// DefaultVPStoreBytes bounds the memory of the transactions.
	DefaultVPStoreBytes = 16 << 20
)

// Transaction statuses (GET /verifier/transactions/{id}).
const (
	VPPending  = "pending"
	VPVerified = "verified"
	VPFailed   = "failed"
	VPExpired  = "expired"
)

// VPCredential is one verified credential of a transaction's result: only
// the claims that were disclosed.
type VPCredential struct {
	// ID is the DCQL credential query the credential answered.
	ID     string `json:"id"`
	Format string `json:"format"`
	Issuer string `json:"issuer"`
	// VCT is an SD-JWT VC's type; Type a W3C credential's types.
	VCT  string   `json:"vct,omitempty"`
	Type []string `json:"type,omitempty"`
	// Claims are the disclosed claims: an SD-JWT VC's processed claims
	// (clear and disclosed), a W3C credential's credentialSubject.
	Claims map[string]any `json:"claims"`
	// Holder is the presenter: the holder's DID, or for an SD-JWT VC
	// bound to a bare key, its JWK thumbprint URI.
	Holder string `json:"holder,omitempty"`
}

// VPTransaction is the state of a presentation request as the relying
// party reads it (GET /verifier/transactions/{id}) and as webhooks
// receive it.
type VPTransaction struct {
	TransactionID string         `json:"transaction_id"`
	Status        string         `json:"status"`
	Created       time.Time      `json:"created"`
	Expires       time.Time      `json:"expires"`
	Credentials   []VPCredential `json:"credentials"`
	Error         string         `json:"error,omitempty"`
}

// vpTx is a presentation request and what became of it.
type vpTx struct {
	id    string // the transaction ID (the relying party's handle)
	ref   string // the request object's and response's path segment
	state string
	nonce string
	// clientID is the verifier's client_id: the audience and domain
	// presentations are bound to.
	clientID string
	mode     string // direct_post or direct_post.jwt
	query    *dcqlQuery
	object   []byte            // the signed request object, as served
	encKey   *ecdsa.PrivateKey // direct_post.jwt's ephemeral key
	encKID   string
	webhook  string
	hookKey  []byte // the webhook's HMAC key
	// trusted are the request's trusted_issuers: when set, a credential
	// whose issuer is not one of them fails the transaction.
	trusted []string
	// redirect is the request's redirect_uri: the wallet is sent there
	// after its response, and its result is read only with the
	// response code of that redirect, whose SHA-256 is codeHash (set
	// under the store's lock).
	redirect string
	codeHash [sha256.Size]byte
	created  time.Time
	expires  time.Time
	size     int // the bytes the request is charged

	// resultSize (set under the store's lock) is the bytes its result
	// is charged, within the results' share of the store.
	resultSize int

	// Set under the store's lock.
	answered bool // a response was taken (it may still be verifying)
	status   string
	done     time.Time
	result   []VPCredential
	errText  string
}

// keepUntil is when the store forgets t: its result's time after it is
// done, or after it expired unanswered. st.mu is held.
func (t *vpTx) keepUntil(resultTTL time.Duration) time.Time {
	if !t.done.IsZero() {
		return t.done.Add(resultTTL)
	}
	return t.expires.Add(resultTTL)
}

// view is t as the relying party sees it at now. st.mu is held.
func (t *vpTx) view(now time.Time) VPTransaction {
	v := VPTransaction{TransactionID: t.id, Status: t.status, Created: t.created.UTC(), Expires: t.expires.UTC(),
		Credentials: t.result, Error: t.errText}
	if v.Status == VPPending && !now.Before(t.expires) {
		v.Status = VPExpired
	}
	if v.Credentials == nil {
		v.Credentials = []VPCredential{}
	}
	return v
}

// vpStore keeps the OpenID4VP transactions in memory, bounded in bytes
// and swept of forgotten ones when full.
type vpStore struct {
	now       func() time.Time
	rand      io.Reader
	ttl       time.Duration
	resultTTL time.Duration
	max       int

	mu    sync.Mutex
	bytes int // requests and results
	// resultBytes are the results' share of bytes: at most half the
	// bound, so that results never keep new requests out.
	resultBytes int
	byID        map[string]*vpTx
	byRef       map[string]*vpTx
}

func newVPStore(now func() time.Time, random io.Reader, ttl time.Duration, maxBytes int) *vpStore {
	if ttl <= 0 {
		ttl = DefaultVPRequestTTL
	}
	if maxBytes <= 0 {
		maxBytes = DefaultVPStoreBytes
	}
	return &vpStore{now: now, rand: random, ttl: ttl, resultTTL: DefaultVPResultTTL, max: maxBytes,
		byID: map[string]*vpTx{}, byRef: map[string]*vpTx{}}
}

// random returns n random bytes, base64url.
func (st *vpStore) random(n int) (string, error) { return randomToken(st.rand, n) }

// reserve makes room for n bytes, sweeping if needed. st.mu is held.
func (st *vpStore) reserve(n int) error {
	return reserveBytes(&st.bytes, st.max, n, st.sweep, errVPFull)
}

// reserveResult makes room for a result of n bytes within the results'
// share (half the bound), sweeping if needed. st.mu is held.
func (st *vpStore) reserveResult(n int) error {
	if st.resultBytes+n > st.max/2 {
		st.sweep()
		if st.resultBytes+n > st.max/2 {
			return errVPResultsFull
		}
	}
	if err := st.reserve(n); err != nil {
		return err
	}
	st.resultBytes += n
	return nil
}

// sweep forgets the transactions past their keeping time. st.mu is held.
func (st *vpStore) sweep() {
	now := st.now()
	for id, t := range st.byID {
		if !now.Before(t.keepUntil(st.resultTTL)) {
			delete(st.byID, id)
			delete(st.byRef, t.ref)
			st.bytes -= t.size + t.resultSize
			st.resultBytes -= t.resultSize
		}
	}
}

// add keeps a new transaction whose id, ref, times and size are set.
func (st *vpStore) add(t *vpTx) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.reserve(t.size); err != nil {
		return err
	}
	t.status = VPPending
	st.byID[t.id], st.byRef[t.ref] = t, t
	return nil
}

// object returns the request object of an unanswered, unexpired request.
func (st *vpStore) object(ref string) ([]byte, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.byRef[ref]
	if !ok || t.answered || !st.now().Before(t.expires) {
		return nil, errVPUnknown
	}
	return t.object, nil
}

// byReference returns the transaction of a request reference, to answer
// it; its immutable fields may be read without the lock.
func (st *vpStore) byReference(ref string) (*vpTx, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.byRef[ref]
	if !ok {
		return nil, errVPUnknown
	}
	return t, nil
}

// take claims a request for one response, checking its state in
// constant time: a wrong state takes nothing, an expired or answered
// request is refused. Once taken, a request is answered by finish only.
func (st *vpStore) take(t *vpTx, state string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if subtle.ConstantTimeCompare([]byte(state), []byte(t.state)) != 1 {
		return errVPState
	}
	if t.answered {
		return errVPAnswered
	}
	if !st.now().Before(t.expires) {
		return errVPExpired
	}
	t.answered = true
	return nil
}

// finish records the outcome of a taken request: its credentials when
// verified, else the reason it failed. The result is charged to the
// store (a result over the bound is replaced by its failure).
func (st *vpStore) finish(t *vpTx, creds []VPCredential, failure string, resultBytes int, responseCode string) VPTransaction {
	st.mu.Lock()
	defer st.mu.Unlock()
	t.done = st.now()
	if responseCode != "" {
		t.codeHash = sha256.Sum256([]byte(responseCode))
	}
	if failure == "" && resultBytes > 0 {
		if err := st.reserveResult(resultBytes); err != nil {
			failure = "the verifier could not keep the result: " + err.Error()
		} else {
			t.resultSize = resultBytes
		}
	}
	if failure != "" {
		t.status, t.errText, t.result = VPFailed, failure, nil
	} else {
		t.status, t.result = VPVerified, creds
	}
	return t.view(t.done)
}

// transaction returns what the relying party sees of a transaction:
// for a request made with a redirect_uri, a result (verified or failed)
// only with the response code the wallet was redirected with; pending
// and expired transactions read without it.
func (st *vpStore) transaction(id, responseCode string) (VPTransaction, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.byID[id]
	if !ok || !st.now().Before(t.keepUntil(st.resultTTL)) {
		return VPTransaction{}, errVPUnknown
	}
	v := t.view(st.now())
	if t.redirect != "" && !t.done.IsZero() {
		got := sha256.Sum256([]byte(responseCode))
		if responseCode == "" || subtle.ConstantTimeCompare(got[:], t.codeHash[:]) != 1 {
			return VPTransaction{}, errVPResponseCode
		}
	}
	return v, nil
}
