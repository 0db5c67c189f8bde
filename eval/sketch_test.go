package eval

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// refSketch is Sketch as it was with map buckets (same fields, same JSON
// tags, same arithmetic): the reference the dense buckets must match bit
// for bit, in results and in stored JSON.
type refSketch struct {
	Count int64           `json:"count"`
	Sum   float64         `json:"sum"`
	Min   float64         `json:"min"`
	Max   float64         `json:"max"`
	Zero  int64           `json:"zero,omitempty"`
	Pos   map[int32]int64 `json:"pos,omitempty"`
	Neg   map[int32]int64 `json:"neg,omitempty"`
}

func newRefSketch() *refSketch { return &refSketch{Min: math.Inf(1), Max: math.Inf(-1)} }

func (s *refSketch) Add(x float64) {
	s.Count++
	s.Sum += x
	if x < s.Min {
		s.Min = x
	}
	if x > s.Max {
		s.Max = x
	}
	switch {
	case x > minMagnitude:
		if s.Pos == nil {
			s.Pos = map[int32]int64{}
		}
		s.Pos[bucketOf(x)]++
	case x < -minMagnitude:
		if s.Neg == nil {
			s.Neg = map[int32]int64{}
		}
		s.Neg[bucketOf(-x)]++
	default:
		s.Zero++
	}
}

func (s *refSketch) Merge(o *refSketch) {
	if o.Count == 0 {
		return
	}
	s.Count += o.Count
	s.Sum += o.Sum
	s.Min = math.Min(s.Min, o.Min)
	s.Max = math.Max(s.Max, o.Max)
	s.Zero += o.Zero
	if len(o.Pos) > 0 && s.Pos == nil {
		s.Pos = map[int32]int64{}
	}
	for k, v := range o.Pos {
		s.Pos[k] += v
	}
	if len(o.Neg) > 0 && s.Neg == nil {
		s.Neg = map[int32]int64{}
	}
	for k, v := range o.Neg {
		s.Neg[k] += v
	}
}

func (s *refSketch) Weighted() (x, w []float64) {
	if s == nil || s.Count == 0 {
		return nil, nil
	}
	refKeys := func(m map[int32]int64) []int32 {
		out := make([]int32, 0, len(m))
		for k := range m {
			out = append(out, k)
		}
		sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
		return out
	}
	neg := refKeys(s.Neg)
	for i := len(neg) - 1; i >= 0; i-- {
		x = append(x, -representative(neg[i]))
		w = append(w, float64(s.Neg[neg[i]]))
	}
	if s.Zero > 0 {
		x = append(x, 0)
		w = append(w, float64(s.Zero))
	}
	for _, k := range refKeys(s.Pos) {
		x = append(x, representative(k))
		w = append(w, float64(s.Pos[k]))
	}
	for i := range x {
		x[i] = math.Min(math.Max(x[i], s.Min), s.Max)
	}
	return x, w
}

func (s *refSketch) Quantile(q float64) float64 {
	if s == nil || s.Count == 0 {
		return math.NaN()
	}
	if q <= 0 {
		return s.Min
	}
	if q >= 1 {
		return s.Max
	}
	x, w := s.Weighted()
	rank := math.Ceil(q * float64(s.Count))
	cum := 0.0
	for i := range x {
		cum += w[i]
		if cum >= rank {
			return x[i]
		}
	}
	return s.Max
}

// sameBits compares float64s by bits (NaN equals NaN, 0 differs from -0).
func sameBits(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameBits(a[i], b[i]) {
			return false
		}
	}
	return true
}

