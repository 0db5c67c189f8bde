package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parity-eval/parity/datasets/synth"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/jobs"
	"github.com/parity-eval/parity/reports"
)

// TestLimitedRunKeepsOtherFeatures: a run limited to one feature (a job's
// `features:`, --features) re-evaluates that feature and keeps every
// other feature's outputs: the same verdicts in every window, their
// flags, their scores rows and their aggregates. It used to write
// windows, latest.json and the flagd file holding the one feature only.
func TestLimitedRunKeepsOtherFeatures(t *testing.T) {
	cfg, out := pubSetup(t, "")
	now := synth.DefaultStart.Add(21 * 24 * time.Hour)
	if _, err := pubBackfill(t, cfg, now); err != nil {
		t.Fatal(err)
	}
	before := pubVerdictsByWindow(t, out)
	last := eval.Window{Start: synth.DefaultStart.Add(19 * 24 * time.Hour), End: synth.DefaultStart.Add(20 * 24 * time.Hour)}
	read := func(rel string) []byte {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(out, fmt.Sprintf(rel, last.Key())))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	aggsBefore := read("aggregates/window=%s/aggregates.json")
	scoresBefore := scoresByFeature(t, read("scores/window=%s/scores.parquet"))
	flagsBefore := flagNames(t, read("flags/flagd.json%.0s"))

	// The window's log file is renamed before the limited run: the other
	// features' figures still come from the old name, refund_approval's
	// from the new, and the window's manifest must list both.
	day := filepath.Join(cfg.Source.Logs, "dt="+last.Start.Format("2006-01-02"))
	if err := os.Rename(filepath.Join(day, "part-00000.parquet"), filepath.Join(day, "part-00009.parquet")); err != nil {
		t.Fatal(err)
	}

	r, err := jobs.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	windows := eval.WindowsBetween(last.Start.Add(-48*time.Hour), last.End, 24*time.Hour)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	res, err := r.Evaluate(context.Background(), windows, jobs.Options{Now: func() time.Time { return now }, Log: log, Workers: 2, Features: []string{"refund_approval"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Verdicts.Features) != len(cfg.Features) {
		t.Errorf("latest verdicts hold %d features, want all %d", len(res.Verdicts.Features), len(cfg.Features))
	}
	after := pubVerdictsByWindow(t, out)
	for w, v := range before {
		if after[w] != v {
			t.Errorf("%s: verdicts changed by a run of refund_approval alone:\n before %s\n after  %s", w, v, after[w])
		}
	}
	if got := read("aggregates/window=%s/aggregates.json"); !bytes.Equal(got, aggsBefore) {
		t.Errorf("the window's aggregates changed (%d bytes, were %d)", len(got), len(aggsBefore))
	}
	scoresAfter := scoresByFeature(t, read("scores/window=%s/scores.parquet"))
	for f, n := range scoresBefore {
		if scoresAfter[f] != n {
			t.Errorf("scores rows of %s: %d, were %d", f, scoresAfter[f], n)
		}
	}
	if got := flagNames(t, read("flags/flagd.json%.0s")); !slices.Equal(got, flagsBefore) {
		t.Errorf("flags %v, were %v", got, flagsBefore)
	}
	var m struct {
		Files []struct{ Key, Role string } `json:"files"`
	}
	if err := json.Unmarshal(read("manifests/window=%s/manifest.json"), &m); err != nil {
		t.Fatal(err)
	}
	var logs []string
	for _, f := range m.Files {
		if f.Role == "" {
			logs = append(logs, f.Key)
		}
	}
	slices.Sort(logs)
	prefix := "dt=" + last.Start.Format("2006-01-02") + "/"
	if want := []string{prefix + "part-00000.parquet", prefix + "part-00009.parquet"}; !slices.Equal(logs, want) {
		t.Errorf("the window's manifest lists the log files %v, want %v (the stored run's and this run's)", logs, want)
	}
}

func scoresByFeature(t *testing.T, data []byte) map[string]int {
	t.Helper()
	rows, err := reports.DecodeScores(data)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, r := range rows {
		n[r.Feature]++
	}
	if len(n) < 2 {
		t.Fatalf("scores hold %d features, want several", len(n))
	}
	return n
}

func flagNames(t *testing.T, data []byte) []string {
	t.Helper()
	var doc struct {
		Flags map[string]json.RawMessage `json:"flags"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var names []string
	for k := range doc.Flags {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// TestLimitedRunKeepsRowsUsed: a run limited to one feature over
// unchanged inputs leaves each object's rows used in the window's
// manifest as the full run counted them (every feature's outputs rest on
// them), not its own feature's share; verify of another feature's report
// compared those counts and failed.
func TestLimitedRunKeepsRowsUsed(t *testing.T) {
	cfg, out := pubSetup(t, "")
	now := synth.DefaultStart.Add(21 * 24 * time.Hour)
	if _, err := pubBackfill(t, cfg, now); err != nil {
		t.Fatal(err)
	}
	last := eval.Window{Start: synth.DefaultStart.Add(19 * 24 * time.Hour), End: synth.DefaultStart.Add(20 * 24 * time.Hour)}
	key := filepath.Join(out, "manifests", "window="+last.Key(), "manifest.json")
	before, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	r, err := jobs.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := r.Evaluate(context.Background(), []eval.Window{last}, jobs.Options{Now: func() time.Time { return now }, Log: log, Workers: 2, Features: []string{"refund_approval"}}); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	used := func(data []byte) map[string]int64 {
		var m struct {
			Files []struct {
				Key      string
				RowsUsed int64 `json:"rows_used"`
			}
		}
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		out := map[string]int64{}
		for _, f := range m.Files {
			out[f.Key] = f.RowsUsed
		}
		return out
	}
	if a, b := used(before), used(after); !maps.Equal(a, b) || len(a) == 0 {
		t.Errorf("rows used by object: full run %v, after a refund_approval-only run %v", a, b)
	}
}
