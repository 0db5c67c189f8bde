package eval

import (
	"math/rand"
	"testing"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers"
)

// catBenchConfig is a labelled categorical feature (as bench/'s
// ticket_routing) with a categorical drift column: its scorers of kinds
// Category (output.category, model_version, input.lang) and
// Classification (quality.category) are the ones benchmarked here.
const catBenchConfig = `version: 1
source: {logs: unused}
output: unused
window: 24h
features:
  - name: ticket_routing
    fields:
      - {name: category, legacy: legacy_category, ai: ai_category, label: label_category, critical: true}
    drift_columns: ["lang:category"]
`

// dictCol builds a dictionary-encoded string column of n rows whose
// values are drawn by pick (nil for null).
func dictCol(name string, n int, pick func(i int) *string) *datasets.Column {
	return codedCol(name, n, pick, false)
}

// codedCol is dictCol, or with fresh a code per row (the dictionary
// repeats values), as datasets delivers PLAIN pages of mostly distinct
// strings and as JSON-derived columns index values by document.
func codedCol(name string, n int, pick func(i int) *string, fresh bool) *datasets.Column {
	c := &datasets.Column{Name: name, Kind: datasets.KindString, Codes: make([]int32, n)}
	idx := map[string]int32{}
	for i := 0; i < n; i++ {
		v := pick(i)
		if v == nil {
			if c.Null == nil {
				c.Null = make([]bool, n)
			}
			c.Null[i] = true
			continue
		}
		code, ok := idx[*v]
		if !ok || fresh {
			code = int32(len(c.Dict))
			c.Dict = append(c.Dict, *v)
			idx[*v] = code
		}
		c.Codes[i] = code
	}
	return c
}

// catBenchInput is one 64Ki-row batch of the feature over five classes
// (groups), 40% of rows labelled: inline in the log, or (joined) from a
// labels dataset as eval.Labels.Join delivers them; with fresh, every
// string column has a code per row.
func catBenchInput(n int, joined, fresh bool) (*scorers.Input, []int32, int) {
	r := rand.New(rand.NewSource(1))
	cats := []string{"billing", "technical", "account", "sales", "fraud"}
	langs := []string{"en", "es", "de", "fr"}
	leg, ai, lab := make([]*string, n), make([]*string, n), make([]*string, n)
	conf := &datasets.Column{Name: "ai_confidence", Kind: datasets.KindFloat64, Float: make([]float64, n)}
	gi := make([]int32, n)
	const groups = 5
	for i := 0; i < n; i++ {
		l := &cats[r.Intn(len(cats))]
		a := l
		if r.Float64() < 0.05 {
			a = &cats[r.Intn(len(cats))]
		}
		if r.Float64() < 0.01 {
			a = nil // the AI errored
		}
		leg[i], ai[i] = l, a
		if r.Float64() < 0.4 {
			lab[i] = l
			if r.Float64() < 0.1 {
				lab[i] = &cats[r.Intn(len(cats))]
			}
		}
		conf.Float[i] = r.Float64()
		gi[i] = int32(r.Intn(groups))
	}
	v1 := "v1"
	b := &datasets.Batch{Rows: n, Cols: []*datasets.Column{
		codedCol("legacy_category", n, func(i int) *string { return leg[i] }, fresh),
		codedCol("ai_category", n, func(i int) *string { return ai[i] }, fresh),
		conf,
		codedCol("ai_model_version", n, func(int) *string { return &v1 }, fresh),
		codedCol("lang", n, func(int) *string { return &langs[r.Intn(len(langs))] }, fresh),
	}}
	in := &scorers.Input{Rows: n, Batch: b}
	if joined {
		in.Labels = map[string][]*string{"label_category": lab}
	} else {
		b.Cols = append(b.Cols, codedCol("label_category", n, func(i int) *string { return lab[i] }, fresh))
	}
	return in, gi, groups
}

// BenchmarkCategoryAccumulate is the per-batch cost of the Category and
// Classification scorers of a labelled categorical feature: Score into
// the worker's Out, then accumulate into the batch's groups, as
// Engine.scoreFeature does. rows/s is per core, per scorer.
func BenchmarkCategoryAccumulate(b *testing.B) {
	cfg, err := config.Parse("bench.yaml", []byte(catBenchConfig))
	if err != nil {
		b.Fatal(err)
	}
	f := cfg.Feature("ticket_routing")
	var ss []scorers.Scorer
	for _, s := range scorers.Builtins(f, &cfg.Columns) {
		if k := s.Kind(); k == scorers.Category || k == scorers.Classification {
			ss = append(ss, s)
		}
	}
	if len(ss) != 4 {
		b.Fatalf("%d category/classification scorers, want 4", len(ss))
	}
	const n = 64 << 10
	for _, src := range []struct {
		name          string
		joined, fresh bool
	}{{"inline", false, false}, {"joined", true, false}, {"fresh", false, true}} {
		in, gi, ng := catBenchInput(n, src.joined, src.fresh)
		for _, s := range ss {
			if src.joined && s.Kind() != scorers.Classification {
				continue // only the label source differs
			}
			b.Run(src.name+"/"+s.Name(), func(b *testing.B) {
				groups := make([]*Group, ng)
				for i := range groups {
					groups[i] = &Group{Metrics: map[string]*Acc{}}
				}
				accs := make([]*Acc, ng)
				out := &scorers.Out{}
				b.ReportAllocs()
				for b.Loop() {
					out.Reset(n)
					if err := s.Score(in, out); err != nil {
						b.Fatal(err)
					}
					clear(accs)
					accumulate(s, out, gi, groups, accs)
				}
				b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "rows/s")
				// The benchmark must measure rows that count: every
				// labelled or categorised row reached a group.
				var got int64
				for _, g := range groups {
					a := g.Metrics[s.Name()]
					if a == nil {
						continue
					}
					for _, v := range a.Cats {
						got += v
					}
					if a.Quality != nil {
						for _, p := range a.Quality.PerLabel {
							got += p.N()
						}
					}
				}
				if got < int64(b.N)*n/4 {
					b.Fatalf("%d rows counted after %d batches of %d", got, b.N, n)
				}
			})
		}
	}
}

// BenchmarkClassificationFold is accumulateClassificationCodes alone:
// the coded output of a labelled categorical feature's quality scorer
// (40% of rows labelled, at random) folded into the batch's groups.
func BenchmarkClassificationFold(b *testing.B) {
	cfg, err := config.Parse("bench.yaml", []byte(catBenchConfig))
	if err != nil {
		b.Fatal(err)
	}
	f := cfg.Feature("ticket_routing")
	var s scorers.Scorer
	for _, x := range scorers.Builtins(f, &cfg.Columns) {
		if x.Kind() == scorers.Classification {
			s = x
		}
	}
	const n = 64 << 10
	in, gi, ng := catBenchInput(n, false, false)
	out := &scorers.Out{}
	out.Reset(n)
	if err := s.Score(in, out); err != nil {
		b.Fatal(err)
	}
	keys := out.Keys
	if keys == nil {
		b.Fatal("the quality scorer did not write codes")
	}
	groups := make([]*Group, ng)
	for i := range groups {
		groups[i] = &Group{Metrics: map[string]*Acc{}}
	}
	accs := make([]*Acc, ng)
	for b.Loop() {
		out.Keys = keys // accumulate consumes them
		clear(accs)
		accumulate(s, out, gi, groups, accs)
	}
	b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "rows/s")
}
