// This file is derived from ld/api_expand.go of github.com/piprate/json-gold
// v0.9.1 (Copyright 2015-2017 Piprate Limited, Copyright 2025 Siemens AG),
// licensed under the Apache License, Version 2.0
// (http://www.apache.org/licenses/LICENSE-2.0). Changes: a key's
// container mappings are read from the active context (JSON-LD 1.1
// expansion, step 13.5, and jsonld.js), not from the context the key's
// property-scoped context makes, which may not define the key at all:
// json-gold found no @graph container on credentials v2's
// verifiableCredential ("@context": null) and put embedded credentials in
// the default graph. Items of a @graph container that make no graph are
// dropped, as jsonld.js does (an error in safe mode). @direction must be
// ltr or rtl. Scoped contexts are processed through json-gold's public
// API and reused from the ctxNode cache. Framing, JSON pointers and
// element handlers are removed.

package ld

import (
	"fmt"
	"maps"
	"sort"
	"strings"

	jsonld "github.com/piprate/json-gold/ld"
)

// expander runs the JSON-LD 1.1 expansion algorithm with json-gold's
// context processing (processing mode json-ld-1.1, no framing).
type expander struct {
	safe  bool
	nodes map[*jsonld.Context]*ctxNode // processed contexts that are cached
	// contexts counts the contexts processed outside the cache, at most
	// maxContexts (Options.MaxContexts).
	contexts, maxContexts int
	// check, when set, sees every member name, node type and identifier
	// as it is expanded ([CheckTerms]).
	check *termCheck
}

// process counts a context about to be processed outside the cache.
func (e *expander) process() error {
	e.contexts++
	if e.contexts > e.maxContexts {
		return limitError("expand JSON-LD", ErrTooMuchWork, e.maxContexts, "contexts processed")
	}
	return nil
}

// node returns the cache node of a processed context, or nil.
func (e *expander) node(c *jsonld.Context) *ctxNode { return e.nodes[c] }

// scoped applies the local context of td, a term definition of src, to
// active: a property-scoped context (propagated, overriding protected
// terms) or a type-scoped one (not propagated, protected terms kept).
func (e *expander) scoped(active, src *jsonld.Context, td *jsonld.TermDefinition, typeScoped bool) (*jsonld.Context, error) {
	// Only a definition of a cached context is a key: it lives as long
	// as the cache.
	parent := e.node(active)
	if e.node(src) == nil {
		parent = nil
	}
	if parent != nil {
		if n := parent.child(td, typeScoped); n != nil {
			e.nodes[n.ctx] = n
			return n.ctx, nil
		}
	}
	if err := e.process(); err != nil {
		return nil, err
	}
	var (
		c   *jsonld.Context
		err error
	)
	if typeScoped {
		c, err = parseNonPropagating(active, td.Context)
	} else {
		c, err = parseOverridingProtected(active, td.Context)
	}
	if err != nil {
		return nil, err
	}
	if parent != nil && c != active {
		if n := parent.addChild(td, typeScoped, c); n != nil {
			e.nodes[n.ctx] = n
			return n.ctx, nil
		}
	}
	return c, nil
}

// revert returns the context without its type-scoped context and whether
// there was one (json-gold's RevertToPreviousContext, which copies).
func (e *expander) revert(c *jsonld.Context) (*jsonld.Context, bool) {
	if n := e.node(c); n != nil {
		if n.prev == nil {
			return c, false
		}
		e.nodes[n.prev.ctx] = n.prev
		return n.prev.ctx, true
	}
	p := c.RevertToPreviousContext()
	return p, p != c
}

// parseOverridingProtected processes a property-scoped context, which may
// redefine or clear protected terms (override protected = true). json-gold
// offers that only internally, so the protection is lifted on a copy of
// active for the processing and put back on the terms the scoped context
// left alone.
func parseOverridingProtected(active *jsonld.Context, local any) (*jsonld.Context, error) {
	if len(active.Protected) == 0 {
		return active.Parse(local)
	}
	open := jsonld.CopyContext(active)
	lifted := make(map[*jsonld.TermDefinition]*jsonld.TermDefinition, len(active.Protected))
	for term := range active.Protected {
		if td := open.TermDefinitions[term]; td != nil {
			u := td.Copy()
			u.Protected = false
			open.TermDefinitions[term] = u
			lifted[u] = td
		}
	}
	clear(open.Protected)
	c, err := open.Parse(local)
	if err != nil {
		return nil, err
	}
	if c == open {
		return active, nil
	}
	for term, td := range c.TermDefinitions {
		if orig, ok := lifted[td]; ok {
			c.TermDefinitions[term] = orig
			c.Protected[term] = true
		}
	}
	return c, nil
}

