// Package scorertest is the test kit for scorers: rows in, per-row scores
// and the statistics a run would report out. A data scientist writing a
// scorer tests it in three lines:
//
//	kit := scorertest.Parse(t, `
//	    name: reply_f1
//	    type: token_f1
//	    legacy: legacy_reply
//	    ai: ai_reply
//	    threshold: 0.5
//	    min_pass_rate: 0.8`)
//	got := kit.Score(t, rows)          // per-row Out, exactly what Score wrote (checked)
//	res := kit.Evaluate(t, rows)       // through eval's engine and statistics
//	m := res.Metric(t, "email", "reply_f1.pass_rate")
//
// Parse wraps the scorer definition in a minimal config and loads it with
// config.Parse, so the checks of a real config load (unknown type, bad
// params) apply; Evaluate feeds the rows to the real eval.Engine and
// eval.Evaluate, so aggregates, tests and pass/fail statuses are those of
// a run, not a re-implementation.
package scorertest

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/scorers"
)

// Row is one log row: column name to value. Values are string, float64,
// int, int64, bool, time.Time or nil (null). Columns the scorer needs but
// a row lacks are null in that row.
type Row map[string]any

// Feature is the feature name the kit's config uses.
const Feature = "f"

// ClassColumn is the column rows put their input class in (optional;
// rows without one are class "(none)", as in a run).
const ClassColumn = "input_class"

// Day is the window every row falls in.
var Day = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

// Kit is one configured scorer ready to score rows.
type Kit struct {
	Cfg    *config.Config
	Def    config.ScorerDef
	Scorer scorers.Scorer
	// BatchRows splits rows into batches of this many (default: one
	// batch), as a scan delivers row groups.
	BatchRows int
}

// Config wraps one scorer definition (YAML of a features[].scorers item,
// any common indentation) in a minimal valid config.
func Config(def string) string {
	lines := strings.Split(strings.Trim(def, "\n"), "\n")
	indent := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if indent < 0 || n < indent {
			indent = n
		}
	}
	var b strings.Builder
	b.WriteString("version: 1\nsource:\n  logs: unused\noutput: unused\nwindow: 24h\nfeatures:\n  - name: " + Feature + "\n    scorers:\n")
	for i, l := range lines {
		if len(l) >= indent {
			l = l[indent:]
		}
		if i == 0 {
			b.WriteString("      - " + l + "\n")
		} else {
			b.WriteString("        " + l + "\n")
		}
	}
	return b.String()
}

// Load loads a scorer definition as a config load would, and builds the
// scorer. The error is the config error a user would see.
func Load(def string) (*Kit, error) {
	cfg, err := config.Parse("scorertest.yaml", []byte(Config(def)))
	if err != nil {
		return nil, err
	}
	f := cfg.Feature(Feature)
	if len(f.Scorers) != 1 {
		return nil, fmt.Errorf("scorertest: want exactly one scorer definition, got %d", len(f.Scorers))
	}
	s, err := scorers.New(f.Scorers[0], f)
	if err != nil {
		return nil, err
	}
	if err := scorers.Validate(s); err != nil {
		return nil, err
	}
	return &Kit{Cfg: cfg, Def: f.Scorers[0], Scorer: s}, nil
}

// Parse is Load that fails the test on error.
func Parse(t testing.TB, def string) *Kit {
	t.Helper()
	k, err := Load(def)
	if err != nil {
		t.Fatalf("scorer definition does not load:\n%v\nconfig was:\n%s", err, Config(def))
	}
	return k
}

// Input builds a scorer Input from rows: one column per need, of the
// need's kind, strings dictionary-encoded as a scan delivers them. An
// optional need no row mentions is absent (nil), as when a file lacks it.
func Input(needs []scorers.Need, rows []Row) (*scorers.Input, error) {
	b := &datasets.Batch{File: "scorertest", Rows: len(rows)}
	seen := map[string]bool{}
	for _, n := range needs {
		if seen[n.Column] {
			continue
		}
		seen[n.Column] = true
		c, err := column(n.Column, n.Kind, rows, n.Optional)
		if err != nil {
			return nil, err
		}
		if c != nil {
			b.Cols = append(b.Cols, c)
		}
	}
	return &scorers.Input{Rows: len(rows), Batch: b}, nil
}

