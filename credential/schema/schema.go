package schema

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gowebpki/jcs"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/did/strictjson"
)

// Bounds and defaults.
const (
	// MaxSchemaBytes bounds the size of a schema accepted by [Hash] and
	// [Compiler.Compile].
	MaxSchemaBytes = 256 << 10
	// DefaultMaxCached is the number of compiled schemas a [Compiler]
	// keeps when its MaxCached is zero.
	DefaultMaxCached = 256
)

// Draft2020 is the meta-schema URI of JSON Schema draft 2020-12, the only
// dialect accepted.
const Draft2020 = "https://json-schema.org/draft/2020-12/schema"

// Errors wrapped, with credential.MalformedValueError, by [Hash] and
// [Compiler.Compile].
var (
	// ErrTooLarge reports a schema over MaxSchemaBytes.
	ErrTooLarge = errors.New("schema too large")
	// ErrNotJSON reports a schema that is not one JSON object (or repeats a
	// member name, or nests too deeply).
	ErrNotJSON = errors.New("schema is not a JSON object")
	// ErrDialect reports a schema, or an embedded resource, whose $schema
	// is not draft 2020-12.
	ErrDialect = errors.New("schema is not JSON Schema draft 2020-12")
	// ErrExternalRef reports a reference to a schema other than the one
	// being compiled (and the bundled meta-schemas).
	ErrExternalRef = errors.New("reference to an external schema")
	// ErrInvalid reports a schema that does not conform to its meta-schema
	// or cannot be compiled (for example, a pattern that is not RE2).
	ErrInvalid = errors.New("invalid schema")
)

// Hash returns the content address of a schema: the lower-case hex SHA-256
// of its JCS (RFC 8785) canonical form. Schemas that differ only in
// whitespace, member order or number spelling have the same hash. Errors
// carry credential.MalformedValueError.
func Hash(schema []byte) (string, error) {
	_, h, err := canonical(schema)
	return h, err
}

// canonical returns the JCS form of schema and its hash.
func canonical(schema []byte) ([]byte, string, error) {
	if len(schema) > MaxSchemaBytes {
		return nil, "", malformed("%w: %d bytes, at most %d", ErrTooLarge, len(schema), MaxSchemaBytes)
	}
	// strictjson bounds the nesting and rejects repeated names before the
	// canonicalizer sees the text.
	if err := strictjson.CheckDuplicates(schema); err != nil {
		return nil, "", malformed("%w: %v", ErrNotJSON, err)
	}
	if b := bytes.TrimLeft(schema, " \t\r\n"); len(b) == 0 || b[0] != '{' {
		return nil, "", malformed("%w", ErrNotJSON)
	}
	c, err := jcs.Transform(schema)
	if err != nil {
		return nil, "", malformed("%w: %v", ErrNotJSON, err)
	}
	sum := sha256.Sum256(c)
	return c, hex.EncodeToString(sum[:]), nil
}

func malformed(format string, args ...any) error {
	return credential.Errorf(credential.MalformedValueError, "schema: "+format, args...)
}

// Schema is a compiled schema. It is immutable and safe for concurrent use.
type Schema struct {
	s    *jsonschema.Schema
	doc  any // the schema as decoded, read-only
	id   string
	hash string
}

// ID returns the schema's $id, or "" when it has none.
func (s *Schema) ID() string { return s.id }

// Hash returns the schema's content address (see [Hash]).
func (s *Schema) Hash() string { return s.hash }

// Compiler compiles schemas and caches them by [Hash]. The zero value is
// ready to use; a Compiler must not be copied after first use. It is safe
// for concurrent use: concurrent requests for one schema compile it once.
type Compiler struct {
	// MaxCached bounds the compiled schemas kept (least recently used are
	// dropped first); zero means DefaultMaxCached, negative disables the
	// cache. Schemas that fail to compile are not cached.
	MaxCached int

	mu sync.Mutex
	// cache maps a schema's hash, and the SHA-256 of byte layouts seen for
	// it (prefixed "raw:"), to its element in lru.
	cache map[string]*list.Element // of *entry
	lru   list.List                // front: most recently used
}

// maxLayouts bounds the byte layouts remembered per cached schema.
const maxLayouts = 4

type entry struct {
	hash  string
	keys  []string // in Compiler.cache
	canon []byte   // until compiled
	once  sync.Once
	s     *Schema
	err   error
}

// Compile compiles a JSON Schema (draft 2020-12), or returns the cached
// compilation of a schema with the same [Hash]. The schema compiled is the
// JCS form of the input, so that what a hash names is one schema: its
// numbers are IEEE 754 doubles (an integer beyond 2^53 is rounded).
// Instances keep their precision: a json.Number is compared exactly.
// Errors carry credential.MalformedValueError and wrap one of this
// package's errors.
func (c *Compiler) Compile(schema []byte) (*Schema, error) {
	max := c.MaxCached
	if max == 0 {
		max = DefaultMaxCached
	}
	if max < 0 || len(schema) > MaxSchemaBytes {
		canon, hash, err := canonical(schema)
		if err != nil {
			return nil, err
		}
		return compile(canon, hash)
	}
	// The same bytes again skip canonicalization, which costs more than
	// hashing them.
	sum := sha256.Sum256(schema)
	raw := "raw:" + string(sum[:])
	e := c.lookup(raw)
	if e == nil {
		canon, hash, err := canonical(schema)
		if err != nil {
			return nil, err
		}
		e = c.add(hash, raw, canon, max)
	}
	e.once.Do(func() {
		e.s, e.err = compile(e.canon, e.hash)
		e.canon = nil
	})
	if e.err != nil {
		c.drop(e)
	}
	return e.s, e.err
}

