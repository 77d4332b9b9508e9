package registry

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"net/url"
	"strings"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/tokenstatus"
)

// TxTokenStatusList publishes a version of an IETF Token Status List:
// the payload is the issuer-signed Status List Token, a compact JWT of
// typ statuslist+jwt, exactly as it is served.
const TxTokenStatusList TxType = 7

// TokenPathSuffix follows a list's ID in the URI of its Status List
// Token: {public-url}/status-lists/{id}/token.
const TokenPathSuffix = "/token"

// ErrTokenStatusList reports a token status list transaction that breaks
// a rule.
var ErrTokenStatusList = errors.New("invalid token status list")

// TokenStatusListKey is the state key of a token list's latest version.
func TokenStatusListKey(listID string) []byte { return append([]byte("tsl\x00"), listID...) }

// TokenStatusListID returns the list ID in a Status List Token's URI
// (its sub, a referenced token's status_list.uri): an absolute http or
// https URL without query or fragment whose path ends in
// /status-lists/{id}/token. Only the path's tail is the ledger's
// business: each node serves the token under its own public URL.
func TokenStatusListID(uri string) (string, bool) {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || u.User != nil {
		return "", false
	}
	p, ok := strings.CutSuffix(u.EscapedPath(), TokenPathSuffix)
	if !ok {
		return "", false
	}
	return StatusListID(p)
}

// TokenStatusList returns the latest version of a token list as stored:
// the Status List Token's compact JWT.
func TokenStatusList(r StateReader, listID string) ([]byte, error) {
	return r.Get(TokenStatusListKey(listID))
}

// tokenLimits bound a token on the chain: a transaction's size, and
// MaxStatusListBits decompressed.
var tokenLimits = tokenstatus.Limits{MaxTokenBytes: MaxTxBytes, MaxListBytes: MaxStatusListBits / 8}

// TokenStatusListHandler applies TxTokenStatusList, with the rules of
// the Bitstring lists (StatusListHandler): the token must be signed
// (EdDSA or ES256; typ statuslist+jwt) by a key in its issuer's
// assertionMethod, the issuer being the DID of its kid, a did:idmesh DID
// on this chain or a did:key, equal to iss when iss is present; its sub
// must end in /status-lists/{id}/token with the ID under the issuer's
// prefix; the list has 2 bits per entry and no entry of value 3. A new
// list has at least tokenstatus.MinLength entries; a version of a list
// that exists keeps its issuer and length, carries a later iat, and
// keeps every revoked (1) entry revoked: revocation is final, while a
// suspended (2) entry may return to 0. iat may not be more than five
// minutes past the block time, and exp, when present, must be after it.
type TokenStatusListHandler struct{}

