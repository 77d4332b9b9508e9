package ld

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// CanonicalizeConfig is Canonicalize for a Data Integrity proof
// configuration (the proof options with the document's @context, which
// eddsa-rdfc-2022 canonicalizes besides the document): the same result
// and the same errors.
//
// A configuration of the usual shape (@context, type, cryptosuite,
// proofPurpose, verificationMethod and optionally created, every value a
// short string of plain characters) is canonicalized from a template:
// the canonical N-Quads Canonicalize gave, once per context, type,
// cryptosuite, purpose and shape of the values, for probe values in
// place of created and verificationMethod, with the configuration's own
// values put in their place. Those two values are read by JSON-LD as a
// typed literal and as an IRI whose expansion depends only on its scheme
// (a context may make the scheme a prefix: the scheme is part of the
// template's key); the template is made only when Canonicalize
// gives each probe value exactly once, as such a literal and such an IRI,
// and a second pair of probe values put into it gives what Canonicalize
// gives for them. A budget in opts is charged what Canonicalize takes
// for the probes (the same for both), or, when it cannot cover that,
// left to Canonicalize. Anything else (other members, other values,
// bounds in opts, safe mode off) is canonicalized by Canonicalize.
func CanonicalizeConfig(ctx context.Context, cfg map[string]any, opts Options) ([]byte, error) {
	if out, ok := configFast(ctx, cfg, opts); ok {
		return out, nil
	}
	return Canonicalize(ctx, cfg, opts)
}

// configKey selects a template: what of a configuration is not
// substituted.
type configKey struct {
	contexts, typ, suite, purpose string
	created                       bool
	scheme                        string
	slashes                       bool // the IRI's scheme is followed by "//"
}

// clone returns k with its own copies of its strings: a key outlives the
// request its strings came from, which may be substrings of the whole
// request (strictjson.ObjectString), and must not keep it (review R8).
func (k configKey) clone() configKey {
	k.contexts, k.typ, k.suite = strings.Clone(k.contexts), strings.Clone(k.typ), strings.Clone(k.suite)
	k.purpose, k.scheme = strings.Clone(k.purpose), strings.Clone(k.scheme)
	return k
}

// configTemplate is the canonical N-Quads of a configuration with the
// probe values, split where they go; nil lines: no fast path for the key.
type configTemplate struct {
	lines [][]string // each line's text around its values
	vals  [][]int    // which value (0: created, 1: verificationMethod) goes between them
	// spent is what Canonicalize takes from a budget for it (the same
	// for both probes).
	spent Spent
}

var (
	configTemplates     sync.Map // configKey → *configTemplate (with lines)
	configTemplateCount atomic.Int64
	// configNone are keys found to have no template, apart, so that keys
	// no honest configuration shares (failed probes) never take the
	// templates' room; cleared when full.
	configNone      sync.Map // configKey → struct{}
	configNoneCount atomic.Int64
)

// maxConfigKeyBytes bounds the @context text of a key kept (an honest
// configuration names a few contexts); a longer list goes to Canonicalize.
const maxConfigKeyBytes = 1 << 10

// maxConfigTemplates bounds the templates kept, and apart the keys found
// to have none (at most maxConfigKeyBytes each, so both sets together
// hold at most 512 KiB of keys). A new template replaces an arbitrary
// one when full; the set of keys without one is emptied when full. A key seen
// again after it left is probed again: two canonicalizations of a
// proof configuration, a bounded multiple of what the request's own
// verification canonicalizes.
const maxConfigTemplates = 256

// Probe values: characters of the accepted sets, in no real
// configuration.
const (
	probeCreated  = "9999-12-31T23:59:59.999Z+probe"
	probeCreated2 = "1970-01-01T00:00:00Z-probe2"
	probeIRI      = "zz-probe-verification-method-7q#key-probe"
	probeIRI2     = "zz-probe-2#k2"
)