// parseNonPropagating processes a type-scoped context (propagate = false
// unless the context says otherwise): json-gold's public Parse always
// propagates, so "@propagate": false is put in front, which the context
// processing algorithm reads from the first context only.
func parseNonPropagating(active *jsonld.Context, local any) (*jsonld.Context, error) {
	ctxs := jsonld.Arrayify(local)
	if len(ctxs) == 0 {
		return active, nil
	}
	if first, ok := ctxs[0].(map[string]any); ok {
		if _, has := first["@propagate"]; has {
			return active.Parse(local)
		}
		m := maps.Clone(first)
		m["@propagate"] = false
		return active.Parse(append([]any{m}, ctxs[1:]...))
	}
	return active.Parse(append([]any{map[string]any{"@propagate": false}}, ctxs...))
}

func (e *expander) expand(active *jsonld.Context, activeProperty string, element any, insideIndex bool, typeScoped *jsonld.Context) (any, error) {
	if element == nil {
		return nil, nil
	}
	switch elem := element.(type) {
	case []any:
		result := make([]any, 0, len(elem))
		for _, item := range elem {
			v, err := e.expand(active, activeProperty, item, insideIndex, typeScoped)
			if err != nil {
				return nil, err
			}
			if activeProperty == "@list" || active.HasContainerMapping(activeProperty, "@list") {
				if _, isList := v.([]any); isList {
					v = map[string]any{"@list": v}
				}
			}
			if v != nil {
				if vl, isList := v.([]any); isList {
					result = append(result, vl...)
				} else {
					result = append(result, v)
				}
			}
		}
		return result, nil
	case map[string]any:
		return e.expandMap(active, activeProperty, elem, insideIndex, typeScoped)
	default:
		// 4) A scalar.
		if activeProperty == "" || activeProperty == "@graph" {
			return nil, nil
		}
		// The caller expanded the value in the key's scoped context.
		v, err := active.ExpandValue(activeProperty, element)
		if err == nil && e.check != nil {
			s, isString := element.(string)
			if m, isMap := v.(map[string]any); isMap && isString {
				if id, hasID := m["@id"].(string); hasID {
					err = e.check.identifier(s, id)
				}
			}
		}
		return v, err
	}
}

