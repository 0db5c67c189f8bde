package eval

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers"
)

// sketchInputs are value streams shaped like bench/gen's columns: a
// latency (lognormal around 600 ms), a score in [0, 1] and a signed
// difference with exact zeros.
func sketchInputs(n int) map[string][]float64 {
	r := rand.New(rand.NewPCG(7, 8))
	in := map[string][]float64{"latency": make([]float64, n), "score01": make([]float64, n), "signed": make([]float64, n)}
	for i := range n {
		in["latency"][i] = 600 * math.Exp(0.4*r.NormFloat64())
		in["score01"][i] = r.Float64()
		in["signed"][i] = r.NormFloat64() * 100
		if i%7 == 0 {
			in["signed"][i] = 0
		}
	}
	return in
}

// BenchmarkSketchAdd is the cost of one value into a sketch (the inner
// step of every distribution metric).
func BenchmarkSketchAdd(b *testing.B) {
	const n = 64 << 10
	for _, name := range []string{"latency", "score01", "signed"} {
		xs := sketchInputs(n)[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s := NewSketch()
				for _, x := range xs {
					s.Add(x)
				}
			}
			b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "values/s")
		})
	}
}

// benchScorer stands in for a scorer of a kind: accumulate only asks
// for the name, kind and (Score kind) threshold.
type benchScorer struct {
	kind scorers.Kind
	name string // "m" if empty
}

func (s benchScorer) Name() string {
	if s.name == "" {
		return "m"
	}
	return s.name
}
func (s benchScorer) Kind() scorers.Kind                          { return s.kind }
func (s benchScorer) Needs() []scorers.Need                       { return nil }
func (s benchScorer) Score(*scorers.Input, *scorers.Out) error    { return nil }
func (s benchScorer) Threshold() (threshold, minPassRate float64) { return 0.5, 0 }

// BenchmarkAccumulate folds one 64Ki-row batch of scorer outputs into
// five groups, rows drawn at random among them (as input classes are in
// a time-ordered log), for each numeric output kind.
func BenchmarkAccumulate(b *testing.B) {
	const n, ng = 64 << 10, 5
	r := rand.New(rand.NewPCG(9, 10))
	in := sketchInputs(n)
	gi := make([]int32, n)
	for i := range gi {
		gi[i] = int32(r.IntN(ng))
	}
	out := scorers.NewOut(n)
	for i := range n {
		out.Legacy[i] = in["latency"][i] / 15
		out.AI[i] = in["latency"][i]
		out.Value[i] = in["score01"][i]
		if i%50 == 0 { // some rows not applicable
			out.Value[i], out.AI[i] = math.NaN(), math.NaN()
		}
	}
	bool01 := scorers.NewOut(n)
	for i := range n {
		bool01.Value[i] = float64(r.IntN(2))
		bool01.Legacy[i] = float64(r.IntN(2))
		bool01.AI[i] = float64(r.IntN(2))
	}
	// Accuracy's outputs: NaN on the rows without a label (60%, at
	// random, as labels arrive for a sample of requests).
	labelled := scorers.NewOut(n)
	for i := range n {
		labelled.Legacy[i], labelled.AI[i] = bool01.Legacy[i], bool01.AI[i]
		if r.IntN(5) < 3 {
			labelled.Legacy[i], labelled.AI[i] = math.NaN(), math.NaN()
		}
	}
	cases := []struct {
		name string
		s    scorers.Scorer
		o    *scorers.Out
	}{
		{"agreement", benchScorer{kind: scorers.Agreement}, bool01},
		{"paired_correct", benchScorer{kind: scorers.PairedCorrect}, bool01},
		{"paired_correct/labelled", benchScorer{kind: scorers.PairedCorrect}, labelled},
		{"score", benchScorer{kind: scorers.Score}, out},
		{"paired_score", benchScorer{kind: scorers.PairedScore}, out},
		{"per_system", benchScorer{kind: scorers.PerSystem}, out},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			groups := make([]*Group, ng)
			for i := range groups {
				groups[i] = &Group{Metrics: map[string]*Acc{}}
			}
			accs := make([]*Acc, ng)
			b.ReportAllocs()
			for b.Loop() {
				clear(accs)
				accumulate(c.s, c.o, gi, groups, accs)
			}
			b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "rows/s")
			if a := groups[0].Metrics["m"]; a == nil || a.N+a.BothRight+a.LegacyOnly+a.AIOnly+a.BothWrong == 0 && (a.Value == nil && a.Legacy == nil) {
				b.Fatal("nothing accumulated")
			}
		})
	}
}

