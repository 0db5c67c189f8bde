package eval

import (
	"math"

	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers"
)

// accumulate folds one scorer's per-row output into the groups: row i
// belongs to groups[gi[i]]. accs (len(groups), all nil) caches each
// group's accumulator for this scorer; an accumulator is created only
// when a row contributes to it, as before the cache existed, so a metric
// with no valid rows stays absent.
func accumulate(s scorers.Scorer, o *scorers.Out, gi []int32, groups []*Group, accs []*Acc) {
	name := s.Name()
	thr, hasThr := 0.0, false
	if t, ok := s.(scorers.Thresholded); ok {
		thr, _ = t.Threshold()
		hasThr = true
	}
	kind := s.Kind()
	acc := func(i int) *Acc {
		a := accs[gi[i]]
		if a == nil {
			a = groups[gi[i]].acc(name)
			accs[gi[i]] = a
		}
		return a
	}
	for i := range gi {
		switch kind {
		case scorers.Agreement, scorers.Rate:
			v := o.Value[i]
			if math.IsNaN(v) {
				continue
			}
			a := acc(i)
			a.N++
			if v != 0 {
				a.K++
			}
		case scorers.PairedCorrect:
			l, x := o.Legacy[i], o.AI[i]
			if math.IsNaN(l) || math.IsNaN(x) {
				continue
			}
			a := acc(i)
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
		case scorers.Score:
			v := o.Value[i]
			if math.IsNaN(v) {
				continue
			}
			a := acc(i)
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
		case scorers.PairedScore:
			l, x := o.Legacy[i], o.AI[i]
			if math.IsNaN(l) || math.IsNaN(x) {
				continue
			}
			a := acc(i)
			if a.Legacy == nil {
				a.Legacy, a.AI, a.Diff = NewSketch(), NewSketch(), NewSketch()
			}
			a.Legacy.Add(l)
			a.AI.Add(x)
			a.Diff.Add(x - l)
		case scorers.PerSystem:
			l, x := o.Legacy[i], o.AI[i]
			if math.IsNaN(l) && math.IsNaN(x) {
				continue
			}
			a := acc(i)
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
		case scorers.Category:
			c := o.Cat[i]
			if c == "" {
				continue
			}
			a := acc(i)
			if a.Cats == nil {
				a.Cats = map[string]int64{}
			}
			a.Cats[c]++
		case scorers.Classification:
			if o.Cat[i] != "" {
				addQuality(acc(i), o.Cat[i], o.Legacy[i], o.AI[i], o.Value[i])
			}
		}
	}
}

// Gather copies the rows idx of a column.
func Gather(c *datasets.Column, idx []int32) *datasets.Column {
	out := &datasets.Column{Name: c.Name, Kind: c.Kind, Dict: c.Dict}
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
