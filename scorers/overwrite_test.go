package scorers

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
)

// overwriteConfig has a feature of every built-in field shape: labelled
// categories compared exactly and case-insensitively, a JSON numeric
// field, a plain numeric one, and drift columns of both kinds.
const overwriteConfig = `version: 1
source: {logs: unused}
output: unused
window: 24h
features:
  - name: f
    fields:
      - {name: cat, legacy: legacy_cat, ai: ai_cat, label: label_cat, critical: true}
      - {name: folded, legacy: legacy_fold, ai: ai_fold, label: label_fold, comparator: case_insensitive}
      - {name: amount, legacy_json: legacy_output, ai_json: ai_output, path: $.amount, comparator: numeric, abs_tolerance: 0.01, label: "-", critical: true}
      - {name: score, legacy: legacy_score, ai: ai_score, comparator: numeric, label: label_score, critical: true}
    drift_columns: [tokens, channel:category]
`

// TestResetBuiltinOverwrites holds each built-in scorer to its
// overwrites (the buffers ResetBuiltin leaves unfilled): scored after
// ResetBuiltin on buffers full of stale values, it must give in its
// kind's outputs exactly what it gives on freshly NaN-filled ones (that
// it writes no other buffer, TestBuiltinsWriteOnlyTheirKind in eval
// checks), over random batches with
// and without nulls, absent optional columns, joined labels, ±Inf and
// NaN, and small and large dictionaries.
func TestResetBuiltinOverwrites(t *testing.T) {
	cfg, err := config.Parse("t.yaml", []byte(overwriteConfig))
	if err != nil {
		t.Fatal(err)
	}
	f := &cfg.Features[0]
	ss := append(Builtins(f, &cfg.Columns), &OverBound{Metric: "over", Column: cfg.Columns.AILatencyMS, Bound: 1})
	r := rand.New(rand.NewPCG(1, 2))
	trusted := map[string]bool{}
	for iter := range 300 {
		n := 1 + r.IntN(600)
		nulls, absent := iter%3 != 0, iter%4 == 1
		strs := []string{"a", "A", " a", "b", "", "12.5", "12.50", "x"}
		if iter%5 == 0 { // a dictionary too large for the pair tables
			strs = nil
			for j := range 300 {
				strs = append(strs, strconv.Itoa(j))
			}
		}
		b := &datasets.Batch{Rows: n}
		seen := map[string]bool{}
		for _, s := range ss {
			for _, nd := range s.Needs() {
				if seen[nd.Column] || (absent && nd.Optional && r.IntN(3) == 0) {
					seen[nd.Column] = true
					continue
				}
				seen[nd.Column] = true
				c := &datasets.Column{Name: nd.Column, Kind: nd.Kind}
				if nulls {
					c.Null = make([]bool, n)
				}
				switch nd.Kind {
				case datasets.KindString:
					c.Dict = strs
					c.Codes = make([]int32, n)
				case datasets.KindFloat64:
					c.Float = make([]float64, n)
				case datasets.KindBool:
					c.Bool = make([]bool, n)
				case datasets.KindTimestamp, datasets.KindInt64:
					c.Int = make([]int64, n)
				}
				for i := range n {
					if nulls && r.IntN(4) == 0 {
						c.Null[i] = true
						continue
					}
					switch nd.Kind {
					case datasets.KindString:
						c.Codes[i] = int32(r.IntN(len(strs)))
					case datasets.KindFloat64:
						c.Float[i] = []float64{0.5, 2, 12.5, math.NaN(), math.Inf(1), math.Inf(-1)}[r.IntN(6)]
					case datasets.KindBool:
						c.Bool[i] = r.IntN(2) == 0
					default:
						c.Int[i] = int64(r.IntN(10))
					}
				}
				b.Cols = append(b.Cols, c)
			}
		}
		// The JSON field's derived columns, as ExtractJSONPaths makes them.
		for _, name := range []string{"legacy_output#$.amount", "ai_output#$.amount"} {
			c := &datasets.Column{Name: name, Kind: datasets.KindString, Dict: strs, Codes: make([]int32, n), Null: make([]bool, n)}
			for i := range n {
				c.Codes[i], c.Null[i] = int32(r.IntN(len(strs))), r.IntN(5) == 0
			}
			b.Cols = append(b.Cols, c)
		}
		var labels map[string][]*string
		if iter%2 == 0 {
			labels = map[string][]*string{}
			for _, name := range []string{"label_cat", "label_fold"} {
				joined := make([]*string, n)
				for i := range joined {
					if r.IntN(3) == 0 {
						joined[i] = &strs[r.IntN(len(strs))]
					}
				}
				labels[name] = joined
			}
		}
		fresh := &Input{Rows: n, Batch: b, Labels: labels}
		stale := &Input{Rows: n, Batch: b, Labels: labels}
		got := NewOut(n)
		for _, s := range ss {
			want := NewOut(n)
			if err := s.Score(fresh, want); err != nil {
				t.Fatal(err)
			}
			for i := range got.Value {
				got.Value[i], got.Legacy[i], got.AI[i] = 7, 8, 9
			}
			got.filled = [numOutputs]int{} // no row known to be NaN
			got.ResetBuiltin(s, n)
			if err := s.Score(stale, got); err != nil {
				t.Fatal(err)
			}
			if ow, ok := s.(overwriter); ok && ow.overwrites() != 0 {
				trusted[s.Name()] = true
			}
			// The buffers eval reads for the scorer's kind; the others may
			// hold anything after ResetBuiltin.
			w := outputsOf(s.Kind())
			differs := func(b int, x, y float64) bool { return w&(1<<b) != 0 && !sameFloat(x, y) }
			for i := range n {
				if differs(outValue, got.Value[i], want.Value[i]) || differs(outLegacy, got.Legacy[i], want.Legacy[i]) || differs(outAI, got.AI[i], want.AI[i]) ||
					(w&(1<<outCat) != 0 && got.Category(i) != want.Category(i)) {
					t.Fatalf("iteration %d: %s row %d after ResetBuiltin: (%v, %v, %v, %q), after Reset (%v, %v, %v, %q)", iter, s.Name(), i,
						got.Value[i], got.Legacy[i], got.AI[i], got.Category(i), want.Value[i], want.Legacy[i], want.AI[i], want.Category(i))
				}
			}
			got.Untouched(s.Kind())
		}
	}
	// Every built-in but the category ones overwrites its outputs.
	for _, s := range ss {
		if k := s.Kind(); k != Category && !trusted[s.Name()] {
			t.Errorf("%s (%v) does not overwrite its outputs", s.Name(), k)
		}
	}
}

func sameFloat(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) }