// BenchmarkBucketOf compares the bucket index by logarithm (bucketOf)
// with Sketch.Add's table path (bucketFastPath) and the accumulate
// loops' column at a time (bucketIndexes) on latency-like values.
func BenchmarkBucketOf(b *testing.B) {
	xs := sketchInputs(64 << 10)["latency"]
	var sink int32
	b.Run("log", func(b *testing.B) {
		for b.Loop() {
			for _, x := range xs {
				sink += bucketOf(x)
			}
		}
	})
	b.Run("table", func(b *testing.B) {
		for b.Loop() {
			for _, x := range xs {
				k, _ := bucketFastPath(x)
				sink += k
			}
		}
	})
	b.Run("batch", func(b *testing.B) {
		k := make([]int32, len(xs))
		for b.Loop() {
			bucketIndexes(k, xs)
		}
		sink += k[0]
	})
	if sink == 0 {
		b.Log(sink)
	}
}

// BenchmarkCountScorers is a built-in count scorer's whole cost per
// batch, scoring and folding into five groups, both ways: "float"
// writes Out.Value and folds it (accumulateCounts, as for any scorer),
// "codes" counts its RateCodes (rateTally, eval's path for built-ins).
func BenchmarkCountScorers(b *testing.B) {
	const n, ng = 64 << 10, 5
	r := rand.New(rand.NewPCG(11, 12))
	gi := make([]int32, n)
	for i := range gi {
		gi[i] = int32(r.IntN(ng))
	}
	cats := []string{"billing", "technical", "account", "sales", "fraud"}
	errs := &datasets.Column{Name: "err", Kind: datasets.KindBool, Bool: make([]bool, n)}
	served := &datasets.Column{Name: "served_by", Kind: datasets.KindString, Dict: []string{"legacy", "ai"}, Codes: make([]int32, n)}
	l := &datasets.Column{Name: "l", Kind: datasets.KindString, Dict: cats, Codes: make([]int32, n)}
	a := &datasets.Column{Name: "a", Kind: datasets.KindString, Dict: cats, Codes: make([]int32, n)}
	for i := range n {
		errs.Bool[i] = r.IntN(50) == 0
		served.Codes[i] = int32(r.IntN(2))
		l.Codes[i] = int32(r.IntN(len(cats)))
		a.Codes[i] = l.Codes[i]
		if r.IntN(20) == 0 {
			a.Codes[i] = int32(r.IntN(len(cats)))
		}
	}
	batch := &datasets.Batch{Rows: n, Cols: []*datasets.Column{errs, served, l, a}}
	field := scorers.NewFieldAgreement(&config.Field{Name: "cat", Legacy: "l", AI: "a"})
	for _, s := range []scorers.Scorer{
		&scorers.BoolRate{Metric: "err", Column: "err"},
		&scorers.ValueRate{Metric: "share", Column: "served_by", Value: "ai"},
		field,
		&scorers.CriticalAgreement{Fields: []*scorers.FieldAgreement{field}},
	} {
		groups := make([]*Group, ng)
		for i := range groups {
			groups[i] = &Group{Metrics: map[string]*Acc{}}
		}
		accs := make([]*Acc, ng)
		b.Run(s.Name()+"/float", func(b *testing.B) {
			out := &scorers.Out{}
			for b.Loop() {
				in := &scorers.Input{Rows: n, Batch: batch}
				out.ResetBuiltin(s, n)
				if err := s.Score(in, out); err != nil {
					b.Fatal(err)
				}
				out.Untouched(s.Kind())
				clear(accs)
				accumulate(s, out, gi, groups, accs)
			}
		})
		b.Run(s.Name()+"/codes", func(b *testing.B) {
			var t rateTally
			rc := s.(scorers.RateCoder)
			for b.Loop() {
				in := &scorers.Input{Rows: n, Batch: batch}
				t.batch(n)
				clear(accs)
				accumulateRateCodes(&t, s.Name(), rc.RateCodes(in, t.buf), gi, groups, accs)
			}
		})
	}
}