func (e *expander) expandMap(active *jsonld.Context, activeProperty string, elem map[string]any, insideIndex bool, typeScoped *jsonld.Context) (any, error) {
	expandedActiveProperty, err := active.ExpandIri(activeProperty, false, true, nil, nil)
	if err != nil {
		return nil, err
	}
	// 3) The property-scoped context, from the active context.
	propertySrc, propertyTD := active, active.GetTermDefinition(activeProperty)

	// 7) Revert a type-scoped context unless the element is a value
	// object or a lone node reference, or is inside an index map.
	reverted, hasPrevious := e.revert(active)
	if typeScoped == nil && hasPrevious {
		typeScoped = active
	}
	mustRevert := !insideIndex
	keys := jsonld.GetOrderedKeys(elem)
	elemCtx, hasContext := elem["@context"]
	if mustRevert && typeScoped != nil && len(keys) <= 2 && !hasContext {
		for _, key := range keys {
			ep, err := typeScoped.ExpandIri(key, false, true, nil, nil)
			if err != nil {
				return nil, err
			}
			if ep == "@value" {
				mustRevert = false
				active = typeScoped
				break
			}
			if ep == "@id" && len(keys) == 1 {
				mustRevert = false
				break
			}
		}
	}
	if mustRevert {
		active = reverted
	}
	// 8)
	if propertyTD != nil && propertyTD.HasContext {
		if active, err = e.scoped(active, propertySrc, propertyTD, false); err != nil {
			return nil, err
		}
	}
	// 9)
	if hasContext {
		if err := e.process(); err != nil {
			return nil, err
		}
		if active, err = active.Parse(elemCtx); err != nil {
			return nil, err
		}
	}
	// 10)
	typeScoped = active

	// 11) Type-scoped contexts, in lexicographical order of the types.
	var typeKey string
	for _, key := range keys {
		ep, err := active.ExpandIri(key, false, true, nil, nil)
		if err != nil {
			return nil, err
		}
		if ep != "@type" {
			continue
		}
		var types []string
		switch v := elem[key].(type) {
		case []any:
			for _, t := range v {
				s, isString := t.(string)
				if !isString {
					return nil, jsonld.NewJsonLdError(jsonld.InvalidTypeValue, "@type value must be a string or array of strings")
				}
				types = append(types, s)
			}
			sort.Strings(types)
		case string:
			types = append(types, v)
		default:
			return nil, jsonld.NewJsonLdError(jsonld.InvalidTypeValue, "@type value must be a string or array of strings")
		}
		for _, t := range types {
			if td := typeScoped.GetTermDefinition(t); td != nil && td.HasContext {
				if active, err = e.scoped(active, typeScoped, td, true); err != nil {
					return nil, err
				}
			}
		}
		typeKey = key
	}

	result := make(map[string]any)
	if err := e.expandObject(active, activeProperty, expandedActiveProperty, elem, result, typeKey, typeScoped); err != nil {
		return nil, err
	}
	if _, isValue := result["@value"]; !isValue && e.check != nil {
		if id, _ := result["@id"].(string); id != "" && hasProtected(result) {
			if err := e.check.node(id); err != nil {
				return nil, err
			}
		}
	}

	// 15)
	if rval, hasValue := result["@value"]; hasValue {
		for key := range result {
			switch key {
			case "@value", "@index", "@language", "@type", "@direction":
			default:
				return nil, jsonld.NewJsonLdError(jsonld.InvalidValueObject, "value object has unknown keys")
			}
		}
		_, hasLanguage := result["@language"]
		_, hasDirection := result["@direction"]
		typeValue, hasType := result["@type"]
		if (hasLanguage || hasDirection) && hasType {
			return nil, jsonld.NewJsonLdError(jsonld.InvalidValueObject,
				"value object must not include @type with either @language or @direction")
		}
		if rval == nil && typeValue != "@json" {
			return nil, nil
		}
		if hasLanguage {
			for _, v := range jsonld.Arrayify(rval) {
				if _, isString := v.(string); !isString {
					return nil, jsonld.NewJsonLdError(jsonld.InvalidLanguageTaggedValue, "only strings may be language-tagged")
				}
			}
		} else if hasType {
			types := jsonld.Arrayify(typeValue)
			if len(types) != 1 || types[0] != "@json" {
				for _, v := range types {
					s, isString := v.(string)
					if !isString || !jsonld.IsAbsoluteIri(s) || strings.HasPrefix(s, "_:") {
						return nil, jsonld.NewJsonLdError(jsonld.InvalidTypedValue,
							"an element containing @value and @type must have an absolute IRI for the value of @type")
					}
				}
			}
		}
	} else if rtype, hasType := result["@type"]; hasType { // 16)
		if _, isList := rtype.([]any); !isList {
			result["@type"] = []any{rtype}
		}
	} else { // 17)
		rset, hasSet := result["@set"]
		_, hasList := result["@list"]
		if hasSet || hasList {
			maxSize := 1
			if _, hasIndex := result["@index"]; hasIndex {
				maxSize = 2
			}
			if len(result) > maxSize {
				return nil, jsonld.NewJsonLdError(jsonld.InvalidSetOrListObject, "@set or @list may only contain @index")
			}
			if hasSet {
				return rset, nil
			}
		}
	}
	// 18)
	if _, hasLanguage := result["@language"]; hasLanguage && len(result) == 1 {
		return nil, nil
	}
	// 19)
	if activeProperty == "" || activeProperty == "@graph" {
		_, hasValue := result["@value"]
		_, hasList := result["@list"]
		_, hasID := result["@id"]
		if len(result) == 0 || hasValue || hasList || hasID && len(result) == 1 {
			return nil, nil
		}
	}
	return result, nil
}