// column builds one column of kind from rows; nil when optional and no
// row has the key.
func column(name string, kind datasets.Kind, rows []Row, optional bool) (*datasets.Column, error) {
	present := false
	for _, r := range rows {
		if _, ok := r[name]; ok {
			present = true
			break
		}
	}
	if !present && optional {
		return nil, nil
	}
	c := &datasets.Column{Name: name, Kind: kind}
	codes := map[string]int32{}
	for i, r := range rows {
		v, ok := r[name]
		if !ok || v == nil {
			if c.Null == nil {
				c.Null = make([]bool, len(rows))
			}
			c.Null[i] = true
			v = nil
		}
		bad := func() error {
			return fmt.Errorf("row %d column %q: %T value %v for a %s column", i, name, v, v, kind)
		}
		switch kind {
		case datasets.KindString:
			s := ""
			if v != nil {
				x, ok := v.(string)
				if !ok {
					return nil, bad()
				}
				s = x
			}
			code, ok := codes[s]
			if !ok {
				code = int32(len(c.Dict))
				c.Dict = append(c.Dict, s)
				codes[s] = code
			}
			c.Codes = append(c.Codes, code)
		case datasets.KindFloat64:
			var x float64
			switch y := v.(type) {
			case nil:
			case float64:
				x = y
			case int:
				x = float64(y)
			case int64:
				x = float64(y)
			default:
				return nil, bad()
			}
			c.Float = append(c.Float, x)
		case datasets.KindInt64:
			var x int64
			switch y := v.(type) {
			case nil:
			case int:
				x = int64(y)
			case int64:
				x = y
			default:
				return nil, bad()
			}
			c.Int = append(c.Int, x)
		case datasets.KindBool:
			x, ok := v.(bool)
			if !ok && v != nil {
				return nil, bad()
			}
			c.Bool = append(c.Bool, x)
		case datasets.KindTimestamp:
			var x int64
			switch y := v.(type) {
			case nil:
			case time.Time:
				x = y.UnixNano()
			default:
				return nil, bad()
			}
			c.Int = append(c.Int, x)
		default:
			return nil, fmt.Errorf("column %q: unsupported kind %s", name, kind)
		}
	}
	return c, nil
}

// Score runs the scorer once over rows and returns what it wrote.
func (k *Kit) Score(t testing.TB, rows []Row) *scorers.Out {
	t.Helper()
	return Score(t, k.Scorer, rows)
}

// Score runs any scorer once over rows (no config needed) and returns
// what it wrote; a Score error fails the test.
func Score(t testing.TB, s scorers.Scorer, rows []Row) *scorers.Out {
	t.Helper()
	out, err := TryScore(s, rows)
	if err != nil {
		t.Fatalf("scorer %q: %v", s.Name(), err)
	}
	return out
}

// TryScore is Score returning the scorer's error (to test error paths).
// Category and Classification output is checked in either form
// (scorers.Out.CheckCategories): a code beyond Keys, both forms written,
// or a classification category that is not a ClassificationKey is an
// error. Read a row's category in either form with out.Category(i).
func TryScore(s scorers.Scorer, rows []Row) (*scorers.Out, error) {
	in, err := Input(s.Needs(), rows)
	if err != nil {
		return nil, err
	}
	out := scorers.NewOut(len(rows))
	if err := s.Score(in, out); err != nil {
		return out, err
	}
	if err := out.CheckCategories(s.Kind(), len(rows)); err != nil {
		return out, fmt.Errorf("scorer %q: %w", s.Name(), err)
	}
	return out, nil
}

// Result is the evaluation of rows as a run would report it.
type Result struct {
	Window  eval.Window
	Aggs    *eval.Aggregates
	Feature *eval.FeatureWindow
}

