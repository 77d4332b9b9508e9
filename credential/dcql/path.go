package dcql

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Path is a claims path pointer (OpenID4VP section 7): a non-empty
// sequence whose elements are a string (an object member), a
// non-negative int (an array index) or nil (every element of an array).
// Paths that Parse returns hold exactly these Go types.
type Path []any

// String formats p as JSON, the way it is written in a query.
func (p Path) String() string {
	var sb strings.Builder
	sb.WriteByte('[')
	for i, e := range p {
		if i > 0 {
			sb.WriteByte(',')
		}
		switch e := e.(type) {
		case string:
			b, _ := json.Marshal(e)
			sb.Write(b)
		case int:
			sb.WriteString(strconv.Itoa(e))
		case nil:
			sb.WriteString("null")
		default:
			fmt.Fprintf(&sb, "%v", e)
		}
	}
	sb.WriteByte(']')
	return sb.String()
}

// Pointer formats a concrete path (no nil element) as a JSON pointer
// (RFC 6901), the form credential/sdjwt's Present takes. A nil element
// formats as "-", which names no claim.
func (p Path) Pointer() string {
	var sb strings.Builder
	for _, e := range p {
		sb.WriteByte('/')
		switch e := e.(type) {
		case string:
			sb.WriteString(strings.ReplaceAll(strings.ReplaceAll(e, "~", "~0"), "/", "~1"))
		case int:
			sb.WriteString(strconv.Itoa(e))
		default:
			sb.WriteByte('-')
		}
	}
	return sb.String()
}

// equal reports whether a and b have the same elements.
func (p Path) equal(q Path) bool {
	if len(p) != len(q) {
		return false
	}
	for i := range p {
		if p[i] != q[i] {
			return false
		}
	}
	return true
}

// Selected is one claim that a claims path pointer selects.
type Selected struct {
	// Path is the claim's concrete path: the pointer with each nil
	// replaced by the index it selected.
	Path Path
	// Value is the claim's value, as it is in the credential.
	Value any
}

// DefaultMaxSelected is the bound on the claims one Select may hold at
// any step, so that nil wildcards over large arrays stay cheap.
const DefaultMaxSelected = 4096

// Select processes the claims path pointer p over root, a credential's
// JSON as encoding/json decodes it into any (objects map[string]any,
// arrays []any), following OpenID4VP section 7.1.1: a string selects that
// member of every selected object (an object without it drops out), an
// index that element of every selected array (an array too short drops
// out), nil every element of every selected array. Stepping into a value
// of the wrong kind, or ending with nothing selected, fails with
// ErrSelection; more than DefaultMaxSelected claims at any step fails
// with ErrLimit. The claims come back in document order for arrays and
// pointer order otherwise.
func Select(root any, p Path) ([]Selected, error) {
	b := budget(defaultBudget)
	return selectPath(root, p, DefaultMaxSelected, &b)
}

// budget counts the values visited by one call; every selection step
// spends one unit per value it visits.
type budget int

// defaultBudget bounds the work of one Match or Check call.
const defaultBudget = 1 << 20

func (b *budget) spend(n int) error {
	if int(*b) < n {
		return fmt.Errorf("%w: more than %d values visited", ErrLimit, defaultBudget)
	}
	*b -= budget(n)
	return nil
}

// node is a claim selected at one step of selectPath: its value, the
// path element that reached it and its parent's index in the previous
// step, so that concrete paths are built only for the final selection.
type node struct {
	value  any
	elem   any
	parent int
}

func selectPath(root any, p Path, maxSelected int, b *budget) ([]Selected, error) {
	if len(p) == 0 {
		return nil, fmt.Errorf("%w: empty claims path pointer", ErrSelection)
	}
	steps := make([][]node, 0, len(p)+1)
	cur := []node{{value: root, parent: -1}}
	steps = append(steps, cur)
	for step, e := range p {
		if err := b.spend(len(cur)); err != nil {
			return nil, err
		}
		var next []node
		switch e := e.(type) {
		case string:
			for i, s := range cur {
				obj, ok := s.value.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%w: %s: element %d: %s is not an object", ErrSelection, p, step, concrete(steps, step, i).Pointer())
				}
				if v, ok := obj[e]; ok {
					next = append(next, node{value: v, elem: e, parent: i})
				}
			}
		case int:
			for i, s := range cur {
				arr, ok := s.value.([]any)
				if !ok {
					return nil, fmt.Errorf("%w: %s: element %d: %s is not an array", ErrSelection, p, step, concrete(steps, step, i).Pointer())
				}
				if e >= 0 && e < len(arr) {
					next = append(next, node{value: arr[e], elem: e, parent: i})
				}
			}
		case nil:
			n := 0
			for i, s := range cur {
				arr, ok := s.value.([]any)
				if !ok {
					return nil, fmt.Errorf("%w: %s: element %d: %s is not an array", ErrSelection, p, step, concrete(steps, step, i).Pointer())
				}
				if n += len(arr); n > maxSelected {
					return nil, fmt.Errorf("%w: %s selects more than %d claims", ErrLimit, p, maxSelected)
				}
			}
			if err := b.spend(n); err != nil {
				return nil, err
			}
			next = make([]node, 0, n)
			for i, s := range cur {
				for j, v := range s.value.([]any) {
					next = append(next, node{value: v, elem: j, parent: i})
				}
			}
		default:
			return nil, fmt.Errorf("%w: %s: element %d is a %T", ErrSelection, p, step, e)
		}
		if len(next) == 0 {
			return nil, fmt.Errorf("%w: %s", ErrSelection, p)
		}
		steps = append(steps, next)
		cur = next
	}
	if err := b.spend(len(cur) * len(p)); err != nil {
		return nil, err
	}
	out := make([]Selected, len(cur))
	for i, s := range cur {
		out[i] = Selected{Path: concrete(steps, len(p), i), Value: s.value}
	}
	return out, nil
}

// concrete builds the path of node i of steps[step] from its ancestors.
func concrete(steps [][]node, step, i int) Path {
	path := make(Path, step)
	for k := step; k > 0; k-- {
		n := steps[k][i]
		path[k-1] = n.elem
		i = n.parent
	}
	return path
}
