package ld

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"pgregory.net/rapid"
)

// mustParseNQuads parses the subset of N-Quads the tests use: one quad a
// line, IRIs, blank nodes, literals with ECHAR/UCHAR escapes, datatypes
// and language tags.
func mustParseNQuads(tb fataler, doc string) []quad {
	tb.Helper()
	var quads []quad
	for ln, line := range strings.Split(strings.TrimSpace(doc), "\n") {
		rest := strings.TrimSpace(line)
		var terms []term
		for !strings.HasPrefix(rest, ".") {
			t, r, err := parseTerm(rest)
			if err != nil {
				tb.Fatalf("line %d: %v: %q", ln+1, err, line)
			}
			terms = append(terms, t)
			rest = strings.TrimSpace(r)
		}
		q := quad{s: terms[0], p: terms[1], o: terms[2]}
		if len(terms) == 4 {
			q.g = terms[3]
		}
		quads = append(quads, q)
	}
	return quads
}

func parseTerm(s string) (term, string, error) {
	switch {
	case strings.HasPrefix(s, "<"):
		end := strings.IndexByte(s, '>')
		return term{kind: kindIRI, value: s[1:end]}, s[end+1:], nil
	case strings.HasPrefix(s, "_:"):
		end := strings.IndexByte(s, ' ')
		return term{kind: kindBlank, value: s[2:end]}, s[end:], nil
	case strings.HasPrefix(s, `"`):
		var sb strings.Builder
		i := 1
		for ; s[i] != '"'; i++ {
			if s[i] != '\\' {
				sb.WriteByte(s[i])
				continue
			}
			i++
			switch s[i] {
			case 'u':
				r, err := strconv.ParseUint(s[i+1:i+5], 16, 32)
				if err != nil {
					return term{}, "", err
				}
				sb.WriteRune(rune(r))
				i += 4
			default:
				sb.WriteByte(map[byte]byte{'b': '\b', 't': '\t', 'n': '\n', 'f': '\f', 'r': '\r', '"': '"', '\\': '\\'}[s[i]])
			}
		}
		t := term{kind: kindLiteral, value: sb.String(), datatype: xsdString}
		rest := s[i+1:]
		if strings.HasPrefix(rest, "^^<") {
			end := strings.IndexByte(rest, '>')
			t.datatype, rest = rest[3:end], rest[end+1:]
		} else if strings.HasPrefix(rest, "@") {
			end := strings.IndexByte(rest, ' ')
			t.lang, t.datatype, rest = rest[1:end], rdfLangString, rest[end:]
		}
		return t, rest, nil
	}
	return term{}, "", fmt.Errorf("bad term")
}

// fataler is what the helpers need of a *testing.T or a *rapid.T.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

func canonicalQuads(quads []quad, maxWork int) (string, *canonicalizer, error) {
	c := newCanonicalizer(context.Background(), quads, maxWork)
	out, err := c.run()
	return string(out), c, err
}

func relabel(quads []quad, m map[string]string) []quad {
	out := make([]quad, len(quads))
	f := func(t term) term {
		if t.kind == kindBlank {
			t.value = m[t.value]
		}
		return t
	}
	for i, q := range quads {
		out[i] = quad{f(q.s), f(q.p), f(q.o), f(q.g)}
	}
	return out
}

