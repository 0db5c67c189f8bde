package eval

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers"
)

// builtinConfig gives every built-in scorer something to do: categorical
// fields with labels (accuracy, quality), JSON fields of every
// comparator, a latency bound (OverBound) and a configured scorer
// after the built-ins (not trusted with Out.Untouched).
const builtinConfig = `version: 1
source: {logs: unused}
output: unused
window: 6h
features:
  - name: ticket_routing
    fields:
      - {name: category, legacy: legacy_category, ai: ai_category, label: label_category, critical: true}
    criteria: {max_p95_latency_ms: 900}
    scorers:
      - {name: same_category, type: normalized_equal, legacy: legacy_category, ai: ai_category}
      - {name: category_f1, type: token_f1, legacy: legacy_category, ai: ai_category}
  - name: invoice_extraction
    fields:
      - {name: amount, legacy_json: legacy_output, ai_json: ai_output, path: $.amount, comparator: numeric, abs_tolerance: 0.01, label: "-", critical: true}
      - {name: currency, legacy_json: legacy_output, ai_json: ai_output, path: $.currency, label: "-"}
      - {name: vendor, legacy_json: legacy_output, ai_json: ai_output, path: $.vendor, comparator: case_insensitive, label: "-"}
`

// testBatch is n rows of both features interleaved over a day (several
// windows), with nulls in every optional column.
func testBatch(t *testing.T, e *Engine, seed uint64, n int) *datasets.Batch {
	r := rand.New(rand.NewPCG(seed, 1))
	day := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	cats := []string{"billing", "technical", "account", ""}
	classes := []string{"email", "chat", "", "web"}
	b := &datasets.Batch{File: "f", Rows: n}
	for _, spec := range e.Projection() {
		c := &datasets.Column{Name: spec.Name, Kind: spec.Kind, Null: make([]bool, n)}
		dict := map[string]int32{}
		str := func(v string) {
			code, ok := dict[v]
			if !ok {
				code = int32(len(c.Dict))
				dict[v] = code
				c.Dict = append(c.Dict, v)
			}
			c.Codes = append(c.Codes, code)
		}
		for i := range n {
			null := spec.Optional && r.IntN(12) == 0
			c.Null[i] = null
			switch spec.Kind {
			case datasets.KindString:
				var v string
				switch spec.Name {
				case "request_id":
					v, null = "r"+strconv.Itoa(i), false
				case "feature":
					v, null = []string{"ticket_routing", "invoice_extraction"}[r.IntN(2)], false
				case "input_class":
					v = classes[r.IntN(len(classes))]
				case "legacy_output", "ai_output":
					v = fmt.Sprintf(`{"amount":%d.%02d,"currency":"%s","vendor":"%s"}`, r.IntN(9), r.IntN(100), []string{"EUR", "USD"}[r.IntN(2)], []string{"Acme", "ACME", "Bolt"}[r.IntN(3)])
				case "served_by":
					v = []string{"ai", "legacy"}[r.IntN(2)]
				case "ai_model_version":
					v = []string{"v1", "v2"}[r.IntN(2)]
				default: // categories and labels
					v = cats[r.IntN(len(cats))]
				}
				c.Null[i] = null
				str(v)
			case datasets.KindFloat64:
				v := 1000 * r.ExpFloat64()
				if spec.Name == "ai_confidence" {
					v = r.Float64() * 1.1 // some out of [0, 1]
				}
				c.Float = append(c.Float, v)
			case datasets.KindBool:
				c.Bool = append(c.Bool, r.IntN(20) == 0)
			case datasets.KindTimestamp, datasets.KindInt64:
				c.Int = append(c.Int, day+int64(i)*int64(24*time.Hour)/int64(n))
				c.Null[i] = false
			default:
				t.Fatalf("column %q: kind %v", spec.Name, spec.Kind)
			}
		}
		b.Cols = append(b.Cols, c)
	}
	return b
}

func testEngine(t *testing.T) *Engine { return engineFor(t, builtinConfig) }

