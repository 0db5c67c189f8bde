package scorers

import (
	"math"
	"testing"
)

// TestOutResetFillsNaN: every row of the float outputs is NaN and every
// category "" after Reset, whatever the previous scorer wrote and
// whatever the size (fillNaN doubles its copies, so sizes around powers
// of two are the edge cases).
func TestOutResetFillsNaN(t *testing.T) {
	o := NewOut(3)
	for _, n := range []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 1000, 1024, 1025, 65537, 10, 0, 70000} {
		for i := range o.Value {
			o.Value[i], o.Legacy[i], o.AI[i], o.Cat[i] = float64(i), 1, 0, "x"
		}
		o.Reset(n)
		if len(o.Value) != n || len(o.Legacy) != n || len(o.AI) != n || len(o.Cat) != n {
			t.Fatalf("Reset(%d): lengths %d %d %d %d", n, len(o.Value), len(o.Legacy), len(o.AI), len(o.Cat))
		}
		for i := range n {
			if !math.IsNaN(o.Value[i]) || !math.IsNaN(o.Legacy[i]) || !math.IsNaN(o.AI[i]) || o.Cat[i] != "" {
				t.Fatalf("Reset(%d): row %d is %v %v %v %q", n, i, o.Value[i], o.Legacy[i], o.AI[i], o.Cat[i])
			}
		}
	}
}
