package scorers

import (
	"math"
	"math/rand/v2"
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
			if !cleared(o, i) {
				t.Fatalf("Reset(%d): row %d is %v %v %v %q", n, i, o.Value[i], o.Legacy[i], o.AI[i], o.Cat[i])
			}
		}
	}
}

// cleared reports whether row i of every buffer is as Reset leaves it.
func cleared(o *Out, i int) bool {
	return math.IsNaN(o.Value[i]) && math.IsNaN(o.Legacy[i]) && math.IsNaN(o.AI[i]) && o.Cat[i] == ""
}

// TestOutUntouchedRefillsWhatWasWritten: over random sequences of
// sizes, kinds and writes, every buffer is NaN / "" after each Reset
// when Untouched is called only for scorers that wrote nothing beyond
// their kind's outputs (any rows, the coded form included), and after
// a scorer that wrote every buffer without calling it.
func TestOutUntouchedRefillsWhatWasWritten(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	kinds := []Kind{Agreement, PairedCorrect, Rate, Score, PairedScore, PerSystem, Category, Classification}
	o := &Out{}
	for step := range 3000 {
		n := r.IntN(300)
		if step%100 == 0 {
			n = 70000 // grows the buffers
		}
		o.Reset(n)
		for i := range n {
			if !cleared(o, i) {
				t.Fatalf("step %d: Reset(%d): row %d is %v %v %v %q", step, n, i, o.Value[i], o.Legacy[i], o.AI[i], o.Cat[i])
			}
		}
		if len(o.Value) != n || len(o.Legacy) != n || len(o.AI) != n || len(o.Cat) != n || o.Keys != nil {
			t.Fatalf("step %d: Reset(%d): lengths %d %d %d %d, keys %v", step, n, len(o.Value), len(o.Legacy), len(o.AI), len(o.Cat), o.Keys)
		}
		if n == 0 {
			continue
		}
		k := kinds[r.IntN(len(kinds))]
		w := outputsOf(k)
		if r.IntN(10) == 0 {
			w = 1<<numOutputs - 1 // an untrusted scorer writing everything
		}
		coded := (k == Category || k == Classification) && r.IntN(2) == 0
		for range 1 + r.IntN(5) {
			i := r.IntN(n)
			if w&(1<<outValue) != 0 {
				o.Value[i] = 1
			}
			if w&(1<<outLegacy) != 0 {
				o.Legacy[i] = 2
			}
			if w&(1<<outAI) != 0 {
				o.AI[i] = 3
			}
			if w&(1<<outCat) != 0 && !coded {
				o.Cat[i] = "c"
			}
		}
		if coded {
			o.UseCodes(n, []string{"a"})[r.IntN(n)] = 0
		}
		if w == outputsOf(k) {
			o.Untouched(k)
		}
	}
}

// fakeBuiltin is a built-in scorer as ResetBuiltin sees it: a kind and
// the float buffers it overwrites.
type fakeBuiltin struct {
	kind Kind
	over uint8
}

func (s *fakeBuiltin) Name() string                    { return "fake" }
func (s *fakeBuiltin) Kind() Kind                      { return s.kind }
func (s *fakeBuiltin) Needs() []Need                   { return nil }
func (s *fakeBuiltin) Score(*Input, *Out) error        { return nil }
func (s *fakeBuiltin) overwrites() uint8               { return s.over }
func (s *fakeBuiltin) reads(b int) bool                { return outputsOf(s.kind)&(1<<b) != 0 }
func (s *fakeBuiltin) overwritten(b int) bool          { return s.over&(1<<b) != 0 }
func (s *fakeBuiltin) needsFilled(b int) bool          { return s.reads(b) && !s.overwritten(b) }
func (s *fakeBuiltin) String() string                  { return s.kind.String() }
func (s *fakeBuiltin) writes(b int, r *rand.Rand) bool { return s.reads(b) && r.IntN(2) == 0 }

