package registry

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/didkeys"
	"github.com/idmesh/idmesh/credential/statuslist"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/strictjson"
)

// TxStatusList publishes a version of a Bitstring Status List: the
// payload is the issuer-signed BitstringStatusListCredential.
const TxStatusList TxType = 4

// Status list rules every node checks.
const (
	// MaxStatusListBits bounds a list's length (2^24 entries, 2 MiB
	// decoded).
	MaxStatusListBits = 1 << 24
	// StatusListPathSegment is the path segment before a list's ID in
	// its credential's id (and statusListCredential URLs).
	StatusListPathSegment = "/status-lists/"
	// maxFutureSkew bounds how far past the block time a version's
	// validFrom may lie.
	maxFutureSkew = 5 * time.Minute
)

// ErrStatusList reports a status list transaction that breaks a rule.
var ErrStatusList = errors.New("invalid status list")

var listIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// StatusListKey is the state key of a list's latest version.
func StatusListKey(listID string) []byte { return append([]byte("sl\x00"), listID...) }

// StatusListID returns the list ID in a status list credential URL
// (".../status-lists/{id}"), or false.
func StatusListID(u string) (string, bool) {
	i := strings.LastIndex(u, StatusListPathSegment)
	if i < 0 {
		return "", false
	}
	id := u[i+len(StatusListPathSegment):]
	return id, listIDRE.MatchString(id)
}

// StatusListOwner returns the prefix a list ID must have for issuer d:
// the method-specific ID of its DID and a dash. An issuer writes only
// lists under its own prefix.
func StatusListOwner(d string) string {
	if p, err := did.Parse(d); err == nil {
		return strings.ReplaceAll(p.ID, ":", ".") + "-"
	}
	return "\x00"
}

// StatusListHandler applies TxStatusList: the list credential must be
// signed by a key in its issuer's assertionMethod (a did:idmesh DID on
// this chain, or a did:key), name a list under the issuer's prefix, and,
// for a list that exists, keep its issuer, purposes and length, carry a
// later validFrom, and clear no revoked bit: revocation is final.
type StatusListHandler struct{}

// DeliverTx checks and stores one list version.
func (StatusListHandler) DeliverTx(ctx TxContext, st *Overlay, payload []byte) error {
	l, obj, err := parseStatusList(payload)
	if err != nil {
		return Reject(CodeInvalid, fmt.Errorf("%w: %w", ErrStatusList, err))
	}
	listID, ok := StatusListID(l.ID)
	if !ok {
		return Reject(CodeInvalid, fmt.Errorf("%w: id %q does not end in %s{list id}", ErrStatusList, l.ID, StatusListPathSegment))
	}
	if !strings.HasPrefix(listID, StatusListOwner(l.Issuer)) {
		return Reject(CodeUnauthorized, fmt.Errorf("%w: list %s is not under issuer %s's prefix %q", ErrStatusList, listID, l.Issuer, StatusListOwner(l.Issuer)))
	}
	if !strings.HasPrefix(l.Issuer, "did:idmesh:") && !strings.HasPrefix(l.Issuer, "did:key:") {
		return Reject(CodeInvalid, fmt.Errorf("%w: the issuer must be a did:idmesh or did:key DID, not %s", ErrStatusList, l.Issuer))
	}
	if l.ValidFrom.IsZero() || l.ValidFrom.After(ctx.Time.Add(maxFutureSkew)) {
		return Reject(CodeInvalid, fmt.Errorf("%w: validFrom must be set and not after the block time", ErrStatusList))
	}
	// The issuer's keys as of this transaction: the chain's state
	// (earlier transactions of the block included).
	res, err := dataintegrity.Verify(context.Background(), obj, currentKeys(st), dataintegrity.VerifyOptions{ExpectedProofPurpose: credential.PurposeAssertion})
	if err != nil {
		return Reject(CodeUnauthorized, fmt.Errorf("%w: proof: %w", ErrStatusList, err))
	}
	for _, p := range res.Proofs {
		if p.Key.Controller != l.Issuer {
			return Reject(CodeUnauthorized, fmt.Errorf("%w: signed by %s, not by the issuer %s", ErrStatusList, p.Proof.VerificationMethod, l.Issuer))
		}
	}
	prev, err := st.Get(StatusListKey(listID))
	switch {
	case errors.Is(err, ErrNotFound):
		if l.Bits.Len() < statuslist.MinLength {
			return Reject(CodeInvalid, fmt.Errorf("%w: %d entries, at least %d", ErrStatusList, l.Bits.Len(), statuslist.MinLength))
		}
	case err != nil:
		return Reject(CodeInternal, err)
	default:
		old, _, err := parseStatusList(prev)
		if err != nil {
			return Reject(CodeInternal, fmt.Errorf("stored status list %s: %w", listID, err))
		}
		if err := successor(old, l); err != nil {
			return Reject(CodeConflict, fmt.Errorf("%w: %s: %w", ErrStatusList, listID, err))
		}
	}
	st.Set(StatusListKey(listID), payload)
	return nil
}

