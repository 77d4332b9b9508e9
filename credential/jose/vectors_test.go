package jose_test

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"path"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/strictjson"
)

// The W3C vc-jose-cose-test-suite inputs and expected results; see
// testdata/SOURCE.
//
//go:embed testdata
var testdata embed.FS

const vectorDir = "testdata/vc-jose-cose"

type vectorCase struct {
	Number         int    `json:"number"`
	InputFile      string `json:"input_file"`
	KeyFile        string `json:"key_file"`
	Fn             string `json:"fn"`
	Feature        string `json:"feature"`
	ExpectedResult string `json:"expected_result"`
}

// vectorVM is a vm-*.json file: a JsonWebKey verification method with its
// secret.
type vectorVM struct {
	ID           string         `json:"id"`
	Controller   string         `json:"controller"`
	PublicKeyJwk map[string]any `json:"publicKeyJwk"`
	SecretKeyJwk map[string]any `json:"secretKeyJwk"`
}

func mustRead(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := testdata.ReadFile(path.Join(vectorDir, name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func mustVM(tb testing.TB, name string) vectorVM {
	tb.Helper()
	var vm vectorVM
	if err := json.Unmarshal(mustRead(tb, name), &vm); err != nil {
		tb.Fatal(err)
	}
	return vm
}

// vmKeys loads a verification method: its public key, a signer over its
// secret, and a resolver that knows it both by its id and by
// controller#<JWK kid> (the vectors' kid is the key's RFC 7638
// thumbprint, relative to the issuer, and the suite hands the verifier
// the key directly). P-384 and P-521 keys fail with keys.ErrUnsupportedKey.
func vmKeys(tb testing.TB, vm vectorVM, into *credential.StaticKeys) (keys.PublicKey, credential.KeySigner, error) {
	tb.Helper()
	pub, err := keys.ParseJWK(publicMembers(vm.PublicKeyJwk))
	if err != nil {
		return keys.PublicKey{}, credential.KeySigner{}, err
	}
	kid, _ := vm.PublicKeyJwk["kid"].(string)
	if got := pub.Thumbprint(); got != kid {
		tb.Fatalf("%s: JWK kid %s is not the thumbprint %s", vm.ID, kid, got)
	}
	d, err := b64.DecodeString(vm.SecretKeyJwk["d"].(string))
	if err != nil {
		tb.Fatal(err)
	}
	tag := byte(1)
	if pub.Type() == keys.P256 {
		tag = 2
	}
	priv, err := keys.UnmarshalPrivateKey(append([]byte{tag}, d...))
	if err != nil {
		tb.Fatal(err)
	}
	if !priv.Public().Equal(pub) {
		tb.Fatalf("%s: secret does not match the public key", vm.ID)
	}
	both := []string{credential.PurposeAssertion, credential.PurposeAuthentication}
	for _, id := range []string{vm.ID, vm.Controller + "#" + kid} {
		into.Add(credential.VerificationKey{ID: id, Controller: vm.Controller, Public: pub}, both...)
	}
	return pub, credential.KeySigner{ID: vm.ID, Key: priv}, nil
}

// publicMembers drops the JWK members keys.ParseJWK need not see.
func publicMembers(jwk map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range []string{"kty", "crv", "x", "y"} {
		if v, ok := jwk[m]; ok {
			out[m] = v
		}
	}
	return out
}

// unsupportedKey lists the vector keys on curves idmesh does not sign
// with: their cases must fail with a clear unsupported error.
var unsupportedKey = map[string]bool{"vm-p384.json": true, "vm-p521.json": true}

func TestVectors(t *testing.T) {
	var mappings map[string]json.RawMessage
	if err := json.Unmarshal(mustRead(t, "expected-results.json"), &mappings); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, group := range []string{"JOSETestMapping", "SDJWTTestMapping", "COSETestMapping"} {
		var cases map[string]vectorCase
		if err := json.Unmarshal(mappings[group], &cases); err != nil {
			t.Fatal(err)
		}
		for name, tc := range cases {
			seen++
			t.Run(name, func(t *testing.T) {
				switch group {
				case "JOSETestMapping":
					runJOSEVector(t, tc)
				default:
					runOtherVector(t, tc)
				}
			})
		}
	}
	if seen != 35 {
		t.Fatalf("ran %d vector cases, want 35", seen)
	}
}

// runJOSEVector runs a JOSE case and compares the outcome with the
// expected one, or, for keys we do not support, checks that it fails for
// that reason.
func runJOSEVector(t *testing.T, tc vectorCase) {
	resolver := &credential.StaticKeys{}
	_, signer, keyErr := vmKeys(t, mustVM(t, tc.KeyFile), resolver)
	if keyErr != nil && !unsupportedKey[tc.KeyFile] {
		t.Fatalf("load %s: %v", tc.KeyFile, keyErr)
	}
	presentation := strings.HasPrefix(tc.Feature, "presentation")
	mediaType := jose.MediaTypeVC
	if presentation {
		mediaType = jose.MediaTypeVP
	}
	input := mustRead(t, tc.InputFile)

	var err error
	switch tc.Fn {
	case "issue":
		if keyErr != nil {
			err = keyErr
			break
		}
		doc, perr := strictjson.Object(input, 0)
		if perr != nil {
			t.Fatal(perr)
		}
		var tok string
		if presentation {
			tok, err = jose.SignPresentation(doc, signer, jose.SignOptions{})
		} else {
			tok, err = jose.SignCredential(doc, signer, jose.SignOptions{})
		}
		if err == nil {
			// Issuance succeeds when the result verifies and carries the input.
			var payload map[string]any
			payload, _, err = jose.Verify(t.Context(), tok, mediaType, resolver, jose.VerifyOptions{})
			if err == nil && mustJSON(t, payload) != mustJSON(t, doc) {
				t.Fatal("verified payload differs from the issued document")
			}
		}
	case "verify":
		err = verifyVector(t.Context(), string(bytes.TrimSpace(input)), mediaType, resolver)
	default:
		t.Fatalf("unknown fn %q", tc.Fn)
	}

	got := "success"
	if err != nil {
		got = "failure"
	}
	if unsupportedKey[tc.KeyFile] {
		// ES384 (P-384) and ES512 (P-521): fail, and say why.
		if err == nil || !errors.Is(err, jose.ErrUnsupportedAlgorithm) && !errors.Is(err, keys.ErrUnsupportedKey) {
			t.Fatalf("case %d with %s: got %v, want an unsupported algorithm or key error", tc.Number, tc.KeyFile, err)
		}
		t.Logf("case %d (expected %s): unsupported: %v", tc.Number, tc.ExpectedResult, err)
		return
	}
	if got != tc.ExpectedResult {
		t.Fatalf("case %d: %s (%v), want %s", tc.Number, got, err, tc.ExpectedResult)
	}
	if err != nil {
		if credential.CodeOf(err, "") == "" {
			t.Fatalf("case %d: error without a code: %v", tc.Number, err)
		}
		t.Logf("case %d: %v", tc.Number, err)
	}
}

// verifyVector verifies a secured document the way a verifier does: the
// token, then for a presentation each enveloped credential in it.
func verifyVector(ctx context.Context, token, mediaType string, resolver credential.KeyResolver) error {
	payload, _, err := jose.Verify(ctx, token, mediaType, resolver, jose.VerifyOptions{})
	if err != nil || mediaType != jose.MediaTypeVP {
		return err
	}
	creds, err := jose.EnvelopedCredentials(payload)
	if err != nil {
		return err
	}
	for _, c := range creds {
		if _, _, err := jose.Verify(ctx, c.Token, c.MediaType, resolver, jose.VerifyOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// runOtherVector checks that SD-JWT and COSE inputs are refused as
// unsupported media types and are not accepted as JOSE either.
func runOtherVector(t *testing.T, tc vectorCase) {
	resolver := &credential.StaticKeys{}
	_, _, _ = vmKeys(t, mustVM(t, tc.KeyFile), resolver) // may be unsupported
	input := string(bytes.TrimSpace(mustRead(t, tc.InputFile)))
	what := "vc"
	if strings.HasPrefix(tc.Feature, "presentation") {
		what = "vp"
	}
	format := strings.TrimPrefix(strings.TrimPrefix(tc.Feature, "credential_"), "presentation_") // sdjwt, cose
	mediaType := "application/" + what + "+" + map[string]string{"sdjwt": "sd-jwt", "cose": "cose"}[format]

	_, _, err := jose.Verify(t.Context(), input, mediaType, resolver, jose.VerifyOptions{})
	if !errors.Is(err, jose.ErrUnsupportedMediaType) {
		t.Fatalf("case %d: Verify(%s) = %v, want ErrUnsupportedMediaType", tc.Number, mediaType, err)
	}
	asJOSE := jose.MediaTypeVC
	if what == "vp" {
		asJOSE = jose.MediaTypeVP
	}
	if _, _, err := jose.Verify(t.Context(), input, asJOSE, resolver, jose.VerifyOptions{}); err == nil {
		t.Fatalf("case %d: %s input accepted as %s", tc.Number, format, asJOSE)
	}
	t.Logf("case %d (expected %s): %s unsupported", tc.Number, tc.ExpectedResult, mediaType)
}

// TestVectorInnerCredential verifies the ES256 credential enveloped in
// presentation-jose-multiple.txt, whose outer ES384 signature we cannot
// check, and the refusal of its SD-JWT sibling.
func TestVectorInnerCredential(t *testing.T) {
	resolver := &credential.StaticKeys{}
	if _, _, err := vmKeys(t, mustVM(t, "vm-p256.json"), resolver); err != nil {
		t.Fatal(err)
	}
	tok := string(bytes.TrimSpace(mustRead(t, "presentation-jose-multiple.txt")))
	p, err := b64.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	pres, err := strictjson.Object(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	// EnvelopedCredentials refuses the whole list: the third, COSE, data
	// URL holds a raw newline, which RFC 2397 URLs cannot. Take them one by
	// one.
	if _, err := jose.EnvelopedCredentials(pres); !errors.Is(err, jose.ErrInvalidDataURL) {
		t.Fatalf("EnvelopedCredentials: %v, want ErrInvalidDataURL", err)
	}
	var jwt, other int
	for i, e := range pres["verifiableCredential"].([]any) {
		tok, mt, err := jose.Unenvelope(e.(map[string]any))
		if err != nil {
			t.Logf("verifiableCredential[%d]: %v", i, err)
			other++
			continue
		}
		_, key, err := jose.Verify(t.Context(), tok, mt, resolver, jose.VerifyOptions{})
		switch mt {
		case jose.MediaTypeVC:
			jwt++
			if err != nil {
				t.Fatalf("inner %s: %v", mt, err)
			}
			if key.Public.Type() != keys.P256 {
				t.Fatalf("inner credential verified with a %s key", key.Public.Type())
			}
		default:
			other++
			if !errors.Is(err, jose.ErrUnsupportedMediaType) {
				t.Fatalf("inner %s: %v, want ErrUnsupportedMediaType", mt, err)
			}
		}
	}
	if jwt == 0 {
		t.Fatal("no inner vc+jwt credential")
	}
	t.Logf("%d vc+jwt verified, %d other refused", jwt, other)
}