// lookup returns the entry cached under key, or nil.
func (c *Compiler) lookup(key string) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.cache[key]
	if !ok {
		return nil
	}
	c.lru.MoveToFront(el)
	return el.Value.(*entry)
}

// add returns the entry of hash, adding one if needed, and records raw as
// one of its layouts.
func (c *Compiler) add(hash, raw string, canon []byte, max int) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.cache[hash]; ok {
		c.lru.MoveToFront(el)
		e := el.Value.(*entry)
		if len(e.keys) <= maxLayouts {
			e.keys = append(e.keys, raw)
			c.cache[raw] = el
		}
		return e
	}
	if c.cache == nil {
		c.cache = make(map[string]*list.Element)
	}
	e := &entry{hash: hash, keys: []string{hash, raw}, canon: canon}
	el := c.lru.PushFront(e)
	c.cache[hash], c.cache[raw] = el, el
	for c.lru.Len() > max {
		c.remove(c.lru.Back())
	}
	return e
}

// drop removes e from the cache if it is still there.
func (c *Compiler) drop(e *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.cache[e.hash]; ok && el.Value == e {
		c.remove(el)
	}
}

func (c *Compiler) remove(el *list.Element) {
	c.lru.Remove(el)
	for _, k := range el.Value.(*entry).keys {
		delete(c.cache, k)
	}
}

// compile compiles the canonical schema canon with a fresh library
// compiler: one that knows only this document and the bundled
// meta-schemas.
func compile(canon []byte, hash string) (*Schema, error) {
	doc, err := decode(canon)
	if err != nil {
		return nil, malformed("%w: %v", ErrNotJSON, err)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, malformed("%w", ErrNotJSON)
	}
	if err := checkDialect(obj, ""); err != nil {
		return nil, err
	}
	// The document's own location: absolute, so that the library never
	// resolves it against the working directory, and in a scheme nothing
	// can fetch. A $id in the document takes over as its base URI.
	loc := "mem:///" + hash + ".json"
	jc := jsonschema.NewCompiler()
	jc.DefaultDraft(jsonschema.Draft2020)
	jc.AssertFormat()
	jc.UseLoader(noLoader{})
	if err := jc.AddResource(loc, doc); err != nil {
		return nil, malformed("%w: %v", ErrInvalid, err)
	}
	s, err := compileSafely(jc, loc)
	if err != nil {
		var le *jsonschema.LoadURLError
		if errors.As(err, &le) {
			return nil, malformed("%w: %s", ErrExternalRef, le.URL)
		}
		return nil, malformed("%w: %s", ErrInvalid, firstLine(err.Error()))
	}
	id, _ := obj["$id"].(string)
	return &Schema{s: s, doc: doc, id: id, hash: hash}, nil
}

// compileSafely turns a panic of the library on a hostile schema into an
// error: a schema is input, and no input may crash the process.
func compileSafely(jc *jsonschema.Compiler, loc string) (s *jsonschema.Schema, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("compiler panic: %v", r)
		}
	}()
	return jc.Compile(loc)
}

func decode(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, strictjson.ErrTrailing
	}
	return v, nil
}

