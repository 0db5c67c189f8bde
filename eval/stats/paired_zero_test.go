package stats

import (
	"math"
	"strings"
	"testing"
)

// TestNonInferiorityNoDiscordantPairs: 133 concordant pairs at margin
// 0.02 gave Tango p = 0.0497, a pass at α = 0.05, while the chance of
// seeing no discordant pair at the H0 boundary is 0.98^133 = 0.068: the
// test's real type-I error there was ~7%. The p-value is now at least
// that chance, and the warning no longer says "p = 1" beside a small p.
func TestNonInferiorityNoDiscordantPairs(t *testing.T) {
	for _, n := range []int64{133, 140, 148, 300} {
		r := NonInferiority(Paired2x2{BothRight: n * 9 / 10, BothWrong: n - n*9/10}, 0.02, 0.05, 0.8)
		floor := math.Pow(0.98, float64(n))
		if r.P < floor-1e-15 {
			t.Errorf("n=%d: p %g below (1-margin)^n = %g", n, r.P, floor)
		}
		if z := normalSF(r.Statistic); r.P != math.Max(z, floor) {
			t.Errorf("n=%d: p %g, want max(score p %g, %g)", n, r.P, z, floor)
		}
		w := strings.Join(r.Warnings, "; ")
		if strings.Contains(w, "p = 1") || !strings.Contains(w, "zero discordant") {
			t.Errorf("n=%d: warnings %q", n, w)
		}
	}
	if r := NonInferiority(Paired2x2{BothRight: 133}, 0.02, 0.05, 0.8); r.P < 0.05 {
		t.Errorf("133 concordant pairs pass non-inferiority at margin 0.02: p %g", r.P)
	}
	// McNemar keeps its own warning.
	if r := McNemar(Paired2x2{BothRight: 133}); !strings.Contains(strings.Join(r.Warnings, ";"), "p = 1") {
		t.Errorf("McNemar warnings %q", r.Warnings)
	}
}
