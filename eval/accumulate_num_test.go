package eval

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/parity-eval/parity/scorers"
)

// refAccumulate is accumulate for the numeric kinds in its plain form:
// row by row, each value through Sketch.Add, each count on the row's Acc.
// The per-kind loops (per-group tallies, column-at-a-time sketches with
// their bucket indexes first) must give exactly its aggregates.
func refAccumulate(s scorers.Scorer, o *scorers.Out, gi []int32, groups []*Group) {
	for i, g := range gi {
		acc := func() *Acc { return groups[g].acc(s.Name()) }
		v, l, x := o.Value[i], o.Legacy[i], o.AI[i]
		switch s.Kind() {
		case scorers.Agreement, scorers.Rate:
			if !math.IsNaN(v) {
				a := acc()
				a.N++
				a.K += b2i(v != 0)
			}
		case scorers.PairedCorrect:
			if !math.IsNaN(l) && !math.IsNaN(x) {
				a := acc()
				switch {
				case l != 0 && x != 0:
					a.BothRight++
				case l != 0:
					a.LegacyOnly++
				case x != 0:
					a.AIOnly++
				default:
					a.BothWrong++
				}
			}
		case scorers.Score:
			if !math.IsNaN(v) {
				a := acc()
				if a.Value == nil {
					a.Value = NewSketch()
				}
				a.Value.Add(v)
				if t, ok := s.(scorers.Thresholded); ok {
					thr, _ := t.Threshold()
					a.N++
					a.K += b2i(v >= thr)
				}
			}
		case scorers.PairedScore:
			if !math.IsNaN(l) && !math.IsNaN(x) {
				a := acc()
				if a.Legacy == nil {
					a.Legacy, a.AI, a.Diff = NewSketch(), NewSketch(), NewSketch()
				}
				a.Legacy.Add(l)
				a.AI.Add(x)
				a.Diff.Add(x - l)
			}
		case scorers.PerSystem:
			if !math.IsNaN(l) {
				a := acc()
				if a.Legacy == nil {
					a.Legacy = NewSketch()
				}
				a.Legacy.Add(l)
			}
			if !math.IsNaN(x) {
				a := acc()
				if a.AI == nil {
					a.AI = NewSketch()
				}
				a.AI.Add(x)
			}
		}
	}
}

// unthresholded is a Score scorer without a threshold.
type unthresholded struct{ benchScorer }

func (unthresholded) Threshold() {}

// accValue is a random scorer output of one of several shapes: repeated
// values, exact zeros and values at or below minMagnitude, both signs,
// magnitudes beyond the bucket table, ±Inf (configured scorers' outputs
// are not filtered for them), bucket edges, NaN (not applicable).
func accValue(r *rand.Rand, binary bool) float64 {
	if binary {
		if r.IntN(10) == 0 {
			return math.NaN()
		}
		return float64(r.IntN(2))
	}
	switch r.IntN(12) {
	case 0:
		return math.NaN()
	case 1:
		return 0
	case 2:
		return []float64{minMagnitude, -minMagnitude, minMagnitude / 2, math.Nextafter(minMagnitude, 1)}[r.IntN(4)]
	case 3:
		return 42 // repeated
	case 4:
		return []float64{math.Inf(1), math.Inf(-1), 1e300, -1e30, 5e-324, math.MaxFloat64}[r.IntN(6)]
	case 5:
		e := bucketEdges[r.IntN(len(bucketEdges))]
		return math.Nextafter(e, float64(r.IntN(3)-1)*math.Inf(1))
	case 6:
		return -600 * math.Exp(0.4*r.NormFloat64())
	case 7:
		return sketchValue(r)
	}
	return 600 * math.Exp(0.4*r.NormFloat64())
}

