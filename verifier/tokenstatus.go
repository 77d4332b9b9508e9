package verifier

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/tokenstatus"
)

// TokenListSource reads Status List Tokens from the verifier's own
// chain: nothing is fetched from the URI a credential names.
type TokenListSource interface {
	// TokenStatusList returns the latest committed Status List Token
	// (compact JWT, as its issuer signed it) of the list that a
	// status_list.uri names, and the chain height it was read at. It
	// fails for a URI that does not name a token list of this chain.
	TokenStatusList(uri string) (token []byte, height uint64, err error)
}

// TokenLists checks entries of IETF Token Status Lists (the status of
// SD-JWT VCs) against the tokens on the verifier's chain. Each token
// version is verified once and kept, decoded, until a block changes the
// list: its signature by a key in the issuer's assertionMethod (Keys),
// typ statuslist+jwt, sub equal to the uri, iss (when present) and the
// key's controller equal to the credential's issuer, exp (when present)
// not past, within Skew. Its zero value is not usable: Source and Keys
// are required. It is safe for concurrent use.
type TokenLists struct {
	// Source reads the tokens.
	Source TokenListSource
	// Keys finds the issuers' keys (the verifier's resolver).
	Keys credential.KeyResolver
	// Now is the clock for exp; default time.Now.
	Now func() time.Time
	// Skew is the tolerance on exp; default one minute.
	Skew time.Duration

	cache tokenCache
}

// TokenStatus returns the status value of entry idx of the token list
// that uri names, for a credential issued by issuer, and the chain
// height read. Errors carry STATUS_RETRIEVAL_ERROR (no such list on the
// chain), STATUS_VERIFICATION_ERROR (a token that does not verify, or
// is not the issuer's or the uri's), RANGE_ERROR (idx outside the
// list), KEY_COMPROMISED_ERROR or KEY_RETIRED_ERROR (the signing key).
func (t *TokenLists) TokenStatus(ctx context.Context, issuer, uri string, idx int) (uint8, uint64, error) {
	if t.Source == nil || t.Keys == nil {
		return 0, 0, credential.Errorf(credential.StatusRetrievalError, "this verifier reads no token status lists")
	}
	b, h, err := t.Source.TokenStatusList(uri)
	if err != nil {
		return 0, h, credential.Errorf(credential.StatusRetrievalError, "%s: %v", uri, err)
	}
	tok, err := t.verified(ctx, b)
	if err != nil {
		return 0, h, err
	}
	switch {
	case tok.signer != issuer:
		return 0, h, credential.Errorf(credential.StatusVerificationError, "the status list token is signed by %s, the credential issued by %s", tok.signer, issuer)
	case tok.token.Subject != uri:
		return 0, h, credential.Errorf(credential.StatusVerificationError, "the status list token's sub is %s, not %s", tok.token.Subject, uri)
	}
	if exp := tok.token.Expires; !exp.IsZero() && t.now().After(exp.Add(t.skew())) {
		return 0, h, credential.Errorf(credential.StatusVerificationError, "the status list token %s expired at %s", uri, exp.Format(time.RFC3339))
	}
	v, err := tok.token.List.Get(idx)
	if err != nil {
		return 0, h, err
	}
	return v, h, nil
}

func (t *TokenLists) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *TokenLists) skew() time.Duration {
	if t.Skew > 0 {
		return t.Skew
	}
	return time.Minute
}

// verified parses and verifies a token, once per version; a cached
// version's key is looked up again, so that a token signed by a key
// later marked compromised (or rotated out) stops counting.
func (t *TokenLists) verified(ctx context.Context, b []byte) (*cachedToken, error) {
	k := sha256.Sum256(b)
	if c := t.cache.get(k); c != nil {
		if err := t.checkKey(ctx, c.kid, c.token, &c.pub); err != nil {
			return nil, err
		}
		return c, nil
	}
	lim := tokenstatus.Limits{MaxListBytes: tokenstatus.DefaultMaxListBytes}
	u, err := tokenstatus.Parse(string(b), lim)
	if err != nil {
		return nil, credential.Errorf(credential.StatusVerificationError, "status list token: %v", err)
	}
	key, err := t.Keys.ResolveKey(ctx, u.KeyID, credential.PurposeAssertion)
	if err != nil {
		return nil, credential.Errorf(credential.StatusVerificationError, "status list token key %s: %v", u.KeyID, err)
	}
	if key.Controller != u.Signer() {
		return nil, credential.Errorf(credential.StatusVerificationError, "status list token key %s is controlled by %s", u.KeyID, key.Controller)
	}
	tok, err := u.Verify(key.Public, lim)
	if err != nil {
		return nil, credential.Errorf(credential.StatusVerificationError, "status list token: %v", err)
	}
	if tok.Issuer != "" && tok.Issuer != u.Signer() {
		return nil, credential.Errorf(credential.StatusVerificationError, "status list token: iss %s, signed by %s", tok.Issuer, u.Signer())
	}
	if err := key.CheckClaimedTime(tok.IssuedAt); err != nil {
		return nil, err
	}
	c := &cachedToken{token: tok, signer: u.Signer(), kid: u.KeyID, pub: key}
	t.cache.put(k, c)
	return c, nil
}

// checkKey resolves a cached token's key again: it must still verify
// the token (same material, not compromised, retired only after iat).
func (t *TokenLists) checkKey(ctx context.Context, kid string, tok *tokenstatus.Token, was *credential.VerificationKey) error {
	now, err := t.Keys.ResolveKey(ctx, kid, credential.PurposeAssertion)
	if err == nil {
		if err = now.CheckClaimedTime(tok.IssuedAt); err == nil && !now.Public.Equal(was.Public) {
			err = errors.New("another key")
		}
	}
	if err != nil {
		if code := credential.CodeOf(err, ""); code == credential.KeyCompromisedError || code == credential.KeyRetiredError {
			return err
		}
		return credential.Errorf(credential.StatusVerificationError, "status list token signed by %s, which no longer verifies (%v)", kid, err)
	}
	return nil
}

// cachedToken is a verified token, its signer and key.
type cachedToken struct {
	token  *tokenstatus.Token
	signer string
	kid    string
	pub    credential.VerificationKey
}

// tokenCache bounds the decoded tokens kept, as listCache does.
type tokenCache struct {
	mu    sync.Mutex
	m     map[[32]byte]*cachedToken
	bytes int
}

func (c *tokenCache) get(k [32]byte) *cachedToken {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k]
}

func (c *tokenCache) put(k [32]byte, t *cachedToken) {
	size := t.token.List.Len() * t.token.List.Bits() / 8
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || c.bytes+size > maxCachedListBytes || len(c.m) >= 4096 {
		c.m, c.bytes = map[[32]byte]*cachedToken{}, 0
	}
	c.m[k] = t
	c.bytes += size
}
