package keys

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/mr-tron/base58"
	"github.com/multiformats/go-multicodec"

	"github.com/idmesh/idmesh/did/internal/fifo"
)

// Multicodec codes of the public keys (https://github.com/multiformats/multicodec).
const (
	codecEd25519 = uint64(multicodec.Ed25519Pub) // 0xed
	codecX25519  = uint64(multicodec.X25519Pub)  // 0xec
	codecP256    = uint64(multicodec.P256Pub)    // 0x1200
)

// maxMultibaseLen bounds ParseMultibase input: far above the longest key
// (an uncompressed P-256 point) and small enough to decode cheaply.
const maxMultibaseLen = 256

func codecOf(t Type) uint64 {
	switch t {
	case Ed25519:
		return codecEd25519
	case P256:
		return codecP256
	case X25519:
		return codecX25519
	}
	return 0
}

// Multibase returns the Multikey publicKeyMultibase of p: 'z' followed by
// base58btc(multicodec varint || key bytes). P-256 keys are always encoded
// compressed. It returns "" for the zero key.
func (p PublicKey) Multibase() string {
	if p.IsZero() {
		return ""
	}
	buf := binary.AppendUvarint(nil, codecOf(p.t))
	buf = append(buf, p.b...)
	return "z" + base58.Encode(buf)
}

// ParseMultibase parses a Multikey publicKeyMultibase value, the inverse
// of [PublicKey.Multibase]. Only the base58btc ('z') multibase is accepted,
// as Multikey requires. Unknown codecs wrap [ErrUnsupportedKey]; malformed
// input, wrong lengths and invalid points wrap [ErrInvalidKey]. An
// uncompressed P-256 point is accepted and stored compressed.
func ParseMultibase(s string) (PublicKey, error) {
	if k, ok := parsedMultibase.get(s); ok {
		return k, nil
	}
	k, err := parseMultibase(s)
	if err == nil {
		parsedMultibase.add(s, k)
	}
	return k, err
}

// parsedMultibase remembers the keys ParseMultibase parsed: a key is
// parsed several times on its way through a ledger operation (document
// validation, authorization, the batch of its block's signatures), and
// base58 decoding is most of the cost. Parsing is a pure function of the
// string, and only successes are kept, so the cache never changes an
// answer. Bounded: 8,192 strings of at most 96 bytes (a P-256 key
// written uncompressed), each with its key of at most 33, about 2 MiB
// with the map's own overhead.
var parsedMultibase = &keyCache{m: fifo.New[string, PublicKey](8192), maxLen: 96}

// keyCache maps a key's encoding (at most maxLen bytes) to the key.
type keyCache struct {
	m      *fifo.Map[string, PublicKey]
	maxLen int
}

func (c *keyCache) get(s string) (PublicKey, bool) {
	if len(s) > c.maxLen {
		return PublicKey{}, false
	}
	return c.m.Get(s)
}

func (c *keyCache) add(s string, k PublicKey) {
	if len(s) > c.maxLen {
		return
	}
	c.m.Put(strings.Clone(s), k, 0) // not a view of a larger document
}

func parseMultibase(s string) (PublicKey, error) {
	if len(s) < 2 || len(s) > maxMultibaseLen {
		return PublicKey{}, fmt.Errorf("parse multibase: %w: length %d", ErrInvalidKey, len(s))
	}
	if s[0] != 'z' {
		return PublicKey{}, fmt.Errorf("parse multibase: %w: prefix %q is not base58btc 'z'", ErrInvalidKey, s[0])
	}
	raw, err := base58.Decode(s[1:])
	if err != nil {
		return PublicKey{}, fmt.Errorf("parse multibase: %w: %w", ErrInvalidKey, err)
	}
	code, n := binary.Uvarint(raw)
	if n <= 0 {
		return PublicKey{}, fmt.Errorf("parse multibase: %w: bad multicodec varint", ErrInvalidKey)
	}
	// Multiformats varints must be minimal.
	if !bytes.Equal(binary.AppendUvarint(nil, code), raw[:n]) {
		return PublicKey{}, fmt.Errorf("parse multibase: %w: non-minimal multicodec varint", ErrInvalidKey)
	}
	var t Type
	switch code {
	case codecEd25519:
		t = Ed25519
	case codecP256:
		t = P256
	case codecX25519:
		t = X25519
	default:
		return PublicKey{}, fmt.Errorf("parse multibase: %w: multicodec 0x%x", ErrUnsupportedKey, code)
	}
	k, err := FromRaw(t, raw[n:])
	if err != nil {
		return PublicKey{}, fmt.Errorf("parse multibase: %w", err)
	}
	return k, nil
}