// The examples of the RDFC-1.0 specification (w3c/rdf-canon, spec/index.html,
// commit 009632c1403109d7f95cdb86b9140db1943e3e7e): inputs, first-degree and
// N-degree hashes, and canonical identifiers as the specification lists them.
func TestRDFCSpecExamples(t *testing.T) {
	const ex = "http://example.com/#"
	tests := []struct {
		name      string
		in        string
		firstHash map[string]string
		nDegree   map[string]string // identifier → N-degree hash with a fresh issuer
		canonical map[string]string
	}{
		{
			name: "unique hashes",
			in: `<` + ex + `p> <` + ex + `q> _:e0 .
<` + ex + `p> <` + ex + `r> _:e1 .
_:e0 <` + ex + `s> <` + ex + `u> .
_:e1 <` + ex + `t> <` + ex + `u> .`,
			firstHash: map[string]string{
				"e0": "21d1dd5ba21f3dee9d76c0c00c260fa6f5d5d65315099e553026f4828d0dc77a",
				"e1": "6fa0b9bdb376852b5743ff39ca4cbf7ea14d34966b2828478fbf222e7c764473",
			},
			canonical: map[string]string{"e0": "c14n0", "e1": "c14n1"},
		},
		{
			name: "shared hashes",
			in: `<` + ex + `p> <` + ex + `q> _:e0 .
<` + ex + `p> <` + ex + `q> _:e1 .
_:e0 <` + ex + `p> _:e2 .
_:e1 <` + ex + `p> _:e3 .
_:e2 <` + ex + `r> _:e3 .`,
			firstHash: map[string]string{
				"e0": "3b26142829b8887d011d779079a243bd61ab53c3990d550320a17b59ade6ba36",
				"e1": "3b26142829b8887d011d779079a243bd61ab53c3990d550320a17b59ade6ba36",
				"e2": "15973d39de079913dac841ac4fa8c4781c0febfba5e83e5c6e250869587f8659",
				"e3": "7e790a99273eed1dc57e43205d37ce232252c85b26ca4a6ff74ff3b5aea7bccd",
			},
			canonical: map[string]string{"e2": "c14n0", "e3": "c14n1"},
		},
		{
			name: "duplicate paths",
			in: `_:e0 <http://example.com/#p1> _:e1 .
_:e1 <http://example.com/#p2> "Foo" .
_:e2 <http://example.com/#p1> _:e3 .
_:e3 <http://example.com/#p2> "Foo" .`,
			firstHash: map[string]string{
				"e0": "24da9a4406b4e66dffa10ad3d4d6dddc388fbf193bb124e865158ef419893957",
				"e1": "a994e40b576809985bc0f389308cd9d552fd7c89d028c163848a6b2d33a8583a",
			},
			// The specification's trace of e0: the hash of "3d96…686c_:b1_:b1<c484…1b8c>".
			nDegree:   map[string]string{"e0": "39d609fcd8236b74c70744f492cd2baaf0a55765b380ff9e0811ce23e2f409d7"},
			canonical: map[string]string{"e0": "c14n0", "e1": "c14n1", "e2": "c14n2", "e3": "c14n3"},
		},
		{
			name: "double circle",
			in: `_:e0 <http://example.org/vocab#next> _:e1 .
_:e0 <http://example.org/vocab#prev> _:e1 .
_:e1 <http://example.org/vocab#next> _:e0 .
_:e1 <http://example.org/vocab#prev> _:e0 .`,
			firstHash: map[string]string{"e1": "60dc8fc7b5481014b6ea38efb05455676d1e93e19b99119ab294941dacc16b3b"},
			nDegree:   map[string]string{"e0": "e332b4b59e1c4794ee72a4df0f63723326ffb6d6a5c0d0cb4d2dd8d8d5ebf5a4"},
		},
		{
			name: "blank node named graph",
			in: `_:e0 <http://example.com/#p1> _:e1 .
_:e1 <http://example.com/#p2> "Foo" .
_:e1 <http://example.com/#p3> _:g0 .
_:e0 <http://example.com/#p1> _:e1 _:g0 .
_:e1 <http://example.com/#p2> "Bar" _:g0 .`,
			firstHash: map[string]string{
				"e0": "39fa92e7a9ea0b32e3e08aedebc1cbbcd9ba9945a18f2594677598fcfb517345",
				"e1": "5274652aa97d22f9f2998d1837ffaf9ad820fb813574adc4a403f105021e48bf",
				"g0": "efb0096125247801199082c6f213cda5377d8ddac20a83eaf6c7d88335c12bf4",
			},
			canonical: map[string]string{"e0": "c14n0", "e1": "c14n1", "g0": "c14n2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			quads := mustParseNQuads(t, tt.in)
			c := newCanonicalizer(t.Context(), quads, DefaultMaxWork)
			for n, want := range tt.firstHash {
				if got := c.hashFirstDegree(n); got != want {
					t.Errorf("first-degree hash of %s = %s, want %s", n, got, want)
				}
			}
			for n, want := range tt.nDegree {
				is := newIssuer("b")
				is.issue(n)
				if got, _, err := c.hashNDegree(n, is); err != nil || got != want {
					t.Errorf("N-degree hash of %s = %s, %v; want %s", n, got, err, want)
				}
			}
			_, c, err := canonicalQuads(quads, DefaultMaxWork)
			if err != nil {
				t.Fatal(err)
			}
			for n, want := range tt.canonical {
				if got := c.canonical.ids[n]; got != want {
					t.Errorf("%s → %s, want %s", n, got, want)
				}
			}
		})
	}
}