// expandObject is step 13 (and 14, nested properties) of the algorithm.
func (e *expander) expandObject(active *jsonld.Context, activeProperty, expandedActiveProperty string, elem, result map[string]any, typeKey string, typeScoped *jsonld.Context) error {
	inputType := elem[typeKey]
	if arr, isArray := inputType.([]any); isArray {
		inputType = nil
		if len(arr) > 0 {
			inputType = arr[len(arr)-1]
		}
	}
	if inputType != nil {
		s, isString := inputType.(string)
		if !isString {
			return jsonld.NewJsonLdError(jsonld.InvalidTypedValue, "@type value must be a string or array of strings")
		}
		var err error
		if inputType, err = active.ExpandIri(s, false, true, nil, nil); err != nil {
			return err
		}
	}

	isValue := false
	if e.check != nil {
		for key := range elem {
			if ep, _ := active.ExpandIri(key, false, true, nil, nil); ep == "@value" {
				isValue = true
			}
		}
	}
	var nests []string
	for _, key := range jsonld.GetOrderedKeys(elem) {
		value := elem[key]
		if key == "@context" {
			continue
		}
		expandedProperty, err := active.ExpandIri(key, false, true, nil, nil)
		if err != nil {
			return err
		}
		var expandedValue any
		if expandedProperty == "" || !strings.Contains(expandedProperty, ":") && !jsonld.IsKeyword(expandedProperty) {
			if e.safe {
				return jsonld.NewJsonLdError(jsonld.InvalidProperty, "Dropping property that did not expand into an absolute IRI or keyword.")
			}
			continue
		}
		if e.check != nil {
			if err := e.check.member(key, expandedProperty, active.GetTermDefinition(key), isValue, active); err != nil {
				return err
			}
			// A presentation's credentials, each a graph of its own
			// (the bundled @graph container), are checked on their own
			// ([CheckTerms]). A verifiableCredential anywhere else, or
			// defined without @graph, puts what it holds in this graph:
			// it is checked here like any other member.
			if expandedProperty == credVerifiableCredential && activeProperty == "" && active.HasContainerMapping(key, "@graph") {
				continue
			}
		}
		if jsonld.IsKeyword(expandedProperty) {
			if expandedActiveProperty == "@reverse" {
				return jsonld.NewJsonLdError(jsonld.InvalidReversePropertyMap, "a keyword cannot be used as a @reverse property")
			}
			_, containsKey := result[expandedProperty]
			if containsKey && expandedProperty != "@type" && expandedProperty != "@included" {
				return jsonld.NewJsonLdError(jsonld.CollidingKeywords, expandedProperty+" already exists in result")
			}
			switch expandedProperty {
			case "@id":
				s, isString := value.(string)
				if !isString {
					return jsonld.NewJsonLdError(jsonld.InvalidIDValue, "value of @id must be a string")
				}
				if expandedValue, err = active.ExpandIri(s, true, false, nil, nil); err != nil {
					return err
				}
				if e.check != nil {
					if err := e.check.identifier(s, expandedValue.(string)); err != nil {
						return err
					}
				}
			case "@included":
				ev, err := e.expand(active, activeProperty, value, false, nil)
				if err != nil {
					return err
				}
				included := jsonld.Arrayify(ev)
				for _, v := range included {
					if !jsonld.IsSubject(v) {
						return jsonld.NewJsonLdError(jsonld.InvalidIncludedValue, "values of @included must expand to node objects")
					}
				}
				if prev, found := result["@included"]; found {
					included = append(prev.([]any), included...)
				}
				expandedValue = included
			case "@type":
				switch v := value.(type) {
				case []any:
					var list []any
					for _, t := range v {
						s, isString := t.(string)
						if !isString {
							return jsonld.NewJsonLdError(jsonld.InvalidTypeValue, "@type value must be a string or array of strings")
						}
						iri, err := typeScoped.ExpandIri(s, true, true, nil, nil)
						if err != nil {
							return err
						}
						if e.check != nil && !isValue {
							if err := e.check.typeValue(s, iri); err != nil {
								return err
							}
						}
						list = append(list, iri)
					}
					expandedValue = list
				case string:
					if expandedValue, err = typeScoped.ExpandIri(v, true, true, nil, nil); err != nil {
						return err
					}
					if e.check != nil && !isValue {
						if err := e.check.typeValue(v, expandedValue.(string)); err != nil {
							return err
						}
					}
					if containsKey {
						expandedValue = append(jsonld.Arrayify(result[expandedProperty]), expandedValue)
					}
				default:
					return jsonld.NewJsonLdError(jsonld.InvalidTypeValue, v)
				}
			case "@graph":
				if expandedValue, err = e.expand(active, "@graph", value, false, nil); err != nil {
					return err
				}
				expandedValue = jsonld.Arrayify(expandedValue)
			case "@value":
				if inputType != "@json" {
					switch value.(type) {
					case map[string]any, []any:
						return jsonld.NewJsonLdError(jsonld.InvalidValueObjectValue, "value of @value must be a scalar or null")
					}
				}
				expandedValue = value
				if expandedValue == nil {
					result["@value"] = nil
					continue
				}
			case "@language":
				s, isString := value.(string)
				if !isString {
					return jsonld.NewJsonLdError(jsonld.InvalidLanguageTaggedString, "@language value must be a string")
				}
				expandedValue = strings.ToLower(s)
			case "@direction":
				if value != "ltr" && value != "rtl" {
					return jsonld.NewJsonLdError(jsonld.InvalidBaseDirection, "@direction must be one of 'ltr', 'rtl'")
				}
				expandedValue = value
			case "@index":
				if _, isString := value.(string); !isString {
					return jsonld.NewJsonLdError(jsonld.InvalidIndexValue, "value of @index must be a string")
				}
				expandedValue = value
			case "@list":
				if activeProperty == "" || activeProperty == "@graph" {
					continue
				}
				if expandedValue, err = e.expand(active, activeProperty, value, false, nil); err != nil {
					return err
				}
				expandedValue = jsonld.Arrayify(expandedValue)
			case "@set":
				if expandedValue, err = e.expand(active, activeProperty, value, false, nil); err != nil {
					return err
				}
			case "@reverse":
				if err := e.expandReverse(active, value, result); err != nil {
					return err
				}
				continue
			case "@nest":
				nests = append(nests, key)
			}
			if expandedValue != nil {
				result[expandedProperty] = expandedValue
			}
			continue
		}

		// The key's scoped context makes the context its values are
		// expanded in (termCtx), as in json-gold and jsonld.js; the key's
		// container and @json type mappings are those of the active
		// context (13.5), where the key is defined: the scoped context may
		// not define it at all.
		termCtx := active
		td := active.GetTermDefinition(key)
		if td != nil && td.HasContext {
			if termCtx, err = e.scoped(active, active, td, false); err != nil {
				return err
			}
		}
		container := func(c string) bool { return active.HasContainerMapping(key, c) }
		valueMap, isMap := value.(map[string]any)
		switch {
		case container("@language") && isMap: // 13.7)
			if expandedValue, err = expandLanguageMap(termCtx, td, valueMap); err != nil {
				return err
			}
		case container("@index") && isMap: // 13.8)
			indexKey, propertyIndex := "@index", ""
			if ttd := termCtx.GetTermDefinition(key); ttd != nil && ttd.Index != "" {
				indexKey = ttd.Index
				if propertyIndex, err = active.ExpandIri(indexKey, false, true, nil, nil); err != nil {
					return err
				}
			}
			if expandedValue, err = e.expandIndexMap(termCtx, key, valueMap, indexKey, container("@graph"), propertyIndex); err != nil {
				return err
			}
		case container("@id") && isMap:
			if expandedValue, err = e.expandIndexMap(termCtx, key, valueMap, "@id", container("@graph"), ""); err != nil {
				return err
			}
		case container("@type") && isMap:
			// The type-scoped context is reverted for the values.
			mapCtx, _ := e.revert(termCtx)
			if expandedValue, err = e.expandIndexMap(mapCtx, key, valueMap, "@type", false, ""); err != nil {
				return err
			}
		case td != nil && td.Type == "@json": // 13.6)
			expandedValue = map[string]any{"@type": "@json", "@value": value}
		default: // 13.9)
			if e.check != nil && container("@graph") {
				// Each item is a graph of its own (13.12).
				var items []any
				for _, item := range jsonld.Arrayify(value) {
					leave := e.check.enterGraph()
					ev, err := e.expand(termCtx, key, item, false, nil)
					leave()
					if err != nil {
						return err
					}
					if ev != nil {
						items = append(items, jsonld.Arrayify(ev)...)
					}
				}
				if items != nil {
					expandedValue = items
				}
			} else {
				expandedValue, err = e.expand(termCtx, key, value, false, nil)
			}
			if err != nil {
				return err
			}
		}
		// 13.10)
		if expandedValue == nil {
			continue
		}
		// 13.11)
		if container("@list") {
			if m, isMap := expandedValue.(map[string]any); !isMap || !hasKey(m, "@list") {
				expandedValue = map[string]any{"@list": jsonld.Arrayify(expandedValue)}
			}
		}
		// 13.12) Like jsonld.js, items that would make an empty named
		// graph (an empty object, a value, a list, a lone node reference)
		// are dropped, which safe mode reports.
		if container("@graph") && !container("@id") && !container("@index") {
			evs := jsonld.Arrayify(expandedValue)
			graphs := make([]any, 0, len(evs))
			for _, ev := range evs {
				if m, isMap := ev.(map[string]any); isMap && (len(m) == 0 || hasKey(m, "@value") || hasKey(m, "@list") || len(m) == 1 && hasKey(m, "@id")) {
					if e.safe {
						return jsonld.NewJsonLdError(jsonld.InvalidProperty, fmt.Sprintf("dropping %v, which makes no graph, from @graph container %q", ev, key))
					}
					continue
				}
				graphs = append(graphs, map[string]any{"@graph": jsonld.Arrayify(ev)})
			}
			if len(graphs) == 0 {
				continue
			}
			expandedValue = graphs
		}
		// 13.13)
		if termCtx.IsReverseProperty(key) {
			reverseMap, _ := result["@reverse"].(map[string]any)
			if reverseMap == nil {
				reverseMap = map[string]any{}
				result["@reverse"] = reverseMap
			}
			for _, item := range jsonld.Arrayify(expandedValue) {
				if m, isMap := item.(map[string]any); isMap {
					_, containsValue := m["@value"]
					_, containsList := m["@list"]
					if containsValue || containsList {
						return jsonld.NewJsonLdError(jsonld.InvalidReversePropertyValue, nil)
					}
				}
				list, _ := reverseMap[expandedProperty].([]any)
				reverseMap[expandedProperty] = append(list, item)
			}
			continue
		}
		// 13.14)
		list, _ := result[expandedProperty].([]any)
		if evs, isList := expandedValue.([]any); isList {
			list = append(list, evs...)
		} else {
			list = append(list, expandedValue)
		}
		if list == nil {
			list = []any{}
		}
		result[expandedProperty] = list
	}

	// 14) Nested properties.
	for _, n := range nests {
		for _, nv := range jsonld.Arrayify(elem[n]) {
			m, isMap := nv.(map[string]any)
			if !isMap {
				return jsonld.NewJsonLdError(jsonld.InvalidNestValue, "nested value must be a node object")
			}
			for k := range m {
				if ep, _ := active.ExpandIri(k, false, true, nil, nil); ep == "@value" {
					return jsonld.NewJsonLdError(jsonld.InvalidNestValue, "nested value must be a node object")
				}
			}
			if err := e.expandObject(active, activeProperty, expandedActiveProperty, m, result, typeKey, typeScoped); err != nil {
				return err
			}
		}
	}
	return nil
}

