package ld

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// This file implements RDFC-1.0 (https://www.w3.org/TR/rdf-canon/) with
// SHA-256. Section numbers in comments refer to that specification.

// issuer is an identifier issuer (4.5): it maps existing blank node
// labels to prefix0, prefix1, ... in the order they are first seen.
type issuer struct {
	prefix string
	ids    map[string]string
	order  []string
}

func newIssuer(prefix string) *issuer {
	return &issuer{prefix: prefix, ids: map[string]string{}}
}

func (is *issuer) issue(existing string) string {
	if id, ok := is.ids[existing]; ok {
		return id
	}
	id := is.prefix + strconv.Itoa(len(is.order))
	is.ids[existing] = id
	is.order = append(is.order, existing)
	return id
}

func (is *issuer) has(existing string) bool {
	_, ok := is.ids[existing]
	return ok
}

func (is *issuer) clone() *issuer {
	c := &issuer{prefix: is.prefix, ids: make(map[string]string, len(is.ids)), order: slices.Clone(is.order)}
	for k, v := range is.ids {
		c.ids[k] = v
	}
	return c
}

// canonicalizer is the canonicalization state (4.2) plus the work bound.
type canonicalizer struct {
	ctx       context.Context
	quads     []quad
	bnQuads   map[string][]int // blank node label → indexes into quads
	canonical *issuer
	firstHash map[string]string // memo of hashFirstDegree
	work      int
	maxWork   int
}

// newCanonicalizer takes the quads of a dataset; duplicates are dropped,
// since a dataset is a set.
func newCanonicalizer(ctx context.Context, quads []quad, maxWork int) *canonicalizer {
	quads = dedupe(quads)
	c := &canonicalizer{
		ctx:       ctx,
		quads:     quads,
		bnQuads:   map[string][]int{},
		canonical: newIssuer("c14n"),
		firstHash: map[string]string{},
		maxWork:   maxWork,
	}
	// 4.4.3 step 2.
	for i, q := range quads {
		for _, t := range [...]term{q.s, q.o, q.g} {
			if t.kind == kindBlank {
				ids := c.bnQuads[t.value]
				if len(ids) == 0 || ids[len(ids)-1] != i {
					c.bnQuads[t.value] = append(ids, i)
				}
			}
		}
	}
	return c
}