// checkSame fails unless s gives exactly the reference's figures and
// JSON.
func checkSame(t *testing.T, what string, s *Sketch, r *refSketch) {
	t.Helper()
	if s.Count != r.Count || !sameBits(s.Sum, r.Sum) || !sameBits(s.Min, r.Min) || !sameBits(s.Max, r.Max) || s.Zero != r.Zero {
		t.Fatalf("%s: count/sum/min/max/zero %d %g %g %g %d, reference %d %g %g %g %d", what, s.Count, s.Sum, s.Min, s.Max, s.Zero, r.Count, r.Sum, r.Min, r.Max, r.Zero)
	}
	if !sameBits(s.Mean(), (&Sketch{Count: r.Count, Sum: r.Sum}).Mean()) {
		t.Fatalf("%s: mean differs", what)
	}
	x, w := s.Weighted()
	rx, rw := r.Weighted()
	if !sameFloats(x, rx) || !sameFloats(w, rw) {
		t.Fatalf("%s: weighted differs:\n%v %v\n%v %v", what, x, w, rx, rw)
	}
	for _, q := range []float64{-1, 0, 1e-6, 0.01, 0.05, 0.1, 0.25, 1.0 / 3, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1, 2} {
		if got, want := s.Quantile(q), r.Quantile(q); !sameBits(got, want) {
			t.Fatalf("%s: quantile %g = %g, reference %g", what, q, got, want)
		}
	}
	// Stored JSON, on its own and inside an indented document as jobs
	// writes partial aggregates.
	got, err1 := json.Marshal(s)
	want, err2 := json.Marshal(r)
	if err1 != nil || err2 != nil || string(got) != string(want) {
		t.Fatalf("%s: JSON\n%s (%v)\nreference\n%s (%v)", what, got, err1, want, err2)
	}
	got, _ = json.MarshalIndent(map[string]any{"legacy": s, "n": 1}, "", "  ")
	want, _ = json.MarshalIndent(map[string]any{"legacy": r, "n": 1}, "", "  ")
	if string(got) != string(want) {
		t.Fatalf("%s: indented JSON\n%s\nreference\n%s", what, got, want)
	}
	// Reading the stored form back gives the same sketch again.
	var back Sketch
	if err := json.Unmarshal(want, &struct {
		Legacy *Sketch `json:"legacy"`
	}{&back}); err != nil {
		t.Fatal(err)
	}
	if again, _ := json.Marshal(&back); string(again) != string(must(json.Marshal(r))) {
		t.Fatalf("%s: JSON round trip\n%s\nreference\n%s", what, again, must(json.Marshal(r)))
	}
	bx, bw := back.Weighted()
	if !sameFloats(bx, rx) || !sameFloats(bw, rw) {
		t.Fatalf("%s: weighted after JSON round trip differs", what)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// sketchValue draws from a mix of everything a sketch meets: latencies,
// scores in [0, 1], signed differences, exact zeros, values at and
// around ±minMagnitude, subnormals, huge values and repeats.
func sketchValue(r *rand.Rand) float64 {
	switch r.IntN(14) {
	case 0:
		return 600 * math.Exp(0.4*r.NormFloat64())
	case 1:
		return r.Float64()
	case 2:
		return r.NormFloat64() * 100
	case 3:
		return 0
	case 4:
		return []float64{minMagnitude, -minMagnitude, math.Nextafter(minMagnitude, 1), -math.Nextafter(minMagnitude, 1), 5e-10, math.Copysign(0, -1)}[r.IntN(6)]
	case 5:
		return math.SmallestNonzeroFloat64 * float64(r.IntN(3)-1)
	case 6:
		// Huge, but not so huge that a sum of a few thousand overflows
		// (an infinite sum cannot be stored as JSON, old or new).
		return []float64{1e300, -1e300, 1e303, -1e302, 1e-8, 1e15}[r.IntN(6)]
	case 7:
		return math.Exp(r.Float64()*1400 - 700) // every magnitude
	case 8:
		return -math.Exp(r.Float64()*80 - 40)
	case 9:
		return 0.0002 // a constant cost
	case 10:
		return 1 // an exact match
	case 11:
		return float64(r.IntN(2000)) // whole milliseconds
	case 12:
		// Exactly on a bucket's edge as math.Pow puts it, and its
		// neighbours.
		e := math.Pow(sketchGamma, float64(r.IntN(4000)-2000))
		return []float64{e, math.Nextafter(e, 0), math.Nextafter(e, 2*e)}[r.IntN(3)]
	default:
		return r.NormFloat64() * 1e-6
	}
}

// TestSketchMatchesMapReference checks the dense buckets against the map
// version on random streams of every shape, narrow and pathologically
// wide, added and merged in random splits.
func TestSketchMatchesMapReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for trial := range 100 {
		n := 1 + r.IntN(2000)
		narrow := trial%3 == 0 // one distribution only: dense buckets only
		kind := r.IntN(3)
		parts := 1 + r.IntN(4)
		s, ref := NewSketch(), newRefSketch()
		ps, refs := make([]*Sketch, parts), make([]*refSketch, parts)
		for i := range ps {
			ps[i], refs[i] = NewSketch(), newRefSketch()
		}
		for range n {
			var x float64
			if narrow {
				x = []func() float64{
					func() float64 { return 600 * math.Exp(0.4*r.NormFloat64()) },
					func() float64 { return r.Float64() },
					func() float64 { return r.NormFloat64() },
				}[kind]()
			} else {
				x = sketchValue(r)
			}
			s.Add(x)
			ref.Add(x)
			p := r.IntN(parts)
			ps[p].Add(x)
			refs[p].Add(x)
		}
		checkSame(t, "added", s, ref)
		for i := 1; i < parts; i++ {
			ps[0].Merge(ps[i])
			refs[0].Merge(refs[i])
		}
		checkSame(t, "merged", ps[0], refs[0])
		// Merging into a sketch whose dense span is elsewhere.
		other, otherRef := NewSketch(), newRefSketch()
		for _, x := range []float64{1e-7, -3e5, 42} {
			other.Add(x)
			otherRef.Add(x)
		}
		other.Merge(s)
		otherRef.Merge(ref)
		checkSame(t, "merged into other", other, otherRef)
	}
}

// TestSketchPathologicalSpread: values 1e-9 and 1e300 apart need ~71k
// buckets; the dense span stays bounded and the rest is counted exactly
// in the far map.
func TestSketchPathologicalSpread(t *testing.T) {
	s, ref := NewSketch(), newRefSketch()
	xs := []float64{1.5e-9, 1e300, -2e-9, -1e300, 1e307, 1, 1e150, 1e-5, 1e300, 3}
	for _, x := range xs {
		s.Add(x)
		ref.Add(x)
	}
	for _, b := range []*buckets{&s.side[0], &s.side[1]} {
		if len(b.counts) > maxDenseBuckets {
			t.Errorf("dense span %d buckets, bound %d", len(b.counts), maxDenseBuckets)
		}
	}
	if len(s.side[0].far) == 0 || len(s.side[1].far) == 0 {
		t.Errorf("far buckets not used: pos %v neg %v", s.side[0].far, s.side[1].far)
	}
	for k := range s.side[0].far {
		if j := int(k) - int(s.side[0].lo); j >= 0 && j < len(s.side[0].counts) {
			t.Errorf("far bucket %d inside the dense span [%d, %d)", k, s.side[0].lo, int(s.side[0].lo)+len(s.side[0].counts))
		}
	}
	checkSame(t, "pathological", s, ref)
	// Bucket indexes at the ends of int32, as a hand-edited partial
	// aggregate could hold, survive a round trip.
	const doc = `{"count":4,"sum":0,"min":-1,"max":1,"pos":{"-2147483648":1,"2147483647":2},"neg":{"-2147483647":1}}`
	var e Sketch
	var er refSketch
	if err := json.Unmarshal([]byte(doc), &e); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal([]byte(doc), &er)
	if got := string(must(json.Marshal(&e))); got != string(must(json.Marshal(&er))) || !strings.Contains(got, `"-2147483648":1`) {
		t.Errorf("extreme bucket indexes: %s", got)
	}
}

// TestSketchSparseWideStaysSmall: a few values far apart take map
// entries rather than a wide dense span; as values accumulate the span
// widens and takes in the far buckets it covers, counting each bucket in
// one place only.
func TestSketchSparseWideStaysSmall(t *testing.T) {
	s, ref := NewSketch(), newRefSketch()
	add := func(x float64) {
		s.Add(x)
		ref.Add(x)
	}
	for _, x := range []float64{1, 1e8, 1e-8, 3e7, 1e8} {
		add(x)
	}
	b := &s.side[0]
	if len(b.counts) > denseBudget(5) || len(b.far) == 0 {
		t.Fatalf("5 values over 16 decades: dense span %d buckets, far %v", len(b.counts), b.far)
	}
	checkSame(t, "sparse", s, ref)
	farBefore := len(b.far)
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		add(math.Exp(r.Float64()*math.Log(1e16)) * 1e-8)
	}
	for k := range b.far {
		if j := int(k) - int(b.lo); j >= 0 && j < len(b.counts) {
			t.Errorf("far bucket %d inside the dense span [%d, %d)", k, b.lo, int(b.lo)+len(b.counts))
		}
	}
	if len(b.far) >= farBefore {
		t.Errorf("widening to %d buckets took in none of the far buckets: %v", len(b.counts), b.far)
	}
	checkSame(t, "widened", s, ref)
}