// currentKeys resolves the keys that may sign a transaction now: those
// of the latest version of a did:idmesh DID in st, and did:key keys. A
// key retired in a rotation is refused: the chain cannot tell that a
// signature predates the rotation, and a date the signer claims is not
// enough (docs/did-method.md, section 8.4). A key that any DID marked
// compromised is refused under every id: the key-status index is read
// for every key.
func currentKeys(st StateReader) didkeys.DIDKeys {
	r := &idmesh.Resolver{State: ReaderOf(st)}
	return didkeys.DIDKeys{Resolver: did.Methods{idmesh.Method: r, "key": key.Resolver{}}, Index: r, CurrentOnly: true}
}

// successor checks that next may follow prev.
func successor(prev, next *statuslist.List) error {
	switch {
	case next.Issuer != prev.Issuer:
		return fmt.Errorf("issuer %s, the list's is %s", next.Issuer, prev.Issuer)
	case !slices.Equal(next.Purposes, prev.Purposes):
		return fmt.Errorf("purposes %v, the list's are %v", next.Purposes, prev.Purposes)
	case next.Bits.Len() != prev.Bits.Len():
		return fmt.Errorf("%d entries, the list has %d", next.Bits.Len(), prev.Bits.Len())
	case !next.ValidFrom.After(prev.ValidFrom):
		return fmt.Errorf("validFrom %s is not after the current version's %s (replayed or out of order)",
			next.ValidFrom.Format(time.RFC3339Nano), prev.ValidFrom.Format(time.RFC3339Nano))
	}
	if slices.Contains(prev.Purposes, statuslist.PurposeRevocation) {
		was, now := prev.Bits.Bytes(), next.Bits.Bytes()
		for i := range was {
			if cleared := was[i] &^ now[i]; cleared != 0 {
				return fmt.Errorf("entry %d is revoked: revocation is final", 8*i+bits.LeadingZeros8(cleared))
			}
		}
	}
	return nil
}

// parseStatusList decodes a stored or submitted list credential.
func parseStatusList(b []byte) (*statuslist.List, map[string]any, error) {
	obj, err := strictjson.Object(b, MaxTxBytes)
	if err != nil {
		return nil, nil, err
	}
	// A list on the chain is plain JSON-LD: contexts by URL only, member
	// names that are terms. Every node canonicalizes it in consensus, so
	// an inline context would let anyone, without a key, make that cost
	// what they like; and the list's members are read by name, which
	// aliasing would hide from the rules above.
	if err := credential.CheckPlain(obj); err != nil {
		return nil, nil, err
	}
	l, err := statuslist.ParseListCredential(obj, MaxStatusListBits)
	if err != nil {
		return nil, nil, err
	}
	return l, obj, nil
}

// StatusList returns the latest version of a list as stored: the signed
// list credential's JSON.
func StatusList(r StateReader, listID string) ([]byte, error) {
	return r.Get(StatusListKey(listID))
}