// configFast returns the canonical form from a template, or false when
// cfg is not of the shape, or no template can be made for it.
func configFast(ctx context.Context, cfg map[string]any, opts Options) ([]byte, bool) {
	if !defaultBounds(opts) || ctx.Err() != nil {
		return nil, false
	}
	key, created, vm, ok := configShape(cfg)
	if !ok {
		return nil, false
	}
	t := configTemplateFor(ctx, key, cfg)
	if t == nil {
		return nil, false
	}
	if opts.Budget != nil && !opts.Budget.takeIfCovers(t.spent, opts.limits()) {
		return nil, false
	}
	return t.fill(created, vm), true
}

// defaultBounds reports whether opts are Canonicalize's defaults (safe
// mode, the package bounds), under which the template was made; a
// Budget is charged what Canonicalize would take from it.
func defaultBounds(o Options) bool {
	return !o.AllowUndefinedTerms && o.MaxQuads == 0 && o.MaxBlankNodes == 0 && o.MaxWork == 0 &&
		o.MaxNodes == 0 && o.MaxContexts == 0 && o.MaxNodeMapWork == 0
}

// configShape checks cfg's shape and returns its template key and its
// created and verificationMethod values.
func configShape(cfg map[string]any) (configKey, string, string, bool) {
	var k configKey
	n := 5
	created, hasCreated := cfg["created"]
	if hasCreated {
		n = 6
	}
	if len(cfg) != n {
		return k, "", "", false
	}
	contexts, ok := contextKey(cfg["@context"])
	if !ok || len(contexts) > maxConfigKeyBytes {
		return k, "", "", false
	}
	k.contexts, k.created = contexts, hasCreated
	for _, f := range []struct {
		member string
		to     *string
	}{{"type", &k.typ}, {"cryptosuite", &k.suite}, {"proofPurpose", &k.purpose}} {
		s, ok := cfg[f.member].(string)
		if !ok || !plainWord(s) {
			return k, "", "", false
		}
		*f.to = s
	}
	var c string
	if hasCreated {
		if c, ok = created.(string); !ok || !plainOf(c, createdChars, 64) {
			return k, "", "", false
		}
	}
	vm, ok := cfg["verificationMethod"].(string)
	if !ok || !plainOf(vm, iriChars, 512) {
		return k, "", "", false
	}
	scheme, rest, found := strings.Cut(vm, ":")
	if !found || !isScheme(scheme) {
		return k, "", "", false
	}
	k.scheme, k.slashes = scheme, strings.HasPrefix(rest, "//")
	return k, c, vm, true
}

// Character sets of the fast path: a type, suite or purpose is a word; a
// created value has the characters of a date-time; an IRI the
// characters of a URL that N-Quads writes as they are.
var (
	wordChars    = charSet("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
	createdChars = charSet("0123456789TZtz:.+-abcdefghijklmnopqrstuvwxyz")
	iriChars     = charSet("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#@!$&'()*+,;=%")
)

func charSet(s string) (t [256]bool) {
	for i := 0; i < len(s); i++ {
		t[s[i]] = true
	}
	return t
}

func plainWord(s string) bool { return plainOf(s, wordChars, 64) }

func plainOf(s string, set [256]bool, maxLen int) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !set[s[i]] {
			return false
		}
	}
	return true
}

// isScheme reports whether s is an RFC 3986 scheme.
func isScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// configTemplateFor returns the template of key, making it from cfg's
// shape when there is none yet; nil when there is no fast path for key.
func configTemplateFor(ctx context.Context, key configKey, cfg map[string]any) *configTemplate {
	if t, ok := configTemplates.Load(key); ok {
		return t.(*configTemplate)
	}
	if _, none := configNone.Load(key); none {
		return nil
	}
	t := makeConfigTemplate(ctx, key, cfg)
	if ctx.Err() != nil {
		return nil // a cancelled probe says nothing about the key
	}
	key = key.clone()
	if t.usable() == nil {
		if configNoneCount.Add(1) > maxConfigTemplates {
			configNone.Clear()
			configNoneCount.Store(1)
		}
		configNone.Store(key, struct{}{})
		return nil
	}
	if configTemplateCount.Load() >= maxConfigTemplates {
		// Full: one template leaves (map order: an arbitrary one), so
		// that the first keys seen, an attacker's, cannot hold the cache.
		configTemplates.Range(func(k, _ any) bool {
			if _, gone := configTemplates.LoadAndDelete(k); gone {
				configTemplateCount.Add(-1)
			}
			return false
		})
	}
	if _, loaded := configTemplates.LoadOrStore(key, t); !loaded {
		configTemplateCount.Add(1)
	}
	return t
}

