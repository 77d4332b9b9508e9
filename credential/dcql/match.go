package dcql

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Candidate is one credential as DCQL sees it: what a wallet holds, or
// what a verifier received and verified.
type Candidate struct {
	// Format is the credential format identifier (FormatSDJWT, ...).
	Format string
	// VCT is the SD-JWT VC type ("vct"), for FormatSDJWT.
	VCT string
	// Types are the W3C VC's types, for FormatJWTVC and FormatLDPVC,
	// compared by string with meta.type_values, which names fully
	// expanded IRIs: a caller passes each type as written and, when it
	// knows it, its expansion too.
	Types []string
	// HolderBinding reports cryptographic holder binding: for a wallet,
	// that it can present the credential with a proof of its holder key
	// (a key-binding JWT, a signed VP); for a verifier, that such a
	// proof was verified.
	HolderBinding bool
	// Claims is the credential's JSON as encoding/json decodes it into
	// any (numbers float64 or json.Number): for an SD-JWT VC the
	// processed claims with every Disclosure the holder has (or, for a
	// verifier, that was presented) in place; for a W3C VC the
	// credential itself (claims paths start at its root, not the VP's).
	Claims map[string]any
	// Disclosable are JSON pointers (RFC 6901) into Claims of the
	// selectively disclosable claims, as credential/sdjwt reports them
	// (Result.Disclosed of the credential verified with every
	// Disclosure); nil for a format without selective disclosure.
	Disclosable []string
}

// Match is a candidate that satisfies a credential query.
type Match struct {
	// Candidate is the candidate's index in the slice given to Match.
	Candidate int
	// ClaimSet is the chosen claim_sets option (the first the candidate
	// satisfies), nil when the credential query has no claim_sets.
	ClaimSet []string
	// Claims are the concrete paths of the claims requested and
	// selected (with values, only the elements whose value is
	// accepted), in the order of the query's claims; nil when the query
	// requests no claims.
	Claims []Path
	// Disclose are the JSON pointers of Claims that are, lie in or hold
	// selectively disclosable claims: what the holder must disclose
	// (credential/sdjwt's PresentOptions.Disclose), nothing more. Nil
	// when Candidate.Disclosable is.
	Disclose []string
}

// Result is what Match found.
type Result struct {
	// Satisfied reports that the candidates satisfy the whole query:
	// every credential query (without credential_sets) or, with them,
	// one option of every required credential set.
	Satisfied bool
	// Credentials maps a credential query ID to the candidates that
	// satisfy it, in candidate order; IDs without any are absent.
	Credentials map[string][]Match
	// Present lists the credential query IDs to answer, in query order
	// without repetition: every one without credential_sets; with them,
	// for every set (required or not) its first option that the
	// candidates satisfy. Nil unless Satisfied: a wallet that cannot
	// satisfy the query returns no credential at all.
	Present []string
	// Unsatisfied explains, for a credential query ID without any
	// candidate, why the last candidate of its format failed (or that
	// none has its format). It is for the holder's eyes only: it may
	// tell a claim's value from a values mismatch, which the verifier
	// must not learn (OpenID4VP, DCQL value matching).
	Unsatisfied map[string]string
}

// MaxPresentations bounds the presentations Check accepts for one
// credential query with multiple.
const MaxPresentations = 64

// Match finds, for each credential query, the candidates that satisfy it
// (OpenID4VP section 6.4): same format, meta (vct_values for dc+sd-jwt,
// type_values for jwt_vc_json and ldp_vc), holder binding when the query
// requires it, and the claims: all of them without claim_sets, else the
// first claim_sets option all of whose claims the candidate has. A claim
// with values counts only through elements whose value is accepted
// (strings, integers and booleans compared by type and value). Formats
// other than dc+sd-jwt, jwt_vc_json and ldp_vc never match. The work is
// bounded (ErrLimit); a query that cannot be satisfied is not an error
// (Result.Satisfied is false). For a credential query without multiple,
// the wallet presents one of its matches (the user's choice).
func (q *Query) Match(cands []Candidate) (Result, error) {
	res := Result{Credentials: map[string][]Match{}, Unsatisfied: map[string]string{}}
	b := budget(defaultBudget)
	for _, cq := range q.Credentials {
		for i := range cands {
			m, why, err := cq.match(&cands[i], &b)
			if err != nil {
				return Result{}, fmt.Errorf("match credential %q: %w", cq.ID, err)
			}
			if why != "" {
				if cands[i].Format == cq.Format || res.Unsatisfied[cq.ID] == "" {
					res.Unsatisfied[cq.ID] = fmt.Sprintf("candidate %d: %s", i, why)
				}
				continue
			}
			m.Candidate = i
			res.Credentials[cq.ID] = append(res.Credentials[cq.ID], m)
		}
		if _, ok := res.Credentials[cq.ID]; ok {
			delete(res.Unsatisfied, cq.ID)
		} else if res.Unsatisfied[cq.ID] == "" {
			res.Unsatisfied[cq.ID] = "no candidates"
		}
	}
	has := func(id string) bool { return len(res.Credentials[id]) > 0 }
	res.Satisfied = q.satisfied(has)
	if res.Satisfied {
		res.Present = q.present(has)
	}
	return res, nil
}

