package tokenstatus_test

import (
	"fmt"

	"github.com/idmesh/idmesh/credential/tokenstatus"
)

// An issuer revokes entry 3 and suspends entry 5 of a list; a verifier
// decodes the lst and reads them back.
func Example() {
	l, _ := tokenstatus.New(tokenstatus.MinLength, tokenstatus.Bits)
	_ = l.Set(3, tokenstatus.Invalid)
	_ = l.Set(5, tokenstatus.Suspended)
	lst, _ := l.Encode()

	got, _ := tokenstatus.Decode(lst, tokenstatus.Bits, 0)
	for _, i := range []int{3, 4, 5} {
		v, _ := got.Get(i)
		fmt.Println(i, v)
	}
	// Output:
	// 3 1
	// 4 0
	// 5 2
}
