// Package html builds parity's review report: one self-contained HTML
// file per feature and period (inline CSS and SVG charts, a print
// stylesheet, no external requests) that explains the verdict, shows the
// evidence, and names every input object and the config so the figures
// can be recomputed (`parity verify`). The machine-readable Data behind
// the report is embedded in it as JSON; the same Data renders as
// Markdown for a ticket and is what verification compares.
//
// Every figure comes from the stored evaluations, verdicts, history
// records and manifests a run wrote; this package reads and formats them
// and computes nothing statistical itself.
package html

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/reports"
	"github.com/parity-eval/parity/reports/audit"
	"github.com/parity-eval/parity/storage"
)

// SchemaVersion of the embedded report data. Bump on incompatible change.
const SchemaVersion = 1

// Data is everything a report shows, in the form embedded in the HTML
// (<script type="application/json" id="parity-data">) and written by
// `parity report --format json`. GeneratedAt is the only field that
// differs between two reports of the same inputs and config.
type Data struct {
	SchemaVersion int       `json:"schema_version"`
	GeneratedAt   time.Time `json:"generated_at"`
	Feature       string    `json:"feature"`
	From          time.Time `json:"from"`
	To            time.Time `json:"to"`
	// Verdict is the feature's decision as of the last window in range.
	Verdict eval.FeatureVerdict `json:"verdict"`
	// Windows in range that have a stored evaluation, oldest first.
	Windows     []Window    `json:"windows"`
	Methodology Methodology `json:"methodology"`
	Lineage     Lineage     `json:"lineage"`
	// OverrideLog holds the audit log's override entries for the windows
	// in range: the recorded human decisions. They carry the run id and
	// time of recording, so they reproduce only from the same audit log.
	OverrideLog []audit.Entry `json:"override_log"`
}

// Window is one evaluated window of the feature.
type Window struct {
	Window  eval.Window `json:"window"`
	Status  string      `json:"status"`
	Rows    int64       `json:"rows"`
	AIShare eval.Float  `json:"ai_share"`
	// AuditComplete is the share of records carrying the full audit trail
	// (null when the audit columns are not logged).
	AuditComplete eval.Float          `json:"audit_complete"`
	ModelVersions map[string]int64    `json:"model_versions,omitempty"`
	Alerts        []eval.Alert        `json:"alerts"`
	Classes       []*eval.ClassResult `json:"classes"`
	// Omitted counts the window's metrics left out of the report (see
	// reported); every one is in scores/window=K/scores.parquet.
	Omitted int `json:"omitted_metrics"`
	// The verdict as replayed for this window.
	Verdict        string         `json:"verdict"`
	Reasons        []string       `json:"reasons"`
	Streak         eval.Streak    `json:"streak"`
	TrafficPercent float64        `json:"traffic_percent"`
	Override       *eval.Override `json:"override,omitempty"`
	// Run that wrote the evaluation (its id is left out: it names a
	// process, not an input, and would make reproductions differ).
	ConfigHash    string `json:"config_hash"`
	ManifestHash  string `json:"manifest_hash"`
	ParityVersion string `json:"parity_version"`
}

// Methodology states how every figure was judged.
type Methodology struct {
	Alpha         float64   `json:"alpha"`
	Power         float64   `json:"power"`
	Adjust        string    `json:"adjust"`
	Graduation    string    `json:"graduation"`
	WindowLength  string    `json:"window_length"`
	Baseline      string    `json:"baseline"`
	Criteria      Criteria  `json:"criteria"`
	GraduateAfter int       `json:"graduate_after"`
	RollbackAfter int       `json:"rollback_after"`
	Steps         []float64 `json:"steps"`
	Freshness     string    `json:"freshness"`
	// Tests used by the figures in this report, with their assumptions.
	Tests []Test `json:"tests"`
}

