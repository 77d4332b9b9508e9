package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/syndtr/goleveldb/leveldb"

	"github.com/idmesh/idmesh/credential/statuslist"
	"github.com/idmesh/idmesh/credential/tokenstatus"
)

// TokenPurpose is the Purpose of an EntryRef in a token status list
// (IETF Token Status List): one 2-bit entry carries both revocation
// (1, final) and suspension (2).
const TokenPurpose = "tokenStatusList"

// ErrNoTokenLists reports a chain that keeps no token status lists.
var ErrNoTokenLists = errors.New("this node's chain keeps no token status lists")

// TokenChain is what the status service needs of the ledger to keep
// token status lists; a Chain that implements it lets the service give
// SD-JWT VCs their status (node.StatusChain does).
type TokenChain interface {
	// PublishTokenStatusList submits a version of a token status list,
	// its issuer-signed Status List Token (compact JWT), and waits for
	// its commit, as PublishStatusList does.
	PublishTokenStatusList(ctx context.Context, token []byte) (uint64, error)
	// TokenStatusList returns the latest committed Status List Token of
	// a list, as signed; an error if there is none.
	TokenStatusList(listID string) ([]byte, error)
	// TokenPath returns the path, under a node's base URL, where every
	// node serves a list's token: its URI's tail.
	TokenPath(listID string) string
}

func (s *StatusService) tokenChain() (TokenChain, error) {
	if tc, ok := s.Chain.(TokenChain); ok {
		return tc, nil
	}
	return nil, ErrNoTokenLists
}

// TokenURL is the URI of a list's Status List Token: the token's sub
// and the status_list.uri of the credentials it covers.
func (s *StatusService) TokenURL(listID string) (string, error) {
	tc, err := s.tokenChain()
	if err != nil {
		return "", err
	}
	return s.BaseURL + tc.TokenPath(listID), nil
}

// TokenStatus allocates a random unused index in the issuer's current
// token status list (publishing a new list when there is none or it is
// full), records credentialID → entry before it returns, and returns
// the status claim value of an SD-JWT VC:
// {"status_list": {"idx": N, "uri": "{BaseURL}/status-lists/{id}/token"}}.
// SetStatus then revokes (1, final), suspends (2) and unsuspends (0)
// the entry. An id issued here before fails with ErrDuplicateID; no
// error carries a credential.Code (none is the request's fault).
func (s *StatusService) TokenStatus(ctx context.Context, iss Issuer, credentialID string) (map[string]any, error) {
	if _, err := s.tokenChain(); err != nil {
		return nil, err
	}
	listID, idx, err := s.allocate(ctx, iss, TokenPurpose)
	if err != nil {
		return nil, err
	}
	uri, err := s.TokenURL(listID)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal([]EntryRef{{Issuer: iss.DID, Purpose: TokenPurpose, ListID: listID, Index: idx}})
	if err != nil {
		return nil, err
	}
	batch := new(leveldb.Batch)
	batch.Put(keyAlloc(listID, idx), []byte(credentialID))
	batch.Put(keyCredential(credentialID), b)
	if err := s.recordOnce(batch, credentialID); err != nil {
		return nil, fmt.Errorf("record status entry: %w", err)
	}
	return map[string]any{"status_list": map[string]any{"idx": idx, "uri": uri}}, nil
}

// publishNewToken signs and commits an empty token list of s.length()
// entries.
func (s *StatusService) publishNewToken(ctx context.Context, iss Issuer, listID string) error {
	l, err := tokenstatus.New(s.length(), tokenstatus.Bits)
	if err != nil {
		// The node's configuration, not the request: no credential code.
		return fmt.Errorf("new token status list of %d entries: %s", s.length(), err.Error())
	}
	_, err = s.publishToken(ctx, iss, listID, l, nil)
	return err
}

