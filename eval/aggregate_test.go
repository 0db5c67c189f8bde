package eval

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"
)

func TestSketchQuantileAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	s := NewSketch()
	xs := make([]float64, 20000)
	for i := range xs {
		xs[i] = math.Exp(r.NormFloat64()*1.2 + 5) // latency-like
		s.Add(xs[i])
	}
	sort.Float64s(xs)
	for _, q := range []float64{0.01, 0.5, 0.95, 0.99} {
		exact := xs[int(math.Ceil(q*float64(len(xs))))-1]
		got := s.Quantile(q)
		if rel := math.Abs(got-exact) / exact; rel > 0.005+1e-12 {
			t.Errorf("q=%g: sketch %g exact %g, relative error %g > 0.5%%", q, got, exact, rel)
		}
	}
	if s.Quantile(0) != xs[0] || s.Quantile(1) != xs[len(xs)-1] {
		t.Error("extremes must be exact")
	}
}

func TestSketchMergeIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	whole, a, b := NewSketch(), NewSketch(), NewSketch()
	for i := 0; i < 5000; i++ {
		x := r.NormFloat64() * 100 // negative, zero-ish and positive values
		if i%7 == 0 {
			x = 0
		}
		whole.Add(x)
		if i%3 == 0 {
			a.Add(x)
		} else {
			b.Add(x)
		}
	}
	a.Merge(b)
	wj, _ := json.Marshal(whole)
	aj, _ := json.Marshal(a)
	var w2, a2 Sketch
	json.Unmarshal(wj, &w2)
	json.Unmarshal(aj, &a2)
	w2.Sum, a2.Sum = 0, 0 // float sums may differ in the last bit by order
	if w2.Count != a2.Count || w2.Zero != a2.Zero || !reflect.DeepEqual(w2.side[0].asMap(), a2.side[0].asMap()) || !reflect.DeepEqual(w2.side[1].asMap(), a2.side[1].asMap()) {
		t.Fatalf("merged sketch differs:\n%s\n%s", wj, aj)
	}
	x, w := whole.Weighted()
	if !sort.Float64sAreSorted(x) {
		t.Error("weighted values not sorted")
	}
	var n float64
	for _, v := range w {
		n += v
	}
	if int64(n) != whole.Count {
		t.Errorf("weights sum %g, count %d", n, whole.Count)
	}
}

func TestWindows(t *testing.T) {
	at := time.Date(2026, 11, 21, 7, 30, 0, 0, time.UTC)
	if w := WindowAt(at, 6*time.Hour); w.Start.Hour() != 6 || w.End.Hour() != 12 {
		t.Errorf("6h window at 07:30 = %s", w)
	}
	if w := LastComplete(at, 24*time.Hour); w.String() != "2026-11-20T00:00:00Z/2026-11-21T00:00:00Z" {
		t.Errorf("last complete daily window = %s", w)
	}
	ws := WindowsBetween(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), 6*time.Hour)
	if len(ws) != 8 || !ws[7].End.Equal(time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("windows between: %v", ws)
	}
	if _, err := ParseWindow("2026-11-01T03:00:00Z/2026-11-02T03:00:00Z", 24*time.Hour); err == nil {
		t.Error("unaligned window accepted")
	}
	if w, err := ParseWindow("2026-11-01/2026-11-02", 24*time.Hour); err != nil || w.Key() != "2026-11-01T00-00-00Z" {
		t.Errorf("ParseWindow dates: %v %v", w, err)
	}
}

func TestFloatJSON(t *testing.T) {
	m := newMetric("f", "c", Window{}, "m")
	m.Value = 0.25
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back Metric
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Value != 0.25 || !math.IsNaN(back.P) || !math.IsNaN(back.CILow) {
		t.Errorf("round trip lost NaN/values: %+v", back)
	}
}
