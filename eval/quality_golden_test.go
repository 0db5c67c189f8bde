package eval

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/parity-eval/parity/scorers"
)

var updateQuality = flag.Bool("update-quality", false, "regenerate testdata/quality/golden.json with /usr/bin/python3 testdata/quality/reference.py")

const qualityPython = "/usr/bin/python3"

var qualityGolden = filepath.Join("testdata", "quality", "golden.json")

type qualityCase struct {
	Name     string  `json:"name"`
	Rows     [][]any `json:"rows"` // label, legacy, ai, confidence or null
	Expected struct {
		Categories []string      `json:"categories"`
		LegacyRaw  prfExpected   `json:"legacy"`
		AIRaw      prfExpected   `json:"ai"`
		Brier      *float64      `json:"brier"`
		ECE        *float64      `json:"ece"`
		Bins       [][3]*float64 `json:"bins"`
	} `json:"expected"`
}

type prfExpected struct {
	Precision, Recall, F1 []float64
	Support               []int64
	Macro, Weighted       [3]float64
}

// accumulateRows folds golden rows into an Acc through addQuality, the
// engine's path for Classification scorers.
func accumulateRows(rows [][]any) *Acc {
	a := &Acc{}
	for _, r := range rows {
		label, leg, ai := r[0].(string), r[1].(string), r[2].(string)
		conf := math.NaN()
		if c, ok := r[3].(float64); ok {
			conf = c
		}
		b := func(ok bool) float64 {
			if ok {
				return 1
			}
			return 0
		}
		addQuality(a, scorers.ClassificationKey(label, leg, ai), b(leg == label), b(ai == label), conf)
	}
	return a
}

func closeTo(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("%s = %.15g, want %.15g (reference.py)", what, got, want)
	}
}

// TestQualityGolden checks precision / recall / F1 per category, macro
// and weighted averages, Brier score, ECE and the reliability bins
// against scikit-learn and numpy (testdata/quality/golden.json) to 1e-9,
// on a battery with missing predictions, categories never predicted or
// never true, confidences on bin edges and rows without a confidence.
func TestQualityGolden(t *testing.T) {
	data, err := os.ReadFile(qualityGolden)
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []qualityCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) < 5 {
		t.Fatalf("golden battery has %d cases", len(g.Cases))
	}
	for _, c := range g.Cases {
		q := accumulateRows(c.Rows).Quality
		cats := q.Categories()
		if !reflect.DeepEqual(cats, c.Expected.Categories) {
			t.Fatalf("%s: categories %v, want %v", c.Name, cats, c.Expected.Categories)
		}
		for _, sys := range []struct {
			name string
			conf map[string]int64
			want prfExpected
		}{{"legacy", q.Legacy, c.Expected.LegacyRaw}, {"ai", q.AI, c.Expected.AIRaw}} {
			r := Report(sys.conf, cats, 0.95)
			for i, s := range r.Categories {
				p := c.Name + "/" + sys.name + "/" + s.Category
				closeTo(t, p+" precision", s.Precision, sys.want.Precision[i])
				closeTo(t, p+" recall", s.Recall, sys.want.Recall[i])
				closeTo(t, p+" f1", s.F1, sys.want.F1[i])
				if s.Support != sys.want.Support[i] {
					t.Errorf("%s support %d, want %d", p, s.Support, sys.want.Support[i])
				}
			}
			p := c.Name + "/" + sys.name
			closeTo(t, p+" macro precision", r.MacroPrecision, sys.want.Macro[0])
			closeTo(t, p+" macro recall", r.MacroRecall, sys.want.Macro[1])
			closeTo(t, p+" macro f1", r.MacroF1, sys.want.Macro[2])
			closeTo(t, p+" weighted precision", r.WeightedPrecision, sys.want.Weighted[0])
			closeTo(t, p+" weighted recall", r.WeightedRecall, sys.want.Weighted[1])
			closeTo(t, p+" weighted f1", r.WeightedF1, sys.want.Weighted[2])
		}
		cal := q.Calibration()
		if c.Expected.Brier == nil {
			if cal.N != 0 {
				t.Errorf("%s: calibration on %d rows, want none", c.Name, cal.N)
			}
			continue
		}
		closeTo(t, c.Name+" brier", cal.Brier, *c.Expected.Brier)
		closeTo(t, c.Name+" ece", cal.ECE, *c.Expected.ECE)
		for k, b := range c.Expected.Bins {
			if int64(*b[0]) != cal.Bins[k].N {
				t.Errorf("%s bin %d: n %d, want %g", c.Name, k, cal.Bins[k].N, *b[0])
			}
			if b[1] != nil {
				closeTo(t, c.Name+" bin accuracy", cal.Bins[k].Accuracy, *b[1])
				closeTo(t, c.Name+" bin mean confidence", cal.Bins[k].MeanConf, *b[2])
			}
		}
	}
}

// TestQualityMergeExact splits every golden battery into shards,
// aggregates them separately, merges (also through the stored JSON form)
// and checks the counts equal one pass's exactly and the float sums to
// summation-order rounding.
func TestQualityMergeExact(t *testing.T) {
	data, err := os.ReadFile(qualityGolden)
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []qualityCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	for _, c := range g.Cases {
		whole := accumulateRows(c.Rows)
		merged := &Acc{}
		for s := 0; s < 3; s++ {
			var part [][]any
			for i := s; i < len(c.Rows); i += 3 {
				part = append(part, c.Rows[i])
			}
			shard := accumulateRows(part)
			b, err := json.Marshal(shard)
			if err != nil {
				t.Fatal(err)
			}
			var back Acc
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			merged.Merge(&back)
		}
		w, m := whole.Quality, merged.Quality
		if !reflect.DeepEqual(w.Legacy, m.Legacy) || !reflect.DeepEqual(w.AI, m.AI) || !reflect.DeepEqual(w.PerLabel, m.PerLabel) || !reflect.DeepEqual(w.Conf, m.Conf) || w.NoConf != m.NoConf {
			t.Errorf("%s: merged shards' counts differ from one pass", c.Name)
		}
		for k := range w.Calib {
			if w.Calib[k].N != m.Calib[k].N || w.Calib[k].Correct != m.Calib[k].Correct || math.Abs(w.Calib[k].ConfSum-m.Calib[k].ConfSum) > 1e-9 {
				t.Errorf("%s: calibration bin %d differs after merge: %+v vs %+v", c.Name, k, w.Calib[k], m.Calib[k])
			}
		}
		if math.Abs(w.BrierSum-m.BrierSum) > 1e-9 {
			t.Errorf("%s: Brier sum %g merged vs %g", c.Name, m.BrierSum, w.BrierSum)
		}
	}
}

// TestQualityGoldenReference regenerates the golden file with
// scikit-learn and checks it equals the committed one (with
// -update-quality, rewrites it). Without /usr/bin/python3 and sklearn it
// skips, and fails under CI=true.
func TestQualityGoldenReference(t *testing.T) {
	if exec.Command(qualityPython, "-c", "import sklearn, numpy").Run() != nil {
		msg := qualityPython + " with scikit-learn is needed to regenerate " + qualityGolden + ": apt-get install -y python3-sklearn"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	out, err := exec.Command(qualityPython, filepath.Join("testdata", "quality", "reference.py")).Output()
	if err != nil {
		t.Fatalf("reference.py: %v", err)
	}
	if *updateQuality {
		if err := os.WriteFile(qualityGolden, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	committed, err := os.ReadFile(qualityGolden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, committed) {
		t.Errorf("%s is not what reference.py produces now: rerun with -update-quality and review the diff", qualityGolden)
	}
}
