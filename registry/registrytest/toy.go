package registrytest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/idmesh/idmesh/registry"
)

// ToyHandler is a transaction type for tests of the chain machinery,
// whose payloads are commands:
//
//	set KEY VALUE       writes VALUE under KEY
//	setonce KEY VALUE   the same, but a conflict if KEY exists
//	until UNIX          valid only in blocks before that time
//
// Anything else is invalid. A failing transaction first writes garbage,
// so tests see that failed transactions' writes are discarded.
type ToyHandler struct{}

var _ registry.Handler = ToyHandler{}

// DeliverTx runs one command.
func (ToyHandler) DeliverTx(ctx registry.TxContext, st *registry.Overlay, p []byte) error {
	f := strings.Fields(string(p))
	switch {
	case len(f) == 3 && f[0] == "set":
		st.Set([]byte(f[1]), []byte(f[2]))
		return nil
	case len(f) == 3 && f[0] == "setonce":
		if _, err := st.Get([]byte(f[1])); err == nil {
			return registry.Reject(registry.CodeConflict, fmt.Errorf("%s exists", f[1]))
		}
		st.Set([]byte(f[1]), []byte(f[2]))
		return nil
	case len(f) == 2 && f[0] == "until":
		u, err := strconv.ParseInt(f[1], 10, 64)
		if err == nil && ctx.Time.Unix() < u {
			st.Set([]byte("until"), []byte(f[1]))
			return nil
		}
		return registry.Reject(registry.CodeInvalid, errors.New("expired"))
	}
	st.Set([]byte("garbage"), []byte("must be discarded"))
	return registry.Reject(registry.CodeInvalid, errors.New(string(p)))
}

// ToyTx wraps a ToyHandler command as a transaction (of the type slot
// the test machine maps to ToyHandler).
func ToyTx(s string) registry.Tx {
	return registry.Tx{Type: registry.TxDIDOperation, Payload: []byte(s)}
}

// ToyMachine returns a machine that runs ToyHandler.
func ToyMachine() *registry.Machine {
	return registry.NewMachine(map[registry.TxType]registry.Handler{registry.TxDIDOperation: ToyHandler{}})
}
