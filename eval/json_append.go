package eval

import (
	"encoding/json"
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