// expandReverse is step 13.4.13 (@reverse).
func (e *expander) expandReverse(active *jsonld.Context, value any, result map[string]any) error {
	if _, isMap := value.(map[string]any); !isMap {
		return jsonld.NewJsonLdError(jsonld.InvalidReverseValue, "@reverse value must be an object")
	}
	ev, err := e.expand(active, "@reverse", value, false, nil)
	if err != nil {
		return err
	}
	evm, _ := ev.(map[string]any)
	if rev, ok := evm["@reverse"].(map[string]any); ok {
		for property, item := range rev {
			list, _ := result[property].([]any)
			result[property] = append(list, jsonld.Arrayify(item)...)
		}
	}
	for property, pv := range evm {
		if property == "@reverse" {
			continue
		}
		reverseMap, _ := result["@reverse"].(map[string]any)
		if reverseMap == nil {
			reverseMap = map[string]any{}
			result["@reverse"] = reverseMap
		}
		for _, item := range jsonld.Arrayify(pv) {
			m, _ := item.(map[string]any)
			_, containsValue := m["@value"]
			_, containsList := m["@list"]
			if containsValue || containsList {
				return jsonld.NewJsonLdError(jsonld.InvalidReversePropertyValue, nil)
			}
			list, _ := reverseMap[property].([]any)
			reverseMap[property] = append(list, item)
		}
	}
	return nil
}

