package tokenstatus

import (
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did/keys"
)

// Media types.
const (
	// Typ is the JWT header typ of a Status List Token.
	Typ = "statuslist+jwt"
	// MediaType is the Content-Type a Status List Token is served with.
	MediaType = "application/" + Typ
	// DefaultMaxTokenBytes bounds a compact token when Limits gives no
	// bound: 128 KiB, a transaction's size.
	DefaultMaxTokenBytes = 128 << 10
)

// Limits bound what Parse, Verify and ParseClaims accept.
type Limits struct {
	// MaxTokenBytes bounds the compact token; default
	// DefaultMaxTokenBytes.
	MaxTokenBytes int
	// MaxListBytes bounds the decompressed list; default
	// DefaultMaxListBytes.
	MaxListBytes int
}

// Token is a Status List Token's claims.
type Token struct {
	// Subject (sub) is the token's URI: the uri a referenced token names.
	Subject string
	// Issuer (iss) is the issuer, "" when the token has none.
	Issuer string
	// IssuedAt (iat) is when the token was issued; Sign writes whole
	// seconds.
	IssuedAt time.Time
	// Expires (exp) is when the token expires; zero for none.
	Expires time.Time
	// TTL (ttl) is how long a consumer may cache it; zero for none. Sign
	// writes whole seconds.
	TTL time.Duration
	// List is the status list.
	List *List
}

type statusListJSON struct {
	Bits int    `json:"bits"`
	Lst  string `json:"lst"`
}

type claimsJSON struct {
	Exp        int64          `json:"exp,omitempty"`
	Iat        int64          `json:"iat"`
	Iss        string         `json:"iss,omitempty"`
	StatusList statusListJSON `json:"status_list"`
	Sub        string         `json:"sub"`
	TTL        int64          `json:"ttl,omitempty"`
}