// BenchmarkDirectPerSystem is a built-in PerSystemValue folded from a
// 128Ki-row batch's columns (foldPerSystemColumns) for the three rows
// in four of one feature, into five groups: a latency-like legacy
// column and a constant one (bench/gen's legacy cost).
func BenchmarkDirectPerSystem(b *testing.B) {
	const n, ng = 128 << 10, 5
	r := rand.New(rand.NewPCG(13, 14))
	lat := sketchInputs(n)["latency"]
	l := &datasets.Column{Name: "l", Kind: datasets.KindFloat64, Float: make([]float64, n)}
	a := &datasets.Column{Name: "a", Kind: datasets.KindFloat64, Float: make([]float64, n)}
	for i := range n {
		l.Float[i], a.Float[i] = lat[i]/15, lat[i]
	}
	k := &datasets.Column{Name: "k", Kind: datasets.KindFloat64, Float: make([]float64, n)}
	for i := range k.Float {
		k.Float[i] = 0.0002
	}
	batch := &datasets.Batch{Rows: n, Cols: []*datasets.Column{l, a, k}}
	var rows []int32
	for i := range n {
		if r.IntN(4) > 0 {
			rows = append(rows, int32(i))
		}
	}
	gi := make([]int32, len(rows))
	for i := range gi {
		gi[i] = int32(r.IntN(ng))
	}
	for _, s := range []*scorers.PerSystemValue{
		{Metric: "latency_ms", LegacyCol: "l", AICol: "a"},
		{Metric: "cost", LegacyCol: "k", AICol: "a"},
	} {
		b.Run(s.Metric, func(b *testing.B) {
			groups := make([]*Group, ng)
			for i := range groups {
				groups[i] = &Group{Metrics: map[string]*Acc{}}
			}
			accs := make([]*Acc, ng)
			for b.Loop() {
				clear(accs)
				foldPerSystemColumns(s, batch, rows, gi, groups, accs)
			}
			b.ReportMetric(float64(b.N)*float64(len(rows))/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// sharedBenchBatch is a 128Ki-row batch of three interleaved features
// (half, a quarter, a quarter of the rows; five classes each) with
// bench/gen's per-system columns, for BenchmarkSharedPerSystem: an
// engine whose three plans have the latency and cost folds, each
// feature's rows and each row's group in its feature.
func sharedBenchBatch() (e *Engine, b *datasets.Batch, rows, gi [][]int32) {
	const n, classes = 128 << 10, 5
	r := rand.New(rand.NewPCG(15, 16))
	col := func(name string, f func() float64) *datasets.Column {
		c := &datasets.Column{Name: name, Kind: datasets.KindFloat64, Float: make([]float64, n)}
		for i := range c.Float {
			c.Float[i] = f()
		}
		return c
	}
	logn := func(m, s float64) func() float64 { return func() float64 { return m * math.Exp(s*r.NormFloat64()) } }
	b = &datasets.Batch{Rows: n, Cols: []*datasets.Column{
		col("ll", logn(40, 0.5)), col("al", logn(600, 0.4)),
		col("lc", func() float64 { return 0.0002 }), col("ac", logn(0.002, 0.3)),
	}}
	e = &Engine{shapes: []scorers.PerSystemValue{
		{Metric: "latency_ms", LegacyCol: "ll", AICol: "al"},
		{Metric: "cost", LegacyCol: "lc", AICol: "ac"},
	}}
	for i := range 3 {
		e.order = append(e.order, &featurePlan{idx: i, shape: []int{0, 1}})
	}
	rows, gi = make([][]int32, 3), make([][]int32, 3)
	for i := range n {
		f := max(0, r.IntN(4)-1)
		rows[f] = append(rows[f], int32(i))
		gi[f] = append(gi[f], int32(r.IntN(classes)))
	}
	return e, b, rows, gi
}

// BenchmarkSharedPerSystem is the latency and cost folds of a batch of
// three interleaved features: per feature through its row indexes
// (foldPerSystemColumns), or once for the batch (sharedFolds).
func BenchmarkSharedPerSystem(b *testing.B) {
	e, batch, rows, gi := sharedBenchBatch()
	newGroups := func() [][]*Group {
		gs := make([][]*Group, len(rows))
		for f := range gs {
			for range 5 {
				gs[f] = append(gs[f], &Group{Metrics: map[string]*Acc{}})
			}
		}
		return gs
	}
	b.Run("per_feature", func(b *testing.B) {
		groups := newGroups()
		accs := make([]*Acc, 5)
		for b.Loop() {
			for f := range rows {
				for k := range e.shapes {
					clear(accs)
					foldPerSystemColumns(&e.shapes[k], batch, rows[f], gi[f], groups[f], accs)
				}
			}
		}
		b.ReportMetric(float64(b.N)*float64(batch.Rows)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("shared", func(b *testing.B) {
		groups := newGroups()
		var s sharedFolds
		for b.Loop() {
			s.batch(e, rows, batch.Rows)
			for f, p := range e.order {
				s.add(p, rows[f], gi[f], groups[f])
			}
			if err := s.fold(e, batch); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)*float64(batch.Rows)/b.Elapsed().Seconds(), "rows/s")
	})
}