// checkDialect rejects a $schema other than draft 2020-12 at the root (ptr
// "") or in any object that declares one (an embedded resource). A
// "$schema" member that is not a string is left to the meta-schema.
func checkDialect(v any, ptr string) error {
	switch v := v.(type) {
	case map[string]any:
		if d, ok := v["$schema"].(string); ok && strings.TrimSuffix(d, "#") != Draft2020 {
			return malformed("%w: $schema %q at %q", ErrDialect, d, "#"+ptr)
		}
		for k, e := range v {
			if err := checkDialect(e, ptr+"/"+escape(k)); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range v {
			if err := checkDialect(e, fmt.Sprintf("%s/%d", ptr, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// noLoader is the library's loader of last resort: the schema's own
// resources and the bundled meta-schemas are served before it is asked,
// so every URL that reaches it is external.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) { return nil, ErrExternalRef }

// Validate validates a credential, as decoded (json.Number numbers as
// strictjson gives them, or any value encoding/json can marshal), against
// the schema. A failure is a *credential.Error with
// credential.SchemaValidationError whose one-line detail names the
// instance location and keyword of the first failure, and whose cause is
// the library's *jsonschema.ValidationError with every failure.
func (s *Schema) Validate(cred map[string]any) error {
	var v any = cred
	if !plain(v) {
		// Values of other Go types (a []string, a struct) are what
		// encoding/json would make of them.
		b, err := json.Marshal(cred)
		if err != nil {
			return credential.Errorf(credential.SchemaValidationError, "schema %s: credential is not JSON: %v", s.name(), err)
		}
		if v, err = decode(b); err != nil {
			return credential.Errorf(credential.SchemaValidationError, "schema %s: credential is not JSON: %v", s.name(), err)
		}
	}
	err := s.s.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return credential.Errorf(credential.SchemaValidationError, "schema %s: %v", s.name(), err)
	}
	return &credential.Error{
		Code:   credential.SchemaValidationError,
		Detail: fmt.Sprintf("schema %s: %s", s.name(), s.describe(ve)),
		Err:    ve,
	}
}

func (s *Schema) name() string {
	if s.id != "" {
		return s.id
	}
	return "sha256:" + s.hash
}

// plain reports whether v holds only the types encoding/json decodes to
// (with or without UseNumber).
func plain(v any) bool {
	switch v := v.(type) {
	case nil, bool, string, json.Number, float64:
		return true
	case map[string]any:
		for _, e := range v {
			if !plain(e) {
				return false
			}
		}
		return true
	case []any:
		for _, e := range v {
			if !plain(e) {
				return false
			}
		}
		return true
	}
	return false
}

var printer = message.NewPrinter(language.English)

// describe renders the most specific failure of a validation error tree
// (its leaves, and contains failures) on one line: the deepest instance location, and among failures there the
// first by location and keyword, so that the text is deterministic.
func (s *Schema) describe(ve *jsonschema.ValidationError) string {
	var leaves []*jsonschema.ValidationError
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		// The causes of a failed contains are the items that do not
		// match, which say less than the keyword itself.
		if _, contains := e.ErrorKind.(*kind.Contains); contains || len(e.Causes) == 0 {
			leaves = append(leaves, e)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	slices.SortStableFunc(leaves, func(a, b *jsonschema.ValidationError) int {
		if d := len(b.InstanceLocation) - len(a.InstanceLocation); d != 0 {
			return d
		}
		if c := strings.Compare(pointer(a.InstanceLocation), pointer(b.InstanceLocation)); c != 0 {
			return c
		}
		return strings.Compare(keyword(a), keyword(b))
	})
	first := leaves[0]
	msg := firstLine(first.ErrorKind.LocalizedString(printer))
	if _, ok := first.ErrorKind.(*kind.Contains); ok {
		// Name the value wanted when the contains subschema is a const,
		// as for a credential's type.
		if c, ok := s.lookup(first.SchemaURL + "/contains").(map[string]any); ok {
			if v, ok := c["const"]; ok {
				msg = fmt.Sprintf("no item is %s", jsonText(v))
			}
		}
	}
	where := strings.TrimPrefix(first.SchemaURL, "mem:///"+s.hash+".json")
	if s.id != "" {
		where = strings.TrimPrefix(where, s.id)
	}
	out := fmt.Sprintf("at %q (keyword %s): %s [schema %s]", pointer(first.InstanceLocation), keyword(first), msg, where)
	switch n := len(leaves) - 1; n {
	case 0:
	case 1:
		out += " (and 1 more failure)"
	default:
		out += fmt.Sprintf(" (and %d more failures)", n)
	}
	return out
}

// keyword names the keyword that failed: its path in the failing
// subschema, "false" for a false schema, "type" for a value that is not
// JSON.
func keyword(e *jsonschema.ValidationError) string {
	if kp := e.ErrorKind.KeywordPath(); len(kp) > 0 {
		return strings.Join(kp, "/")
	}
	switch e.ErrorKind.(type) {
	case *kind.FalseSchema:
		return "false"
	case *kind.InvalidJsonValue:
		return "type"
	}
	return e.SchemaURL
}

// lookup returns the value at a location of the schema document (its $id
// or its compile location, and a JSON Pointer fragment), or nil.
func (s *Schema) lookup(loc string) any {
	base, frag, ok := strings.Cut(loc, "#")
	if !ok || (base != s.id && base != "mem:///"+s.hash+".json") {
		return nil
	}
	frag, err := url.PathUnescape(frag)
	if err != nil {
		return nil
	}
	v := s.doc
	for tok := range strings.SplitSeq(frag, "/") {
		if tok == "" {
			continue
		}
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch n := v.(type) {
		case map[string]any:
			v = n[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n) {
				return nil
			}
			v = n[i]
		default:
			return nil
		}
	}
	return v
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// pointer is the JSON Pointer (RFC 6901) of an instance location.
func pointer(tokens []string) string {
	var sb strings.Builder
	for _, t := range tokens {
		sb.WriteByte('/')
		sb.WriteString(escape(t))
	}
	return sb.String()
}

func escape(tok string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(tok)
}

// maxMessage bounds the text of one failure in a detail; the values it
// quotes come from the credential.
const maxMessage = 300

// firstLine clips s to its first line and at most maxMessage bytes.
func firstLine(s string) string {
	clipped := false
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s, clipped = s[:i], true
	}
	if len(s) > maxMessage {
		s, clipped = strings.ToValidUTF8(s[:maxMessage], ""), true
	}
	if clipped {
		s += " …"
	}
	return s
}