// engineFor is an engine for cfgText over four 6h windows of 2026-10-01.
func engineFor(t *testing.T, cfgText string) *Engine {
	cfg, err := config.Parse("t.yaml", []byte(cfgText))
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	e, err := NewEngine(cfg, nil, WindowsBetween(day, day.AddDate(0, 0, 1), 6*time.Hour), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestBuiltinsWriteOnlyTheirKind holds the built-in scorers to what
// Out.Untouched trusts them with: after Score, Untouched and Reset, every
// buffer is NaN / "" again, which fails if a scorer wrote a buffer
// outside its kind's (that Reset then skips). Checked on every feature's
// own rows, all scorers in turn on one Out as eval runs them.
func TestBuiltinsWriteOnlyTheirKind(t *testing.T) {
	e := testEngine(t)
	b := testBatch(t, e, 1, 3000)
	checked, configured := 0, 0
	for _, p := range e.order {
		if p.builtin == 0 {
			t.Fatalf("feature %q: no built-in scorers", p.cfg.Name)
		}
		configured += len(p.scorers) - p.builtin
		var idx []int32
		feat := b.Col("feature")
		for i := range b.Rows {
			if feat.Str(i) == p.cfg.Name {
				idx = append(idx, int32(i))
			}
		}
		var g gatherBufs
		sub := &datasets.Batch{Rows: len(idx)}
		// Every column: eval gathers fewer (p.cols; direct scorers read
		// the batch's), but here each built-in's Score runs.
		sub.Cols = g.gather(b.Cols, idx)
		for _, s := range p.jsonSrcs {
			sub.Cols = append(sub.Cols, scorers.ExtractJSONPaths(sub.Col(s.src), s.paths)...)
		}
		in := &scorers.Input{Rows: len(idx), Batch: sub}
		o := &scorers.Out{}
		for _, s := range p.scorers[:p.builtin] {
			o.Reset(len(idx))
			if err := s.Score(in, o); err != nil {
				t.Fatal(err)
			}
			wrote := false
			for i := range len(idx) {
				wrote = wrote || !math.IsNaN(o.Value[i]) || !math.IsNaN(o.Legacy[i]) || !math.IsNaN(o.AI[i]) || o.Category(i) != ""
			}
			if !wrote {
				t.Errorf("%s: scorer %q wrote nothing: the check proves nothing", p.cfg.Name, s.Name())
			}
			o.Untouched(s.Kind())
			o.Reset(len(idx))
			for i := range len(idx) {
				if !math.IsNaN(o.Value[i]) || !math.IsNaN(o.Legacy[i]) || !math.IsNaN(o.AI[i]) || o.Cat[i] != "" {
					t.Fatalf("%s: scorer %q (%v) wrote outside its kind's outputs: row %d is %v %v %v %q", p.cfg.Name, s.Name(), s.Kind(), i, o.Value[i], o.Legacy[i], o.AI[i], o.Cat[i])
				}
			}
			checked++
		}
	}
	if configured != 2 {
		t.Fatalf("%d configured scorers after the built-ins, want 2", configured)
	}
	if checked < 20 {
		t.Fatalf("only %d built-in scorers checked", checked)
	}
}

// TestBatchSameWithoutTrust: trusting the built-ins' outputs (partial
// Out refills) gives exactly the aggregates of refilling every buffer
// for every scorer, over batches of mixed sizes on one worker.
func TestBatchSameWithoutTrust(t *testing.T) {
	run := func(trust bool) []byte {
		e := testEngine(t)
		if !trust {
			for _, p := range e.order {
				p.builtin = 0
			}
		}
		ws := e.NewWorkers(1, []string{"f"})
		for k, n := range []int{3000, 700, 5000, 1} {
			if err := ws.Batch(0, testBatch(t, e, uint64(k), n)); err != nil {
				t.Fatal(err)
			}
		}
		return groupsJSON(t, ws.Result())
	}
	got, want := run(true), run(false)
	if !slices.Equal(got, want) {
		t.Fatalf("aggregates differ with trusted built-ins:\n%s\nwant\n%s", got, want)
	}
	if len(want) < 10000 {
		t.Fatalf("aggregates too small to prove much: %s", want)
	}
}

// TestBatchRowsInWindows checks how Batch assigns rows to windows when
// timestamps jump back and forth across window edges and outside the
// configured windows (Batch remembers the current window's range and
// recomputes it only on leaving it): every row's group, and the rows
// dropped as outside, against a row-by-row reference.
func TestBatchRowsInWindows(t *testing.T) {
	e := testEngine(t) // four 6h windows from day
	day := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	h := int64(time.Hour)
	b := testBatch(t, e, 7, 4000)
	ts, feat, cls := b.Col("ts"), b.Col("feature"), b.Col("input_class")
	edges := []int64{day - 1, day, day + 6*h - 1, day + 6*h, day + 24*h - 1, day + 24*h, day - 6*h}
	r := rand.New(rand.NewPCG(3, 4))
	for i := range ts.Int {
		switch r.IntN(4) {
		case 0: // an edge, or one of its neighbours
			ts.Int[i] = edges[r.IntN(len(edges))]
		case 1: // anywhere from half a day before to half a day after
			ts.Int[i] = day - 12*h + r.Int64N(48*h)
		default: // a run of the previous row's time, as logs mostly are
			if i > 0 {
				ts.Int[i] = ts.Int[i-1] + r.Int64N(h/4)
			}
		}
	}
	want := map[GroupKey]int64{}
	var outside int64
	for i, x := range ts.Int {
		win := x - floorMod(x, 6*h)
		if win < day || win >= day+24*h {
			outside++
			continue
		}
		class := ""
		if !cls.IsNull(i) {
			class = cls.Dict[cls.Codes[i]]
		}
		if class == "" {
			class = "(none)"
		}
		want[GroupKey{Feature: feat.Dict[feat.Codes[i]], Class: class, Window: win / 1e9}]++
	}
	if outside < 500 || outside > 3500 {
		t.Fatalf("%d of 4000 rows outside: the test data proves little", outside)
	}
	ws := e.NewWorkers(1, []string{"f"})
	if err := ws.Batch(0, b); err != nil {
		t.Fatal(err)
	}
	a := ws.Result()
	if got := a.Dropped["outside_window"]; got != outside {
		t.Errorf("dropped outside_window = %d, want %d", got, outside)
	}
	got := map[GroupKey]int64{}
	for k, g := range a.Groups {
		got[k] = g.Rows
	}
	if !maps.Equal(got, want) {
		t.Errorf("rows per group:\n got %v\nwant %v", got, want)
	}
}

// TestProjectionPresenceOnly: a column only the audit check reads (the
// input hash) is decoded as presence codes; one that any other reader
// needs as values (request id, model version, or the hash once a
// configured scorer compares it) is decoded in full.
func TestProjectionPresenceOnly(t *testing.T) {
	presence := func(cfgText string) map[string]bool {
		out := map[string]bool{}
		for _, c := range engineFor(t, cfgText).Projection() {
			out[c.Name] = c.PresenceOnly
		}
		return out
	}
	got := presence(builtinConfig)
	for col, want := range map[string]bool{"input_hash": true, "request_id": false, "ai_model_version": false, "legacy_category": false} {
		if v, ok := got[col]; !ok || v != want {
			t.Errorf("builtin config: column %q PresenceOnly = %v (projected %v), want %v", col, v, ok, want)
		}
	}
	withReader := strings.Replace(builtinConfig,
		"      - {name: same_category, type: normalized_equal, legacy: legacy_category, ai: ai_category}",
		"      - {name: same_category, type: normalized_equal, legacy: legacy_category, ai: ai_category}\n      - {name: same_hash, type: normalized_equal, legacy: input_hash, ai: input_hash}", 1)
	if withReader == builtinConfig {
		t.Fatal("fixture: config not extended")
	}
	if got := presence(withReader); got["input_hash"] {
		t.Error("input_hash read by a configured scorer is still PresenceOnly")
	}
}

// TestFeatureColumnGatheredOnlyWhenNeeded: the feature column is not
// gathered for a feature's rows unless a scorer needs it, and a
// configured scorer that compares it with itself then sees it on every
// row of a mixed batch.
func TestFeatureColumnGatheredOnlyWhenNeeded(t *testing.T) {
	cfgText := strings.Replace(builtinConfig,
		"      - {name: same_category, type: normalized_equal, legacy: legacy_category, ai: ai_category}",
		"      - {name: same_category, type: normalized_equal, legacy: legacy_category, ai: ai_category}\n      - {name: same_feature, type: normalized_equal, legacy: feature, ai: feature}", 1)
	if cfgText == builtinConfig {
		t.Fatal("fixture: config not extended")
	}
	e := engineFor(t, cfgText)
	if e.plans["ticket_routing"].cols["feature"] != true || e.plans["invoice_extraction"].cols["feature"] {
		t.Errorf("feature column gathered: routing %v (a scorer needs it), invoice %v (none does)",
			e.plans["ticket_routing"].cols["feature"], e.plans["invoice_extraction"].cols["feature"])
	}
	ws := e.NewWorkers(1, []string{"f"})
	if err := ws.Batch(0, testBatch(t, e, 5, 3000)); err != nil {
		t.Fatal(err)
	}
	var rows int64
	for k, g := range ws.Result().Groups {
		if k.Feature != "ticket_routing" {
			continue
		}
		a := g.Metrics["same_feature"]
		if a == nil || a.N != g.Rows || a.K != g.Rows {
			t.Fatalf("group %v: same_feature %+v, want N = K = %d rows", k, a, g.Rows)
		}
		rows += g.Rows
	}
	if rows < 1000 {
		t.Fatalf("%d ticket_routing rows: the fixture proves little", rows)
	}
}

// TestBatchDuplicatesAcrossFeatures: PLAIN request ids (DictRepeats, one
// Dict entry per row) repeated within a batch, also across features and
// with empty ids among them. Batch lists each row for its feature before
// the duplicates are known and strikes them off after: its aggregates,
// drop counts and rows used must equal those of the batch with the
// repeats removed beforehand.
func TestBatchDuplicatesAcrossFeatures(t *testing.T) {
	aggsOf := func(ws *Workers) []byte { return groupsJSON(t, ws.Result()) }
	for _, tc := range []struct {
		name  string
		empty bool // some ids are "" (dropped as null_request_id)
	}{{"noempty", false}, {"empty", true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := testEngine(t)
			r := rand.New(rand.NewPCG(8, 9))
			const n = 3000
			b := testBatch(t, e, 11, n)
			rid := b.Col("request_id")
			ids := make([]string, n)
			for i := range ids {
				ids[i] = rid.Dict[rid.Codes[i]]
				if i > 0 && r.IntN(8) == 0 {
					ids[i] = ids[r.IntN(i)] // an earlier row's, of either feature
				}
				if tc.empty && r.IntN(50) == 0 {
					ids[i] = ""
				}
			}
			rid.Dict, rid.Codes, rid.DictRepeats, rid.NoEmpty = ids, make([]int32, n), true, !tc.empty
			for i := range rid.Codes {
				rid.Codes[i] = int32(i)
			}
			seen := map[string]bool{}
			var keep []int32
			var dups, empty int64
			for i, id := range ids {
				switch {
				case id == "":
					empty++
				case seen[id]:
					dups++
				default:
					seen[id] = true
					keep = append(keep, int32(i))
				}
			}
			if dups < n/20 || (tc.empty && empty == 0) {
				t.Fatalf("fixture: %d duplicates, %d empty ids", dups, empty)
			}
			want := &datasets.Batch{File: "f", Rows: len(keep)}
			for _, c := range b.Cols {
				want.Cols = append(want.Cols, gatherSimple(c, keep))
			}
			want.Col("request_id").NoEmpty = true

			ws := e.NewWorkers(1, []string{"f"})
			if err := ws.Batch(0, b); err != nil {
				t.Fatal(err)
			}
			wws := e.NewWorkers(1, []string{"f"})
			if err := wws.Batch(0, want); err != nil {
				t.Fatal(err)
			}
			if got, w := aggsOf(ws), aggsOf(wws); !slices.Equal(got, w) {
				t.Fatalf("aggregates differ from the batch without repeats:\n%s\nwant\n%s", got, w)
			}
			d := ws.Result().Dropped
			if d["duplicate_request_id"] != dups || d["null_request_id"] != empty {
				t.Errorf("dropped %v, want %d duplicates and %d empty ids", d, dups, empty)
			}
			var got int64
			for _, byFile := range ws.Uses() {
				got += byFile["f"].Used
			}
			if got != int64(len(keep)) {
				t.Errorf("rows used %d, want %d", got, len(keep))
			}
		})
	}
}

// groupsJSON is a's groups in key order, then extra, as JSON: two runs'
// aggregates compared byte for byte.
func groupsJSON(t *testing.T, a *Aggregates, extra ...any) []byte {
	t.Helper()
	var out []any
	for _, k := range a.Keys() {
		out = append(out, k, a.Groups[k])
	}
	j, err := json.Marshal(append(out, extra...))
	if err != nil {
		t.Fatal(err)
	}
	return j
}