// TestSketchJSONFormat pins the stored form of the buckets: objects
// keyed by decimal bucket index in string order, as encoding/json wrote
// map[int32]int64.
func TestSketchJSONFormat(t *testing.T) {
	s := NewSketch()
	for _, x := range []float64{1, 1.02, 1.5, 10, 1e-3, 0, -1, -2} {
		s.Add(x)
	}
	const want = `{"count":8,"sum":10.520999999999999,"min":-2,"max":10,"zero":1,"pos":{"-694":1,"0":1,"2":1,"232":1,"41":1},"neg":{"0":1,"70":1}}`
	ref := newRefSketch()
	for _, x := range []float64{1, 1.02, 1.5, 10, 1e-3, 0, -1, -2} {
		ref.Add(x)
	}
	if got := string(must(json.Marshal(s))); got != want || got != string(must(json.Marshal(ref))) {
		t.Errorf("JSON\n%s\nwant\n%s\nreference\n%s", got, want, must(json.Marshal(ref)))
	}
	var back Sketch
	if err := json.Unmarshal([]byte(want), &back); err != nil {
		t.Fatal(err)
	}
	if got := string(must(json.Marshal(back))); got != want {
		t.Errorf("round trip (value)\n%s\nwant\n%s", got, want)
	}
	// An empty sketch in an Acc is omitted as before; a nil one too.
	if got := string(must(json.Marshal(&Acc{N: 1}))); got != `{"n":1}` {
		t.Errorf("Acc without sketches: %s", got)
	}
	// Unmarshalling into a sketch adds to its buckets and keeps absent
	// fields, as it did into the map fields.
	into, intoRef := NewSketch(), newRefSketch()
	for _, x := range []float64{1, 5, -3} {
		into.Add(x)
		intoRef.Add(x)
	}
	const partial = `{"count":9,"pos":{"0":4,"7":1}}`
	if err := json.Unmarshal([]byte(partial), into); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal([]byte(partial), intoRef)
	if got, want := string(must(json.Marshal(into))), string(must(json.Marshal(intoRef))); got != want {
		t.Errorf("unmarshal into a sketch\n%s\nreference\n%s", got, want)
	}
	if err := json.Unmarshal([]byte(`{"pos":{"x":1}}`), &back); err == nil {
		t.Error("bad bucket index accepted")
	}
	if !reflect.DeepEqual(must(json.Marshal(NewSketch().side[0].asMap())), []byte("null")) {
		t.Error("empty buckets must be omitted")
	}
}