func (t *configTemplate) usable() *configTemplate {
	if t.lines == nil {
		return nil
	}
	return t
}

// probeIRIFor is a probe IRI with key's scheme (and slashes).
func probeIRIFor(key configKey, local string) string {
	if key.slashes {
		return key.scheme + "://" + local
	}
	return key.scheme + ":" + local
}

// makeConfigTemplate canonicalizes cfg with probe values and splits the
// result where they are; the template has no lines when the probe values
// do not come out as plain substitutions.
func makeConfigTemplate(ctx context.Context, key configKey, cfg map[string]any) *configTemplate {
	probe := func(created, vm string) (string, Spent, bool) {
		p := make(map[string]any, len(cfg))
		for k, v := range cfg {
			p[k] = v
		}
		if key.created {
			p["created"] = created
		}
		p["verificationMethod"] = vm
		b := NewBudget(Options{})
		out, err := Canonicalize(ctx, p, Options{Budget: b})
		return string(out), b.Spent(), err == nil
	}
	none := &configTemplate{}
	vm1, vm2 := probeIRIFor(key, probeIRI), probeIRIFor(key, probeIRI2)
	out, spent, ok := probe(probeCreated, vm1)
	if !ok {
		return none
	}
	// Each probe value exactly once, as a typed literal and as an IRI.
	if strings.Count(out, vm1) != 1 || strings.Count(out, "<"+vm1+">") != 1 {
		return none
	}
	if key.created && (strings.Count(out, probeCreated) != 1 || strings.Count(out, "\""+probeCreated+"\"^^<") != 1) {
		return none
	}
	spent.Documents = 0
	t := &configTemplate{spent: spent}
	for _, line := range strings.SplitAfter(out, "\n") {
		if line == "" {
			continue
		}
		var parts []string
		var vals []int
		for {
			ic, iv := -1, strings.Index(line, vm1)
			if key.created {
				ic = strings.Index(line, probeCreated)
			}
			switch {
			case ic >= 0 && (iv < 0 || ic < iv):
				parts, vals, line = append(parts, line[:ic]), append(vals, 0), line[ic+len(probeCreated):]
				continue
			case iv >= 0:
				parts, vals, line = append(parts, line[:iv]), append(vals, 1), line[iv+len(vm1):]
				continue
			}
			break
		}
		t.lines = append(t.lines, append(parts, line))
		t.vals = append(t.vals, vals)
	}
	// The template must give what Canonicalize gives for other values.
	out2, spent2, ok := probe(probeCreated2, vm2)
	spent2.Documents = 0
	if !ok || string(t.fill(probeCreated2, vm2)) != out2 || spent2 != spent {
		return none
	}
	return t
}

// fill puts created and vm into t, and sorts the lines (the values can
// move a line) without duplicates, as canonical N-Quads are.
func (t *configTemplate) fill(created, vm string) []byte {
	lines := make([]string, len(t.lines))
	size := 0
	for i, parts := range t.lines {
		var sb strings.Builder
		for j, p := range parts {
			sb.WriteString(p)
			if j < len(t.vals[i]) {
				if t.vals[i][j] == 0 {
					sb.WriteString(created)
				} else {
					sb.WriteString(vm)
				}
			}
		}
		lines[i] = sb.String()
		size += len(lines[i])
	}
	slices.Sort(lines)
	lines = slices.Compact(lines)
	out := make([]byte, 0, size)
	for _, l := range lines {
		out = append(out, l...)
	}
	return out
}
