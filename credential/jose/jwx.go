package jose

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"errors"
	"fmt"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/did/keys"
)

// This file is the seam to github.com/lestrrat-go/jwx/v3: jwx makes and
// checks the signatures; everything around them (the header profile, the
// strict JSON, key resolution and policy) is the package's own.

// signatureAlgorithm returns the jwx algorithm of a JOSE alg this package
// supports.
func signatureAlgorithm(alg string) (jwa.SignatureAlgorithm, bool) {
	switch alg {
	case AlgEdDSA:
		return jwa.EdDSA(), true
	case AlgEd25519:
		return jwa.EdDSAEd25519(), true
	case AlgES256:
		return jwa.ES256(), true
	}
	return jwa.EmptySignatureAlgorithm(), false
}

// signJWX returns the compact JWS of payload with the protected header
// {"alg","kid","typ"}, made by jws.Sign with the private key of signer
// imported as a JWK. ES256 signatures are the 64-byte r||s of RFC 7518
// section 3.4.
func signJWX(payload []byte, alg, kid, typ string, signer credential.KeySigner) (string, error) {
	jalg, ok := signatureAlgorithm(alg)
	if !ok {
		return "", credential.Errorf(credential.ProofGenerationError, "sign: %w: %q", ErrUnsupportedAlgorithm, alg)
	}
	raw, err := cryptoPrivateKey(signer.Key)
	if err != nil {
		return "", credential.Errorf(credential.ProofGenerationError, "sign: %w", err)
	}
	key, err := jwk.Import(raw)
	if err != nil {
		return "", credential.Errorf(credential.ProofGenerationError, "sign: import key: %w", err)
	}
	hdr := jws.NewHeaders()
	for name, v := range map[string]string{jws.KeyIDKey: kid, jws.TypeKey: typ} {
		if err := hdr.Set(name, v); err != nil {
			return "", credential.Errorf(credential.ProofGenerationError, "sign: header %s: %w", name, err)
		}
	}
	tok, err := jws.Sign(payload, jws.WithKey(jalg, key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", credential.Errorf(credential.ProofGenerationError, "sign: %w", err)
	}
	return string(tok), nil
}

// cryptoPrivateKey rebuilds the crypto/ed25519 or crypto/ecdsa form of k
// from its secret, which it then wipes. An Ed25519 key is assembled as
// seed || public key rather than by ed25519.NewKeyFromSeed: jwx expands
// the seed again when it turns the JWK back into a key to sign with, and
// one expansion (a scalar multiplication) per signature is enough.
func cryptoPrivateKey(k keys.PrivateKey) (any, error) {
	b, err := k.MarshalBinary()
	if err != nil {
		return nil, err
	}
	defer clear(b)
	switch k.Type() {
	case keys.Ed25519:
		priv := make(ed25519.PrivateKey, 0, ed25519.PrivateKeySize)
		return append(append(priv, b[1:]...), k.Public().Bytes()...), nil
	case keys.P256:
		ec, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), b[1:])
		if err != nil {
			return nil, fmt.Errorf("p-256 scalar: %w", err)
		}
		return ec, nil
	}
	return nil, fmt.Errorf("%w: %q", keys.ErrUnsupportedKey, k.Type())
}

// cryptoPublicKey returns the crypto/ed25519 or crypto/ecdsa form of p.
func cryptoPublicKey(p keys.PublicKey) (any, error) {
	switch p.Type() {
	case keys.Ed25519:
		return ed25519.PublicKey(p.Bytes()), nil
	case keys.P256:
		u, err := p.Uncompressed()
		if err != nil {
			return nil, err
		}
		return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), u)
	}
	return nil, fmt.Errorf("%w: %q cannot verify", keys.ErrUnsupportedKey, p.Type())
}

// verifyJWX checks the signature of token, already split and checked by
// Verify, under alg with pub. It hands jwx the token once, through its
// compact fast path (jws.VerifyCompactFast: no jws.Message, no key set),
// which also checks that alg fits the key and is the header's alg, and
// returns the payload it verified, base64url-decoded.
func verifyJWX(token, alg string, pub keys.PublicKey) ([]byte, error) {
	jalg, ok := signatureAlgorithm(alg)
	if !ok {
		return nil, credential.Errorf(credential.CryptographicSecurityError, "verify: %w: %q", ErrUnsupportedAlgorithm, alg)
	}
	key, err := cryptoPublicKey(pub)
	if err != nil {
		return nil, credential.Errorf(credential.CryptographicSecurityError, "verify: %w", err)
	}
	compact := []byte(token)
	payload, err := jws.VerifyCompactFast(key, compact, jalg)
	if errors.Is(err, jws.ErrB64Present()) {
		// The fast path refuses any "b64" header; Verify has let through
		// only "b64":true, the default, which jws.Verify reads.
		payload, err = jws.Verify(compact, jws.WithKey(jalg, key), jws.WithCompact())
	}
	if err != nil {
		return nil, credential.Errorf(credential.CryptographicSecurityError, "verify: %w (%v)", keys.ErrInvalidSignature, err)
	}
	return payload, nil
}