// publishToken signs a version of a token list and commits it. Its iat,
// in whole seconds, is strictly after prev's (the chain's order of
// versions): under changes faster than one a second it runs ahead of
// the clock, by at most the five minutes the chain allows. A new
// version keeps prev's sub, the uri its credentials name, whatever the
// node's public URL is now (the chain requires it); prev is nil for a
// new list.
func (s *StatusService) publishToken(ctx context.Context, iss Issuer, listID string, l *tokenstatus.List, prevToken *tokenstatus.Token) (uint64, error) {
	tc, err := s.tokenChain()
	if err != nil {
		return 0, err
	}
	signer, err := s.Registry.Signer(iss)
	if err != nil {
		return 0, err
	}
	var prev time.Time
	sub := s.BaseURL + tc.TokenPath(listID)
	if prevToken != nil {
		prev, sub = prevToken.IssuedAt, prevToken.Subject
	}
	iat := s.now().UTC().Truncate(time.Second)
	if !iat.After(prev) {
		iat = prev.Truncate(time.Second).Add(time.Second)
	}
	t := tokenstatus.Token{Subject: sub, Issuer: iss.DID, IssuedAt: iat, List: l}
	jwt, err := t.Sign(signer, "")
	if err != nil {
		// The node's failure, not the request's: no credential code.
		return 0, fmt.Errorf("sign status list token: %s", err.Error())
	}
	return tc.PublishTokenStatusList(ctx, []byte(jwt))
}

// currentToken reads a list's latest committed token.
func (s *StatusService) currentToken(listID string) (*tokenstatus.Token, error) {
	tc, err := s.tokenChain()
	if err != nil {
		return nil, err
	}
	b, err := tc.TokenStatusList(listID)
	if err != nil {
		return nil, err
	}
	// The chain checked the signature when it committed the token.
	u, err := tokenstatus.Parse(string(b), tokenstatus.Limits{})
	if err != nil {
		return nil, err
	}
	return u.Claims(tokenstatus.Limits{})
}

// tokenValue is the value an entry of cur takes when a change of the
// purpose sets (value) or clears it: revocation sets 1 and cannot be
// undone; suspension sets 2 and clears to 0; a revoked entry takes no
// suspension.
func tokenValue(cur uint8, purpose string, value bool) (uint8, error) {
	switch {
	case purpose == statuslist.PurposeRevocation && value:
		return tokenstatus.Invalid, nil
	case cur == tokenstatus.Invalid:
		return cur, ErrRevocationFinal
	case purpose == statuslist.PurposeRevocation:
		return cur, nil // not revoked: nothing to clear
	case value:
		return tokenstatus.Suspended, nil
	default:
		return tokenstatus.Valid, nil
	}
}

// tokenRound applies a round of changes to a token list as round does
// to a Bitstring list.
func (s *StatusService) tokenRound(ctx context.Context, ref EntryRef, batch []*change) {
	finish := func(c *change, h uint64, err error) {
		c.height, c.err = h, err
		close(c.done)
	}
	cur, err := s.currentToken(ref.ListID)
	if err == nil {
		var iss Issuer
		if iss, err = s.Registry.Find(ref.Issuer); err == nil {
			s.applyTokenRound(ctx, iss, ref, cur, batch, finish)
			return
		}
	}
	for _, c := range batch {
		finish(c, 0, fmt.Errorf("read token status list %s: %w", ref.ListID, err))
	}
}

func (s *StatusService) applyTokenRound(ctx context.Context, iss Issuer, ref EntryRef, cur *tokenstatus.Token, batch []*change, finish func(*change, uint64, error)) {
	l := cur.List.Clone()
	var apply []*change
	last := map[int]*change{}
	for _, c := range batch {
		if c.ctx.Err() == nil {
			last[c.index] = c
		}
	}
	for _, c := range batch {
		was, err := l.Get(c.index)
		var v uint8
		if err == nil && c.ctx.Err() == nil && last[c.index] == c {
			v, err = tokenValue(was, c.purpose, c.value)
		}
		switch {
		case c.ctx.Err() != nil:
			finish(c, 0, c.ctx.Err())
		case err != nil:
			finish(c, 0, err)
		case last[c.index] != c:
			finish(c, 0, ErrSuperseded)
		default:
			_ = l.Set(c.index, v)
			apply = append(apply, c)
		}
	}
	if len(apply) == 0 {
		return
	}
	if l.Equal(cur.List) {
		h := s.Chain.Height()
		for _, c := range apply {
			finish(c, h, nil)
		}
		return
	}
	h, err := s.publishToken(ctx, iss, ref.ListID, l, cur)
	for _, c := range apply {
		finish(c, h, err)
	}
}
