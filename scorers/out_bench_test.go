package scorers

import "testing"

// BenchmarkOutReset is the per-scorer, per-batch refill of the output
// buffers for a 64Ki-row batch.
func BenchmarkOutReset(b *testing.B) {
	const n = 64 << 10
	o := NewOut(n)
	b.ReportAllocs()
	for b.Loop() {
		o.Reset(n)
	}
	b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkOutResetAfterBuiltin is the same refill after a built-in
// scorer of one output (Out.Untouched): only Value is rewritten.
func BenchmarkOutResetAfterBuiltin(b *testing.B) {
	const n = 64 << 10
	o := NewOut(n)
	b.ReportAllocs()
	for b.Loop() {
		o.Reset(n)
		o.Untouched(Agreement)
	}
	b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "rows/s")
}
