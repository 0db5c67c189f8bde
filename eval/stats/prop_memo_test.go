package stats

import "testing"

// TestRateBelowNMemo: the memoised RateBelowN answers every question as
// the direct computation does, first and repeated, for questions that
// differ in one argument at a time (a key missing an argument would
// answer one with another's result).
func TestRateBelowNMemo(t *testing.T) {
	qs := [][4]float64{
		{0.05, 0.025, 0.05, 0.8}, {0.05, 0.025, 0.01, 0.8}, {0.05, 0.025, 0.05, 0.9},
		{0.05, 0.01, 0.05, 0.8}, {0.1, 0.025, 0.05, 0.8}, {0.05, 0.04, 0.05, 0.8},
	}
	for round := range 2 {
		for _, q := range qs {
			want := rateBelowN(q[0], q[1], q[2], q[3])
			if got := RateBelowN(q[0], q[1], q[2], q[3]); got != want {
				t.Errorf("round %d: RateBelowN%v = %d, want %d", round, q, got, want)
			}
		}
	}
	if got := RateBelowN(0.05, 0.06, 0.05, 0.8); got != 0 { // planned above the bound: invalid
		t.Errorf("invalid question: %d, want 0", got)
	}
}