// satisfied reports whether the credential queries for which has is true
// satisfy the query (OpenID4VP section 6.4.2).
func (q *Query) satisfied(has func(string) bool) bool {
	if q.CredentialSets == nil {
		for _, cq := range q.Credentials {
			if !has(cq.ID) {
				return false
			}
		}
		return true
	}
	for _, cs := range q.CredentialSets {
		if cs.Required && cs.option(has) == nil {
			return false
		}
	}
	return true
}

func (q *Query) present(has func(string) bool) []string {
	if q.CredentialSets == nil {
		ids := make([]string, len(q.Credentials))
		for i, cq := range q.Credentials {
			ids[i] = cq.ID
		}
		return ids
	}
	want := map[string]bool{}
	for _, cs := range q.CredentialSets {
		for _, id := range cs.option(has) {
			want[id] = true
		}
	}
	var ids []string
	for _, cq := range q.Credentials {
		if want[cq.ID] {
			ids = append(ids, cq.ID)
		}
	}
	return ids
}

// option returns the first option all of whose IDs has accepts, or nil.
func (cs CredentialSet) option(has func(string) bool) []string {
	for _, opt := range cs.Options {
		if !slices.ContainsFunc(opt, func(id string) bool { return !has(id) }) {
			return opt
		}
	}
	return nil
}

// Check reports whether presented, the verified presentations of a
// response by credential query ID (a vp_token's shape), satisfy the
// query: every ID is one of the query's, with one presentation (or, with
// multiple, at most MaxPresentations), every presentation satisfies its
// credential query as Match decides it, and the IDs answered satisfy the
// query (every credential query without credential_sets, else one option
// of every required set). Errors wrap ErrNotSatisfied, or ErrLimit for
// work beyond the bound.
func (q *Query) Check(presented map[string][]Candidate) error {
	known := map[string]bool{}
	for _, cq := range q.Credentials {
		known[cq.ID] = true
	}
	first, unknown := "", false
	for id := range presented {
		if !known[id] && (!unknown || id < first) {
			first, unknown = id, true
		}
	}
	if unknown {
		return fmt.Errorf("%w: no credential query has id %q", ErrNotSatisfied, trunc(first))
	}
	b := budget(defaultBudget)
	for _, cq := range q.Credentials {
		ps, ok := presented[cq.ID]
		if !ok {
			continue
		}
		switch {
		case len(ps) == 0:
			return fmt.Errorf("%w: credential %q: an empty array of presentations", ErrNotSatisfied, cq.ID)
		case len(ps) > 1 && !cq.Multiple:
			return fmt.Errorf("%w: credential %q: %d presentations for a query without multiple", ErrNotSatisfied, cq.ID, len(ps))
		case len(ps) > MaxPresentations:
			return fmt.Errorf("%w: credential %q: %d presentations, at most %d", ErrLimit, cq.ID, len(ps), MaxPresentations)
		}
		for i := range ps {
			_, why, err := cq.match(&ps[i], &b)
			if err != nil {
				return fmt.Errorf("check credential %q: %w", cq.ID, err)
			}
			if why != "" {
				return fmt.Errorf("%w: credential %q: presentation %d: %s", ErrNotSatisfied, cq.ID, i, why)
			}
		}
	}
	if !q.satisfied(func(id string) bool { return len(presented[id]) > 0 }) {
		return fmt.Errorf("%w: %s", ErrNotSatisfied, q.missing(presented))
	}
	return nil
}

// missing explains which required credential queries presented lacks.
func (q *Query) missing(presented map[string][]Candidate) string {
	if q.CredentialSets == nil {
		for _, cq := range q.Credentials {
			if _, ok := presented[cq.ID]; !ok {
				return fmt.Sprintf("credential %q is required and missing", cq.ID)
			}
		}
	}
	for i, cs := range q.CredentialSets {
		if cs.Required && cs.option(func(id string) bool { return len(presented[id]) > 0 }) == nil {
			return fmt.Sprintf("credential_sets[%d] is required and no option of it is answered", i)
		}
	}
	return "not satisfied"
}

