package eval

import (
	"fmt"
	"math"
	"sort"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/eval/stats"
	"github.com/parity-eval/parity/scorers"
)

// psiBins is the number of baseline-quantile bins a numeric input is cut
// into for its population stability index.
const psiBins = 10

// inputDrift tests each configured drift column (features[].drift_columns,
// scored as "input.<column>") of one class against the baseline, so "the
// inputs moved" shows before "the answers got worse". Numeric columns:
// two-sample KS on the sketches (drift.input.<c>.ks), PSI over the
// baseline's deciles (drift.input.<c>.psi) and the share of values
// outside the baseline's [min, max] (drift.input.<c>.out_of_range).
// Categorical columns get chi-square and PSI from drift() and the share
// of values in categories the baseline never saw (.out_of_range).
func inputDrift(f *config.Feature, class string, w Window, g, base *Group, alpha float64, add func(*Metric)) {
	for _, d := range f.DriftColumns {
		dc := scorers.ParseDriftColumn(d)
		name := "input." + dc.Column
		a, b := g.Metrics[name], base.Metrics[name]
		if a == nil || b == nil {
			continue
		}
		if dc.Categorical {
			if len(a.Cats) == 0 || len(b.Cats) == 0 {
				continue
			}
			var tot, unseen int64
			for k, v := range a.Cats {
				tot += v
				if b.Cats[k] == 0 {
					unseen += v
				}
			}
			m := newMetric(f.Name, class, w, "drift."+name+".out_of_range")
			m.Value, m.N = float64(unseen)/float64(tot), tot
			m.Reason = "share of values in categories the baseline never saw"
			add(m)
			continue
		}
		if a.Value == nil || b.Value == nil || a.Value.Count == 0 || b.Value.Count == 0 {
			continue
		}
		ax, aw := a.Value.Weighted()
		bx, bw := b.Value.Weighted()
		mean := newMetric(f.Name, class, w, name+".mean")
		mean.Value, mean.N = a.Value.Mean(), a.Value.Count
		add(mean)
		ks := newMetric(f.Name, class, w, "drift."+name+".ks")
		fromResult(ks, stats.KS2(stats.Weighted{X: bx, W: bw}, stats.Weighted{X: ax, W: aw}))
		add(ks)
		p := newMetric(f.Name, class, w, "drift."+name+".psi")
		p.Value, p.N = stats.PSI(binCounts(bx, bw, b.Value), binCounts(ax, aw, b.Value), 1e-4), a.Value.Count
		p.Reason = fmt.Sprintf("population stability index over the baseline's %d quantile bins (< 0.1 stable, 0.1–0.25 moderate, > 0.25 major shift)", psiBins)
		add(p)
		var out float64
		for i, x := range ax {
			if x < b.Value.Min || x > b.Value.Max {
				out += aw[i]
			}
		}
		o := newMetric(f.Name, class, w, "drift."+name+".out_of_range")
		o.Value, o.N = out/float64(a.Value.Count), a.Value.Count
		o.Reason = fmt.Sprintf("share of values outside the baseline's range [%g, %g] (values within the sketch's 0.5%% relative accuracy)", b.Value.Min, b.Value.Max)
		add(o)
	}
}

// binCounts counts a weighted sample into the bins cut at the baseline
// sketch's quantiles k/psiBins (duplicate edges merged), keyed by bin.
func binCounts(x, w []float64, base *Sketch) map[string]int64 {
	var edges []float64
	for k := 1; k < psiBins; k++ {
		e := base.Quantile(float64(k) / psiBins)
		if len(edges) == 0 || e > edges[len(edges)-1] {
			edges = append(edges, e)
		}
	}
	out := map[string]int64{}
	for i, v := range x {
		// bin j holds (edges[j-1], edges[j]]: values equal to an edge go
		// to the lower bin, as the baseline quantile is a lower quantile.
		j := sort.SearchFloat64s(edges, v)
		out[fmt.Sprintf("b%02d", j)] += int64(math.Round(w[i]))
	}
	return out
}
