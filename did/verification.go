package did

import (
	"fmt"

	"github.com/idmesh/idmesh/did/keys"
)

// Verification method types.
const (
	// TypeMultikey is the Multikey type (ContextMultikey), carrying
	// publicKeyMultibase. New documents use it.
	TypeMultikey = "Multikey"
	// TypeJsonWebKey is the JsonWebKey type (ContextJWK), carrying
	// publicKeyJwk.
	TypeJsonWebKey = "JsonWebKey" //nolint:revive // spelled as in the spec
	// TypeJsonWebKey2020 is the legacy JWK type, accepted when reading.
	TypeJsonWebKey2020 = "JsonWebKey2020" //nolint:revive // spelled as in the spec
	// TypeEd25519VerificationKey2020 is the legacy Ed25519 multibase type,
	// accepted when reading.
	TypeEd25519VerificationKey2020 = "Ed25519VerificationKey2020"
	// TypeX25519KeyAgreementKey2020 is the legacy X25519 multibase type,
	// accepted when reading.
	TypeX25519KeyAgreementKey2020 = "X25519KeyAgreementKey2020"
)

// NewMultikey returns a Multikey verification method for pub.
func NewMultikey(id, controller string, pub keys.PublicKey) VerificationMethod {
	return VerificationMethod{ID: id, Type: TypeMultikey, Controller: controller, PublicKeyMultibase: pub.Multibase()}
}

// NewJsonWebKey returns a JsonWebKey verification method for pub.
func NewJsonWebKey(id, controller string, pub keys.PublicKey) VerificationMethod { //nolint:revive // name fixed by the API
	return VerificationMethod{ID: id, Type: TypeJsonWebKey, Controller: controller, PublicKeyJwk: pub.JWK()}
}

// PublicKey decodes the method's key. It requires exactly one of
// publicKeyMultibase and publicKeyJwk, and for the known types the one the
// type calls for: Multikey, Ed25519VerificationKey2020 and
// X25519KeyAgreementKey2020 use publicKeyMultibase (the last two only for
// their own curve); JsonWebKey and JsonWebKey2020 use publicKeyJwk. Other
// types are decoded from whichever property is present. Errors wrap
// keys.ErrInvalidKey or keys.ErrUnsupportedKey.
func (vm VerificationMethod) PublicKey() (keys.PublicKey, error) {
	hasMB, hasJWK := vm.PublicKeyMultibase != "", vm.PublicKeyJwk != nil
	switch {
	case hasMB && hasJWK:
		return keys.PublicKey{}, fmt.Errorf("verification method key: %w: both publicKeyMultibase and publicKeyJwk", keys.ErrInvalidKey)
	case !hasMB && !hasJWK:
		return keys.PublicKey{}, fmt.Errorf("verification method key: %w: no publicKeyMultibase or publicKeyJwk", keys.ErrInvalidKey)
	}
	var want keys.Type
	switch vm.Type {
	case TypeMultikey:
		if !hasMB {
			return keys.PublicKey{}, fmt.Errorf("verification method key: %w: %s needs publicKeyMultibase", keys.ErrInvalidKey, vm.Type)
		}
	case TypeEd25519VerificationKey2020, TypeX25519KeyAgreementKey2020:
		if !hasMB {
			return keys.PublicKey{}, fmt.Errorf("verification method key: %w: %s needs publicKeyMultibase", keys.ErrInvalidKey, vm.Type)
		}
		want = keys.Ed25519
		if vm.Type == TypeX25519KeyAgreementKey2020 {
			want = keys.X25519
		}
	case TypeJsonWebKey, TypeJsonWebKey2020:
		if !hasJWK {
			return keys.PublicKey{}, fmt.Errorf("verification method key: %w: %s needs publicKeyJwk", keys.ErrInvalidKey, vm.Type)
		}
	}
	var (
		k   keys.PublicKey
		err error
	)
	if hasMB {
		k, err = keys.ParseMultibase(vm.PublicKeyMultibase)
	} else {
		k, err = keys.ParseJWK(vm.PublicKeyJwk)
	}
	if err != nil {
		return keys.PublicKey{}, fmt.Errorf("verification method key: %w", err)
	}
	if want != "" && k.Type() != want {
		return keys.PublicKey{}, fmt.Errorf("verification method key: %w: %s holds a %s key", keys.ErrInvalidKey, vm.Type, k.Type())
	}
	return k, nil
}
