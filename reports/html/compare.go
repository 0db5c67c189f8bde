package html

import (
	"fmt"
	"math"
	"sort"
)

// Diff is one figure or input object that differs between a report and
// its recomputation.
type Diff struct {
	// Name locates the figure, e.g.
	// "ticket_routing/spanish 2026-10-05 divergence.critical".
	Name       string `json:"name"`
	Report     string `json:"report"`
	Recomputed string `json:"recomputed"`
	// Input is true for an input object (location, size, ETag, rows).
	Input bool `json:"input,omitempty"`
}

func (d Diff) String() string {
	return fmt.Sprintf("%s: report %s, recomputed %s", d.Name, d.Report, d.Recomputed)
}

// Comparison is the outcome of Compare.
type Comparison struct {
	Figures int    `json:"figures"`
	Diffs   []Diff `json:"diffs"`
	// NotReread lists report inputs the recomputation did not need (they
	// hold no row of the recomputed windows); informational.
	NotReread []string `json:"not_reread,omitempty"`
}

// OK reports whether every figure and input matched.
func (c *Comparison) OK() bool { return len(c.Diffs) == 0 }

// relTol absorbs the last-bit differences of floating-point sums merged
// in a different order by a different number of scan workers; any real
// change to an input moves a figure by far more.
const relTol = 1e-9

// Compare checks every figure of report against recomputed: per window
// the status, rows and verdict with its streaks; per class the status
// and n; per metric the value, interval, statistic, raw and adjusted
// p-values, n, threshold and status. Input objects present in both are
// compared by size, ETag and row count.
func Compare(report, recomputed *Data) *Comparison {
	c := &Comparison{Diffs: []Diff{}}
	rw := map[int64]*Window{}
	for i := range recomputed.Windows {
		rw[recomputed.Windows[i].Window.Start.Unix()] = &recomputed.Windows[i]
	}
	for i := range report.Windows {
		a := &report.Windows[i]
		day := a.Window.Start.UTC().Format("2006-01-02")
		if a.Window.End.Sub(a.Window.Start) < 24*60*60*1e9 {
			day = a.Window.Start.UTC().Format("2006-01-02T15:04Z")
		}
		wname := report.Feature + " " + day
		b := rw[a.Window.Start.Unix()]
		if b == nil {
			c.add(wname, "evaluated", "not evaluated", false)
			continue
		}
		c.str(wname+" status", a.Status, b.Status)
		c.int(wname+" rows", a.Rows, b.Rows)
		c.str(wname+" verdict", a.Verdict, b.Verdict)
		c.int(wname+" streak.passing", int64(a.Streak.Passing), int64(b.Streak.Passing))
		c.int(wname+" streak.failing", int64(a.Streak.Failing), int64(b.Streak.Failing))
		c.num(wname+" traffic_percent", a.TrafficPercent, b.TrafficPercent)
		bc := map[string]int{}
		for j, cr := range b.Classes {
			bc[cr.Class] = j
		}
		for _, ca := range a.Classes {
			cname := report.Feature + "/" + ca.Class + " " + day
			j, ok := bc[ca.Class]
			if !ok {
				c.add(cname, "present", "absent", false)
				continue
			}
			cb := b.Classes[j]
			c.str(cname+" status", ca.Status, cb.Status)
			c.int(cname+" n", ca.N, cb.N)
			bm := map[string]int{}
			for k, m := range cb.Metrics {
				bm[m.Name] = k
			}
			for _, ma := range ca.Metrics {
				k, ok := bm[ma.Name]
				if !ok {
					c.add(cname+" "+ma.Name, "present", "absent", false)
					continue
				}
				mb := cb.Metrics[k]
				n := cname + " " + ma.Name
				c.num(n, ma.Value, mb.Value)
				c.num(n+".ci_low", ma.CILow, mb.CILow)
				c.num(n+".ci_high", ma.CIHigh, mb.CIHigh)
				c.num(n+".statistic", ma.Statistic, mb.Statistic)
				c.num(n+".p_value", ma.P, mb.P)
				c.num(n+".p_adjusted", ma.PAdjusted, mb.PAdjusted)
				c.int(n+".n", ma.N, mb.N)
				c.num(n+".threshold", ma.Threshold, mb.Threshold)
				c.str(n+".status", ma.Status, mb.Status)
			}
		}
	}
	c.str(report.Feature+" verdict", report.Verdict.Verdict, recomputed.Verdict.Verdict)
	c.num(report.Feature+" traffic.percent", report.Verdict.Traffic.Percent, recomputed.Verdict.Traffic.Percent)
	c.str(report.Feature+" decommission_ready", fmt.Sprint(report.Verdict.DecommissionReady), fmt.Sprint(recomputed.Verdict.DecommissionReady))
	c.inputs(report.Lineage.Inputs, recomputed.Lineage.Inputs)
	return c
}

func (c *Comparison) inputs(a, b []Input) {
	cur := map[string]Input{}
	for _, in := range b {
		cur[in.Location] = in
	}
	seen := map[string]bool{}
	for _, x := range a {
		seen[x.Location] = true
		y, ok := cur[x.Location]
		if !ok {
			c.NotReread = append(c.NotReread, x.Location)
			continue
		}
		c.Figures++
		if x.Size != y.Size || x.ETag != y.ETag || x.Rows != y.Rows {
			c.Diffs = append(c.Diffs, Diff{Name: "input object " + x.Location + " changed", Input: true,
				Report: fmt.Sprintf("size %d ETag %s rows %d", x.Size, x.ETag, x.Rows), Recomputed: fmt.Sprintf("size %d ETag %s rows %d", y.Size, y.ETag, y.Rows)})
		}
	}
	var extra []string
	for loc := range cur {
		if !seen[loc] {
			extra = append(extra, loc)
		}
	}
	sort.Strings(extra)
	for _, loc := range extra {
		y := cur[loc]
		c.Diffs = append(c.Diffs, Diff{Name: "input object " + loc + " is new", Input: true, Report: "absent", Recomputed: fmt.Sprintf("size %d ETag %s rows %d", y.Size, y.ETag, y.Rows)})
	}
}

func (c *Comparison) add(name, a, b string, input bool) {
	c.Diffs = append(c.Diffs, Diff{Name: name, Report: a, Recomputed: b, Input: input})
}

func (c *Comparison) str(name, a, b string) {
	c.Figures++
	if a != b {
		c.add(name, a, b, false)
	}
}

func (c *Comparison) int(name string, a, b int64) {
	c.Figures++
	if a != b {
		c.add(name, fmt.Sprint(a), fmt.Sprint(b), false)
	}
}

func (c *Comparison) num(name string, a, b float64) {
	c.Figures++
	if sameNum(a, b) {
		return
	}
	fa, fb := fig(a), fig(b)
	if fa == fb { // differ beyond the quoted precision: show all digits
		fa, fb = fmt.Sprintf("%.12g", a), fmt.Sprintf("%.12g", b)
	}
	c.add(name, fa, fb, false)
}

func sameNum(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if a == b {
		return true
	}
	return math.Abs(a-b) <= relTol*math.Max(math.Abs(a), math.Abs(b))
}

// fig prints a figure as `parity verify` quotes it: 4 decimals, or 4
// significant digits for very small or large figures.
func fig(x float64) string {
	if math.IsNaN(x) {
		return "none"
	}
	if x != 0 && (math.Abs(x) < 1e-3 || math.Abs(x) >= 1e6) {
		return fmt.Sprintf("%.4g", x)
	}
	return fmt.Sprintf("%.4f", x)
}
