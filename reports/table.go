package reports

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteSummary prints a short per-feature, per-class table of a verdicts
// document for a terminal or a log.
func WriteSummary(w io.Writer, v *Verdicts, now time.Time) {
	fmt.Fprintf(w, "window %s  (valid until %s)\n", v.Window, v.ValidUntil.Format(time.RFC3339))
	if stale := v.Stale(now); len(stale) > 0 {
		fmt.Fprintf(w, "STALE at %s (treat as legacy only): %s\n", now.UTC().Format(time.RFC3339), strings.Join(stale, ", "))
	}
	names := make([]string, 0, len(v.Features))
	for n := range v.Features {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := v.Features[n]
		fmt.Fprintf(w, "\n%s: %s  (AI traffic %g%%, streak pass %d/%d fail %d/%d)\n", n, strings.ToUpper(f.Verdict), f.Traffic.Percent, f.Streak.Passing, f.Streak.RequiredToGraduate, f.Streak.Failing, f.Streak.RequiredToRollback)
		for _, r := range f.Reasons {
			fmt.Fprintf(w, "  - %s\n", r)
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  class\tstatus\tn\tagreement\tAI-legacy acc.\tnote")
		classes := make([]string, 0, len(f.Classes))
		for c := range f.Classes {
			classes = append(classes, c)
		}
		sort.Strings(classes)
		for _, c := range classes {
			cd := f.Classes[c]
			agr, acc := "-", "-"
			if m, ok := cd.Metrics["divergence.critical"]; ok && m.Value != nil {
				agr = fmt.Sprintf("%.1f%%", 100*(1-*m.Value))
			}
			for k, m := range cd.Metrics {
				if strings.HasSuffix(k, ".noninferiority") && m.Value != nil {
					acc = fmt.Sprintf("%+.1f pt", 100**m.Value)
				}
			}
			note := ""
			if cd.Status != "pass" && len(cd.Reasons) > 0 {
				note = cd.Reasons[0]
				if len(note) > 90 {
					note = note[:87] + "..."
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\t%s\n", c, cd.Status, cd.N, agr, acc, note)
		}
		tw.Flush()
		for _, a := range f.Alerts {
			if a.Severity == "critical" || a.Severity == "warning" {
				fmt.Fprintf(w, "  [%s] %s %s\n", a.Severity, a.Class, a.Message)
			}
		}
	}
}
