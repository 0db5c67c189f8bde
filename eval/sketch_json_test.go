package eval

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// TestSketchJSONMatchesEncodingJSON: the hand-written Sketch.MarshalJSON
// writes exactly the bytes encoding/json writes for sketchJSON (the
// former implementation), on sketches of every shape: empty sides, zeros,
// negative values, buckets far outside the dense span, sums and extremes
// that encoding/json writes in exponent form, and it fails where that
// fails (an empty sketch's infinite Min and Max).
func TestSketchJSONMatchesEncodingJSON(t *testing.T) {
	ref := func(s *Sketch) ([]byte, error) {
		return json.Marshal(sketchJSON{s.Count, s.Sum, s.Min, s.Max, s.Zero, s.side[0].asMap(), s.side[1].asMap()})
	}
	r := rand.New(rand.NewPCG(7, 8))
	gens := []func() float64{
		func() float64 { return 5 + r.ExpFloat64()*300 },                  // latencies
		func() float64 { return r.Float64() },                             // scores in [0, 1)
		func() float64 { return r.NormFloat64() * 50 },                    // signed differences
		func() float64 { return 0 },                                       // zeros only
		func() float64 { return math.Pow(10, r.Float64()*60-30) },         // 1e-30 .. 1e30: far buckets, exponent form
		func() float64 { return -math.Pow(10, r.Float64()*40-20) * 1e-3 }, // tiny negatives
		func() float64 { return float64(r.IntN(3)) * 1e-7 },               // around minMagnitude
	}
	for trial := range 400 {
		s := NewSketch()
		g := gens[trial%len(gens)]
		for range r.IntN(2000) {
			s.Add(g())
		}
		want, werr := ref(s)
		got, gerr := s.MarshalJSON()
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("trial %d: error %v, want %v", trial, gerr, werr)
		}
		if werr != nil {
			continue
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("trial %d:\n got %s\nwant %s", trial, got, want)
		}
		var back Sketch
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("trial %d: reading back: %v", trial, err)
		}
		if again, _ := back.MarshalJSON(); !bytes.Equal(again, got) {
			t.Fatalf("trial %d: does not round-trip:\n%s\n%s", trial, again, got)
		}
	}
	for _, x := range []float64{0, 1, -1, 1e-6, 9.99e-7, 1e21, 1e20, 123456789.125, -2.5e-9, 5e-324, math.MaxFloat64} {
		want, _ := json.Marshal(x)
		got, err := appendJSONFloat(nil, x)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("appendJSONFloat(%v) = %s, %v; want %s", x, got, err, want)
		}
	}
	if _, err := appendJSONFloat(nil, math.NaN()); err == nil {
		t.Error("NaN: no error")
	}
}
