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
	for i, v := range values {
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
	}
	// Input that is not compact JSON is refused, not mangled.
	for _, bad := range []string{`"abc`, `{"a":1`, `]`, `{"a":"\"}`} {
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
// them, with encoding/json's indenting and with marshalIndent's.
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
