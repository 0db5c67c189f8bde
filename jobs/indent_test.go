package jobs

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/reports"
)

// TestMarshalIndentMatchesEncodingJSON: marshalIndent's bytes equal
// json.MarshalIndent's for values of every JSON shape (empty and nested
// objects and arrays, strings with quotes, backslashes, escapes and
// brackets inside, numbers, null, booleans), for random documents, and
// for the aggregates and evaluations parity writes.
func TestMarshalIndentMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	strs := []string{"", `"`, `\`, `\\`, `\"`, `a"b`, `{[,:]}`, "tab\there", "<&>", "é", "\u2028", `"\\"`, "\x00\x1f"}
	var random func(depth int) any
	random = func(depth int) any {
		switch k := r.IntN(7); {
		case depth > 4 || k == 0:
			return strs[r.IntN(len(strs))]
		case k == 1:
			return r.NormFloat64() * 1e6
		case k == 2:
			return []any{}
		case k == 3:
			return map[string]any{}
		case k == 4:
			n := r.IntN(4)
			a := make([]any, n)
			for i := range a {
				a[i] = random(depth + 1)
			}
			return a
		case k == 5:
			m := map[string]any{}
			for range r.IntN(4) {
				m[strs[r.IntN(len(strs))]+"k"] = random(depth + 1)
			}
			return m
		default:
			return []any{nil, true, false, 0, -1.5e-7}
		}
	}
	values := []any{nil, 1, "x", []int{}, map[string]int{}, [][]int{{}, {1}}, map[string]any{"a": map[string]any{}}}
	for range 500 {
		values = append(values, random(0))
	}
	// Deeper than indentCompact's first indent buffer (32 levels).
	var deep any = map[string]any{"k": []any{1.5, "s"}}
	for d := range 40 {
		if d%2 == 0 {
			deep = []any{deep, d}
		} else {
			deep = map[string]any{"a": d, "z": deep}
		}
	}
	values = append(values, deep)
	// The documents parity writes.
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	a := eval.NewAggregates()
	g := &eval.Group{Rows: 3, Metrics: map[string]*eval.Acc{"latency_ms": {N: 3}}}
	g.Metrics["latency_ms"].Legacy = eval.NewSketch()
	for _, x := range []float64{1.5, 20, 300} {
		g.Metrics["latency_ms"].Legacy.Add(x)
	}
	a.Groups[eval.GroupKey{Feature: "f", Class: `c"1`, Window: start.Unix()}] = g
	values = append(values, a.File())
	w := eval.Window{Start: start, End: start.Add(24 * time.Hour)}
	values = append(values, evaluationDoc(w, []*eval.FeatureWindow{{Feature: "f", Window: w, Status: eval.StatusFail, Rows: 10,
		AIShare: eval.Float(math.NaN()), AICost: eval.Float(0.25),
		Classes: []*eval.ClassResult{{Class: "c", Status: eval.StatusFail, N: 10, Metrics: []*eval.Metric{
			{Name: "agreement.x", Value: 0.9, CILow: math.Inf(-1), CIHigh: math.NaN(), P: 0.01, PAdjusted: math.NaN(), Statistic: 2, Threshold: 0.95, N: 10, Status: eval.StatusFail},
		}}}}}, reports.RunInfo{ID: "r1", ConfigHash: "h"}))
	// Twice, the second time in reverse order: the documents that
	// append their own encoding reuse a buffer another document left.
	var outs [][]byte
	for pass := range 2 {
		for k := range values {
			i := k
			if pass == 1 {
				i = len(values) - 1 - k
			}
			v := values[i]
			want, err := json.MarshalIndent(v, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got, err := marshalIndent(v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("value %d:\n got %s\nwant %s", i, got, want)
			}
			outs = append(outs, got)
		}
	}
	// Nothing returned shares the reused buffer.
	for k, got := range outs[:len(values)] {
		if want := must(json.MarshalIndent(values[k], "", "  ")); !bytes.Equal(got, want) {
			t.Fatalf("value %d changed after later encodings", k)
		}
	}
	// Input that is not compact JSON is refused, not mangled.
	for _, bad := range []string{`"abc`, `{"a":1`, `]`, `{"a":"\"}`, `"\`, `["a\\\"]`} {
		if _, ok := indentCompact(nil, []byte(bad)); ok {
			t.Errorf("indentCompact(%q) accepted", bad)
		}
	}
	if !strings.Contains(string(must(marshalIndent(values[len(values)-1]))), "\n    ") {
		t.Fatal("the aggregates were not indented: the test proves little")
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// BenchmarkMarshalIndent encodes a window's aggregates as parity writes
// them, with json.MarshalIndent and with marshalIndent (the aggregates'
// own AppendJSON, then marshalIndent's indenting).
func BenchmarkMarshalIndent(b *testing.B) {
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(3, 4))
	a := eval.NewAggregates()
	for c := range 20 {
		g := &eval.Group{Rows: 1000, Metrics: map[string]*eval.Acc{}}
		for m := range 20 {
			acc := &eval.Acc{N: 1000, K: 900, Legacy: eval.NewSketch()}
			for range 1000 {
				acc.Legacy.Add(r.ExpFloat64() * 100)
			}
			g.Metrics["metric."+string(rune('a'+m))] = acc
		}
		a.Groups[eval.GroupKey{Feature: "f", Class: "class-" + string(rune('a'+c)), Window: start.Unix()}] = g
	}
	f := a.File()
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.MarshalIndent(f, "", "  "); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("marshalIndent", func(b *testing.B) {
		for b.Loop() {
			if _, err := marshalIndent(f); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestEvaluationAppendJSON: an evaluation document's AppendJSON, which
// marshalIndent uses instead of json.Marshal, writes json.Marshal's
// bytes, with no features, a nil feature window, and a full one (its
// parts are held to encoding/json by eval's TestFeatureWindowAppendJSON).
func TestEvaluationAppendJSON(t *testing.T) {
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	w := eval.Window{Start: start, End: start.Add(6 * time.Hour)}
	run := reports.RunInfo{ID: "r<1>", ConfigHash: "h&", ManifestHash: `"m"`, ParityVersion: "v0"}
	full := &eval.FeatureWindow{Feature: "f", Window: w, Status: eval.StatusPass, Rows: 4, AIShare: eval.Float(0.5), AICost: eval.Float(math.Inf(1)),
		Alerts: []eval.Alert{{Severity: "info", Message: "m"}}, ModelVersions: map[string]int64{"b": 1, "a": 2}, Triggers: []string{"t"},
		Classes: []*eval.ClassResult{{Class: "c", Status: eval.StatusPass, N: 4, Reasons: []string{}, Gate: &eval.Gate{Threshold: eval.Float(math.NaN()), Method: "x"},
			Metrics: []*eval.Metric{{Name: "agreement.x", Value: 1, CILow: math.NaN(), N: 4, Status: eval.StatusPass}}}}}
	for i, doc := range []*Evaluation{
		evaluationDoc(w, nil, run),
		evaluationDoc(w, []*eval.FeatureWindow{}, run),
		evaluationDoc(w, []*eval.FeatureWindow{nil, full}, run),
	} {
		want, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := doc.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("document %d:\n got %s\nwant %s", i, got, want)
		}
		if got, want := must(marshalIndent(doc)), must(json.MarshalIndent(doc, "", "  ")); !bytes.Equal(got, want) {
			t.Fatalf("document %d indented:\n got %s\nwant %s", i, got, want)
		}
	}
}

// BenchmarkEncodeEvaluation encodes an evaluation document of the
// benchmark's size (3 features × 20 classes × 160 metrics) as parity
// writes it, through json.MarshalIndent's path (json.Marshal, then
// marshalIndent's indenting) and through marshalIndent's AppendJSON path.
func BenchmarkEncodeEvaluation(b *testing.B) {
	doc := benchEvaluation()
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			compact, err := json.Marshal(doc)
			if err != nil {
				b.Fatal(err)
			}
			indentCompact(make([]byte, 0, 3*len(compact)), compact)
		}
	})
	b.Run("AppendJSON", func(b *testing.B) {
		for b.Loop() {
			if _, err := marshalIndent(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkIndentCompact indents an evaluation document as parity writes
// one per window (3 features × 20 classes × 160 metrics), the pass alone.
func BenchmarkIndentCompact(b *testing.B) {
	compact, err := json.Marshal(benchEvaluation())
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]byte, 0, 3*len(compact))
	b.SetBytes(int64(len(compact)))
	for b.Loop() {
		if _, ok := indentCompact(dst, compact); !ok {
			b.Fatal("not indented")
		}
	}
}

// benchEvaluation is an evaluation document of the benchmark's size: 3
// features × 20 classes × 160 metrics.
func benchEvaluation() *Evaluation {
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	w := eval.Window{Start: start, End: start.Add(24 * time.Hour)}
	r := rand.New(rand.NewPCG(3, 4))
	var fws []*eval.FeatureWindow
	for f := range 3 {
		fw := &eval.FeatureWindow{Feature: "feature" + string(rune('a'+f)), Window: w, Status: eval.StatusFail, Rows: 1e5, AIShare: eval.Float(0.1), AICost: eval.Float(math.NaN())}
		for c := range 20 {
			cr := &eval.ClassResult{Class: "class" + string(rune('a'+c)), Status: eval.StatusPass, N: 5000, Reasons: []string{"fail: critical-field divergence 6.0% of 19857 requests (bound 5.0%)"}}
			for m := range 160 {
				cr.Metrics = append(cr.Metrics, &eval.Metric{Name: "quality.category.recall." + string(rune('a'+m%26)), Value: r.Float64(), CILow: r.Float64(), CIHigh: r.Float64(), CILevel: 0.9,
					CIMethod: "clopper-pearson", Test: "exact binomial, one-sided", Statistic: 1188, P: r.Float64(), PAdjusted: 1, N: 19857, Threshold: 0.05, Status: eval.StatusPass})
			}
			fw.Classes = append(fw.Classes, cr)
		}
		fws = append(fws, fw)
	}
	return evaluationDoc(w, fws, reports.RunInfo{ID: "r"})
}