// Criteria are the feature's configured pass/fail rules.
type Criteria struct {
	MinAgreement      float64 `json:"min_agreement"`
	CriticalAgreement float64 `json:"critical_agreement"`
	QualityMargin     float64 `json:"quality_margin"`
	MaxP95LatencyMS   float64 `json:"max_p95_latency_ms"`
	MaxErrorRate      float64 `json:"max_error_rate"`
	CostBudget        float64 `json:"cost_budget_per_window"`
}

// Test is one statistical method used in the report.
type Test struct {
	Name        string   `json:"name"`
	Metrics     []string `json:"metrics"`
	Assumptions string   `json:"assumptions"`
}

// Lineage names what the figures were computed from.
type Lineage struct {
	ConfigPath string `json:"config_path"`
	ConfigHash string `json:"config_hash"`
	// Config is the config file's text, verbatim.
	Config string `json:"config"`
	// Logs and Labels are the resolved input locations.
	Logs   string `json:"logs"`
	Labels string `json:"labels,omitempty"`
	Output string `json:"output"`
	// EvaluatedFrom is the first stored window: streaks and the drift
	// baseline depend on every window since, so verification recomputes
	// from here.
	EvaluatedFrom eval.Window `json:"evaluated_from"`
	// History lists the start of every stored window up to the report's
	// end, so a recomputation evaluates exactly those (gaps included).
	History []time.Time `json:"history"`
	Inputs  []Input     `json:"inputs"`
	// ParityVersion rendered the report; the windows name the versions
	// that computed them.
	ParityVersion string `json:"parity_version"`
}

// Input is one object read by the runs behind the report.
type Input struct {
	Location string `json:"location"`
	Size     int64  `json:"size"`
	ETag     string `json:"etag"`
	Rows     int64  `json:"rows"`
	RowsUsed int64  `json:"rows_used"`
}

// Options for Build.
type Options struct {
	// Now is the generated-at time (default time.Now).
	Now time.Time
	// Version of parity rendering the report (version and commit).
	Version string
}