// expandLanguageMap is step 13.7; the direction is that of the key's
// term definition, or the default of the context.
func expandLanguageMap(termCtx *jsonld.Context, td *jsonld.TermDefinition, m map[string]any) ([]any, error) {
	dir := termCtx.Values.Direction
	if td != nil && td.HasDirection {
		dir = ""
		if td.Direction != nil {
			dir = *td.Direction
		}
	}
	var out []any
	for _, language := range jsonld.GetOrderedKeys(m) {
		expandedLanguage, err := termCtx.ExpandIri(language, false, true, nil, nil)
		if err != nil {
			return nil, err
		}
		for _, item := range jsonld.Arrayify(m[language]) {
			if item == nil {
				continue
			}
			if _, isString := item.(string); !isString {
				return nil, jsonld.NewJsonLdError(jsonld.InvalidLanguageMapValue, fmt.Sprintf("expected %v to be a string", item))
			}
			v := map[string]any{"@value": item}
			if expandedLanguage != "@none" {
				v["@language"] = strings.ToLower(language)
			}
			if dir != "" {
				v["@direction"] = dir
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// expandIndexMap is step 13.8 (@index, @id and @type maps), expanding
// the values in mapCtx.
func (e *expander) expandIndexMap(mapCtx *jsonld.Context, key string, value map[string]any, indexKey string, asGraph bool, propertyIndex string) (any, error) {
	var out []any
	for _, index := range jsonld.GetOrderedKeys(value) {
		indexCtx := mapCtx
		if td := mapCtx.GetTermDefinition(index); indexKey == "@type" && td != nil && td.HasContext {
			if err := e.process(); err != nil {
				return nil, err
			}
			c, err := mapCtx.Parse(td.Context)
			if err != nil {
				return nil, err
			}
			indexCtx = c
		}
		iv, err := e.expand(indexCtx, key, jsonld.Arrayify(value[index]), true, nil)
		if err != nil {
			return nil, err
		}
		var expandedIndex any
		if propertyIndex != "" {
			expandedIndex = "@none"
			if index != "@none" {
				if expandedIndex, err = indexCtx.ExpandValue(indexKey, index); err != nil {
					return nil, err
				}
			}
		} else if expandedIndex, err = indexCtx.ExpandIri(index, false, true, nil, nil); err != nil {
			return nil, err
		}
		switch indexKey {
		case "@id":
			if index, err = indexCtx.ExpandIri(index, true, false, nil, nil); err != nil {
				return nil, err
			}
		case "@type":
			index = expandedIndex.(string)
		}
		for _, itemValue := range iv.([]any) {
			if asGraph && !jsonld.IsGraph(itemValue) {
				itemValue = map[string]any{"@graph": jsonld.Arrayify(itemValue)}
			}
			item, ok := itemValue.(map[string]any)
			if !ok {
				return nil, jsonld.NewJsonLdError(jsonld.InvalidValueObject, "index map value is not an object")
			}
			switch {
			case indexKey == "@type":
				if expandedIndex != "@none" {
					switch v := item["@type"].(type) {
					case nil:
						item["@type"] = []any{index}
					case string:
						item["@type"] = []any{index, v}
					case []any:
						item["@type"] = append([]any{index}, v...)
					}
				}
			case jsonld.IsValue(item) && indexKey != "@index":
				return nil, jsonld.NewJsonLdError(jsonld.InvalidValueObject,
					fmt.Sprintf("Attempt to add illegal key to value object: %s", indexKey))
			case propertyIndex != "":
				if expandedIndex != "@none" {
					jsonld.AddValue(item, propertyIndex, expandedIndex, true, false, true, true)
				}
			default:
				if _, has := item[indexKey]; !has && expandedIndex != "@none" {
					item[indexKey] = index
				}
			}
			out = append(out, item)
		}
	}
	return out, nil
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}
