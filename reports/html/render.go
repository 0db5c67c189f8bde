package html

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/plot/vg"

	"github.com/parity-eval/parity/eval"
)

//go:embed report.html.tmpl
var reportTmpl string

//go:embed report.css
var reportCSS string

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"num":          num,
	"pval":         pval,
	"pct":          func(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) },
	"fpct":         func(x eval.Float) string { return fpct(float64(x)) },
	"date":         func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"rfc":          func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"upper":        strings.ToUpper,
	"join":         strings.Join,
	"short":        func(s string) string { return shortHash(s) },
	"bytes":        humanBytes,
	"interval":     interval,
	"statusClass":  func(s string) string { return "st-" + strings.ReplaceAll(s, "_", "-") },
	"statusLetter": statusLetter,
}).Parse(reportTmpl))

// view is what the template renders: Data plus derived tables and charts.
type view struct {
	D        *Data
	CSS      template.CSS
	DataJSON template.JS
	Last     *Window
	Summary  []string
	Evidence []string
	Counts   statusCounts

	Classes     []classView
	Grids       []grid // the class × window status grid, in chunks that fit a printed page
	Agreement   []template.HTML
	Quality     []template.HTML
	Forest      template.HTML
	ForestNote  string
	Latency     template.HTML
	LatencyRows []latencyRow
	Drift       []template.HTML
	DriftRows   []metricRow
	ContextRows []metricRow
	History     []Window
	Overrides   []string
	Events      []eval.Event
	Repeated    string
	AdjustText  string
	Versions    []string
	DivBound    string
}

type statusCounts struct{ Pass, Fail, Insufficient, Error, Total int }

type classView struct {
	Class    *eval.ClassResult
	Rows     []metricRow
	Warnings []string
}

type metricRow struct {
	Class, Name, Value, Interval, Statistic, P, PAdj, N, Threshold, Status string
	Criterion                                                              bool
}

type grid struct {
	Windows []string
	Rows    []gridRow
}

type gridRow struct {
	Class string
	Cells []string
}

type latencyRow struct {
	Class                 string
	N                     int64
	Legacy, AI            [3]string // p50, p95, p99
	AIP95CI               string
	Bound, Status, Reason string
}

// Render writes the report as one self-contained HTML document.
func Render(w io.Writer, d *Data) error {
	v, err := buildView(d)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, v); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	_, err = w.Write(b.Bytes())
	return err
}

func buildView(d *Data) (*view, error) {
	// Compact: the data is for machines, and indentation would double it.
	js, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	v, err := buildSummaryView(d)
	if err != nil {
		return nil, err
	}
	v.CSS, v.DataJSON = template.CSS(reportCSS), template.JS(bytes.TrimSpace(js)) //nolint:gosec // json.Marshal escapes <, > and &
	v.History = d.Windows
	v.DivBound = fpct(1 - d.Methodology.Criteria.MinAgreement)
	for _, c := range v.Last.Classes {
		cv := classView{Class: c}
		for _, m := range c.Metrics {
			if !m.Criterion && !strings.HasPrefix(m.Name, "agreement.") && !strings.HasPrefix(m.Name, "accuracy.") && !strings.HasPrefix(m.Name, "error_rate.") {
				if !strings.HasPrefix(m.Name, "latency_ms.") && !strings.HasPrefix(m.Name, "drift.") {
					v.ContextRows = append(v.ContextRows, row(c.Class, m))
				}
				continue
			}
			cv.Rows = append(cv.Rows, row(c.Class, m))
			for _, wn := range m.Warnings {
				cv.Warnings = append(cv.Warnings, m.Name+": "+wn)
			}
		}
		sort.SliceStable(cv.Rows, func(i, j int) bool { return cv.Rows[i].Criterion && !cv.Rows[j].Criterion })
		v.Classes = append(v.Classes, cv)
	}
	v.grid()
	if err := v.charts(); err != nil {
		return nil, err
	}
	v.latencyTable()
	v.driftTable()
	v.audit()
	v.method()
	return v, nil
}

func row(class string, m *eval.Metric) metricRow {
	r := metricRow{Class: class, Name: m.Name, Value: num(m.Value), Interval: interval(m), Statistic: num(m.Statistic), P: pval(m.P), PAdj: pval(m.PAdjusted), N: fmt.Sprint(m.N), Threshold: num(m.Threshold), Status: m.Status, Criterion: m.Criterion}
	if strings.HasPrefix(m.Name, "latency_ms.") && m.Name != "latency_ms.ai.p95_bound" {
		r.Value = ms(m.Value)
	}
	return r
}

