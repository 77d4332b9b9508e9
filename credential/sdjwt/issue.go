package sdjwt

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did/keys"
)

// MaxDecoys bounds [IssueOptions.Decoys].
const MaxDecoys = 64

// IssueOptions tune [Issue]. The zero value makes nothing selectively
// disclosable and adds no decoys.
type IssueOptions struct {
	// Disclosable lists JSON pointers (RFC 6901) into the claim set of
	// the claims to make selectively disclosable: object members at any
	// depth ("/address/locality"), whole objects ("/address"; with
	// pointers below it too, a recursive disclosure) and array elements
	// ("/nationalities/1"). Each must name a claim; the root, repeats
	// and the claims of [NonDisclosable] (and anything under them) are
	// refused.
	Disclosable []string
	// Decoys is the number of decoy digests added to every _sd array the
	// issuer creates (at most MaxDecoys).
	Decoys int
	// Random is the source of salts and decoys; nil means crypto/rand.
	// Issuance is a deterministic function of the bytes it reads.
	Random io.Reader
	// Algorithm is the JOSE alg: for Ed25519 keys "EdDSA" (the default)
	// or "Ed25519", for P-256 keys "ES256".
	Algorithm string
	// IssuedAt, when set, becomes the "iat" claim (whole seconds).
	IssuedAt time.Time
	// HolderKey, when set, becomes the "cnf" claim {"jwk": ...}: the key
	// that must sign key-binding JWTs.
	HolderKey keys.PublicKey
}

// NonDisclosable lists the top-level claims that are never selectively
// disclosable: those SD-JWT VC section 3.2.2.2 forbids in Disclosures,
// and "iat", which idmesh requires in the clear.
var NonDisclosable = []string{"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "aka_vcts", "status", "iat"}

// Issue secures claims, an SD-JWT VC claim set, as an SD-JWT
// (RFC 9901) of typ "dc+sd-jwt" signed by signer: the compact form
// <JWT>~<Disclosure 1>~...~<Disclosure N>~ with every Disclosure the
// issuer made. claims is not modified.
//
// The payload is claims with each disclosable claim replaced by the
// digest of its Disclosure (object members in the object's "_sd" array,
// array elements as {"...": digest}), decoys added and every "_sd" array
// sorted, and "_sd_alg": "sha-256". "iss" defaults to the DID of the
// signer's verification method, which must be a DID URL; opts may set
// "iat" and "cnf". The claims must then pass the SD-JWT VC rules that
// [Verify] applies: "vct" a string, "iss" the signer's DID, "iat" a
// NumericDate, and "nbf", "exp", "cnf" and "status" well-formed when
// present. The names "_sd", "_sd_alg" and "..." are refused anywhere in
// claims. Errors carry PROOF_GENERATION_ERROR or MALFORMED_VALUE_ERROR.
func Issue(claims map[string]any, signer credential.Signer, opts IssueOptions) (string, error) {
	if signer == nil {
		return "", credential.Errorf(credential.ProofGenerationError, "issue: no signer")
	}
	if claims == nil {
		return "", credential.Errorf(credential.MalformedValueError, "issue: no claims")
	}
	kid := signer.MethodID()
	issuer := credential.ControllerOf(kid)
	if !strings.HasPrefix(kid, "did:") || issuer == kid {
		return "", credential.Errorf(credential.ProofGenerationError, "issue: signer's method %q is not a DID URL", kid)
	}
	if opts.Decoys < 0 || opts.Decoys > MaxDecoys {
		return "", credential.Errorf(credential.ProofGenerationError, "issue: %d decoys, want 0 to %d", opts.Decoys, MaxDecoys)
	}
	random := opts.Random
	if random == nil {
		random = rand.Reader
	}

	cs := make(map[string]any, len(claims)+3)
	for k, v := range claims {
		cs[k] = v
	}
	set := func(name string, v any) error {
		if old, ok := cs[name]; ok && !equalJSON(old, v) {
			return credential.Errorf(credential.MalformedValueError, "issue: claim %q is %v, options say %v", name, old, v)
		}
		cs[name] = v
		return nil
	}
	if _, ok := cs["iss"]; !ok {
		cs["iss"] = issuer
	}
	if !opts.IssuedAt.IsZero() {
		if err := set("iat", opts.IssuedAt.Unix()); err != nil {
			return "", err
		}
	}
	if !opts.HolderKey.IsZero() {
		if err := set("cnf", map[string]any{"jwk": opts.HolderKey.JWK()}); err != nil {
			return "", err
		}
	}
	// Round-trip through JSON so that the checks see what Verify will.
	norm, err := normalize(cs)
	if err != nil {
		return "", credential.Errorf(credential.MalformedValueError, "issue: %w", err)
	}
	if err := checkReserved(norm, 0); err != nil {
		return "", err
	}
	if _, err := checkVCClaims(norm, issuer, true); err != nil {
		return "", err
	}

	want := map[string]bool{}
	for _, p := range opts.Disclosable {
		tokens, err := parsePointer(p)
		if err != nil {
			return "", credential.Errorf(credential.MalformedValueError, "issue: %w", err)
		}
		if len(tokens) == 0 {
			return "", credential.Errorf(credential.MalformedValueError, "issue: %w", errPointer(p, "is the whole claim set"))
		}
		if slices.Contains(NonDisclosable, tokens[0]) {
			return "", credential.Errorf(credential.MalformedValueError, "issue: %w", errPointer(p, "is under "+strconv.Quote(tokens[0])+", which SD-JWT VC keeps in the clear"))
		}
		key := formatPointer(tokens)
		if want[key] {
			return "", credential.Errorf(credential.MalformedValueError, "issue: %w", errPointer(p, "is listed twice"))
		}
		want[key] = true
	}

	is := &issuance{want: want, used: map[string]bool{}, random: random, decoys: opts.Decoys, salts: map[string]bool{}}
	payload, err := is.object(norm, nil)
	if err != nil {
		return "", err
	}
	for key := range want {
		if !is.used[key] {
			return "", credential.Errorf(credential.MalformedValueError, "issue: %w", errPointer(key, "names no claim"))
		}
	}
	payload["_sd_alg"] = HashAlg
	// Refuse to produce what Verify would refuse to read.
	ds := make([]Disclosure, len(is.disclosures))
	for i, e := range is.disclosures {
		if ds[i], err = DecodeDisclosure(e); err != nil {
			return "", err
		}
	}
	if _, _, err := process(payload, ds, DefaultMaxDepth); err != nil {
		return "", err
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(payload); err != nil {
		return "", credential.Errorf(credential.MalformedValueError, "issue: encode payload: %w", err)
	}
	jwt, err := jose.SignCompact(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), TypVC, kid, signer, opts.Algorithm)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	sb.WriteString(jwt)
	sb.WriteByte('~')
	for _, d := range is.disclosures {
		sb.WriteString(d)
		sb.WriteByte('~')
	}
	if sb.Len() > DefaultMaxBytes || len(is.disclosures) > DefaultMaxDisclosures {
		return "", credential.Errorf(credential.ProofGenerationError, "issue: %w: %d bytes and %d disclosures (at most %d and %d)", ErrLimit, sb.Len(), len(is.disclosures), DefaultMaxBytes, DefaultMaxDisclosures)
	}
	return sb.String(), nil
}

// issuance replaces the disclosable claims by digests.
type issuance struct {
	want        map[string]bool // pointers to make disclosable
	used        map[string]bool // those found
	random      io.Reader
	decoys      int
	disclosures []string // in the order made: inner before outer
	salts       map[string]bool
}

func (is *issuance) salt() (string, error) {
	b := make([]byte, saltBytes)
	if _, err := io.ReadFull(is.random, b); err != nil {
		return "", credential.Errorf(credential.ProofGenerationError, "issue: read salt: %w", err)
	}
	s := b64.EncodeToString(b)
	if is.salts[s] {
		return "", credential.Errorf(credential.ProofGenerationError, "issue: the random source repeated a salt")
	}
	is.salts[s] = true
	return s, nil
}

func (is *issuance) value(v any, path []string) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		return is.object(v, path)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			p := child(path, strconv.Itoa(i))
			e, err := is.value(e, p)
			if err != nil {
				return nil, err
			}
			if key := formatPointer(p); is.want[key] {
				is.used[key] = true
				d, err := is.disclose("", e, true)
				if err != nil {
					return nil, err
				}
				e = map[string]any{"...": d}
			}
			out[i] = e
		}
		return out, nil
	}
	return v, nil
}

