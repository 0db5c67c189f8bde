package jsonpath

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// canonical renders steps in a form Parse reads back: .name where the
// name allows it, ['name'] otherwise, and [index]. ok is false for a key
// no form can carry (one holding both ']' and a '.' or '[', say).
func canonical(steps []Step) (string, bool) {
	var b strings.Builder
	b.WriteString("$")
	for _, st := range steps {
		switch {
		case !st.IsKey:
			b.WriteString("[" + strconv.Itoa(st.Index) + "]")
		case st.Key != "" && !strings.ContainsAny(st.Key, ".["):
			b.WriteString("." + st.Key)
		case !strings.Contains(st.Key, "]") && !strings.Contains(st.Key, "'"):
			b.WriteString("['" + st.Key + "']")
		case !strings.Contains(st.Key, "]") && !strings.Contains(st.Key, `"`):
			b.WriteString(`["` + st.Key + `"]`)
		default:
			return "", false
		}
	}
	return b.String(), true
}

func sameSteps(a, b []Step) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzParseLookup: Parse and Lookup never panic; a parsed path's String
// is its source and parses to the same steps, as does its canonical
// rendering; Lookup agrees with a plain encoding/json walk on whether
// the value exists.
//
//	go test -run '^$' -fuzz '^FuzzParseLookup$' -fuzztime 60s ./scorers/jsonpath
func FuzzParseLookup(f *testing.F) {
	for _, s := range [][2]string{
		{"$.amount", `{"amount": 12.50}`},
		{"$.items[0].sku", `{"items": [{"sku": "A-1"}, {"sku": "B"}]}`},
		{"$['a b'][\"c\"]", `{"a b": {"c": true}}`},
		{"$", `[1, 2, {"x": null}]`},
		{"$[2].x", `[1, 2, {"x": null}]`},
		{"$.a.b.c", `{"a": {"b": {"c": {"d": [1, "two"]}}}}`},
		{"$[99999999999999999999]", `[]`},
		{"$[-1]", `[1]`},
		{"$..a", `{"a": 1}`},
		{"$[']']", `{"]": 1}`},
		{"$.é.\u00e9", `{"é": {"é": "\u2028<>&"}}`},
		{"$.n", `{"n": 1e400}`},
		{"$.x", `{"x": 1} trailing`},
		{"$.x", "\xff\xfe"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, path, doc string) {
		p, err := Parse(path)
		if err != nil {
			if !strings.Contains(err.Error(), "JSON path") {
				t.Errorf("error does not say it is about a JSON path: %v", err)
			}
			return
		}
		if p.String() != path {
			t.Fatalf("String() = %q, want the source %q", p.String(), path)
		}
		again, err := Parse(p.String())
		if err != nil || !sameSteps(again.steps, p.steps) {
			t.Fatalf("String() %q does not round-trip: %v %+v vs %+v", p.String(), err, again.steps, p.steps)
		}
		if c, ok := canonical(p.steps); ok {
			cp, err := Parse(c)
			if err != nil || !sameSteps(cp.steps, p.steps) {
				t.Fatalf("canonical form %q of %q parses to %+v (%v), want %+v", c, path, cp.steps, err, p.steps)
			}
		}
		val, ok := p.Lookup(doc)
		if !ok && val != "" {
			t.Errorf("not found but value %q", val)
		}
		// Reference: decode the first JSON value and walk it.
		dec := json.NewDecoder(strings.NewReader(doc))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			if ok {
				t.Errorf("Lookup found %q in a document encoding/json rejects", val)
			}
			return
		}
		found := true
		for _, st := range p.steps {
			if st.IsKey {
				m, isMap := v.(map[string]any)
				if !isMap {
					found = false
					break
				}
				if v, found = m[st.Key]; !found {
					break
				}
			} else {
				a, isArr := v.([]any)
				if !isArr || st.Index >= len(a) {
					found = false
					break
				}
				v = a[st.Index]
			}
		}
		if found && v == nil {
			found = false // null is "no value"
		}
		if ok != found {
			t.Errorf("Lookup(%q, %q) ok=%v, reference %v", path, doc, ok, found)
		}
		if s, isStr := v.(string); ok && isStr && val != s {
			t.Errorf("string value %q, want %q", val, s)
		}
	})
}