// TestAccumulateMatchesRowByRow folds random batches of every numeric
// kind into groups, some already holding earlier batches' aggregates,
// and compares every field of every accumulator (sketches' sums bit for
// bit, their buckets dense and far) with refAccumulate's.
func TestAccumulateMatchesRowByRow(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	kinds := []scorers.Scorer{
		benchScorer{kind: scorers.Agreement}, benchScorer{kind: scorers.Rate},
		benchScorer{kind: scorers.PairedCorrect},
		benchScorer{kind: scorers.Score}, unthresholded{benchScorer{kind: scorers.Score}},
		benchScorer{kind: scorers.PairedScore}, benchScorer{kind: scorers.PerSystem},
	}
	for trial := range 300 {
		s := kinds[trial%len(kinds)]
		binary := s.Kind() == scorers.Agreement || s.Kind() == scorers.Rate || s.Kind() == scorers.PairedCorrect
		ng := 1 + r.IntN(6)
		got, want := make([]*Group, ng), make([]*Group, ng)
		for g := range got {
			got[g], want[g] = &Group{Metrics: map[string]*Acc{}}, &Group{Metrics: map[string]*Acc{}}
		}
		for batch := range 3 {
			n := []int{0, 1, 7, 100, 3000}[r.IntN(5)]
			gi := make([]int32, n)
			for i := range gi {
				gi[i] = int32(r.IntN(ng))
				if batch == 0 && ng > 1 && gi[i] == int32(ng-1) {
					gi[i] = 0 // the last group first appears in a later batch
				}
			}
			o := scorers.NewOut(n)
			for i := range n {
				o.Value[i], o.Legacy[i], o.AI[i] = accValue(r, binary), accValue(r, binary), accValue(r, binary)
			}
			accumulate(s, o, gi, got, make([]*Acc, ng))
			refAccumulate(s, o, gi, want)
		}
		for g := range got {
			if !sameMetrics(got[g].Metrics, want[g].Metrics) {
				t.Fatalf("trial %d (%v), group %d:\n got %+v\nwant %+v", trial, s.Kind(), g, got[g].Metrics["m"], want[g].Metrics["m"])
			}
		}
	}
}

// sameMetrics compares accumulators field by field, floats by their bits
// (a sum of +Inf and -Inf is NaN on both sides).
func sameMetrics(a, b map[string]*Acc) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok {
			return false
		}
		xs, ys := *x, *y
		for _, p := range [][2]**Sketch{{&xs.Legacy, &ys.Legacy}, {&xs.AI, &ys.AI}, {&xs.Value, &ys.Value}, {&xs.Diff, &ys.Diff}} {
			if !sameSketch(*p[0], *p[1]) {
				return false
			}
			*p[0], *p[1] = nil, nil
		}
		if !reflect.DeepEqual(xs, ys) {
			return false
		}
	}
	return true
}

func sameSketch(a, b *Sketch) bool {
	if a == nil || b == nil {
		return a == b
	}
	bits := math.Float64bits
	return a.Count == b.Count && a.Zero == b.Zero &&
		bits(a.Sum) == bits(b.Sum) && bits(a.Min) == bits(b.Min) && bits(a.Max) == bits(b.Max) &&
		reflect.DeepEqual(a.side, b.side)
}

// TestAccumulateBlocksMatchesRowByRow is TestAccumulateMatchesRowByRow
// for the kinds folded by blocks (foldBuffer: scores and per-system
// values) on outputs shaped for each of foldBlocks' loops and the
// switches between them (shapedValues, ±Inf included: configured
// scorers' outputs are not filtered for them), batches of more than
// one block, several batches into the same groups, and a group whose
// every value is NaN (its metric must stay absent).
func TestAccumulateBlocksMatchesRowByRow(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	kinds := []scorers.Scorer{
		benchScorer{kind: scorers.Score}, unthresholded{benchScorer{kind: scorers.Score}},
		benchScorer{kind: scorers.PerSystem},
	}
	for trial := range 150 {
		s := kinds[trial%len(kinds)]
		ng := 1 + r.IntN(6)
		got, want := make([]*Group, ng), make([]*Group, ng)
		for g := range got {
			got[g], want[g] = &Group{Metrics: map[string]*Acc{}}, &Group{Metrics: map[string]*Acc{}}
		}
		nanGroup := int32(r.IntN(ng + 1)) // ng: none
		for range 3 {
			n := []int{1, 1023, 1024, 1025, 2500}[r.IntN(5)]
			gi := make([]int32, n)
			for i := range gi {
				gi[i] = int32(r.IntN(ng))
			}
			o := scorers.NewOut(n)
			copy(o.Value, shapedValues(r, n))
			copy(o.Legacy, shapedValues(r, n))
			copy(o.AI, shapedValues(r, n))
			for i, g := range gi {
				if g == nanGroup {
					o.Value[i], o.Legacy[i], o.AI[i] = math.NaN(), math.NaN(), math.NaN()
				}
			}
			accumulate(s, o, gi, got, make([]*Acc, ng))
			refAccumulate(s, o, gi, want)
		}
		for g := range got {
			if !sameMetrics(got[g].Metrics, want[g].Metrics) {
				t.Fatalf("trial %d (%v), group %d:\n got %+v\nwant %+v", trial, s.Kind(), g, got[g].Metrics["m"], want[g].Metrics["m"])
			}
		}
		if int(nanGroup) < ng && len(got[nanGroup].Metrics) != 0 {
			t.Fatalf("trial %d: a group without a valid value has %v", trial, got[nanGroup].Metrics)
		}
	}
}
