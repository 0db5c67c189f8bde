package eval

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestChooseThresholdFWER is a seeded simulation of the threshold
// procedure's error control with known truth: confidence c ~ U(0, 1),
// legacy right with probability 0.9, the AI right with probability
// 0.6 + 0.4c (independently), so on requests with confidence >= t the
// accuracy difference is Δ(t) = 0.2t − 0.1 and the hypothesis
// "non-inferior at margin 0.03" is false exactly for t <= 0.35. Over
// 2000 repetitions of 600 labelled rows, the share of published
// thresholds at or below 0.35 must stay within alpha (plus Monte Carlo
// slack), while at least 80% of repetitions publish a threshold.
func TestChooseThresholdFWER(t *testing.T) {
	const reps, n, margin, alpha = 2000, 600, 0.03, 0.05
	rng := rand.New(rand.NewPCG(12, 2026))
	var published, wrong int
	for r := 0; r < reps; r++ {
		bins := map[int]Pair{}
		for i := 0; i < n; i++ {
			c := rng.Float64()
			k := binOf(c, ThresholdBins)
			p := bins[k]
			p.Add(rng.Float64() < 0.9, rng.Float64() < 0.6+0.4*c)
			bins[k] = p
		}
		s := ChooseThreshold(bins, Pair{}, margin, alpha, 0.8)
		if math.IsNaN(s.Threshold) {
			continue
		}
		published++
		if s.Threshold <= 0.35+1e-9 {
			wrong++
		}
		if s.Coverage <= 0 || s.Coverage > 1 || s.Above.N() < thresholdMinRows {
			t.Fatalf("rep %d: threshold %.2f with coverage %v on %d rows", r, s.Threshold, s.Coverage, s.Above.N())
		}
	}
	rate := float64(wrong) / reps
	t.Logf("%d of %d repetitions published a threshold; %d (%.2f%%) at a t where the AI is inferior", published, reps, wrong, 100*rate)
	// Binomial standard error at 5% over 2000 reps is 0.5%: allow 3 SE.
	if rate > alpha+3*math.Sqrt(alpha*(1-alpha)/reps) {
		t.Errorf("familywise error %.3f above alpha %.2f", rate, alpha)
	}
	if published < reps*8/10 {
		t.Errorf("only %d of %d repetitions published a threshold", published, reps)
	}
}

// TestChooseThresholdEdges: no labelled rows or too few give no
// threshold (never a guess); rows without a confidence count in the
// coverage denominator; a threshold is never below the lowest confidence
// bin holding a labelled row.
func TestChooseThresholdEdges(t *testing.T) {
	if s := ChooseThreshold(nil, Pair{}, 0.03, 0.05, 0.8); !math.IsNaN(s.Threshold) || s.Tested != 0 {
		t.Errorf("no rows: %+v", s)
	}
	few := map[int]Pair{95: {20, 0, 2, 0}}
	if s := ChooseThreshold(few, Pair{}, 0.03, 0.05, 0.8); !math.IsNaN(s.Threshold) {
		t.Errorf("22 rows: threshold %v, want none", s.Threshold)
	}
	good := map[int]Pair{90: {200, 0, 20, 2}, 70: {100, 0, 5, 1}}
	s := ChooseThreshold(good, Pair{26, 1, 0, 1}, 0.03, 0.05, 0.8)
	if s.Threshold != 0.70 {
		t.Errorf("threshold %v, want 0.70 (the lowest bin with rows)", s.Threshold)
	}
	if want := 328.0 / 356; math.Abs(s.Coverage-want) > 1e-12 {
		t.Errorf("coverage %v, want %v", s.Coverage, want)
	}
	// A bin where the AI is clearly worse stops the sequence above it.
	bad := map[int]Pair{90: {200, 0, 20, 2}, 50: {0, 80, 0, 20}, 30: {100, 0, 10, 0}}
	if s := ChooseThreshold(bad, Pair{}, 0.03, 0.05, 0.8); s.Threshold != 0.90 || s.Tested != 2 {
		t.Errorf("threshold %v after %d tests, want 0.90 after 2", s.Threshold, s.Tested)
	}
}