// Build reads the stored outputs of cfg for one feature and the windows
// inside [from, to) and assembles the report data. A zero from or to
// means the first or last stored window.
func Build(ctx context.Context, cfg *config.Config, out storage.Store, feature string, from, to time.Time, o Options) (*Data, error) {
	f := cfg.Feature(feature)
	if f == nil {
		return nil, fmt.Errorf("report: unknown feature %q", feature)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	stored, err := storedWindows(ctx, out, cfg.Window.D())
	if err != nil {
		return nil, err
	}
	if from.IsZero() {
		from = stored[0].Start
	}
	if to.IsZero() {
		to = stored[len(stored)-1].End
	}
	d := &Data{SchemaVersion: SchemaVersion, GeneratedAt: o.Now.UTC(), Feature: feature, From: from.UTC(), To: to.UTC()}
	inputs := map[string]Input{}
	for _, w := range stored {
		if w.Start.Before(from) || w.End.After(to) {
			continue
		}
		wd, ok, err := loadWindow(ctx, out, feature, w, inputs)
		if err != nil {
			return nil, err
		}
		if ok {
			d.Windows = append(d.Windows, wd.w)
			d.Verdict = wd.verdict
		}
	}
	if len(d.Windows) == 0 {
		return nil, fmt.Errorf("report: no stored evaluation of %s in %s between %s and %s (run `parity backfill` first)", feature, out.URI(), from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	}
	d.Lineage = lineage(cfg, out, stored[0], inputs, o.Version)
	end := d.Windows[len(d.Windows)-1].Window.End
	for _, w := range stored {
		if !w.End.After(end) {
			d.Lineage.History = append(d.Lineage.History, w.Start)
		}
	}
	d.Methodology = methodology(cfg, f, d.Windows)
	entries, err := audit.Read(ctx, out, feature)
	if err != nil {
		return nil, fmt.Errorf("report: audit log: %w", err)
	}
	d.OverrideLog = []audit.Entry{}
	for _, e := range entries {
		if e.Kind == audit.KindOverride && !e.Window.Start.Before(d.From) && !e.Window.End.After(d.To) {
			d.OverrideLog = append(d.OverrideLog, e)
		}
	}
	return d, nil
}

type loaded struct {
	w       Window
	verdict eval.FeatureVerdict
}

// loadWindow reads one window's evaluation, verdicts, history record and
// manifest; ok is false when the feature was not evaluated in it.
func loadWindow(ctx context.Context, out storage.Store, feature string, w eval.Window, inputs map[string]Input) (loaded, bool, error) {
	var ev struct {
		Run      reports.RunInfo       `json:"run"`
		Features []*eval.FeatureWindow `json:"features"`
	}
	if err := getJSON(ctx, out, fmt.Sprintf("evaluations/window=%s/evaluation.json", w.Key()), &ev); err != nil {
		return loaded{}, false, err
	}
	var fw *eval.FeatureWindow
	for _, x := range ev.Features {
		if x.Feature == feature {
			fw = x
		}
	}
	if fw == nil {
		return loaded{}, false, nil
	}
	var vd reports.Verdicts
	if err := getJSON(ctx, out, fmt.Sprintf("verdicts/window=%s/verdicts.json", w.Key()), &vd); err != nil {
		return loaded{}, false, err
	}
	fd := vd.Features[feature]
	if fd == nil {
		return loaded{}, false, fmt.Errorf("report: %s/verdicts/window=%s/verdicts.json has no verdict for %s", out.URI(), w.Key(), feature)
	}
	recs := map[string]eval.WindowRecord{}
	if err := getJSON(ctx, out, fmt.Sprintf("history/window=%s/records.json", w.Key()), &recs); err != nil {
		return loaded{}, false, err
	}
	audit := eval.Float(nanF())
	if r, ok := recs[feature]; ok {
		audit = r.AuditComplete
	}
	var m datasets.Manifest
	if err := getJSON(ctx, out, fmt.Sprintf("manifests/window=%s/manifest.json", w.Key()), &m); err != nil {
		return loaded{}, false, err
	}
	for _, fi := range m.Files {
		k := fi.Location + "\x00" + fi.ETag
		in := inputs[k]
		in.Location, in.Size, in.ETag, in.Rows = fi.Location, fi.Size, fi.ETag, fi.Rows
		switch {
		case m.Window != nil:
			// A window's manifest counts that window's rows.
			in.RowsUsed += fi.RowsUsed
		case fi.RowsUsed > in.RowsUsed:
			// Older outputs stored the run's manifest for each of its
			// windows, with the run's rows used.
			in.RowsUsed = fi.RowsUsed
		}
		inputs[k] = in
	}
	alerts := fd.Alerts
	if alerts == nil {
		alerts = []eval.Alert{}
	}
	omitted := 0
	for _, c := range fw.Classes {
		kept := c.Metrics[:0]
		for _, m := range c.Metrics {
			if reported(m) {
				kept = append(kept, m)
			} else {
				omitted++
			}
		}
		c.Metrics = kept
	}
	wd := Window{
		Window: w, Status: fw.Status, Rows: fw.Rows, AIShare: fw.AIShare, AuditComplete: audit,
		ModelVersions: fw.ModelVersions, Alerts: alerts, Classes: fw.Classes, Omitted: omitted,
		Verdict: fd.Verdict, Reasons: fd.Reasons, Streak: fd.Streak, TrafficPercent: fd.Traffic.Percent, Override: fd.Override,
		ConfigHash: ev.Run.ConfigHash, ManifestHash: ev.Run.ManifestHash, ParityVersion: ev.Run.ParityVersion,
	}
	return loaded{w: wd, verdict: fd.FeatureVerdict}, true, nil
}

// reported selects the metrics a report carries: every criterion, every
// tested figure and everything else except known detail families —
// confusion matrices and per-category precision/recall/F1 (quality.*,
// apart from the macro F1), calibration bins and risk-coverage curves.
// The detail stays in the scores Parquet, so the document stays
// readable however many categories a field has; metrics of custom
// scorers are always carried.
func reported(m *eval.Metric) bool {
	if m.Criterion || m.Test != "" {
		return true
	}
	switch {
	case strings.HasPrefix(m.Name, "quality."):
		return strings.HasSuffix(m.Name, ".macro_f1")
	case strings.HasPrefix(m.Name, "calibration.bin."), strings.HasPrefix(m.Name, "risk_coverage."):
		return false
	}
	return true
}

func getJSON(ctx context.Context, s storage.Store, key string, v any) error {
	data, _, err := s.Get(ctx, key)
	if err != nil {
		if errors.Is(err, storage.ErrNotExist) {
			return fmt.Errorf("report: %s/%s is missing (was the window evaluated by an older parity, or is the run incomplete?)", s.URI(), key)
		}
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("report: %s/%s: %w", s.URI(), key, err)
	}
	return nil
}

// storedWindows lists the windows with a stored evaluation, oldest first.
func storedWindows(ctx context.Context, out storage.Store, length time.Duration) ([]eval.Window, error) {
	objs, err := out.List(ctx, "evaluations/")
	if err != nil {
		return nil, err
	}
	var ws []eval.Window
	for _, o := range objs {
		if !strings.HasSuffix(o.Key, "/evaluation.json") {
			continue
		}
		_, rest, ok := strings.Cut(o.Key, "window=")
		if !ok {
			continue
		}
		rest, _, _ = strings.Cut(rest, "/")
		t, err := time.Parse("2006-01-02T15-04-05Z", rest)
		if err != nil {
			continue
		}
		ws = append(ws, eval.Window{Start: t, End: t.Add(length)})
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].Start.Before(ws[j].Start) })
	if len(ws) == 0 {
		return nil, fmt.Errorf("report: no stored evaluations in %s (run `parity backfill` first)", out.URI())
	}
	return ws, nil
}

