package eval

import (
	"math"

	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers"
)

// accSet resolves each group's accumulator for one scorer in one batch:
// row i belongs to groups[gi[i]], and accs (len(groups), all nil on
// entry) caches the accumulators. An accumulator is created only when a
// row contributes to it, so a metric with no valid rows stays absent.
type accSet struct {
	name   string
	gi     []int32
	groups []*Group
	accs   []*Acc
}

// of returns the accumulator of row i's group.
func (s *accSet) of(i int) *Acc {
	g := s.gi[i]
	a := s.accs[g]
	if a == nil {
		a = s.groups[g].acc(s.name)
		s.accs[g] = a
	}
	return a
}

// accumulate folds one scorer's per-row output into the groups, with one
// loop per output kind so the kind is not re-decided per row.
func accumulate(s scorers.Scorer, o *scorers.Out, gi []int32, groups []*Group, accs []*Acc) {
	as := &accSet{name: s.Name(), gi: gi, groups: groups, accs: accs}
	switch s.Kind() {
	case scorers.Agreement, scorers.Rate:
		accumulateCounts(as, o)
	case scorers.PairedCorrect:
		accumulatePairedCorrect(as, o)
	case scorers.Score:
		thr, hasThr := 0.0, false
		if t, ok := s.(scorers.Thresholded); ok {
			thr, _ = t.Threshold()
			hasThr = true
		}
		accumulateScores(as, o, thr, hasThr)
	case scorers.PairedScore:
		accumulatePairedScores(as, o)
	case scorers.PerSystem:
		accumulatePerSystem(as, o)
	case scorers.Category:
		accumulateCategories(as, o)
	case scorers.Classification:
		accumulateClassification(as, o)
	}
}

func accumulateCounts(as *accSet, o *scorers.Out) {
	for i := range as.gi {
		v := o.Value[i]
		if math.IsNaN(v) {
			continue
		}
		a := as.of(i)
		a.N++
		if v != 0 {
			a.K++
		}
	}
}

func accumulatePairedCorrect(as *accSet, o *scorers.Out) {
	for i := range as.gi {
		l, x := o.Legacy[i], o.AI[i]
		if math.IsNaN(l) || math.IsNaN(x) {
			continue
		}
		a := as.of(i)
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
}

func accumulateScores(as *accSet, o *scorers.Out, thr float64, hasThr bool) {
	for i := range as.gi {
		v := o.Value[i]
		if math.IsNaN(v) {
			continue
		}
		a := as.of(i)
		if a.Value == nil {
			a.Value = NewSketch()
		}
		a.Value.Add(v)
		if hasThr {
			a.N++
			if v >= thr {
				a.K++
			}
		}
	}
}

func accumulatePairedScores(as *accSet, o *scorers.Out) {
	for i := range as.gi {
		l, x := o.Legacy[i], o.AI[i]
		if math.IsNaN(l) || math.IsNaN(x) {
			continue
		}
		a := as.of(i)
		if a.Legacy == nil {
			a.Legacy, a.AI, a.Diff = NewSketch(), NewSketch(), NewSketch()
		}
		a.Legacy.Add(l)
		a.AI.Add(x)
		a.Diff.Add(x - l)
	}
}

func accumulatePerSystem(as *accSet, o *scorers.Out) {
	for i := range as.gi {
		l, x := o.Legacy[i], o.AI[i]
		if math.IsNaN(l) && math.IsNaN(x) {
			continue
		}
		a := as.of(i)
		if !math.IsNaN(l) {
			if a.Legacy == nil {
				a.Legacy = NewSketch()
			}
			a.Legacy.Add(l)
		}
		if !math.IsNaN(x) {
			if a.AI == nil {
				a.AI = NewSketch()
			}
			a.AI.Add(x)
		}
	}
}

// Gather copies the rows idx of a column.
func Gather(c *datasets.Column, idx []int32) *datasets.Column {
	out := &datasets.Column{Name: c.Name, Kind: c.Kind, Dict: c.Dict, DictRepeats: c.DictRepeats}
	if c.Null != nil {
		out.Null = make([]bool, len(idx))
		for i, j := range idx {
			out.Null[i] = c.Null[j]
		}
	}
	switch c.Kind {
	case datasets.KindString:
		out.Codes = make([]int32, len(idx))
		for i, j := range idx {
			out.Codes[i] = c.Codes[j]
		}
	case datasets.KindFloat64:
		out.Float = make([]float64, len(idx))
		for i, j := range idx {
			out.Float[i] = c.Float[j]
		}
	case datasets.KindInt64, datasets.KindTimestamp:
		out.Int = make([]int64, len(idx))
		for i, j := range idx {
			out.Int[i] = c.Int[j]
		}
	case datasets.KindBool:
		out.Bool = make([]bool, len(idx))
		for i, j := range idx {
			out.Bool[i] = c.Bool[j]
		}
	}
	return out
}