// match decides whether c satisfies cq. It returns why not (empty when
// it does) and an error only for work beyond the bound.
func (cq *CredentialQuery) match(c *Candidate, b *budget) (Match, string, error) {
	if err := b.spend(1); err != nil {
		return Match{}, "", err
	}
	if c.Format != cq.Format {
		return Match{}, fmt.Sprintf("format %q, not %q", trunc(c.Format), cq.Format), nil
	}
	switch cq.Format {
	case FormatSDJWT:
		if err := b.spend(len(cq.VCTValues)); err != nil {
			return Match{}, "", err
		}
		if !slices.Contains(cq.VCTValues, c.VCT) {
			return Match{}, fmt.Sprintf("vct %q is not one of meta.vct_values", trunc(c.VCT)), nil
		}
	case FormatJWTVC, FormatLDPVC:
		n := 0
		for _, alt := range cq.TypeValues {
			n += len(alt)
		}
		if err := b.spend(n * max(1, len(c.Types))); err != nil {
			return Match{}, "", err
		}
		if !slices.ContainsFunc(cq.TypeValues, func(alt []string) bool { return subset(alt, c.Types) }) {
			return Match{}, "its types hold no alternative of meta.type_values", nil
		}
	default:
		return Match{}, fmt.Sprintf("format %q is not supported", cq.Format), nil
	}
	if cq.RequireHolderBinding && !c.HolderBinding {
		return Match{}, "cryptographic holder binding is required", nil
	}
	if cq.Claims == nil {
		return Match{}, "", nil
	}
	got := make([][]Selected, len(cq.Claims))
	whyNot := make([]string, len(cq.Claims))
	for j, cl := range cq.Claims {
		sel, err := selectPath(c.Claims, cl.Path, DefaultMaxSelected, b)
		switch {
		case errors.Is(err, ErrLimit):
			return Match{}, "", err
		case err != nil:
			whyNot[j] = fmt.Sprintf("claim %s: %v", cl.Path, err)
			continue
		}
		if cl.Values != nil {
			if err := b.spend(len(sel) * len(cl.Values)); err != nil {
				return Match{}, "", err
			}
			sel = slices.DeleteFunc(sel, func(s Selected) bool {
				return !slices.ContainsFunc(cl.Values, func(v any) bool { return sameValue(s.Value, v) })
			})
			if len(sel) == 0 {
				whyNot[j] = fmt.Sprintf("claim %s: no value is one of values", cl.Path)
				continue
			}
		}
		got[j] = sel
	}
	var chosen []int
	var set []string
	if cq.ClaimSets == nil {
		for j := range cq.Claims {
			if whyNot[j] != "" {
				return Match{}, whyNot[j], nil
			}
			chosen = append(chosen, j)
		}
	} else {
		byID := map[string]int{}
		for j, cl := range cq.Claims {
			byID[cl.ID] = j
		}
	options:
		for _, opt := range cq.ClaimSets {
			var js []int
			for _, id := range opt {
				j := byID[id]
				if whyNot[j] != "" {
					continue options
				}
				if !slices.Contains(js, j) {
					js = append(js, j)
				}
			}
			slices.Sort(js)
			chosen, set = js, opt
			break
		}
		if set == nil {
			return Match{}, "no option of claim_sets is satisfied", nil
		}
	}
	m := Match{ClaimSet: slices.Clone(set)}
	for _, j := range chosen {
		for _, s := range got[j] {
			m.Claims = append(m.Claims, s.Path)
		}
	}
	if c.Disclosable != nil {
		if err := b.spend(len(m.Claims) * len(c.Disclosable)); err != nil {
			return Match{}, "", err
		}
		for _, p := range m.Claims {
			ptr := p.Pointer()
			if slices.ContainsFunc(c.Disclosable, func(d string) bool { return related(ptr, d) }) && !slices.Contains(m.Disclose, ptr) {
				m.Disclose = append(m.Disclose, ptr)
			}
		}
	}
	return m, "", nil
}

// related reports whether JSON pointers a and b are equal or one lies
// below the other.
func related(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	return strings.HasPrefix(b, a) && (len(a) == len(b) || b[len(a)] == '/')
}

// subset reports whether every element of want is in have.
func subset(want, have []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// sameValue compares a claim's value with an element of values (string,
// int64 or bool): same JSON type and equal; a number equals an integer
// when it is that integer exactly.
func sameValue(claim, want any) bool {
	switch w := want.(type) {
	case string:
		s, ok := claim.(string)
		return ok && s == w
	case bool:
		v, ok := claim.(bool)
		return ok && v == w
	case int64:
		n, ok := integer(claim)
		return ok && n == w
	}
	return false
}

// integer reads a decoded JSON number as an int64, when it is one
// exactly.
func integer(v any) (int64, bool) {
	var f float64
	switch v := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return n, true
		}
		if len(v) > 64 {
			return 0, false
		}
		x, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return 0, false
		}
		f = x
	case float64:
		f = v
	case int:
		return int64(v), true
	case int64:
		return v, true
	default:
		return 0, false
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}