func lineage(cfg *config.Config, out storage.Store, first eval.Window, inputs map[string]Input, version string) Lineage {
	l := Lineage{ConfigPath: absPath(cfg.Path), ConfigHash: cfg.Hash, Config: string(cfg.Raw), Logs: absPath(cfg.Source.Logs), Labels: absPath(cfg.Source.Labels), Output: out.URI(), EvaluatedFrom: first, ParityVersion: version, Inputs: []Input{}}
	for _, in := range inputs {
		l.Inputs = append(l.Inputs, in)
	}
	sort.Slice(l.Inputs, func(i, j int) bool {
		a, b := l.Inputs[i], l.Inputs[j]
		if a.Location != b.Location {
			return a.Location < b.Location
		}
		return a.ETag < b.ETag
	})
	return l
}

// absPath makes a local path absolute so the report names it unambiguously.
func absPath(p string) string {
	if p == "" || strings.Contains(p, "://") {
		return p
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func methodology(cfg *config.Config, f *config.Feature, ws []Window) Methodology {
	m := Methodology{
		Alpha: cfg.Stats.Alpha, Power: cfg.Stats.Power, Adjust: cfg.Stats.Adjust, Graduation: f.Policy.Graduation,
		WindowLength: config.FormatDuration(cfg.Window.D()),
		Criteria: Criteria{MinAgreement: f.Criteria.MinAgreement, CriticalAgreement: f.Criteria.CriticalAgreement, QualityMargin: f.Criteria.QualityMargin,
			MaxP95LatencyMS: f.Criteria.MaxP95LatencyMS, MaxErrorRate: f.Criteria.MaxErrorRate, CostBudget: f.Criteria.CostBudgetPerWindow},
		GraduateAfter: f.Policy.GraduateAfter, RollbackAfter: f.Policy.RollbackAfter, Steps: f.Policy.Steps, Freshness: config.FormatDuration(f.Policy.Freshness.D()),
	}
	if m.Graduation == "" {
		m.Graduation = cfg.Stats.Graduation
	}
	if m.Graduation == "" {
		m.Graduation = "consecutive"
	}
	if m.Adjust == "" {
		m.Adjust = "holm"
	}
	if b := cfg.Baseline; b.From != "" {
		m.Baseline = fmt.Sprintf("the stored windows from %s to %s", b.From, orStr(b.To, "the evaluated window"))
	} else {
		m.Baseline = fmt.Sprintf("the first %d stored windows", b.Windows)
	}
	m.Tests = testsUsed(ws)
	return m
}

func nanF() float64 { return math.NaN() }

func orStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// testFamilies describes each family of tests by the prefix of the test
// name eval records, so the methodology lists what was actually used.
var testFamilies = []struct{ prefix, name, assumptions string }{
	{"exact binomial on exceedances", "Exact binomial test on exceedances of a latency bound (one-sided)",
		"requests independent given the window; the P95 bound holds when fewer than 5% of requests exceed it; no distributional assumption on latency"},
	{"exact binomial", "Exact binomial test of a rate against a bound (one-sided), Clopper-Pearson interval",
		"requests independent with a common rate within the class and window; exact, no large-sample approximation"},
	{"Tango score test", "Tango score test for paired non-inferiority of accuracy, Tango interval",
		"each labelled request judged for both systems (paired); pairs independent; normal approximation of the score statistic (rough with few discordant pairs, which is flagged)"},
	{"McNemar", "McNemar test of a difference in paired accuracy (exact binomial below 25 discordant pairs, else chi-square with continuity correction)",
		"paired binary outcomes; pairs independent; reported for context, not a criterion"},
	{"Mann-Whitney", "Mann-Whitney U test of a latency shift between systems",
		"independent samples; normal approximation with tie and continuity correction; latencies come from a log-bucket sketch (0.5% relative error); context only"},
	{"Wilcoxon", "Wilcoxon signed-rank test of paired score differences",
		"paired differences, symmetric about their median under H0; normal approximation with tie correction"},
	{"two-sample Kolmogorov-Smirnov", "Two-sample Kolmogorov-Smirnov test of AI confidence against the baseline (drift)",
		"continuous data (conservative with ties); independent samples; drift is reported, not judged"},
	{"Pearson chi-square", "Pearson chi-square test of homogeneity of the AI output mix against the baseline (drift), with the population stability index",
		"independent requests; expected counts of at least 5 per cell (fewer is flagged)"},
	{"fixed-sequence testing", "Fixed-sequence testing of confidence thresholds (family-wise error at most α without adjustment)",
		"thresholds tested in a pre-specified order, stopping at the first non-rejection; each step an exact binomial test"},
}

func testsUsed(ws []Window) []Test {
	used := map[int]map[string]bool{}
	other := map[string]map[string]bool{} // tests outside the known families, by name
	for _, w := range ws {
		for _, c := range w.Classes {
			for _, m := range c.Metrics {
				if m.Test == "" {
					continue
				}
				known := false
				for i, tf := range testFamilies {
					if strings.HasPrefix(m.Test, tf.prefix) {
						if used[i] == nil {
							used[i] = map[string]bool{}
						}
						used[i][m.Name] = true
						known = true
						break
					}
				}
				if !known {
					if other[m.Test] == nil {
						other[m.Test] = map[string]bool{}
					}
					other[m.Test][m.Name] = true
				}
			}
		}
	}
	out := []Test{}
	for i, tf := range testFamilies {
		if used[i] == nil {
			continue
		}
		t := Test{Name: tf.name, Assumptions: tf.assumptions}
		for n := range used[i] {
			t.Metrics = append(t.Metrics, n)
		}
		sort.Strings(t.Metrics)
		out = append(out, t)
	}
	names := make([]string, 0, len(other))
	for n := range other {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := Test{Name: n, Assumptions: "as documented for this test in parity's eval/stats package"}
		for m := range other[n] {
			t.Metrics = append(t.Metrics, m)
		}
		sort.Strings(t.Metrics)
		out = append(out, t)
	}
	return out
}

// Encode renders the data as indented JSON.
func (d *Data) Encode() ([]byte, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Decode parses report data.
func Decode(b []byte) (*Data, error) {
	var d Data
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("report data: %w", err)
	}
	if d.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("report data: schema version %d, this parity reads %d", d.SchemaVersion, SchemaVersion)
	}
	return &d, nil
}
