package jobs

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/reports"
)

// TestSameVerdictsAsStored: the check behind checkFresh passes when the
// in-memory evaluation says what its encoding says (NaN and ±Inf both
// store as null, and verdicts show both as null), and fails when they
// disagree on anything a verdict shows.
func TestSameVerdictsAsStored(t *testing.T) {
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	w := eval.Window{Start: start, End: start.Add(24 * time.Hour)}
	now := start.Add(25 * time.Hour)
	run := reports.RunInfo{ID: "r1", ConfigHash: "h"}
	fws := func(v float64, status string) []*eval.FeatureWindow {
		return []*eval.FeatureWindow{{Feature: "f", Window: w, Status: status, Rows: 10,
			AIShare: eval.Float(math.NaN()), AICost: eval.Float(math.NaN()),
			Classes: []*eval.ClassResult{{Class: "c", Status: status, N: 10, Metrics: []*eval.Metric{
				{Name: "agreement.x", Value: v, CILow: math.Inf(-1), CIHigh: math.NaN(), P: math.NaN(), PAdjusted: math.NaN(), Statistic: math.NaN(), Threshold: 0.95, N: 10, Status: status},
			}}}}}
	}
	decided := map[string]eval.FeatureVerdict{"f": {}}
	stored, err := json.MarshalIndent(evaluationDoc(w, fws(0.9, eval.StatusFail), run), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	verdicts := func(fw []*eval.FeatureWindow) []byte {
		doc := reports.BuildVerdicts(w, fw, decided, run, now)
		doc.Run = run
		data, err := doc.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	if err := sameVerdictsAsStored(stored, w, decided, run, now, verdicts(fws(0.9, eval.StatusFail))); err != nil {
		t.Fatalf("same evaluation: %v", err)
	}
	for name, fw := range map[string][]*eval.FeatureWindow{
		"value":  fws(0.91, eval.StatusFail),
		"status": fws(0.9, eval.StatusPass),
	} {
		err := sameVerdictsAsStored(stored, w, decided, run, now, verdicts(fw))
		if err == nil || !strings.Contains(err.Error(), "in-memory evaluation differ") {
			t.Errorf("%s changed in memory: err = %v, want a difference reported", name, err)
		}
	}
}