func (v *view) summary() {
	d, fv := v.D, v.D.Verdict
	lw := v.Last
	s := fmt.Sprintf("As of the window %s (UTC), the verdict for %s is %s: the AI may serve %g%% of traffic.", lw.Window, d.Feature, strings.ToUpper(fv.Verdict), fv.Traffic.Percent)
	v.Summary = append(v.Summary, s)
	if len(fv.Reasons) > 0 {
		v.Summary = append(v.Summary, "Reason: "+strings.Join(fv.Reasons, "; ")+".")
	}
	v.Summary = append(v.Summary, fmt.Sprintf("Streak: %d passing window(s) of %d needed to graduate; %d failing window(s), rollback after %d.", fv.Streak.Passing, fv.Streak.RequiredToGraduate, fv.Streak.Failing, fv.Streak.RequiredToRollback))
	if fv.Override != nil {
		v.Summary = append(v.Summary, fmt.Sprintf("A human override is in force (force_legacy=%t, freeze=%t) by %s: %s.", fv.Override.ForceLegacy, fv.Override.Freeze, fv.Override.By, fv.Override.Reason))
	}
	var pass, insuf []string
	for _, c := range lw.Classes {
		switch c.Status {
		case eval.StatusPass:
			pass = append(pass, c.Class)
		case eval.StatusFail: // listed with their reasons below
		default:
			insuf = append(insuf, c.Class)
		}
	}
	v.Evidence = append(v.Evidence, fmt.Sprintf("In the latest window %d of %d input classes passed every criterion (%s).", len(pass), len(lw.Classes), listOr(pass)))
	for _, c := range lw.Classes {
		if c.Status == eval.StatusFail {
			v.Evidence = append(v.Evidence, fmt.Sprintf("%s failed: %s.", c.Class, strings.Join(c.Reasons, "; ")))
		}
	}
	if len(insuf) > 0 {
		v.Evidence = append(v.Evidence, fmt.Sprintf("Not enough evidence yet in %s: a class without a significant result cannot count towards graduation.", strings.Join(insuf, ", ")))
	}
	for _, t := range fv.Alerts {
		if t.Severity == "critical" {
			v.Evidence = append(v.Evidence, fmt.Sprintf("Rollback trigger in %s: %s.", t.Class, t.Message))
		}
	}
	v.Evidence = append(v.Evidence, fmt.Sprintf("Over the %d window(s) in this report the feature passed in %d, failed in %d and had insufficient data or errors in %d.", v.Counts.Total, v.Counts.Pass, v.Counts.Fail, v.Counts.Insufficient+v.Counts.Error))
	met := 0
	for _, c := range fv.Decommission {
		if c.Met {
			met++
		}
	}
	ready := "not ready"
	if fv.DecommissionReady {
		ready = "ready"
	}
	v.Evidence = append(v.Evidence, fmt.Sprintf("Legacy decommission: %s (%d of %d checklist items met).", ready, met, len(fv.Decommission)))
}

func listOr(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}

func (v *view) classNames() []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range v.D.Windows {
		for _, c := range w.Classes {
			if !seen[c.Class] {
				seen[c.Class] = true
				out = append(out, c.Class)
			}
		}
	}
	sort.Strings(out)
	return out
}

// gridChunk is the most windows per status-grid table: 28 columns fit
// an A4 page in portrait.
const gridChunk = 28

func (v *view) grid() {
	classes := v.classNames()
	for lo := 0; lo < len(v.D.Windows); lo += gridChunk {
		ws := v.D.Windows[lo:min(lo+gridChunk, len(v.D.Windows))]
		var g grid
		for _, w := range ws {
			g.Windows = append(g.Windows, w.Window.Start.UTC().Format("01-02"))
		}
		for _, c := range classes {
			r := gridRow{Class: c}
			for _, w := range ws {
				s := ""
				for _, cr := range w.Classes {
					if cr.Class == c {
						s = cr.Status
					}
				}
				r.Cells = append(r.Cells, s)
			}
			g.Rows = append(g.Rows, r)
		}
		v.Grids = append(v.Grids, g)
	}
}

// metricSeries collects one metric of one class over the windows.
func (v *view) metricSeries(class, name string, f func(m *eval.Metric) point) []point {
	var pts []point
	for _, w := range v.D.Windows {
		pt := point{t: w.Window.Start, y: math.NaN(), lo: math.NaN(), hi: math.NaN()}
		for _, c := range w.Classes {
			if c.Class != class {
				continue
			}
			for _, m := range c.Metrics {
				if m.Name == name {
					pt = f(m)
					pt.t = w.Window.Start
				}
			}
		}
		pts = append(pts, pt)
	}
	return pts
}

