package wallet

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/idmesh/idmesh/did/jwk"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
)

// ProofAlg picks the JOSE alg a proof by h uses among the algs an
// issuer accepts (all when algs is empty): ES256 for a P-256 key;
// EdDSA, or else Ed25519 (RFC 9864), for an Ed25519 key. It fails with
// ErrNoHolderKey when the issuer accepts none of them.
func ProofAlg(h HolderKey, algs []string) (string, error) {
	switch h.Key.Type() {
	case keys.P256:
		if algAccepted("ES256", algs) {
			return "ES256", nil
		}
	case keys.Ed25519:
		if len(algs) == 0 || containsString(algs, "EdDSA") {
			return "EdDSA", nil
		}
		if containsString(algs, "Ed25519") {
			return "Ed25519", nil
		}
	}
	return "", fmt.Errorf("%w: a %s key signs none of %v", ErrNoHolderKey, h.Key.Type(), algs)
}

func containsString(a []string, s string) bool {
	for _, x := range a {
		if x == s {
			return true
		}
	}
	return false
}

// BuildProof returns a key proof JWT (OpenID4VCI section F.1) by h:
// header {"alg", "typ": "openid4vci-proof+jwt"} with "kid" (h.ID, an
// absolute DID URL: the credential is bound to the DID's verification
// method) when byKID is set, else "jwk" (the public key: the credential
// is bound to the bare key); claims aud (the Credential Issuer
// identifier), iat (whole seconds) and nonce (the c_nonce, left out when
// empty). No iss: the pre-authorized code flow is anonymous. See
// ProofBinding for the choice of byKID.
func BuildProof(h HolderKey, alg, aud, nonce string, iat time.Time, byKID bool) (string, error) {
	if h.Key.Type() == "" {
		return "", fmt.Errorf("build proof: %w: no key", ErrNoHolderKey)
	}
	if aud == "" {
		return "", fmt.Errorf("build proof: %w: no audience", ErrMalformed)
	}
	header := map[string]any{"alg": alg, "typ": ProofType}
	if byKID {
		header["kid"] = h.ID
	} else {
		header["jwk"] = h.Key.Public().JWK()
	}
	claims := map[string]any{"aud": aud, "iat": iat.Unix()}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("build proof: %w", err)
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("build proof: %w", err)
	}
	input := b64.EncodeToString(hb) + "." + b64.EncodeToString(cb)
	sig, err := h.Key.Sign([]byte(input))
	if err != nil {
		return "", fmt.Errorf("build proof: sign: %w", err)
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// ProofBinding decides how a proof by h names its key, given the
// configuration's cryptographic_binding_methods_supported: a did:key or
// did:jwk holder sends its key as "jwk" when the issuer accepts jwk
// binding (or names no methods), since the DID is nothing but the key;
// it sends "kid" only when the issuer accepts its DID method and not
// jwk. Any other DID (did:idmesh) is sent as "kid", and needs its
// method ("did:idmesh") among the methods, or no methods named. It
// fails with ErrUnsupported when the issuer binds to neither.
func ProofBinding(h HolderKey, methods []string) (byKID bool, err error) {
	method := "did:" + strings.SplitN(strings.TrimPrefix(h.DID, "did:"), ":", 2)[0]
	bare := strings.HasPrefix(h.DID, key.Prefix) || strings.HasPrefix(h.DID, jwk.Prefix)
	switch {
	case len(methods) == 0:
		return !bare, nil
	case bare && containsString(methods, "jwk"):
		return false, nil
	case containsString(methods, method) || containsString(methods, "did"):
		return true, nil
	}
	return false, fmt.Errorf("%w: the issuer binds credentials to %v, and the holder key is a %s key", ErrUnsupported, methods, method)
}

// jwkMatches reports whether j is h's public key.
func jwkMatches(j map[string]any, h HolderKey) bool {
	pub, err := keys.ParseJWK(j)
	return err == nil && pub.Equal(h.Key.Public())
}
