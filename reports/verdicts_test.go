package reports

import (
	"slices"
	"testing"
	"time"

	"github.com/parity-eval/parity/eval"
)

// TestStaleFromValidUntil: a verdict is stale from the instant valid_until
// on, as the routers' check (time.Now().Before(valid_until)) treats it;
// `verdicts --check` and `serve` used to call it fresh at that instant.
func TestStaleFromValidUntil(t *testing.T) {
	vu := time.Date(2026, 11, 6, 0, 0, 0, 0, time.UTC)
	v := &Verdicts{Features: map[string]*FeatureDoc{"a": {FeatureVerdict: eval.FeatureVerdict{ValidUntil: vu}}}}
	for _, tc := range []struct {
		now  time.Time
		want []string
	}{
		{vu.Add(-time.Nanosecond), nil},
		{vu, []string{"a"}},
		{vu.Add(time.Hour), []string{"a"}},
	} {
		if got := v.Stale(tc.now); !slices.Equal(got, tc.want) {
			t.Errorf("Stale(%s) = %v, want %v", tc.now.Format(time.RFC3339Nano), got, tc.want)
		}
	}
}
