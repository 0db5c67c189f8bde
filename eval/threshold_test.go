package eval_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/eval/stats"
)

var sharedDirs []string

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range sharedDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// freshTables sums, per ticket_routing class, the confidence-binned
// paired tables of every stored window of a run.
func freshTables(t *testing.T, r *e2eRun) map[string]map[int]eval.Pair {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(r.dir, "out", "aggregates", "window=*", "aggregates.json"))
	if len(files) == 0 {
		t.Fatal("no stored aggregates")
	}
	out := map[string]map[int]eval.Pair{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var af eval.AggregatesFile
		if err := json.Unmarshal(data, &af); err != nil {
			t.Fatal(err)
		}
		for _, g := range af.Groups {
			a := g.Metrics["quality.category"]
			if g.Key.Feature != "ticket_routing" || a == nil || a.Quality == nil {
				continue
			}
			m := out[g.Key.Class]
			if m == nil {
				m = map[int]eval.Pair{}
				out[g.Key.Class] = m
			}
			for k, p := range a.Quality.Conf {
				m[k] = m[k].Plus(p)
			}
		}
	}
	return out
}

// TestConfidenceThresholdFreshData checks the published per-class
// confidence thresholds out of sample: thresholds chosen on each daily
// window of one synthetic run (seed 1) are applied to fresh data from the
// same generator (seed 2 at half the scale, all windows pooled per class), where the AI's
// accuracy on the requests at or above the threshold must be
// non-inferior to legacy's on the same requests. Each (window, class)
// threshold is one repetition of the seeded simulation; the share whose
// fresh accuracy difference is below -margin must stay within alpha (the
// fixed-sequence procedure's familywise error rate), and the fresh data
// must show non-inferiority for nearly all of them.
func TestConfidenceThresholdFreshData(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	const margin, alpha = 0.03, 0.05
	train := sharedE2E(t, 1, 1)
	fresh := freshTables(t, sharedE2E(t, 2, 0.5))
	var published, violated, shown, nulls int
	perClass := map[string][]float64{}
	for day := 1; day <= 30; day++ {
		for _, c := range train.feature(day, "ticket_routing").Classes {
			if c.Gate == nil {
				t.Fatalf("day %d %s: no confidence gate", day, c.Class)
			}
			th := float64(c.Gate.Threshold)
			if math.IsNaN(th) {
				nulls++
				continue
			}
			published++
			perClass[c.Class] = append(perClass[c.Class], th, float64(c.Gate.Coverage))
			if !(c.Gate.Coverage > 0 && c.Gate.Coverage <= 1) {
				t.Errorf("day %d %s: coverage %v", day, c.Class, c.Gate.Coverage)
			}
			var above eval.Pair
			for k, p := range fresh[c.Class] {
				if float64(k)/eval.ThresholdBins >= th-1e-9 {
					above = above.Plus(p)
				}
			}
			tab := above.Table()
			if tab.N() == 0 {
				t.Errorf("day %d %s: no fresh rows above %.2f", day, c.Class, th)
				continue
			}
			if tab.Diff() < -margin {
				violated++
				t.Logf("day %d %s: threshold %.2f: fresh AI-legacy accuracy %+.3f on %d rows", day, c.Class, th, tab.Diff(), tab.N())
			}
			if stats.NonInferiority(tab, margin, alpha, 0.8).P < alpha {
				shown++
			}
		}
	}
	t.Logf("%d thresholds published (%d classes-windows without), %d violate the margin on fresh data, %d shown non-inferior there", published, nulls, violated, shown)
	for cl, v := range perClass {
		var th, cov float64
		for i := 0; i < len(v); i += 2 {
			th += v[i]
			cov += v[i+1]
		}
		t.Logf("%s: %d thresholds, mean %.2f, mean coverage %.2f", cl, len(v)/2, th/float64(len(v)/2), cov/float64(len(v)/2))
	}
	if published < 60 {
		t.Fatalf("only %d thresholds published: the test has no power", published)
	}
	if float64(violated) > alpha*float64(published) {
		t.Errorf("%d of %d thresholds are not non-inferior on fresh data, want <= %.0f%%", violated, published, 100*alpha)
	}
	if float64(shown) < 0.9*float64(published) {
		t.Errorf("fresh data shows non-inferiority above only %d of %d thresholds", shown, published)
	}
}
