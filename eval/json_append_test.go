package eval

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// TestFeatureWindowAppendJSON: FeatureWindow.AppendJSON writes exactly
// json.Marshal's bytes for random feature windows (nil and empty slices,
// nil classes and metrics, optional fields set and unset, NaN and ±Inf
// figures, strings encoding/json escapes), and the field lists of
// FeatureWindow and ClassResult are the ones AppendJSON writes: a field
// added to either must be added to AppendJSON too, or stored documents
// would silently lose it.
func TestFeatureWindowAppendJSON(t *testing.T) {
	wantFW := []string{"Feature feature", "Window window", "Status status", "Classes classes", "Alerts alerts,omitempty", "Rows rows",
		"AIShare ai_share", "AIShareN ai_share_n", "AICost ai_cost", "ModelVersions model_versions,omitempty", "Triggers triggers,omitempty"}
	wantCR := []string{"Class input_class", "Status status", "N n", "NNeeded n_needed,omitempty", "Reasons reasons", "Metrics metrics",
		"Triggers triggers,omitempty", "Gate confidence_gate,omitempty"}
	if got := jsonFields(FeatureWindow{}); !reflect.DeepEqual(got, wantFW) {
		t.Fatalf("FeatureWindow's fields changed: update AppendJSON and this list\n got %q\nwant %q", got, wantFW)
	}
	if got := jsonFields(ClassResult{}); !reflect.DeepEqual(got, wantCR) {
		t.Fatalf("ClassResult's fields changed: update appendJSON and this list\n got %q\nwant %q", got, wantCR)
	}

	r := rand.New(rand.NewPCG(21, 22))
	strs := []string{"", "ticket_routing", "p<0.05 & n>30", `say "hi"`, "a\\b", "tab\t", "é 日本", "\xff bad", "line\u2028sep"}
	str := func() string { return strs[r.IntN(len(strs))] }
	figs := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 0.95, 1e-7, 3.2e21, 12.5}
	fig := func() float64 { return figs[r.IntN(len(figs))] }
	strList := func() []string {
		switch r.IntN(3) {
		case 0:
			return nil
		case 1:
			return []string{}
		}
		return []string{str(), str()}
	}
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for trial := range 500 {
		fw := &FeatureWindow{Feature: str(), Window: Window{Start: start, End: start.Add(time.Duration(r.IntN(48)) * time.Hour)},
			Status: str(), Rows: r.Int64N(1e9), AIShare: Float(fig()), AIShareN: r.Int64N(100), AICost: Float(fig()), Triggers: strList()}
		if r.IntN(2) == 0 {
			fw.Alerts = []Alert{{Severity: "warning", Class: str(), Message: str()}, {Severity: "info", Message: str()}}
		} else if r.IntN(2) == 0 {
			fw.Alerts = []Alert{}
		}
		switch r.IntN(3) {
		case 0:
			fw.ModelVersions = map[string]int64{"v2": 3, str() + "x": 1, "<v1>": 9}
		case 1:
			fw.ModelVersions = map[string]int64{}
		}
		if r.IntN(5) > 0 {
			fw.Classes = []*ClassResult{}
			for range r.IntN(4) {
				if r.IntN(8) == 0 {
					fw.Classes = append(fw.Classes, nil)
					continue
				}
				c := &ClassResult{Class: str(), Status: str(), N: r.Int64N(1e6), Reasons: strList(), Triggers: strList()}
				if r.IntN(2) == 0 {
					c.NNeeded = r.Int64N(1e4)
				}
				if r.IntN(2) == 0 {
					c.Gate = &Gate{Threshold: Float(fig()), Coverage: Float(fig()), N: 7, Method: str()}
				}
				if r.IntN(4) > 0 {
					c.Metrics = []*Metric{}
					for range r.IntN(3) {
						if r.IntN(8) == 0 {
							c.Metrics = append(c.Metrics, nil)
							continue
						}
						c.Metrics = append(c.Metrics, &Metric{Name: str(), Value: fig(), CILow: fig(), CIHigh: fig(), P: fig(), PAdjusted: fig(),
							Statistic: fig(), Threshold: fig(), N: 5, Status: str(), Reason: str(), Warnings: strList(), alpha: 0.05})
					}
				}
				fw.Classes = append(fw.Classes, c)
			}
		}
		appendsAsMarshal(t, trial, fw, fw.AppendJSON)
	}
	var nilFW *FeatureWindow
	if got, _ := nilFW.AppendJSON(nil); string(got) != "null" {
		t.Errorf("nil feature window: %s", got)
	}
	// An error inside (a metric's NaN alpha, which encoding/json refuses)
	// is returned, not written.
	bad := &FeatureWindow{Classes: []*ClassResult{{Metrics: []*Metric{{alpha: math.NaN()}}}}}
	if _, err := bad.AppendJSON(nil); err == nil {
		t.Error("NaN alpha: no error")
	}
}

