// Package jsonpath extracts one value from a JSON document by a small
// JSONPath subset: $ followed by .name, ['name'] and [index] steps. It is
// written by hand because decision fields need only this subset, and the
// full-JSONPath libraries return node lists and accept filters whose cost
// and semantics parity does not want in a per-row hot path.
package jsonpath

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Step is one path step: a key or an index.
type Step struct {
	Key   string
	Index int
	IsKey bool
}

// Path is a parsed path.
type Path struct {
	src   string
	steps []Step
}

func (p Path) String() string { return p.src }

// Parse parses a path like $.amount, $.items[0].sku or $['a b'].
func Parse(s string) (Path, error) {
	p := Path{src: s}
	if !strings.HasPrefix(s, "$") {
		return p, fmt.Errorf("JSON path %q must start with $ (e.g. $.amount)", s)
	}
	i := 1
	for i < len(s) {
		switch s[i] {
		case '.':
			j := i + 1
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			if j == i+1 {
				return p, fmt.Errorf("JSON path %q: empty name at offset %d", s, i)
			}
			p.steps = append(p.steps, Step{Key: s[i+1 : j], IsKey: true})
			i = j
		case '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return p, fmt.Errorf("JSON path %q: unclosed [ at offset %d", s, i)
			}
			inner := s[i+1 : i+end]
			if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] {
				p.steps = append(p.steps, Step{Key: inner[1 : len(inner)-1], IsKey: true})
			} else {
				n, err := strconv.Atoi(inner)
				if err != nil || n < 0 {
					return p, fmt.Errorf("JSON path %q: [%s] is neither a quoted name nor an index >= 0", s, inner)
				}
				p.steps = append(p.steps, Step{Index: n})
			}
			i += end + 1
		default:
			return p, fmt.Errorf("JSON path %q: unexpected %q at offset %d (want . or [)", s, s[i], i)
		}
	}
	return p, nil
}

// Lookup returns the value at the path as a string: JSON strings
// unquoted, numbers in their source form, booleans and null as JSON
// text, objects and arrays as compact JSON. ok is false when the document
// is not JSON or the path does not exist.
func (p Path) Lookup(doc string) (val string, ok bool) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", false
	}
	for _, st := range p.steps {
		if st.IsKey {
			m, isMap := v.(map[string]any)
			if !isMap {
				return "", false
			}
			if v, ok = m[st.Key]; !ok {
				return "", false
			}
		} else {
			a, isArr := v.([]any)
			if !isArr || st.Index >= len(a) {
				return "", false
			}
			v = a[st.Index]
		}
	}
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case nil:
		return "", false
	default:
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(x); err != nil {
			return "", false
		}
		return strings.TrimSpace(b.String()), true
	}
}