// TestResetBuiltinRefillsWhatItReads: over random sequences of sizes,
// built-in scorers (each writing only its kind's outputs, every row of
// the ones it overwrites) and other scorers (writing any buffer, after
// Reset), the buffers a built-in reads and does not overwrite are NaN /
// "" after ResetBuiltin, and every buffer is after Reset.
func TestResetBuiltinRefillsWhatItReads(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	kinds := []Kind{Agreement, PairedCorrect, Rate, Score, PairedScore, PerSystem, Category, Classification}
	o := &Out{}
	for step := range 3000 {
		n := r.IntN(300)
		if step%100 == 0 {
			n = 70000 // grows the buffers
		}
		var s *fakeBuiltin
		if r.IntN(4) != 0 {
			k := kinds[r.IntN(len(kinds))]
			s = &fakeBuiltin{kind: k, over: outputsOf(k) & uint8(r.IntN(8))} // float buffers only
			o.ResetBuiltin(s, n)
		} else {
			o.Reset(n)
		}
		if len(o.Value) != n || len(o.Legacy) != n || len(o.AI) != n || len(o.Cat) != n || o.Keys != nil {
			t.Fatalf("step %d: lengths %d %d %d %d, keys %v", step, len(o.Value), len(o.Legacy), len(o.AI), len(o.Cat), o.Keys)
		}
		bufs := []func(i int) bool{
			func(i int) bool { return math.IsNaN(o.Value[i]) },
			func(i int) bool { return math.IsNaN(o.Legacy[i]) },
			func(i int) bool { return math.IsNaN(o.AI[i]) },
			func(i int) bool { return o.Cat[i] == "" },
		}
		for b, empty := range bufs {
			if s != nil && !s.needsFilled(b) {
				continue
			}
			for i := range n {
				if !empty(i) {
					t.Fatalf("step %d: buffer %d row %d not refilled before %v", step, b, i, s)
				}
			}
		}
		if n == 0 {
			continue
		}
		write := func(b int, i int) {
			switch b {
			case outValue:
				o.Value[i] = 1
			case outLegacy:
				o.Legacy[i] = 2
			case outAI:
				o.AI[i] = 3
			default:
				o.Cat[i] = "c"
			}
		}
		if s == nil { // any other scorer: writes any buffer
			for b := range numOutputs {
				write(b, r.IntN(n))
			}
			continue
		}
		for b := range numOutputs {
			switch {
			case s.overwritten(b):
				for i := range n {
					write(b, i)
				}
			case s.writes(b, r):
				write(b, r.IntN(n))
			}
		}
		o.Untouched(s.kind)
	}
}

// TestUseCodesFillsNoCategory: UseCodes hands out n codes of -1 (no
// category) whatever the previous scorer wrote into them and whatever
// the size (the fill doubles its copies, so sizes around powers of two
// are the edge cases).
func TestUseCodesFillsNoCategory(t *testing.T) {
	o := NewOut(0)
	for _, n := range []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 1000, 1024, 1025, 65537, 10, 0, 70000} {
		for i := range o.Code {
			o.Code[i] = int32(i)
		}
		o.Reset(n)
		code := o.UseCodes(n, []string{"a"})
		if len(code) != n || o.Keys == nil {
			t.Fatalf("UseCodes(%d): %d codes, keys %v", n, len(code), o.Keys)
		}
		for i, c := range code {
			if c != -1 {
				t.Fatalf("UseCodes(%d): row %d has code %d", n, i, c)
			}
		}
		o.Code = o.Code[:cap(o.Code)] // the next round dirties every row
	}
}

// BenchmarkUseCodes is a coded scorer's switch to the coded form on a
// 64Ki-row batch.
func BenchmarkUseCodes(b *testing.B) {
	const n = 64 << 10
	o := NewOut(n)
	keys := []string{"a"}
	for b.Loop() {
		o.UseCodes(n, keys)
	}
	b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "rows/s")
}