// Sign returns the compact JWT of t signed by signer, with the header
// {"alg", "kid": signer.MethodID(), "typ": "statuslist+jwt"}; alg ""
// picks the key's default (EdDSA or ES256).
func (t *Token) Sign(signer credential.Signer, alg string) (string, error) {
	if t.List == nil || t.Subject == "" || t.IssuedAt.IsZero() {
		return "", credential.Errorf(credential.MalformedValueError, "sign status list token: sub, iat and the list are required")
	}
	lst, err := t.List.Encode()
	if err != nil {
		return "", credential.Errorf(credential.ProofGenerationError, "encode status list: %v", err)
	}
	c := claimsJSON{Iat: t.IssuedAt.Unix(), Iss: t.Issuer, Sub: t.Subject, StatusList: statusListJSON{Bits: t.List.Bits(), Lst: lst}}
	if !t.Expires.IsZero() {
		c.Exp = t.Expires.Unix()
	}
	if t.TTL > 0 {
		c.TTL = int64(math.Ceil(t.TTL.Seconds()))
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	if signer == nil {
		return "", credential.Errorf(credential.ProofGenerationError, "sign status list token: no signer")
	}
	return jose.SignCompact(payload, Typ, signer.MethodID(), signer, alg)
}

// Unverified is a Status List Token that Parse split and whose header
// passed: its signature is not checked and its claims not read yet.
type Unverified struct {
	// KeyID is the header's kid: the DID URL of the signing key.
	KeyID string
	// Alg is the header's alg.
	Alg string
	c   *jose.Compact
}

// Signer returns the DID that controls the signing key (the kid's DID).
func (u *Unverified) Signer() string { return credential.ControllerOf(u.KeyID) }

// Parse splits token, a compact JWS, strictly (jose.ParseCompact: three
// parts, alg EdDSA, Ed25519 or ES256 only, "none" and "crit" refused)
// and checks its header: typ "statuslist+jwt" and a kid that is a DID
// URL.
func Parse(token string, lim Limits) (*Unverified, error) {
	max := lim.MaxTokenBytes
	if max <= 0 {
		max = DefaultMaxTokenBytes
	}
	if len(token) > max {
		return nil, credential.Errorf(credential.LimitExceededError, "status list token of %d bytes: %w (%d)", len(token), ErrTooLarge, max)
	}
	c, err := jose.ParseCompact(token, Typ, max)
	if err != nil {
		return nil, err
	}
	kid, _ := c.Header["kid"].(string)
	if !strings.HasPrefix(kid, "did:") || credential.ControllerOf(kid) == kid {
		return nil, credential.Errorf(credential.MalformedValueError, "status list token: kid %q is not a DID URL", kid)
	}
	return &Unverified{KeyID: kid, Alg: c.Alg, c: c}, nil
}

// Verify checks the signature with pub and only then reads the claims
// (ParseClaims) and decompresses the list.
func (u *Unverified) Verify(pub keys.PublicKey, lim Limits) (*Token, error) {
	claims, err := u.c.Verify(pub)
	if err != nil {
		return nil, err
	}
	return ParseClaims(claims, lim)
}

// ParseClaims reads a Status List Token's claims set: sub a non-empty
// string, iat a NumericDate, exp a NumericDate after iat when present,
// ttl a positive number when present, iss a string when present, and
// status_list an object of bits (1, 2, 4 or 8) and lst (Decode);
// other claims are ignored. Numbers may be json.Number or float64.
func ParseClaims(claims map[string]any, lim Limits) (*Token, error) {
	bad := func(format string, args ...any) error {
		return credential.Errorf(credential.MalformedValueError, "status list token: "+format, args...)
	}
	var t Token
	var ok bool
	if t.Subject, ok = claims["sub"].(string); !ok || t.Subject == "" {
		return nil, bad("sub must be a non-empty string")
	}
	if v, has := claims["iss"]; has {
		if t.Issuer, ok = v.(string); !ok || t.Issuer == "" {
			return nil, bad("iss must be a non-empty string")
		}
	}
	iat, ok := numericDate(claims["iat"])
	if !ok {
		return nil, bad("iat must be a NumericDate")
	}
	t.IssuedAt = iat
	if v, has := claims["exp"]; has {
		if t.Expires, ok = numericDate(v); !ok || !t.Expires.After(t.IssuedAt) {
			return nil, bad("exp must be a NumericDate after iat")
		}
	}
	if v, has := claims["ttl"]; has {
		f, ok := number(v)
		if !ok || f <= 0 || f > 1<<32 {
			return nil, bad("ttl must be a positive number of seconds")
		}
		t.TTL = time.Duration(f * float64(time.Second))
	}
	sl, ok := claims["status_list"].(map[string]any)
	if !ok {
		return nil, bad("status_list must be an object")
	}
	bits, ok := number(sl["bits"])
	if !ok || !validBits(int(bits)) || bits != math.Trunc(bits) {
		return nil, bad("status_list.bits must be 1, 2, 4 or 8")
	}
	lst, ok := sl["lst"].(string)
	if !ok {
		return nil, bad("status_list.lst must be a string")
	}
	if v, has := sl["aggregation_uri"]; has {
		if _, ok := v.(string); !ok {
			return nil, bad("status_list.aggregation_uri must be a string")
		}
	}
	l, err := Decode(lst, int(bits), lim.MaxListBytes)
	if err != nil {
		return nil, err
	}
	t.List = l
	return &t, nil
}

// number reads a JSON number, finite.
func number(v any) (float64, bool) {
	var f float64
	switch n := v.(type) {
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return 0, false
		}
	case float64:
		f = n
	case int:
		f = float64(n)
	case int64:
		f = float64(n)
	default:
		return 0, false
	}
	return f, !math.IsNaN(f) && !math.IsInf(f, 0)
}

// numericDate reads a NumericDate (RFC 7519): seconds since the epoch,
// not negative, before the year 10000.
func numericDate(v any) (time.Time, bool) {
	f, ok := number(v)
	if !ok || f < 0 || f >= 253402300800 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}

// Claims reads the claims as Verify does, without checking the
// signature: for a token whose signature was checked before, such as
// one a ledger stored after checking it.
func (u *Unverified) Claims(lim Limits) (*Token, error) {
	claims, err := u.c.Payload()
	if err != nil {
		return nil, err
	}
	return ParseClaims(claims, lim)
}