// Acc is the scorer's aggregate for a class (nil when no row scored).
func (r *Result) Acc(class, metric string) *eval.Acc {
	g := r.Aggs.Groups[eval.GroupKey{Feature: Feature, Class: class, Window: r.Window.Start.Unix()}]
	if g == nil {
		return nil
	}
	return g.Metrics[metric]
}

// Class returns a class's result, failing the test when it is absent.
func (r *Result) Class(t testing.TB, class string) *eval.ClassResult {
	t.Helper()
	c := r.Feature.Class(class)
	if c == nil {
		var names []string
		for _, c := range r.Feature.Classes {
			names = append(names, c.Class)
		}
		t.Fatalf("no class %q in the evaluation (classes: %v)", class, names)
	}
	return c
}

// Metric returns a metric of a class, failing the test when absent.
func (r *Result) Metric(t testing.TB, class, name string) *eval.Metric {
	t.Helper()
	c := r.Class(t, class)
	var names []string
	for _, m := range c.Metrics {
		if m.Name == name {
			return m
		}
		names = append(names, m.Name)
	}
	sort.Strings(names)
	t.Fatalf("class %q has no metric %q (metrics: %v)", class, name, names)
	return nil
}

// Evaluate feeds rows through eval's engine (in batches of BatchRows, as
// a scan would) and eval.Evaluate for one daily window. Rows carry
// their class in "input_class"; request ids and timestamps are made up
// unless rows set "request_id" / "ts".
func (k *Kit) Evaluate(t testing.TB, rows []Row) *Result {
	t.Helper()
	r, err := k.TryEvaluate(rows)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TryEvaluate is Evaluate returning errors (a run-failing error comes
// from a non-isolated scorer).
func (k *Kit) TryEvaluate(rows []Row) (*Result, error) {
	w := eval.WindowAt(Day, 24*time.Hour)
	eng, err := eval.NewEngine(k.Cfg, []string{Feature}, []eval.Window{w}, nil, nil)
	if err != nil {
		return nil, err
	}
	cols := k.Cfg.Columns
	full := make([]Row, len(rows))
	for i, r := range rows {
		x := Row{cols.Feature: Feature, cols.RequestID: fmt.Sprintf("r%06d", i), cols.TS: Day.Add(time.Duration(i) * time.Millisecond)}
		for c, v := range r {
			x[c] = v
		}
		full[i] = x
	}
	ws := eng.NewWorkers(1, []string{"scorertest"})
	step := k.BatchRows
	if step <= 0 {
		step = max(1, len(full))
	}
	for lo, g := 0, 0; lo < len(full); lo, g = lo+step, g+1 {
		part := full[lo:min(lo+step, len(full))]
		b := &datasets.Batch{File: "scorertest", RowGroup: g, Rows: len(part)}
		for _, spec := range eng.Projection() {
			c, err := column(spec.Name, spec.Kind, part, spec.Optional)
			if err != nil {
				return nil, err
			}
			b.Cols = append(b.Cols, c)
		}
		if err := ws.Batch(0, b); err != nil {
			return nil, err
		}
	}
	aggs := ws.Result()
	fws := eval.Evaluate(k.Cfg, []string{Feature}, w, aggs, nil)
	if len(fws) != 1 {
		return nil, fmt.Errorf("scorertest: evaluation returned %d features", len(fws))
	}
	return &Result{Window: w, Aggs: aggs, Feature: fws[0]}, nil
}

// Floats compares per-row scores: NaN (not applicable) must match NaN,
// numbers must agree within tol.
func Floats(t testing.TB, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if math.IsNaN(w) != math.IsNaN(g) || !math.IsNaN(w) && math.Abs(g-w) > tol {
			t.Errorf("%s[%d] = %v, want %v (all: %v)", what, i, g, w, got)
		}
	}
}

// NaN is the per-row "not applicable" value, for want lists.
var NaN = math.NaN()