// TestAggregatesFileAppendJSON: AggregatesFile.AppendJSON writes exactly
// json.Marshal's bytes for random aggregates (nil and empty maps, nil
// groups and accumulators, every Acc field set or zero, sketches with
// and without buckets on both sides, quality tallies, keys encoding/json
// escapes), and the field lists of GroupEntry, Group, GroupKey and Acc
// are the ones it writes.
func TestAggregatesFileAppendJSON(t *testing.T) {
	for _, c := range []struct {
		v    any
		want []string
	}{
		{AggregatesFile{}, []string{"Groups groups", "Dropped dropped"}},
		{GroupEntry{}, []string{"Key key", "Group "}},
		{GroupKey{}, []string{"Feature feature", "Class input_class", "Window window"}},
		{Group{}, []string{"Rows rows", "Metrics metrics"}},
		{Acc{}, []string{"K k,omitempty", "N n,omitempty", "BothRight both_right,omitempty", "LegacyOnly legacy_only,omitempty", "AIOnly ai_only,omitempty",
			"BothWrong both_wrong,omitempty", "Legacy legacy,omitempty", "AI ai,omitempty", "Value value,omitempty", "Diff diff,omitempty",
			"Cats cats,omitempty", "Quality quality,omitempty", "Invalid invalid,omitempty", "Errors errors,omitempty", "Error error,omitempty"}},
	} {
		if got := jsonFields(c.v); !reflect.DeepEqual(got, c.want) {
			t.Fatalf("%T's fields changed: update AppendJSON and this list\n got %q\nwant %q", c.v, got, c.want)
		}
	}

	r := rand.New(rand.NewPCG(31, 32))
	strs := []string{"", "latency_ms", "quality.category", "p<0.05 & x", `q"uote`, "a\\b", "label\x00pred", "é 日本", "\xff bad", "line\u2028sep"}
	str := func() string { return strs[r.IntN(len(strs))] }
	counts := func() map[string]int64 {
		switch r.IntN(3) {
		case 0:
			return nil
		case 1:
			return map[string]int64{}
		}
		m := map[string]int64{}
		for range 1 + r.IntN(4) {
			m[str()] = r.Int64N(1000) - 5
		}
		return m
	}
	sketch := func() *Sketch {
		if r.IntN(3) == 0 {
			return nil
		}
		s := NewSketch()
		for range 1 + r.IntN(50) {
			x := r.NormFloat64() * math.Pow(10, float64(r.IntN(12)-4))
			if r.IntN(10) == 0 {
				x = 0
			}
			s.Add(x)
		}
		return s
	}
	n := func() int64 {
		switch r.IntN(3) {
		case 0:
			return 0
		case 1:
			return 1 + r.Int64N(3)
		}
		return r.Int64N(1e6)
	}
	for trial := range 300 {
		f := &AggregatesFile{Dropped: counts()}
		if r.IntN(6) > 0 {
			f.Groups = []GroupEntry{}
			for range r.IntN(4) {
				e := GroupEntry{Key: GroupKey{Feature: str(), Class: str(), Window: r.Int64N(2e9) - 1e9}}
				if r.IntN(6) > 0 {
					e.Group = &Group{Rows: r.Int64N(1e6)}
					if r.IntN(5) > 0 {
						e.Group.Metrics = map[string]*Acc{}
						for range r.IntN(4) {
							if r.IntN(8) == 0 {
								e.Group.Metrics[str()] = nil
								continue
							}
							a := &Acc{K: n(), N: n(), BothRight: n(), LegacyOnly: n(), AIOnly: n(), BothWrong: n(), Legacy: sketch(), AI: sketch(), Value: sketch(), Diff: sketch(),
								Cats: counts(), Invalid: n(), Errors: n()}
							if r.IntN(3) == 0 {
								a.Error = str()
							}
							if r.IntN(3) == 0 {
								a.Quality = &QualityAcc{Legacy: counts(), AI: counts(), BrierSum: r.Float64(), PerLabel: map[string]Pair{str(): {}}}
							}
							e.Group.Metrics[str()] = a
						}
					}
				}
				f.Groups = append(f.Groups, e)
			}
		}
		appendsAsMarshal(t, trial, f, f.AppendJSON)
	}
	// An empty sketch (min +Inf) is refused, as encoding/json refuses it.
	empty := &AggregatesFile{Groups: []GroupEntry{{Group: &Group{Metrics: map[string]*Acc{"m": {Value: NewSketch()}}}}}}
	if _, err := json.Marshal(empty); err == nil {
		t.Fatal("encoding/json accepted an empty sketch: the case below proves nothing")
	}
	if _, err := empty.AppendJSON(nil); err == nil {
		t.Error("empty sketch: no error")
	}
}

// appendsAsMarshal fails unless appendJSON appends json.Marshal(v) to
// what it is given.
func appendsAsMarshal(t *testing.T, trial int, v any, appendJSON func([]byte) ([]byte, error)) {
	t.Helper()
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := appendJSON([]byte("prefix"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, append([]byte("prefix"), want...)) {
		t.Fatalf("trial %d:\n got %s\nwant prefix%s", trial, got, want)
	}
}

// jsonFields lists a struct's fields as "Name tag": a hand-written
// encoder's guard against fields added to the type but not to it.
func jsonFields(v any) []string {
	var out []string
	rt := reflect.TypeOf(v)
	for i := range rt.NumField() {
		out = append(out, rt.Field(i).Name+" "+rt.Field(i).Tag.Get("json"))
	}
	return out
}