func (is *issuance) object(m map[string]any, path []string) (map[string]any, error) {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	out := make(map[string]any, len(m))
	var sd []any
	for _, k := range names {
		p := child(path, k)
		v, err := is.value(m[k], p)
		if err != nil {
			return nil, err
		}
		if key := formatPointer(p); is.want[key] {
			is.used[key] = true
			d, err := is.disclose(k, v, false)
			if err != nil {
				return nil, err
			}
			sd = append(sd, d)
			continue
		}
		out[k] = v
	}
	if len(sd) > 0 {
		for range is.decoys {
			s, err := is.salt()
			if err != nil {
				return nil, err
			}
			sd = append(sd, Digest(s))
		}
		slices.SortFunc(sd, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
		out["_sd"] = sd
	}
	return out, nil
}

// disclose makes the Disclosure of one claim and returns its digest.
func (is *issuance) disclose(name string, v any, arrayElement bool) (string, error) {
	salt, err := is.salt()
	if err != nil {
		return "", err
	}
	d, err := EncodeDisclosure(salt, name, v, arrayElement)
	if err != nil {
		return "", credential.Errorf(credential.MalformedValueError, "issue: %w", err)
	}
	is.disclosures = append(is.disclosures, d.Encoded)
	return d.Digest, nil
}

// normalize returns v as encoding/json and the strict decoder read it
// back: maps, slices, strings, booleans, nil and json.Number.
func normalize(m map[string]any) (map[string]any, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return decodeObject(buf.Bytes())
}

// equalJSON reports whether a and b encode to the same JSON.
func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// checkReserved refuses the digest-carrying names in a claim set.
func checkReserved(v any, depth int) error {
	if depth > DefaultMaxDepth {
		return credential.Errorf(credential.LimitExceededError, "issue: %w: claims nested deeper than %d", ErrLimit, DefaultMaxDepth)
	}
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if k == "_sd" || k == "_sd_alg" || k == "..." {
				return credential.Errorf(credential.MalformedValueError, "issue: %w: the claim set has a member %q", ErrForbiddenName, k)
			}
			if err := checkReserved(e, depth+1); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range v {
			if err := checkReserved(e, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}
