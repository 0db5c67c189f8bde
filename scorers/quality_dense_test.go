package scorers

import (
	"math"
	"math/rand"
	"testing"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
)

// TestFieldQualityDenseShapes holds scoreDense's loop (runs of rows
// stopped at each new cell, nulls and confidences selected without
// branches) to the per-row form on the shapes the random test rarely
// draws: columns without null flags (nullFlags' shared slice), no
// confidence column, a confidence column without nulls, every row
// labelled or none, and a new cell on most rows (many short runs).
func TestFieldQualityDenseShapes(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for iter := range 60 {
		n := 1 + r.Intn(700)
		vals := []string{"billing", "Billing", "fraud", "(none)", ""}
		if iter%5 == 4 { // a new (label, legacy, AI) cell on most rows
			vals = nil
			for j := range 30 {
				vals = append(vals, string(rune('a'+j%26))+string(rune('A'+j/26)))
			}
		}
		labelled := []float64{0.4, 1, 0}[iter%3]
		col := func(name string, nulls, label bool) *datasets.Column {
			c := &datasets.Column{Name: name, Kind: datasets.KindString, Dict: vals, Codes: make([]int32, n)}
			for i := range c.Codes {
				c.Codes[i] = int32(r.Intn(len(vals)))
				if (nulls && r.Intn(6) == 0) || (label && r.Float64() >= labelled) {
					if c.Null == nil {
						c.Null = make([]bool, n)
					}
					c.Null[i] = true
					c.Codes[i] = int32(r.Intn(len(vals))) // a null row's code is not read
				}
			}
			return c
		}
		b := &datasets.Batch{Rows: n, Cols: []*datasets.Column{
			col("lab", false, true), col("l", iter%2 == 0, false), col("a", iter%4 == 1, false)}}
		if iter%3 != 2 {
			conf := &datasets.Column{Name: "conf", Kind: datasets.KindFloat64, Float: make([]float64, n)}
			for i := range conf.Float {
				conf.Float[i] = r.Float64()
				if iter%2 == 0 && r.Intn(5) == 0 {
					conf.Float[i] = []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1)}[r.Intn(4)]
				}
			}
			b.Cols = append(b.Cols, conf)
		}
		fd := config.Field{Name: "category", Legacy: "l", AI: "a", Label: "lab", Comparator: []string{"exact", "case_insensitive"}[iter%2]}
		s := QualityScorers(&config.Feature{Fields: []config.Field{fd}}, &config.Columns{AIConfidence: "conf"})[0].(*FieldQuality)
		in := &Input{Rows: n, Batch: b}
		got, want := NewOut(n), NewOut(n)
		for i := range got.Value { // scoreDense must write every row
			got.Value[i], got.Legacy[i], got.AI[i] = 5, 5, 5
		}
		if !s.scoreDense(in, b.Col("lab"), got) {
			t.Fatalf("iteration %d: no dense table", iter)
		}
		refQualityScore(s, in, want)
		same := func(x, y float64) bool {
			return math.Float64bits(x) == math.Float64bits(y) || math.IsNaN(x) && math.IsNaN(y)
		}
		for i := range n {
			if got.Category(i) != want.Cat[i] || !same(got.Legacy[i], want.Legacy[i]) || !same(got.AI[i], want.AI[i]) || !same(got.Value[i], want.Value[i]) {
				t.Fatalf("iteration %d row %d: dense (%q, %v, %v, %v), per-row (%q, %v, %v, %v)", iter, i,
					got.Category(i), got.Legacy[i], got.AI[i], got.Value[i], want.Cat[i], want.Legacy[i], want.AI[i], want.Value[i])
			}
		}
	}
}
