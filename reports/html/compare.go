package html

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode/utf8"
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
	// MetadataChanged lists local input objects whose ETag (size,
	// modification time and inode) differs while their size and row
	// count do not: a touch or a copy changes the ETag of a local file
	// without changing its content, and its content is not hashed, so
	// this is a notice, not a difference; the figures recomputed from the
	// current content decide. S3 ETags hash the content and a changed one
	// is a difference.
	MetadataChanged []string `json:"metadata_changed,omitempty"`
	// Tolerated counts floating-point figures that differ only within
	// the relative tolerance (sums added in another order).
	Tolerated int `json:"tolerated,omitempty"`
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
// p-values, n, threshold and status, each named as a reviewer reads it;
// then every other field of the data (the verdict's validity, reasons,
// alerts and decommission checklist, the methodology, the lineage, the
// warnings...) by its JSON path. Only generated_at and lineage.output
// (where the recomputation wrote) are left out. Input objects present in
// both are compared by size, ETag and row counts (see MetadataChanged).
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
	c.rest(report, recomputed)
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
		switch {
		case x.Size == y.Size && x.ETag == y.ETag && x.Rows == y.Rows && x.RowsUsed == y.RowsUsed:
		case x.Size == y.Size && x.Rows == y.Rows && x.RowsUsed == y.RowsUsed && localLocation(x.Location):
			c.MetadataChanged = append(c.MetadataChanged, x.Location)
		default:
			c.Diffs = append(c.Diffs, Diff{Name: "input object " + x.Location + " changed", Input: true,
				Report: fmt.Sprintf("size %d ETag %s rows %d used %d", x.Size, x.ETag, x.Rows, x.RowsUsed), Recomputed: fmt.Sprintf("size %d ETag %s rows %d used %d", y.Size, y.ETag, y.Rows, y.RowsUsed)})
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

// localLocation reports whether an input location is a local file, whose
// ETag is size, modification time and inode rather than a content hash.
func localLocation(loc string) bool {
	return !strings.Contains(loc, "://") || strings.HasPrefix(loc, "file://")
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
	if a != b && sameNum(a, b) {
		c.Tolerated++
	}
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

// named are the JSON paths (array elements as []) of the figures Compare
// checks by name; rest leaves them to those checks.
var named = set(`windows[].status windows[].rows windows[].verdict
	windows[].streak.passing windows[].streak.failing windows[].traffic_percent
	windows[].classes[].status windows[].classes[].n
	windows[].classes[].metrics[].value windows[].classes[].metrics[].ci_low
	windows[].classes[].metrics[].ci_high windows[].classes[].metrics[].statistic
	windows[].classes[].metrics[].p_value windows[].classes[].metrics[].p_adjusted
	windows[].classes[].metrics[].n windows[].classes[].metrics[].threshold
	windows[].classes[].metrics[].status
	verdict.verdict verdict.traffic.percent verdict.decommission_ready`)

func set(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// unchecked are left out of rest: the generated-at time, the output the
// recomputation wrote to, and the input objects (compared by inputs).
var unchecked = map[string]bool{"generated_at": true, "lineage.output": true, "lineage.inputs": true}

// keyedBy names the arrays whose elements are matched by a key rather
// than by position; elements only the report has are named by Compare's
// own checks, elements only the recomputation has are named here.
var keyedBy = map[string]func(map[string]any) string{
	"windows": func(m map[string]any) string {
		w, _ := m["window"].(map[string]any)
		s, _ := w["start"].(string)
		return s
	},
	"windows[].classes":           func(m map[string]any) string { s, _ := m["input_class"].(string); return s },
	"windows[].classes[].metrics": func(m map[string]any) string { s, _ := m["metric"].(string); return s },
}

// rest compares every field of the data that the named checks do not,
// through the data's JSON form, and names each difference by its path.
func (c *Comparison) rest(report, recomputed *Data) {
	var ta, tb any
	for _, x := range []struct {
		d *Data
		t *any
	}{{report, &ta}, {recomputed, &tb}} {
		b, err := json.Marshal(x.d)
		if err == nil {
			err = json.Unmarshal(b, x.t)
		}
		if err != nil {
			c.add(report.Feature+" report data", "encodable", err.Error(), false)
			return
		}
	}
	c.walk(report.Feature+" ", "", "", ta, tb)
}

func (c *Comparison) walk(prefix, path, pattern string, a, b any) {
	if unchecked[pattern] {
		return
	}
	join := func(p, k string) string {
		if p == "" {
			return k
		}
		return p + "." + k
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			break
		}
		keys := make([]string, 0, len(x)+len(y))
		for k := range x {
			keys = append(keys, k)
		}
		for k := range y {
			if _, ok := x[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			c.walk(prefix, join(path, k), join(pattern, k), x[k], y[k])
		}
		return
	case []any:
		y, ok := b.([]any)
		if !ok {
			break
		}
		if key := keyedBy[pattern]; key != nil {
			idx := map[string]int{}
			for i, e := range y {
				if m, ok := e.(map[string]any); ok {
					idx[key(m)] = i
				}
			}
			seen := map[string]bool{}
			for _, e := range x {
				m, _ := e.(map[string]any)
				k := key(m)
				seen[k] = true
				if i, ok := idx[k]; ok {
					c.walk(prefix, path+"["+k+"]", pattern+"[]", e, y[i])
				}
			}
			for _, e := range y {
				m, _ := e.(map[string]any)
				if k := key(m); !seen[k] {
					c.Figures++
					c.add(prefix+path+"["+k+"]", "absent", "present", false)
				}
			}
			return
		}
		if len(x) != len(y) {
			c.Figures++
			c.add(prefix+path, fmt.Sprintf("%d entries %s", len(x), clip(x)), fmt.Sprintf("%d entries %s", len(y), clip(y)), false)
			return
		}
		for i := range x {
			c.walk(prefix, fmt.Sprintf("%s[%d]", path, i), pattern+"[]", x[i], y[i])
		}
		return
	}
	if named[pattern] {
		return
	}
	c.Figures++
	fa, oka := a.(float64)
	fb, okb := b.(float64)
	switch {
	case oka && okb:
		if fa != fb && sameNum(fa, fb) {
			c.Tolerated++
		}
		if !sameNum(fa, fb) {
			c.add(prefix+path, fmt.Sprintf("%.12g", fa), fmt.Sprintf("%.12g", fb), false)
		}
	case !equalJSON(a, b):
		ra, rb := quoteDiff(a, b)
		c.add(prefix+path, ra, rb, false)
	}
}

func equalJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// clip is a JSON value printed in at most 120 bytes.
func clip(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 120 {
		n := 117
		for n > 0 && !utf8.RuneStart(b[n]) {
			n--
		}
		return string(b[:n]) + "..."
	}
	return string(b)
}

// quoteDiff prints two differing values; long strings (the config text,
// a reason) around their first difference.
func quoteDiff(a, b any) (string, string) {
	sa, oka := a.(string)
	sb, okb := b.(string)
	if !oka || !okb || (len(sa) <= 120 && len(sb) <= 120) {
		return clip(a), clip(b)
	}
	i := 0
	for i < len(sa) && i < len(sb) && sa[i] == sb[i] {
		i++
	}
	return Around(sa, i, 50), Around(sb, i, 50)
}

// Around quotes s within about n bytes either side of byte i, marking
// the cuts with "…" and saying where the excerpt is.
func Around(s string, i, n int) string {
	lo, hi := max(0, i-n), min(len(s), i+n)
	for lo > 0 && !utf8.RuneStart(s[lo]) {
		lo--
	}
	for hi < len(s) && !utf8.RuneStart(s[hi]) {
		hi++
	}
	q := fmt.Sprintf("%q", s[lo:hi])
	if lo > 0 {
		q = "…" + q
	}
	if hi < len(s) {
		q += "…"
	}
	return q
}
