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
