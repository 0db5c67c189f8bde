package synth

import (
	"fmt"
	"strings"
)

// Describe renders the scenario truth as a short text table: per feature
// the expected verdict, per class and phase the true agreement (and
// accuracies for classification), the observed rate and the expected
// per-window outcome, then the events and the reconciliation differences.
func (s Summary) Describe() string {
	var b strings.Builder
	day := func(t interface{ Format(string) string }) string { return t.Format("01-02") }
	fmt.Fprintf(&b, "scenario %s..%s (end exclusive): %d log rows, %d labels\n", s.Start.Format("2006-01-02"), s.End.Format("2006-01-02"), s.LogRows, s.LabelRows)
	for _, f := range s.Features {
		fmt.Fprintf(&b, "%s (%s) -> expect %s\n", f.Name, f.Kind, f.Expect)
		for _, c := range f.Classes {
			for _, p := range c.Phases {
				o := p.Observed
				obs := 0.0
				if o.Compared > 0 {
					obs = float64(o.Agree) / float64(o.Compared)
					if f.Kind == KindGeneration {
						obs = o.SumOverlap / float64(o.Compared)
					}
				}
				fmt.Fprintf(&b, "  %-17s %s..%s %-2s rows/day %7.1f  agree %.3f (obs %.3f)", c.Name, day(p.From), day(p.To.AddDate(0, 0, -1)), p.ModelVersion, p.RowsPerDay, p.Agreement, obs)
				if f.Kind == KindClassification {
					fmt.Fprintf(&b, "  acc legacy %.3f ai %.3f", p.LegacyAccuracy, p.AIAccuracy)
				}
				fmt.Fprintf(&b, "  ai_err %.3f  -> %s\n", p.AIErrorRate, p.Expect)
			}
		}
	}
	for _, e := range s.Events {
		cl := e.Class
		if cl == "" {
			cl = "*"
		}
		fmt.Fprintf(&b, "event %-16s %s/%s %s..%s: %s\n", e.Kind, e.Feature, cl, day(e.From), day(e.To.AddDate(0, 0, -1)), e.Detail)
	}
	for _, r := range s.Recon.Runs {
		fmt.Fprintf(&b, "recon run=%02d legacy %d new %d: %d amount mismatches, %d only in legacy\n", r.Run, r.LegacyRows, r.NewRows, len(r.AmountMismatch), len(r.OnlyInLegacy))
	}
	return b.String()
}
