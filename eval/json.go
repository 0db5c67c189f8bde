package eval

import (
	"encoding/json"
	"math"
)

// Float is a float64 that encodes NaN and ±Inf as JSON null and decodes
// null as NaN: "no figure" survives a round trip through stored JSON.
type Float float64

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) {
	x := float64(f)
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(x)
}

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

// MarshalJSON implements json.Marshaler (NaN figures become null).
func (m *Metric) MarshalJSON() ([]byte, error) {
	return json.Marshal(metricJSON{m.Name, Float(m.Value), Float(m.CILow), Float(m.CIHigh), Float(m.CILevel), m.CIMethod, m.Test, Float(m.Statistic), Float(m.P), Float(m.PAdjusted), m.N, m.NNeeded, Float(m.Threshold), m.Status, m.Criterion, m.Reason, m.Warnings, m.viol, m.alpha})
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