// spend counts n units of work and checks ctx every so often.
func (c *canonicalizer) spend(n int) error {
	c.work += n
	if c.work > c.maxWork {
		return fmt.Errorf("%w (%d steps)", ErrTooMuchWork, c.maxWork)
	}
	if c.work&0xff < n {
		if err := c.ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

func hashString(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// run is the canonicalization algorithm (4.4.3) followed by serialization (5).
func (c *canonicalizer) run() ([]byte, error) {
	if err := c.ctx.Err(); err != nil {
		return nil, err
	}
	// Step 3: hash to blank nodes map.
	byHash := map[string][]string{}
	labels := make([]string, 0, len(c.bnQuads))
	for n := range c.bnQuads {
		labels = append(labels, n)
	}
	slices.Sort(labels) // deterministic order of work; the result does not depend on it
	for _, n := range labels {
		h := c.hashFirstDegree(n)
		byHash[h] = append(byHash[h], n)
	}
	hashes := make([]string, 0, len(byHash))
	for h := range byHash {
		hashes = append(hashes, h)
	}
	slices.Sort(hashes)
	// Step 4: unique hashes get canonical identifiers first.
	var shared []string
	for _, h := range hashes {
		if ns := byHash[h]; len(ns) == 1 {
			c.canonical.issue(ns[0])
		} else {
			shared = append(shared, h)
		}
	}
	// Step 5: the rest, by N-degree hash.
	for _, h := range shared {
		type result struct {
			hash   string
			issuer *issuer
		}
		var paths []result
		for _, n := range byHash[h] {
			if c.canonical.has(n) {
				continue
			}
			tmp := newIssuer("b")
			tmp.issue(n)
			hash, is, err := c.hashNDegree(n, tmp)
			if err != nil {
				return nil, err
			}
			paths = append(paths, result{hash, is})
		}
		slices.SortStableFunc(paths, func(a, b result) int { return cmp.Compare(a.hash, b.hash) })
		for _, r := range paths {
			for _, existing := range r.issuer.order {
				c.canonical.issue(existing)
			}
		}
	}
	// Step 6 and section 5: relabel, serialize, sort.
	label := func(l string) string { return c.canonical.ids[l] }
	return sortedLines(len(c.quads), func(i int) quad { return c.quads[i] }, label), nil
}

// sortedLines serializes n quads (quad(0) to quad(n-1)) as canonical
// N-Quads lines, naming blank nodes label(l), and returns the lines
// sorted (by code point, which byte order of UTF-8 is) and concatenated.
// The lines are written into one buffer and sorted as substrings of it.
func sortedLines(n int, quad func(int) quad, label func(string) string) []byte {
	var sb strings.Builder
	sb.Grow(n * 128)
	ends := make([]int, n)
	for i := range n {
		writeQuad(&sb, quad(i), label)
		ends[i] = sb.Len()
	}
	all := sb.String()
	lines := make([]string, n)
	start := 0
	for i, end := range ends {
		lines[i] = all[start:end]
		start = end
	}
	slices.Sort(lines)
	out := make([]byte, 0, len(all))
	for _, l := range lines {
		out = append(out, l...)
	}
	return out
}

// hashFirstDegree is Hash First Degree Quads (4.6).
func (c *canonicalizer) hashFirstDegree(n string) string {
	if h, ok := c.firstHash[n]; ok {
		return h
	}
	label := func(l string) string {
		if l == n {
			return "a"
		}
		return "z"
	}
	idx := c.bnQuads[n]
	sum := sha256.Sum256(sortedLines(len(idx), func(i int) quad { return c.quads[idx[i]] }, label))
	h := hex.EncodeToString(sum[:])
	c.firstHash[n] = h
	return h
}

// hashRelated is Hash Related Blank Node (4.7).
func (c *canonicalizer) hashRelated(related string, q quad, is *issuer, position byte) string {
	var sb strings.Builder
	sb.WriteByte(position)
	if position != 'g' {
		sb.WriteByte('<')
		sb.WriteString(q.p.value)
		sb.WriteByte('>')
	}
	switch {
	case c.canonical.has(related):
		sb.WriteString("_:" + c.canonical.ids[related])
	case is.has(related):
		sb.WriteString("_:" + is.ids[related])
	default:
		sb.WriteString(c.hashFirstDegree(related))
	}
	return hashString(sb.String())
}

// hashNDegree is Hash N-Degree Quads (4.8). Every call, related hash and
// permutation is one unit of work against maxWork.
func (c *canonicalizer) hashNDegree(n string, is *issuer) (string, *issuer, error) {
	if err := c.spend(1); err != nil {
		return "", nil, err
	}
	// Steps 1–3: related blank nodes grouped by related hash.
	related := map[string][]string{}
	for _, qi := range c.bnQuads[n] {
		q := c.quads[qi]
		for _, comp := range [...]struct {
			t   term
			pos byte
		}{{q.s, 's'}, {q.o, 'o'}, {q.g, 'g'}} {
			if comp.t.kind != kindBlank || comp.t.value == n {
				continue
			}
			if err := c.spend(1); err != nil {
				return "", nil, err
			}
			h := c.hashRelated(comp.t.value, q, is, comp.pos)
			related[h] = append(related[h], comp.t.value)
		}
	}
	hashes := make([]string, 0, len(related))
	for h := range related {
		hashes = append(hashes, h)
	}
	slices.Sort(hashes)
	// Steps 4–5.
	var data strings.Builder
	for _, h := range hashes {
		data.WriteString(h)
		var chosenPath string
		var chosenIssuer *issuer
		perm := related[h]
		slices.Sort(perm)
		for ok := true; ok; ok = nextPermutation(perm) {
			if err := c.spend(1); err != nil {
				return "", nil, err
			}
			cp := is.clone()
			var path strings.Builder
			var recursion []string
			skip := false
			for _, r := range perm {
				if id, ok := c.canonical.ids[r]; ok {
					path.WriteString("_:" + id)
				} else {
					if !cp.has(r) {
						recursion = append(recursion, r)
					}
					path.WriteString("_:" + cp.issue(r))
				}
				if chosenPath != "" && path.Len() >= len(chosenPath) && path.String() > chosenPath {
					skip = true
					break
				}
			}
			if skip {
				continue
			}
			for _, r := range recursion {
				rh, ris, err := c.hashNDegree(r, cp)
				if err != nil {
					return "", nil, err
				}
				path.WriteString("_:" + cp.issue(r))
				path.WriteString("<" + rh + ">")
				cp = ris
				if chosenPath != "" && path.Len() >= len(chosenPath) && path.String() > chosenPath {
					skip = true
					break
				}
			}
			if skip {
				continue
			}
			if p := path.String(); chosenPath == "" || p < chosenPath {
				chosenPath, chosenIssuer = p, cp
			}
		}
		data.WriteString(chosenPath)
		is = chosenIssuer
	}
	return hashString(data.String()), is, nil
}

// nextPermutation rearranges p into the next permutation in lexicographic
// order and reports whether there was one.
func nextPermutation(p []string) bool {
	i := len(p) - 2
	for i >= 0 && p[i] >= p[i+1] {
		i--
	}
	if i < 0 {
		return false
	}
	j := len(p) - 1
	for p[j] <= p[i] {
		j--
	}
	p[i], p[j] = p[j], p[i]
	slices.Reverse(p[i+1:])
	return true
}

// dedupe returns quads without repetitions, in their first order: quads
// itself when it has none (the usual case). Equal quads are found by
// sorting their indexes (ties by index, so that the first of equal quads
// comes first and the later ones are dropped), which costs less than a
// map keyed by whole quads.
func dedupe(quads []quad) []quad {
	if len(quads) < 2 {
		return quads
	}
	idx := make([]int, len(quads))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := compareQuads(&quads[a], &quads[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	var dup []bool
	for k := 1; k < len(idx); k++ {
		if quads[idx[k]] == quads[idx[k-1]] {
			if dup == nil {
				dup = make([]bool, len(quads))
			}
			dup[idx[k]] = true
		}
	}
	if dup == nil {
		return quads
	}
	out := make([]quad, 0, len(quads))
	for i, q := range quads {
		if !dup[i] {
			out = append(out, q)
		}
	}
	return out
}

// compareQuads orders quads by their terms (any total order will do).
func compareQuads(a, b *quad) int {
	for _, t := range [...][2]*term{{&a.s, &b.s}, {&a.p, &b.p}, {&a.o, &b.o}, {&a.g, &b.g}} {
		x, y := t[0], t[1]
		if c := cmp.Compare(x.kind, y.kind); c != 0 {
			return c
		}
		if c := strings.Compare(x.value, y.value); c != 0 {
			return c
		}
		if c := strings.Compare(x.datatype, y.datatype); c != 0 {
			return c
		}
		if c := strings.Compare(x.lang, y.lang); c != 0 {
			return c
		}
	}
	return 0
}