// DeliverTx checks and stores one token list version.
func (TokenStatusListHandler) DeliverTx(ctx TxContext, st *Overlay, payload []byte) error {
	invalid := func(code uint32, format string, args ...any) error {
		return Reject(code, fmt.Errorf("%w: "+format, append([]any{ErrTokenStatusList}, args...)...))
	}
	u, err := tokenstatus.Parse(string(payload), tokenLimits)
	if err != nil {
		return invalid(CodeInvalid, "%w", err)
	}
	iss := u.Signer()
	if !strings.HasPrefix(iss, "did:idmesh:") && !strings.HasPrefix(iss, "did:key:") {
		return invalid(CodeInvalid, "the issuer must be a did:idmesh or did:key DID, not %s", iss)
	}
	key, err := currentKeys(st).ResolveKey(context.Background(), u.KeyID, credential.PurposeAssertion)
	if err != nil {
		return invalid(CodeUnauthorized, "key %s: %w", u.KeyID, err)
	}
	if err := key.CheckClaimedTime(time.Time{}); err != nil || key.Controller != iss {
		if err == nil {
			err = fmt.Errorf("controlled by %s", key.Controller)
		}
		return invalid(CodeUnauthorized, "key %s: %w", u.KeyID, err)
	}
	tok, err := u.Verify(key.Public, tokenLimits)
	if err != nil {
		if credential.CodeOf(err, "") == credential.CryptographicSecurityError {
			return invalid(CodeUnauthorized, "%w", err)
		}
		return invalid(CodeInvalid, "%w", err)
	}
	if tok.Issuer != "" && tok.Issuer != iss {
		return invalid(CodeUnauthorized, "iss %s, but signed by %s", tok.Issuer, iss)
	}
	listID, ok := TokenStatusListID(tok.Subject)
	if !ok {
		return invalid(CodeInvalid, "sub %q is not an http(s) URL ending in %s{list id}%s", tok.Subject, StatusListPathSegment, TokenPathSuffix)
	}
	if !strings.HasPrefix(listID, StatusListOwner(iss)) {
		return invalid(CodeUnauthorized, "list %s is not under issuer %s's prefix %q", listID, iss, StatusListOwner(iss))
	}
	if tok.List.Bits() != tokenstatus.Bits {
		return invalid(CodeInvalid, "%d bits per entry, want %d", tok.List.Bits(), tokenstatus.Bits)
	}
	if i := firstReserved(tok.List.Bytes()); i >= 0 {
		return invalid(CodeInvalid, "entry %d has status 3, which idmesh does not use", i)
	}
	if tok.IssuedAt.After(ctx.Time.Add(maxFutureSkew)) {
		return invalid(CodeInvalid, "iat %s is after the block time", tok.IssuedAt.Format(time.RFC3339))
	}
	if !tok.Expires.IsZero() && !tok.Expires.After(ctx.Time) {
		return invalid(CodeInvalid, "exp %s is not after the block time", tok.Expires.Format(time.RFC3339))
	}
	prev, err := st.Get(TokenStatusListKey(listID))
	switch {
	case errors.Is(err, ErrNotFound):
		if tok.List.Len() < tokenstatus.MinLength {
			return invalid(CodeInvalid, "%d entries, at least %d", tok.List.Len(), tokenstatus.MinLength)
		}
	case err != nil:
		return Reject(CodeInternal, err)
	default:
		old, oldIss, err := storedToken(prev)
		if err != nil {
			return Reject(CodeInternal, fmt.Errorf("stored token status list %s: %w", listID, err))
		}
		if err := tokenSuccessor(oldIss, old, iss, tok); err != nil {
			return invalid(CodeConflict, "%s: %w", listID, err)
		}
	}
	st.Set(TokenStatusListKey(listID), payload)
	return nil
}

// storedToken reads a stored token, whose signature was checked when it
// was stored, and its issuer.
func storedToken(b []byte) (*tokenstatus.Token, string, error) {
	u, err := tokenstatus.Parse(string(b), tokenLimits)
	if err != nil {
		return nil, "", err
	}
	t, err := u.Claims(tokenLimits)
	return t, u.Signer(), err
}

// tokenSuccessor checks that next, by nextIss, may follow prev, by
// prevIss.
func tokenSuccessor(prevIss string, prev *tokenstatus.Token, nextIss string, next *tokenstatus.Token) error {
	switch {
	case nextIss != prevIss:
		return fmt.Errorf("issuer %s, the list's is %s", nextIss, prevIss)
	case next.Subject != prev.Subject:
		// The credentials of the list name its uri: a version under
		// another sub would fail every one of them.
		return fmt.Errorf("sub %s, the list's is %s", next.Subject, prev.Subject)
	case next.List.Len() != prev.List.Len() || next.List.Bits() != prev.List.Bits():
		return fmt.Errorf("%d entries, the list has %d", next.List.Len(), prev.List.Len())
	case !next.IssuedAt.After(prev.IssuedAt):
		return fmt.Errorf("iat %d is not after the current version's %d (replayed or out of order)", next.IssuedAt.Unix(), prev.IssuedAt.Unix())
	}
	if i := firstUnrevoked(prev.List.Bytes(), next.List.Bytes()); i >= 0 {
		return fmt.Errorf("entry %d is revoked: revocation is final", i)
	}
	return nil
}

// Masks over the 2-bit entries of a byte: the low bit of each.
const lowBits = 0x55

// revoked returns the low bits of the entries of b equal to 1.
func revoked(b byte) byte { return b &^ (b >> 1) & lowBits }

// firstUnrevoked returns the first entry that is 1 in prev and not in
// next, or -1.
func firstUnrevoked(prev, next []byte) int {
	for i := range prev {
		if lost := revoked(prev[i]) &^ revoked(next[i]); lost != 0 {
			return 4*i + bits.TrailingZeros8(lost)/2
		}
	}
	return -1
}

// firstReserved returns the first 2-bit entry of value 3, or -1.
func firstReserved(b []byte) int {
	for i, c := range b {
		if three := c & (c >> 1) & lowBits; three != 0 {
			return 4*i + bits.TrailingZeros8(three)/2
		}
	}
	return -1
}
