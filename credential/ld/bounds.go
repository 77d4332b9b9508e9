package ld

import (
	"strconv"

	"github.com/idmesh/idmesh/credential"
)

// Bounds checked before and during JSON-LD processing, so that any
// document is canonicalized or refused in milliseconds (see
// BenchmarkWorstCase). Each is a count: the work of every stage is linear
// in it, or, for the node map, counted directly.
const (
	// DefaultMaxNodes bounds the JSON values of a document (objects,
	// arrays, strings, numbers, booleans and nulls; member names are not
	// counted), checked before any JSON-LD processing. A credential has a
	// few hundred; a presentation of several, a few thousand.
	DefaultMaxNodes = 20_000
	// MaxDepth is the deepest nesting of objects and arrays accepted, as
	// did/strictjson's decoder (which the HTTP API decodes with) allows.
	MaxDepth = 64
	// MaxStringBytes bounds the total length of a document's strings and
	// member names (a bitstring status list of 16 MiB entries, compressed
	// and encoded, takes at most 3 MiB).
	MaxStringBytes = 4 << 20
	// DefaultMaxContexts bounds the contexts processed for one document
	// that the context cache does not already hold: a context embedded in
	// the document, or a scoped context derived from one. Each copies the
	// active context; the bundled contexts and the scoped contexts they
	// define are cached and not counted.
	DefaultMaxContexts = 64
	// DefaultMaxNodeMapWork bounds the comparisons that building the node
	// map makes (JSON-LD's node map generation compares each value added
	// to a node's property with those already there, so n values of one
	// property cost n²/2); checked on the expanded document before the
	// node map is built. 600 values of one property cost 180,000; a
	// comparison takes about 100 ns.
	DefaultMaxNodeMapWork = 200_000
)

// limitError is a bound exceeded: LimitExceededError wrapping sentinel.
func limitError(stage string, sentinel error, limit int, what string) error {
	return credential.Errorf(credential.LimitExceededError, "%s: %w: more than %d %s", stage, sentinel, limit, what)
}

// CheckDocument checks doc, a JSON value as decoded by encoding/json or
// did/strictjson, against the bounds that apply before any JSON-LD
// processing: at most opts.MaxNodes values (default [DefaultMaxNodes]),
// nesting at most [MaxDepth] deep, and at most [MaxStringBytes] of strings
// and member names. It stops at the first value over a bound, so it costs
// no more than the bound. An error is a [credential.LimitExceededError]
// wrapping [ErrDocumentTooLarge]. [Canonicalize] calls it first; a verifier calls
// it before any other work on an untrusted document.
func CheckDocument(doc any, opts Options) error {
	c := docCounter{maxNodes: opts.limits().nodes}
	return c.walk(doc, 0)
}

// docCounter counts a document's values, depth and string bytes.
type docCounter struct {
	nodes, maxNodes int
	bytes           int
}

func (c *docCounter) walk(v any, depth int) error {
	c.nodes++
	if c.nodes > c.maxNodes {
		return limitError("check document", ErrDocumentTooLarge, c.maxNodes, "JSON values")
	}
	switch x := v.(type) {
	case map[string]any:
		if depth >= MaxDepth {
			return limitError("check document", ErrDocumentTooLarge, MaxDepth, "levels of nesting")
		}
		for k, e := range x {
			if err := c.str(len(k)); err != nil {
				return err
			}
			if err := c.walk(e, depth+1); err != nil {
				return err
			}
		}
	case []any:
		if depth >= MaxDepth {
			return limitError("check document", ErrDocumentTooLarge, MaxDepth, "levels of nesting")
		}
		for _, e := range x {
			if err := c.walk(e, depth+1); err != nil {
				return err
			}
		}
	case string:
		return c.str(len(x))
	}
	return nil
}

func (c *docCounter) str(n int) error {
	c.bytes += n
	if c.bytes > MaxStringBytes {
		return limitError("check document", ErrDocumentTooLarge, MaxStringBytes, "bytes of strings")
	}
	return nil
}

// nodeMapBudget counts, on an expanded document, what json-gold's node
// map generation will do: the values it adds to each node's properties
// (nodes with the same identifier in the same graph are merged, so their
// values add up), the comparisons that adding them costs, and every value
// and list item (each makes at least one quad). It follows
// JsonLdApi.GenerateNodeMap's recursion; it reads the document and
// never fails on its shape, which json-gold then checks.
type nodeMapBudget struct {
	counts          map[propKey]int
	values, maxVals int
	work, maxWork   int
	fresh           int // blank nodes without an identifier
}

type propKey struct{ graph, subject, property string }

func newNodeMapBudget(maxValues, maxWork int) *nodeMapBudget {
	return &nodeMapBudget{counts: map[propKey]int{}, maxVals: maxValues, maxWork: maxWork}
}

// value counts one value or list item.
func (b *nodeMapBudget) value() error {
	b.values++
	if b.values > b.maxVals {
		return limitError("check expanded document", ErrTooLarge, b.maxVals, "values")
	}
	return nil
}

// add counts a value added to a node's property: one comparison with
// each value already there.
func (b *nodeMapBudget) add(k propKey) error {
	if err := b.value(); err != nil {
		return err
	}
	n := b.counts[k]
	b.counts[k] = n + 1
	b.work += n
	if b.work > b.maxWork {
		return limitError("check expanded document", ErrTooMuchWork, b.maxWork, "node map comparisons")
	}
	return nil
}

// walk follows GenerateNodeMap(element, graph, subject, property); list
// is true inside a list, reverse when subject is the node that a
// reverse property points from.
func (b *nodeMapBudget) walk(element any, graph, subject, property string, list, reverse bool) error {
	if items, isArray := element.([]any); isArray {
		for _, item := range items {
			if err := b.walk(item, graph, subject, property, list, reverse); err != nil {
				return err
			}
		}
		return nil
	}
	elem, isMap := element.(map[string]any)
	if !isMap {
		return nil
	}
	here := propKey{graph, subject, property}
	if _, isValue := elem["@value"]; isValue {
		if list || reverse {
			return b.value()
		}
		return b.add(here)
	}
	if items, isList := elem["@list"]; isList {
		if err := b.walk(items, graph, subject, property, true, reverse); err != nil {
			return err
		}
		if list || reverse {
			return b.value()
		}
		return b.add(here)
	}
	// A node object.
	id, _ := elem["@id"].(string)
	if _, hasID := elem["@id"]; !hasID {
		b.fresh++
		id = "\x00" + strconv.Itoa(b.fresh) // no identifier can collide
	}
	switch {
	case reverse:
		if err := b.add(propKey{graph, id, property}); err != nil {
			return err
		}
	case property != "" && list:
		if err := b.value(); err != nil {
			return err
		}
	case property != "":
		if err := b.add(here); err != nil {
			return err
		}
	}
	for key, v := range elem {
		var err error
		switch key {
		case "@id", "@index":
		case "@type":
			types, isArray := v.([]any)
			if !isArray {
				types = []any{v}
			}
			for range types {
				if err = b.add(propKey{graph, id, "@type"}); err != nil {
					break
				}
			}
		case "@reverse":
			rev, _ := v.(map[string]any)
			for p, vals := range rev {
				if err = b.walk(vals, graph, id, p, false, true); err != nil {
					break
				}
			}
		case "@graph":
			err = b.walk(v, id, "", "", false, false)
		case "@included":
			err = b.walk(v, graph, "", "", false, false)
		default:
			err = b.walk(v, graph, id, key, false, false)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