func TestRDFC(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{
			// The example of the rdf-canon Rust crate's canonicalize_quads
			// (docs.rs/rdf-canon): a blank-node cycle inside a blank-node
			// graph, and a literal holding the characters that escape.
			name: "cycle in a blank graph, escapes",
			in: `_:e0 <http://example.org/vocab#next> _:e1 _:g .
_:e0 <http://example.org/vocab#prev> _:e2 _:g .
_:e1 <http://example.org/vocab#next> _:e2 _:g .
_:e1 <http://example.org/vocab#prev> _:e0 _:g .
_:e2 <http://example.org/vocab#next> _:e0 _:g .
_:e2 <http://example.org/vocab#prev> _:e1 _:g .
<urn:ex:s> <urn:ex:p> "\u0008\u0009\u000a\u000b\u000c\u000d\u0022\u005c\u007f" _:g .`,
			want: `<urn:ex:s> <urn:ex:p> "\b\t\n\u000B\f\r\"\\\u007F" _:c14n0 .
_:c14n1 <http://example.org/vocab#next> _:c14n2 _:c14n0 .
_:c14n1 <http://example.org/vocab#prev> _:c14n3 _:c14n0 .
_:c14n2 <http://example.org/vocab#next> _:c14n3 _:c14n0 .
_:c14n2 <http://example.org/vocab#prev> _:c14n1 _:c14n0 .
_:c14n3 <http://example.org/vocab#next> _:c14n1 _:c14n0 .
_:c14n3 <http://example.org/vocab#prev> _:c14n2 _:c14n0 .
`,
		},
		{
			name: "no blank nodes, duplicates, language, datatype",
			in: `<urn:b> <urn:p> "x"@en .
<urn:a> <urn:p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .
<urn:a> <urn:p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .
<urn:a> <urn:p> "s"^^<http://www.w3.org/2001/XMLSchema#string> <urn:g> .`,
			want: `<urn:a> <urn:p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .
<urn:a> <urn:p> "s" <urn:g> .
<urn:b> <urn:p> "x"@en .
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := canonicalQuads(mustParseNQuads(t, tt.in), DefaultMaxWork)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestEscapeLiteral(t *testing.T) {
	named := map[byte]string{'\b': `\b`, '\t': `\t`, '\n': `\n`, '\f': `\f`, '\r': `\r`, '"': `\"`, '\\': `\\`}
	for c := 0; c < 0x80; c++ {
		want, ok := named[byte(c)]
		switch {
		case ok:
		case c < 0x20 || c == 0x7f:
			want = fmt.Sprintf(`\u%04X`, c)
		default:
			want = string(rune(c))
		}
		var sb strings.Builder
		escapeLiteral(&sb, "a"+string(rune(c))+"b")
		if got := sb.String(); got != "a"+want+"b" {
			t.Errorf("U+%04X: got %q, want %q", c, got, "a"+want+"b")
		}
	}
	// Non-ASCII is written as itself, also next to escapes.
	var sb strings.Builder
	escapeLiteral(&sb, "é\x00日本\u2028😀\x7f")
	if got, want := sb.String(), `é\u0000日本`+"\u2028😀"+`\u007F`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// poisonQuads is k cliques of n blank nodes, every node linked to every
// other in its clique by the same predicate: no hash tells them apart.
func poisonQuads(k, n int) []quad {
	var qs []quad
	p := term{kind: kindIRI, value: "urn:p"}
	for c := range k {
		for i := range n {
			for j := range n {
				if i != j {
					qs = append(qs, quad{
						s: term{kind: kindBlank, value: fmt.Sprintf("k%dn%d", c, i)}, p: p,
						o: term{kind: kindBlank, value: fmt.Sprintf("k%dn%d", c, j)},
					})
				}
			}
		}
	}
	return qs
}

func TestPoisonGraphQuads(t *testing.T) {
	for _, size := range []struct{ k, n int }{{1, 10}, {4, 8}, {20, 5}} {
		t.Run(fmt.Sprintf("%dx%d", size.k, size.n), func(t *testing.T) {
			start := time.Now()
			_, _, err := canonicalQuads(poisonQuads(size.k, size.n), DefaultMaxWork)
			if !errors.Is(err, ErrTooMuchWork) {
				t.Fatalf("err = %v, want ErrTooMuchWork", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
	// A small clique is symmetric too, but cheap: it canonicalizes.
	if _, _, err := canonicalQuads(poisonQuads(1, 4), DefaultMaxWork); err != nil {
		t.Errorf("4-clique: %v", err)
	}
}

// TestIsomorphic checks that relabelling the blank nodes and shuffling the
// quads of a random dataset does not change its canonical form, and that
// the canonical form is a fixed point.
func TestIsomorphic(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nb := rapid.IntRange(1, 7).Draw(t, "blank nodes")
		preds := []string{"urn:p0", "urn:p1", "urn:p2"}
		node := func(label string) term {
			if rapid.IntRange(0, 3).Draw(t, label+" kind") == 0 {
				return term{kind: kindIRI, value: fmt.Sprintf("urn:i%d", rapid.IntRange(0, 2).Draw(t, label+" iri"))}
			}
			return term{kind: kindBlank, value: fmt.Sprintf("x%d", rapid.IntRange(0, nb-1).Draw(t, label+" blank"))}
		}
		nq := rapid.IntRange(1, 14).Draw(t, "quads")
		var quads []quad
		for i := range nq {
			q := quad{s: node(fmt.Sprint("s", i)), p: term{kind: kindIRI, value: rapid.SampledFrom(preds).Draw(t, "p")}}
			if rapid.Bool().Draw(t, "literal") {
				q.o = term{kind: kindLiteral, value: rapid.SampledFrom([]string{"a", "b\n", ""}).Draw(t, "lit"), datatype: xsdString}
			} else {
				q.o = node(fmt.Sprint("o", i))
			}
			if rapid.IntRange(0, 4).Draw(t, "graph?") == 0 {
				q.g = node(fmt.Sprint("g", i))
			}
			quads = append(quads, q)
		}
		perm := rapid.Permutation(func() []int {
			p := make([]int, nb)
			for i := range p {
				p[i] = i
			}
			return p
		}()).Draw(t, "relabel")
		m := map[string]string{}
		for i, j := range perm {
			m[fmt.Sprintf("x%d", i)] = fmt.Sprintf("y%d", j)
		}
		shuffled := rapid.Permutation(relabel(quads, m)).Draw(t, "shuffle")

		a, _, errA := canonicalQuads(quads, math.MaxInt)
		b, _, errB := canonicalQuads(shuffled, math.MaxInt)
		if errA != nil || errB != nil {
			t.Fatalf("errors: %v, %v", errA, errB)
		}
		if a != b {
			t.Fatalf("isomorphic datasets differ:\n%s\n---\n%s", a, b)
		}
		if again, _, _ := canonicalQuads(mustParseNQuads(t, a), math.MaxInt); again != a {
			t.Fatalf("not a fixed point:\n%s\n---\n%s", a, again)
		}
	})
}

func TestLoadContextsTampered(t *testing.T) {
	fsys := fstest.MapFS{}
	for _, p := range pinned {
		raw, err := contextFS.ReadFile("contexts/" + p.file)
		if err != nil {
			t.Fatal(err)
		}
		fsys["contexts/"+p.file] = &fstest.MapFile{Data: raw}
	}
	if _, err := loadContexts(fsys); err != nil {
		t.Fatalf("untampered: %v", err)
	}
	f := fsys["contexts/w3c/credentials-v2.jsonld"]
	f.Data = append([]byte(nil), f.Data...)
	f.Data[len(f.Data)-2] = ' '
	if _, err := loadContexts(fsys); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("tampered: err = %v", err)
	}
}
