package idmesh_test

import (
	"encoding/json"
	"flag"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/gowebpki/jcs"

	"github.com/idmesh/idmesh/did/idmesh"
)

// Flags of TestReviewDecodeDifferential, for longer runs than make
// test's: go test -run DecodeDifferential ./did/idmesh/ -args -decodediff.n 500000
var (
	decodeDiffN    = flag.Int("decodediff.n", 5000, "samples of TestReviewDecodeDifferential")
	decodeDiffSeed = flag.Uint64("decodediff.seed", 1, "seed of TestReviewDecodeDifferential")
)

// TestReviewDecodeDifferential (review R11): random structural mutations
// of valid operations, canonicalized, decode alike by Decode and the long
// way (encoding/json, json.Marshal and subsumed every time).
func TestReviewDecodeDifferential(t *testing.T) {
	n, seed := *decodeDiffN, *decodeDiffSeed
	rng := rand.New(rand.NewPCG(seed, 99))
	var roots []any
	for i, b := range decodeSeeds(t) {
		if i%4 != 0 {
			continue
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		roots = append(roots, v)
	}
	var accepted, fastKept, total int
	for range n {
		v := deepCopy(roots[rng.IntN(len(roots))])
		for range 1 + rng.IntN(3) {
			v = mutate(rng, v, 0)
		}
		raw, err := json.Marshal(v)
		if err != nil {
			continue
		}
		b, err := jcs.Transform(raw)
		if err != nil {
			continue
		}
		total++
		fast, ferr := idmesh.Decode(b)
		slow, serr := idmesh.DecodeLong(b)
		if (ferr == nil) != (serr == nil) || ferr != nil && ferr.Error() != serr.Error() {
			t.Fatalf("%s:\nDecode %v\nlong   %v", b, ferr, serr)
		}
		if ferr != nil {
			continue
		}
		accepted++
		if _, _, k := idmesh.ShortWay(b); k {
			fastKept++
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%s: ops differ", b)
		}
	}
	t.Logf("%d samples, %d accepted, %d of them shown kept by decodeTyped", total, accepted, fastKept)
}

var reviewNames = []string{"id", "type", "controller", "publicKeyMultibase", "publicKeyJwk", "serviceEndpoint",
	"@context", "alsoKnownAs", "verificationMethod", "authentication", "assertionMethod", "keyAgreement",
	"capabilityInvocation", "capabilityDelegation", "service", "did", "previous", "document", "compromised",
	"proof", "signature", "ID", "Type", "ſervice", "\u212aeyAgreement", "x", "", "kty", "crv"}

func leaf(rng *rand.Rand) any {
	switch rng.IntN(16) {
	case 0:
		return ""
	case 1:
		return "x"
	case 2:
		return 0.0
	case 3:
		return 1.5
	case 4:
		return 1e21
	case 5:
		return -1.0
	case 6:
		return true
	case 7:
		return false
	case 8:
		return nil
	case 9:
		return []any{}
	case 10:
		return map[string]any{}
	case 11:
		return []any{"x"}
	case 12:
		return []any{""}
	case 13:
		return []any{map[string]any{}}
	case 14:
		return map[string]any{"a": ""}
	default:
		return "<\u2028é\x00>"
	}
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case []any:
		y := make([]any, len(x))
		for i := range x {
			y[i] = deepCopy(x[i])
		}
		return y
	case map[string]any:
		y := make(map[string]any, len(x))
		for k, e := range x {
			y[k] = deepCopy(e)
		}
		return y
	}
	return v
}

// mutate changes v in one random place.
func mutate(rng *rand.Rand, v any, depth int) any {
	switch x := v.(type) {
	case []any:
		if len(x) > 0 && rng.IntN(3) != 0 {
			i := rng.IntN(len(x))
			x[i] = mutate(rng, x[i], depth+1)
			return x
		}
		switch rng.IntN(5) {
		case 0:
			return []any{}
		case 1:
			if len(x) == 1 {
				return x[0]
			}
		case 2:
			return append(x, leaf(rng))
		case 3:
			if len(x) > 0 {
				return append(x, deepCopy(x[rng.IntN(len(x))]))
			}
		}
		return []any{x}
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		if len(keys) > 0 && rng.IntN(3) != 0 {
			k := keys[rng.IntN(len(keys))]
			x[k] = mutate(rng, x[k], depth+1)
			return x
		}
		switch rng.IntN(4) {
		case 0:
			if len(keys) > 0 {
				delete(x, keys[rng.IntN(len(keys))])
				return x
			}
		case 1:
			x[reviewNames[rng.IntN(len(reviewNames))]] = leaf(rng)
			return x
		case 2:
			return map[string]any{}
		}
		return []any{x}
	default:
		if rng.IntN(4) == 0 {
			return []any{v}
		}
		return leaf(rng)
	}
}