func (v *view) hasMetric(pred func(string) bool) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range v.D.Windows {
		for _, c := range w.Classes {
			for _, m := range c.Metrics {
				if pred(m.Name) && !seen[m.Name] {
					seen[m.Name] = true
					out = append(out, m.Name)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

var (
	dashed = []vg.Length{vg.Points(4), vg.Points(3)}
	dotted = []vg.Length{vg.Points(1.5), vg.Points(2)}
)

const (
	smallW, smallH = 4 * vg.Inch, 2.4 * vg.Inch
	wideW, wideH   = 8 * vg.Inch, 3 * vg.Inch
)

func (v *view) windowLen() time.Duration {
	w := v.D.Windows[0].Window
	return w.End.Sub(w.Start)
}

func (v *view) charts() error {
	cri := v.D.Methodology.Criteria
	classes := v.classNames()
	pad := v.windowLen()
	for i, c := range classes {
		col := palette[i%len(palette)]
		pts := v.metricSeries(c, "divergence.critical", func(m *eval.Metric) point {
			return point{y: 100 * (1 - m.Value), lo: 100 * (1 - m.CIHigh), hi: 100 * (1 - m.CILow)}
		})
		if !anyFinite(pts) {
			continue
		}
		h, err := timeChart(chartSpec{
			title: c + ": agreement on critical fields", ylabel: "agreement (% of requests)",
			series: []series{{name: "agreement, " + ciLabel(v.D.Methodology.Alpha) + " interval", color: col, points: pts}},
			hlines: []hline{{y: 100 * cri.MinAgreement, label: fmt.Sprintf("pass threshold %g%%", 100*cri.MinAgreement), color: red, dashes: dashed},
				{y: 100 * cri.CriticalAgreement, label: fmt.Sprintf("rollback trigger %g%%", 100*cri.CriticalAgreement), color: grey, dashes: dotted}},
			ymin: 100 * cri.CriticalAgreement, ymax: 100, pad: pad, w: smallW, h: smallH,
		})
		if err != nil {
			return err
		}
		v.Agreement = append(v.Agreement, h)
	}
	for _, name := range v.hasMetric(func(n string) bool { return strings.HasSuffix(n, ".noninferiority") }) {
		field := strings.TrimSuffix(strings.TrimPrefix(name, "accuracy."), ".noninferiority")
		for i, c := range classes {
			col := palette[i%len(palette)]
			pts := v.metricSeries(c, name, func(m *eval.Metric) point {
				return point{y: 100 * m.Value, lo: 100 * m.CILow, hi: 100 * m.CIHigh}
			})
			if !anyFinite(pts) {
				continue
			}
			h, err := timeChart(chartSpec{
				title: fmt.Sprintf("%s: quality (%s), AI − legacy accuracy", c, field), ylabel: "AI − legacy (percentage points)",
				series: []series{{name: "difference, Tango " + ciLabel(v.D.Methodology.Alpha) + " interval", color: col, points: pts}},
				hlines: []hline{{y: -100 * cri.QualityMargin, label: fmt.Sprintf("non-inferiority margin −%g pt", 100*cri.QualityMargin), color: red, dashes: dashed},
					{y: 0, label: "no difference", color: grey}},
				ymin: -100 * cri.QualityMargin, ymax: 0, pad: pad, w: smallW, h: smallH,
			})
			if err != nil {
				return err
			}
			v.Quality = append(v.Quality, h)
		}
	}
	if err := v.forest(classes); err != nil {
		return err
	}
	// Latency: AI P95 per class against the bound.
	var ls []series
	for i, c := range classes {
		// No bands: six overlapping intervals hide the lines; the table
		// below gives the latest window's interval.
		pts := v.metricSeries(c, "latency_ms.ai.p95", func(m *eval.Metric) point { return point{y: m.Value, lo: math.NaN(), hi: math.NaN()} })
		if anyFinite(pts) {
			ls = append(ls, series{name: c, color: palette[i%len(palette)], points: pts})
		}
	}
	if len(ls) > 0 {
		var hl []hline
		if cri.MaxP95LatencyMS > 0 {
			hl = append(hl, hline{y: cri.MaxP95LatencyMS, label: fmt.Sprintf("P95 bound %g ms", cri.MaxP95LatencyMS), color: red, dashes: dashed})
		}
		h, err := timeChart(chartSpec{title: "AI P95 latency by input class", ylabel: "P95 latency (ms)", series: ls, hlines: hl, ymin: 0, ymax: math.NaN(), pad: pad, w: wideW, h: wideH})
		if err != nil {
			return err
		}
		v.Latency = h
	}
	// Drift: PSI of each output field against the baseline.
	for _, name := range v.hasMetric(func(n string) bool { return strings.HasPrefix(n, "drift.") && strings.HasSuffix(n, ".psi") }) {
		var ds []series
		for i, c := range classes {
			pts := v.metricSeries(c, name, func(m *eval.Metric) point { return point{y: m.Value, lo: math.NaN(), hi: math.NaN()} })
			if anyFinite(pts) {
				ds = append(ds, series{name: c, color: palette[i%len(palette)], points: pts})
			}
		}
		field := strings.TrimSuffix(strings.TrimPrefix(name, "drift."), ".psi")
		h, err := timeChart(chartSpec{title: "Drift of " + field + " against the baseline (population stability index)", ylabel: "PSI (unitless)", series: ds,
			hlines: []hline{{y: 0.1, label: "0.1 moderate shift", color: grey, dashes: dotted}, {y: 0.25, label: "0.25 major shift", color: red, dashes: dashed}},
			ymin:   0, ymax: 0.3, pad: pad, w: wideW, h: wideH})
		if err != nil {
			return err
		}
		v.Drift = append(v.Drift, h)
	}
	return nil
}

func ciLabel(alpha float64) string {
	return fmt.Sprintf("%g%%", 100*(1-2*alpha))
}

// forest plots, per class, the AI − legacy accuracy difference of the
// latest window in range with labelled requests (labels arrive late, so
// the newest windows often have none; the row names its window).
func (v *view) forest(classes []string) error {
	names := v.hasMetric(func(n string) bool { return strings.HasSuffix(n, ".noninferiority") })
	if len(names) == 0 {
		v.ForestNote = "This feature has no labelled fields: quality against ground truth is not part of its criteria."
		return nil
	}
	var rows []forestRow
	for _, name := range names {
		for _, c := range classes {
			r := forestRow{label: c, missing: true}
			if len(names) > 1 {
				r.label = c + " · " + strings.TrimSuffix(strings.TrimPrefix(name, "accuracy."), ".noninferiority")
			}
			for i := len(v.D.Windows) - 1; i >= 0 && r.missing; i-- {
				w := v.D.Windows[i]
				for _, cr := range w.Classes {
					if cr.Class != c {
						continue
					}
					for _, m := range cr.Metrics {
						if m.Name == name && m.N > 0 && finite(m.Value) {
							r = forestRow{label: r.label + " (" + w.Window.Start.UTC().Format("01-02") + ", n=" + fmt.Sprint(m.N) + ")", est: m.Value, lo: m.CILow, hi: m.CIHigh, fail: m.Status == eval.StatusFail}
						}
					}
				}
			}
			if r.missing {
				r.label += " (no labels)"
			}
			rows = append(rows, r)
		}
	}
	// Top to bottom in alphabetical order.
	for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
		rows[i], rows[j] = rows[j], rows[i]
	}
	h := vg.Length(len(rows))*0.35*vg.Inch + 1.3*vg.Inch
	f, err := forestChart("AI − legacy accuracy by input class (latest labelled window; "+ciLabel(v.D.Methodology.Alpha)+" Tango intervals)", rows, v.D.Methodology.Criteria.QualityMargin, wideW, h)
	if err != nil {
		return err
	}
	v.Forest = f
	v.ForestNote = "Squares are point estimates, bars the two-sided intervals; a class is non-inferior when its whole interval lies right of the dashed margin. Red marks a failing class."
	return nil
}

func anyFinite(pts []point) bool {
	for _, p := range pts {
		if finite(p.y) {
			return true
		}
	}
	return false
}

func (v *view) latencyTable() {
	for _, c := range v.Last.Classes {
		r := latencyRow{Class: c.Class}
		get := func(n string) *eval.Metric {
			for _, m := range c.Metrics {
				if m.Name == n {
					return m
				}
			}
			return nil
		}
		any := false
		for i, q := range []string{"p50", "p95", "p99"} {
			r.Legacy[i], r.AI[i] = "–", "–"
			if m := get("latency_ms.legacy." + q); m != nil {
				r.Legacy[i], any = ms(m.Value), true
			}
			if m := get("latency_ms.ai." + q); m != nil {
				r.AI[i], any = ms(m.Value), true
				r.N = m.N
				if q == "p95" {
					r.AIP95CI = interval(m)
				}
			}
		}
		if m := get("latency_ms.ai.p95_bound"); m != nil {
			r.Bound, r.Status, r.Reason = ms(m.Threshold), m.Status, m.Reason
		}
		if any {
			v.LatencyRows = append(v.LatencyRows, r)
		}
	}
}

func (v *view) driftTable() {
	for _, c := range v.Last.Classes {
		for _, m := range c.Metrics {
			if strings.HasPrefix(m.Name, "drift.") {
				v.DriftRows = append(v.DriftRows, row(c.Class, m))
			}
		}
	}
}

func (v *view) audit() {
	fv := v.D.Verdict
	if o := fv.Override; o != nil {
		v.Overrides = append(v.Overrides, fmt.Sprintf("In force now (%s): force_legacy=%t, freeze=%t, by %s at %s: %s", o.Source, o.ForceLegacy, o.Freeze, o.By, o.At, o.Reason))
	}
	for _, w := range v.D.Windows {
		if o := w.Override; o != nil {
			v.Overrides = append(v.Overrides, fmt.Sprintf("Window %s: override from %s (force_legacy=%t, freeze=%t) by %s: %s", w.Window.Start.UTC().Format("2006-01-02"), o.Source, o.ForceLegacy, o.Freeze, o.By, o.Reason))
		}
	}
	v.Events = fv.Events
	seen := map[string]bool{}
	for _, w := range v.D.Windows {
		if w.ParityVersion != "" && !seen[w.ParityVersion] {
			seen[w.ParityVersion] = true
			v.Versions = append(v.Versions, w.ParityVersion)
		}
	}
}

func (v *view) method() {
	m := v.D.Methodology
	switch m.Adjust {
	case "bh":
		v.AdjustText = "Benjamini-Hochberg (false discovery rate) across every criterion p-value of the feature in a window, all input classes together"
	case "none":
		v.AdjustText = "none: each criterion is judged at α on its own p-value"
	default:
		v.AdjustText = "Holm step-down (family-wise error rate) across every criterion p-value of the feature in a window, all input classes together"
	}
	if m.Graduation == "anytime" {
		v.Repeated = fmt.Sprintf("The evaluation looks at the data every window. Graduation needs %d consecutive passing windows and, in addition, an anytime-valid (asymptotic) confidence sequence over the pooled paired counts of the streak that excludes an AI deficit larger than the margin, so looking every window does not inflate the chance of a false graduation.", m.GraduateAfter)
	} else {
		v.Repeated = fmt.Sprintf("The evaluation looks at the data every window. A window counts only when every criterion of every class is significant after adjustment; graduation needs %d consecutive such windows and any failing, insufficient or missing window resets the streak, so a single lucky window cannot graduate. Rollback follows %d consecutive failing windows, or at once on a trigger (agreement significantly below %g%%, AI error rate or P95 latency significantly above its bound).", m.GraduateAfter, m.RollbackAfter, 100*m.Criteria.CriticalAgreement)
	}
}

// Formatting helpers. Figures use 4 significant digits, the precision
// `parity verify` quotes.

func num(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–"
	}
	if x != 0 && (math.Abs(x) < 1e-3 || math.Abs(x) >= 1e6) {
		return fmt.Sprintf("%.3e", x)
	}
	return fmt.Sprintf("%.4g", x)
}

func pval(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	if x < 1e-4 {
		return fmt.Sprintf("%.1e", x)
	}
	return fmt.Sprintf("%.4f", x)
}

func ms(x float64) string {
	if !finite(x) {
		return "–"
	}
	return fmt.Sprintf("%.0f ms", x)
}

func fpct(x float64) string {
	if !finite(x) {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*x)
}

func interval(m *eval.Metric) string {
	if !finite(m.CILow) && !finite(m.CIHigh) {
		return "–"
	}
	f := num
	if strings.HasPrefix(m.Name, "latency_ms.") {
		f = func(x float64) string { return strings.TrimSuffix(ms(x), " ms") }
	}
	s := "[" + f(m.CILow) + ", " + f(m.CIHigh) + "]"
	if finite(m.CILevel) && m.CILevel > 0 {
		s += fmt.Sprintf(" %g%%", 100*m.CILevel)
	}
	if m.CIMethod != "" {
		s += " " + m.CIMethod
	}
	return s
}

func statusLetter(s string) string {
	switch s {
	case eval.StatusPass:
		return "P"
	case eval.StatusFail:
		return "F"
	case eval.StatusInsufficient:
		return "I"
	case eval.StatusError:
		return "E"
	case "":
		return ""
	}
	return "?"
}

func shortHash(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
