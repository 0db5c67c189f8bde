package eval

import (
	"encoding/json"
	"math"
	"strconv"
)

// Float is a float64 that encodes NaN and ±Inf as JSON null and decodes
// null as NaN: "no figure" survives a round trip through stored JSON.
type Float float64

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) { return appendFigure(nil, "", float64(f)), nil }

// UnmarshalJSON implements json.Unmarshaler.
func (f *Float) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = Float(math.NaN())
		return nil
	}
	var x float64
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*f = Float(x)
	return nil
}

// metricJSON is Metric's stored form.
type metricJSON struct {
	Name      string   `json:"metric"`
	Value     Float    `json:"value"`
	CILow     Float    `json:"ci_low"`
	CIHigh    Float    `json:"ci_high"`
	CILevel   Float    `json:"ci_level"`
	CIMethod  string   `json:"ci_method,omitempty"`
	Test      string   `json:"test,omitempty"`
	Statistic Float    `json:"statistic"`
	P         Float    `json:"p_value"`
	PAdjusted Float    `json:"p_adjusted"`
	N         int64    `json:"n"`
	NNeeded   int64    `json:"n_needed,omitempty"`
	Threshold Float    `json:"threshold"`
	Status    string   `json:"status"`
	Criterion bool     `json:"criterion,omitempty"`
	Reason    string   `json:"reason,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
	Violation bool     `json:"violation,omitempty"`
	Alpha     float64  `json:"alpha,omitempty"`
}

// MarshalJSON implements json.Marshaler (NaN figures become null). It
// writes by hand the bytes encoding/json writes for metricJSON (a
// differential test holds it to that): a window's evaluation holds
// thousands of metrics, and reflecting over each, with a nested
// marshaller per figure, was most of the cost of writing it.
func (m *Metric) MarshalJSON() ([]byte, error) {
	return m.appendJSON(make([]byte, 0, 192+len(m.Name)+len(m.Reason)))
}

// appendJSON appends m's MarshalJSON encoding to b.
func (m *Metric) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"metric":`...)
	b = appendJSONString(b, m.Name)
	b = appendFigure(b, `,"value":`, m.Value)
	b = appendFigure(b, `,"ci_low":`, m.CILow)
	b = appendFigure(b, `,"ci_high":`, m.CIHigh)
	b = appendFigure(b, `,"ci_level":`, m.CILevel)
	if m.CIMethod != "" {
		b = append(b, `,"ci_method":`...)
		b = appendJSONString(b, m.CIMethod)
	}
	if m.Test != "" {
		b = append(b, `,"test":`...)
		b = appendJSONString(b, m.Test)
	}
	b = appendFigure(b, `,"statistic":`, m.Statistic)
	b = appendFigure(b, `,"p_value":`, m.P)
	b = appendFigure(b, `,"p_adjusted":`, m.PAdjusted)
	b = append(b, `,"n":`...)
	b = strconv.AppendInt(b, m.N, 10)
	if m.NNeeded != 0 {
		b = append(b, `,"n_needed":`...)
		b = strconv.AppendInt(b, m.NNeeded, 10)
	}
	b = appendFigure(b, `,"threshold":`, m.Threshold)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, m.Status)
	if m.Criterion {
		b = append(b, `,"criterion":true`...)
	}
	if m.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, m.Reason)
	}
	if len(m.Warnings) > 0 {
		b = append(b, `,"warnings":[`...)
		for i, w := range m.Warnings {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, w)
		}
		b = append(b, ']')
	}
	if m.viol {
		b = append(b, `,"violation":true`...)
	}
	if m.alpha != 0 {
		b = append(b, `,"alpha":`...)
		var err error
		if b, err = appendJSONFloat(b, m.alpha); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendFigure appends name and x as Float encodes it: null for NaN and
// ±Inf.
func appendFigure(b []byte, name string, x float64) []byte {
	b = append(b, name...)
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return append(b, "null"...)
	}
	b, _ = appendJSONFloat(b, x) // cannot fail: finite
	return b
}

// appendJSONString appends s as encoding/json writes a string. Plain
// printable ASCII without the characters it escapes (quote, backslash,
// and <, >, & for HTML) is copied; anything else goes through
// encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// UnmarshalJSON implements json.Unmarshaler.
func (m *Metric) UnmarshalJSON(b []byte) error {
	j := metricJSON{Value: Float(math.NaN()), CILow: Float(math.NaN()), CIHigh: Float(math.NaN()), CILevel: Float(math.NaN()), Statistic: Float(math.NaN()), P: Float(math.NaN()), PAdjusted: Float(math.NaN()), Threshold: Float(math.NaN())}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*m = Metric{Name: j.Name, Value: float64(j.Value), CILow: float64(j.CILow), CIHigh: float64(j.CIHigh), CILevel: float64(j.CILevel), CIMethod: j.CIMethod, Test: j.Test, Statistic: float64(j.Statistic), P: float64(j.P), PAdjusted: float64(j.PAdjusted), N: j.N, NNeeded: j.NNeeded, Threshold: float64(j.Threshold), Status: j.Status, Criterion: j.Criterion, Reason: j.Reason, Warnings: j.Warnings, viol: j.Violation, alpha: j.Alpha}
	return nil
}

// AggregatesFile is the stored, mergeable form of a window's aggregates
// (or one shard's part of them).
type AggregatesFile struct {
	Groups  []GroupEntry     `json:"groups"`
	Dropped map[string]int64 `json:"dropped"`
}

// GroupEntry is one group in an AggregatesFile.
type GroupEntry struct {
	Key GroupKey `json:"key"`
	*Group
}

// File converts aggregates to their stored form (groups in key order).
func (a *Aggregates) File() *AggregatesFile {
	f := &AggregatesFile{Dropped: a.Dropped}
	for _, k := range a.Keys() {
		f.Groups = append(f.Groups, GroupEntry{Key: k, Group: a.Groups[k]})
	}
	return f
}

// Aggregates converts the stored form back.
func (f *AggregatesFile) Aggregates() *Aggregates {
	a := NewAggregates()
	for _, g := range f.Groups {
		if g.Group.Metrics == nil {
			g.Group.Metrics = map[string]*Acc{}
		}
		a.Groups[g.Key] = g.Group
	}
	for k, v := range f.Dropped {
		a.Dropped[k] += v
	}
	return a
}
