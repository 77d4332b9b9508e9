package p2p

import (
	"testing"

	pubsub "github.com/libp2p/go-libp2p-pubsub"

	"github.com/idmesh/idmesh/registry"
)

// TestTakeValidatedDropsDecoded: the readers take what the validator
// decoded from a message and leave the message, which gossipsub's cache
// keeps for a few heartbeats, without it; a message holding something
// else is skipped, and cleared too.
func TestTakeValidatedDropsDecoded(t *testing.T) {
	txs := []registry.Tx{{Type: registry.TxDIDOperation, Payload: []byte("{}")}}
	msg := &pubsub.Message{ValidatorData: txs}
	got, ok := takeValidated[[]registry.Tx](msg)
	if !ok || len(got) != 1 || string(got[0].Payload) != "{}" {
		t.Fatalf("took %v, %v; want the transactions", got, ok)
	}
	if msg.ValidatorData != nil {
		t.Fatal("the message still holds the decoded transactions")
	}
	msg.ValidatorData = txs
	if _, ok := takeValidated[Message](msg); ok || msg.ValidatorData != nil {
		t.Fatalf("a message of another type: ok %v, data %v; want false, nil", ok, msg.ValidatorData)
	}
}
