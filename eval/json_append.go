package eval

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
)

// AppendJSON appends fw as json.Marshal encodes it, byte for byte
// (TestFeatureWindowAppendJSON holds it to that, and fails when a field
// is added to FeatureWindow or ClassResult without being added here).
//
// Hand-written because a window's evaluation document holds thousands of
// metrics: through json.Marshal, every Metric's MarshalJSON output is
// scanned again by encoding/json's validating compactor, about half of
// the cost of encoding the document. Writing the containers here lets a
// caller that wants the compact bytes (jobs' marshalIndent) skip
// encoding/json for the whole document. The small parts (window, alerts,
// model versions, gate) still go through json.Marshal.
func (fw *FeatureWindow) AppendJSON(b []byte) ([]byte, error) {
	if fw == nil {
		return append(b, "null"...), nil
	}
	var err error
	b = append(b, `{"feature":`...)
	b = appendJSONString(b, fw.Feature)
	if b, err = appendMarshal(b, `,"window":`, fw.Window); err != nil {
		return nil, err
	}
	b = append(b, `,"status":`...)
	b = appendJSONString(b, fw.Status)
	b = append(b, `,"classes":`...)
	if fw.Classes == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, c := range fw.Classes {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = c.appendJSON(b); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	if len(fw.Alerts) > 0 {
		if b, err = appendMarshal(b, `,"alerts":`, fw.Alerts); err != nil {
			return nil, err
		}
	}
	b = append(b, `,"rows":`...)
	b = strconv.AppendInt(b, fw.Rows, 10)
	b = appendFigure(b, `,"ai_share":`, float64(fw.AIShare))
	b = append(b, `,"ai_share_n":`...)
	b = strconv.AppendInt(b, fw.AIShareN, 10)
	b = appendFigure(b, `,"ai_cost":`, float64(fw.AICost))
	if len(fw.ModelVersions) > 0 {
		if b, err = appendMarshal(b, `,"model_versions":`, fw.ModelVersions); err != nil {
			return nil, err
		}
	}
	if len(fw.Triggers) > 0 {
		b = appendJSONStrings(b, `,"triggers":`, fw.Triggers)
	}
	return append(b, '}'), nil
}

// appendJSON appends c as json.Marshal encodes it.
func (c *ClassResult) appendJSON(b []byte) ([]byte, error) {
	if c == nil {
		return append(b, "null"...), nil
	}
	var err error
	b = append(b, `{"input_class":`...)
	b = appendJSONString(b, c.Class)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, c.Status)
	b = append(b, `,"n":`...)
	b = strconv.AppendInt(b, c.N, 10)
	if c.NNeeded != 0 {
		b = append(b, `,"n_needed":`...)
		b = strconv.AppendInt(b, c.NNeeded, 10)
	}
	b = appendJSONStrings(b, `,"reasons":`, c.Reasons)
	b = append(b, `,"metrics":`...)
	if c.Metrics == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, m := range c.Metrics {
			if i > 0 {
				b = append(b, ',')
			}
			if m == nil {
				b = append(b, "null"...)
			} else if b, err = m.appendJSON(b); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	if len(c.Triggers) > 0 {
		b = appendJSONStrings(b, `,"triggers":`, c.Triggers)
	}
	if c.Gate != nil {
		if b, err = appendMarshal(b, `,"confidence_gate":`, c.Gate); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendJSONStrings appends name and ss as encoding/json writes a
// []string: null when nil.
func appendJSONStrings(b []byte, name string, ss []string) []byte {
	b = append(b, name...)
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendMarshal appends name and json.Marshal(v).
func appendMarshal(b []byte, name string, v any) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(append(b, name...), j...), nil
}

// AppendJSON appends f as json.Marshal encodes it, byte for byte
// (TestAggregatesFileAppendJSON holds it to that and guards the field
// lists of GroupEntry, Group and Acc). Hand-written for the reason
// FeatureWindow's is: a window's aggregates hold thousands of sketches,
// whose MarshalJSON output encoding/json would scan again. Quality
// tallies (a few per group) still go through json.Marshal.
func (f *AggregatesFile) AppendJSON(b []byte) ([]byte, error) {
	if f == nil {
		return append(b, "null"...), nil
	}
	var err error
	b = append(b, `{"groups":`...)
	if f.Groups == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range f.Groups {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = f.Groups[i].appendJSON(b); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	b = append(b, `,"dropped":`...)
	b = appendCounts(b, f.Dropped)
	return append(b, '}'), nil
}

// appendJSON appends e as json.Marshal encodes it: the key, then the
// embedded Group's fields (none when it is nil).
func (e *GroupEntry) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"key":{"feature":`...)
	b = appendJSONString(b, e.Key.Feature)
	b = append(b, `,"input_class":`...)
	b = appendJSONString(b, e.Key.Class)
	b = append(b, `,"window":`...)
	b = strconv.AppendInt(b, e.Key.Window, 10)
	b = append(b, '}')
	if g := e.Group; g != nil {
		b = append(b, `,"rows":`...)
		b = strconv.AppendInt(b, g.Rows, 10)
		b = append(b, `,"metrics":`...)
		if g.Metrics == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, '{')
			for i, name := range slices.Sorted(maps.Keys(g.Metrics)) {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(appendJSONString(b, name), ':')
				var err error
				if b, err = g.Metrics[name].appendJSON(b); err != nil {
					return nil, err
				}
			}
			b = append(b, '}')
		}
	}
	return append(b, '}'), nil
}

// appendJSON appends a as json.Marshal encodes it.
func (a *Acc) appendJSON(b []byte) ([]byte, error) {
	if a == nil {
		return append(b, "null"...), nil
	}
	start := len(b)
	b = append(b, '{')
	// field appends name (its leading comma dropped for the first field)
	// and returns b ready for the value.
	field := func(b []byte, name string) []byte {
		if len(b) == start+1 {
			name = name[1:]
		}
		return append(b, name...)
	}
	for _, c := range [...]struct {
		name string
		v    int64
	}{{`,"k":`, a.K}, {`,"n":`, a.N}, {`,"both_right":`, a.BothRight}, {`,"legacy_only":`, a.LegacyOnly}, {`,"ai_only":`, a.AIOnly}, {`,"both_wrong":`, a.BothWrong}} {
		if c.v != 0 {
			b = strconv.AppendInt(field(b, c.name), c.v, 10)
		}
	}
	var err error
	for _, s := range [...]struct {
		name string
		s    *Sketch
	}{{`,"legacy":`, a.Legacy}, {`,"ai":`, a.AI}, {`,"value":`, a.Value}, {`,"diff":`, a.Diff}} {
		if s.s != nil {
			if b, err = s.s.appendJSON(field(b, s.name)); err != nil {
				return nil, err
			}
		}
	}
	if len(a.Cats) > 0 {
		b = appendCounts(field(b, `,"cats":`), a.Cats)
	}
	if a.Quality != nil {
		j, err := json.Marshal(a.Quality)
		if err != nil {
			return nil, err
		}
		b = append(field(b, `,"quality":`), j...)
	}
	if a.Invalid != 0 {
		b = strconv.AppendInt(field(b, `,"invalid":`), a.Invalid, 10)
	}
	if a.Errors != 0 {
		b = strconv.AppendInt(field(b, `,"errors":`), a.Errors, 10)
	}
	if a.Error != "" {
		b = appendJSONString(field(b, `,"error":`), a.Error)
	}
	return append(b, '}'), nil
}

// appendCounts appends m as encoding/json writes a map[string]int64:
// keys sorted, null when nil.
func appendCounts(b []byte, m map[string]int64) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = append(b, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendJSONString(b, k), ':')
		b = strconv.AppendInt(b, m[k], 10)
	}
	return append(b, '}')
}
