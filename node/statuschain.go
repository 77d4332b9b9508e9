package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/idmesh/idmesh/credential/statuslist"
	"github.com/idmesh/idmesh/registry"
)

// DefaultStatusWait is how long StatusChain waits for a status list
// version to be committed when MaxWait is not set.
const DefaultStatusWait = 30 * time.Second

// StatusChain is the ledger as the issuers' status service sees it (the
// interface issuer.Chain): a status list version is published as a
// registry.TxStatusList transaction, which the registry checks as it
// checks every submitted one, and read back from the committed state.
// Lists are named by the registry's rules (registry.StatusListOwner,
// registry.StatusListPathSegment).
type StatusChain struct {
	Node *Node
	// MaxWait bounds the wait for a commit; default DefaultStatusWait.
	MaxWait time.Duration
}

// PublishStatusList submits the signed list credential as a
// TxStatusList and waits, at most MaxWait, for its commit. It returns
// the block height, the rejection (wrapping ErrRejected when the
// mempool refuses it), or an error when it was not committed in time.
func (c StatusChain) PublishStatusList(ctx context.Context, credential []byte) (uint64, error) {
	return c.publish(ctx, registry.Tx{Type: registry.TxStatusList, Payload: credential})
}

// PublishTokenStatusList submits the signed Status List Token as a
// TxTokenStatusList and waits for its commit as PublishStatusList does
// (issuer.TokenChain).
func (c StatusChain) PublishTokenStatusList(ctx context.Context, token []byte) (uint64, error) {
	return c.publish(ctx, registry.Tx{Type: registry.TxTokenStatusList, Payload: token})
}

// TokenStatusList returns the latest committed Status List Token of a
// list, as signed; an error wrapping registry.ErrNotFound if there is
// none.
func (c StatusChain) TokenStatusList(listID string) ([]byte, error) {
	return registry.TokenStatusList(c.Node.Chain.Store(), listID)
}

// TokenPath returns where every node serves a list's token:
// registry.StatusListPathSegment, the list ID, registry.TokenPathSuffix.
func (c StatusChain) TokenPath(listID string) string {
	return registry.StatusListPathSegment + listID + registry.TokenPathSuffix
}

func (c StatusChain) publish(ctx context.Context, tx registry.Tx) (uint64, error) {
	h, err := c.Node.Submit(tx)
	if err != nil {
		return 0, err
	}
	wait := c.MaxWait
	if wait <= 0 {
		wait = DefaultStatusWait
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	st, err := c.Node.WaitStatus(ctx, h)
	switch {
	case err != nil:
		return 0, err
	case st.Status == TxRejected:
		return 0, fmt.Errorf("the chain rejected the transaction: %s", st.Reason)
	case st.Status != TxCommitted:
		return 0, errors.New("the transaction was not committed in time")
	}
	return st.Height, nil
}

// StatusList returns the latest committed version of a list, parsed
// within registry.MaxStatusListBits; an error wrapping
// registry.ErrNotFound if there is none.
func (c StatusChain) StatusList(listID string) (*statuslist.List, error) {
	raw, err := registry.StatusList(c.Node.Chain.Store(), listID)
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("decode status list: %w", err)
	}
	return statuslist.ParseListCredential(obj, registry.MaxStatusListBits)
}

// Height returns the chain's height.
func (c StatusChain) Height() uint64 { return c.Node.State().Height }

// ListIDPrefix returns registry.StatusListOwner(issuerDID): the registry
// accepts from an issuer only lists under this prefix.
func (c StatusChain) ListIDPrefix(issuerDID string) string {
	return registry.StatusListOwner(issuerDID)
}

// ListPath returns registry.StatusListPathSegment and the list ID: where
// every node serves the list.
func (c StatusChain) ListPath(listID string) string {
	return registry.StatusListPathSegment + listID
}
