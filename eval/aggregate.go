package eval

import (
	"math"
	"sort"
)

// Acc is the mergeable aggregate of one metric in one group (feature ×
// class × window). Exactly the fields of its kind are used. Every field
// merges exactly (sums of counts, bucket-wise sums), so sharded runs give
// the same aggregates as one run.
type Acc struct {
	// Count: K successes (agreements, errors, passes) of N.
	K int64 `json:"k,omitempty"`
	N int64 `json:"n,omitempty"`
	// Paired 2×2 of correctness.
	BothRight  int64 `json:"both_right,omitempty"`
	LegacyOnly int64 `json:"legacy_only,omitempty"`
	AIOnly     int64 `json:"ai_only,omitempty"`
	BothWrong  int64 `json:"both_wrong,omitempty"`
	// Distributions.
	Legacy *Sketch `json:"legacy,omitempty"`
	AI     *Sketch `json:"ai,omitempty"`
	Value  *Sketch `json:"value,omitempty"`
	Diff   *Sketch `json:"diff,omitempty"`
	// Categories.
	Cats map[string]int64 `json:"cats,omitempty"`
	// Classification quality (confusion, per-category pairs, confidence bins).
	Quality *QualityAcc `json:"quality,omitempty"`
	// Invalid counts NaN/Inf values skipped.
	Invalid int64 `json:"invalid,omitempty"`
	// Errors counts batches the scorer failed on, with the first error:
	// the metric is then "error" for the window, never "pass".
	Errors int64  `json:"errors,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Merge adds o into a.
func (a *Acc) Merge(o *Acc) {
	a.K += o.K
	a.N += o.N
	a.BothRight += o.BothRight
	a.LegacyOnly += o.LegacyOnly
	a.AIOnly += o.AIOnly
	a.BothWrong += o.BothWrong
	a.Invalid += o.Invalid
	if o.Errors > 0 && a.Error == "" {
		a.Error = o.Error
	}
	a.Errors += o.Errors
	a.Legacy = mergeSketch(a.Legacy, o.Legacy)
	a.AI = mergeSketch(a.AI, o.AI)
	a.Value = mergeSketch(a.Value, o.Value)
	a.Diff = mergeSketch(a.Diff, o.Diff)
	if len(o.Cats) > 0 && a.Cats == nil {
		a.Cats = map[string]int64{}
	}
	for k, v := range o.Cats {
		a.Cats[k] += v
	}
	a.Quality = mergeQuality(a.Quality, o.Quality)
}

func mergeSketch(a, b *Sketch) *Sketch {
	if b == nil || b.Count == 0 {
		return a
	}
	if a == nil {
		a = NewSketch()
	}
	a.Merge(b)
	return a
}

// sketchGamma sets the sketch's relative accuracy: every value is
// represented within ±0.5% (alpha = (gamma-1)/(gamma+1)).
const sketchGamma = 1.01

var logGamma = math.Log(sketchGamma)

// Sketch is a log-bucketed histogram in the manner of DDSketch (Masson,
// Rim & Lee, VLDB 2019): quantiles within 0.5% relative error, exact
// count, sum, min and max, and exact merges. Written by hand because the
// available Go DDSketch packages pull in protobuf machinery and do not
// expose buckets, which the rank tests need as weighted samples.
type Sketch struct {
	Count int64           `json:"count"`
	Sum   float64         `json:"sum"`
	Min   float64         `json:"min"`
	Max   float64         `json:"max"`
	Zero  int64           `json:"zero,omitempty"`
	Pos   map[int32]int64 `json:"pos,omitempty"`
	Neg   map[int32]int64 `json:"neg,omitempty"`
}

// NewSketch returns an empty sketch.
func NewSketch() *Sketch { return &Sketch{Min: math.Inf(1), Max: math.Inf(-1)} }

// minMagnitude: values closer to zero than this are counted as zero.
const minMagnitude = 1e-9

func bucketOf(x float64) int32 { return int32(math.Ceil(math.Log(x) / logGamma)) }

// representative is the value a bucket stands for (its relative midpoint).
func representative(i int32) float64 {
	return 2 * math.Pow(sketchGamma, float64(i)) / (sketchGamma + 1)
}

// Add adds one value; NaN and ±Inf must be filtered by the caller.
func (s *Sketch) Add(x float64) {
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

// Merge adds o into s.
func (s *Sketch) Merge(o *Sketch) {
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

// Mean is the exact mean.
func (s *Sketch) Mean() float64 {
	if s == nil || s.Count == 0 {
		return math.NaN()
	}
	return s.Sum / float64(s.Count)
}

// Weighted returns the sketch as sorted (value, count) pairs: bucket
// representatives clamped to [Min, Max], so ties are values that share a
// bucket. The rank tests and quantiles work on this.
func (s *Sketch) Weighted() (x, w []float64) {
	if s == nil || s.Count == 0 {
		return nil, nil
	}
	neg := keys(s.Neg)
	for i := len(neg) - 1; i >= 0; i-- { // most negative first
		x = append(x, -representative(neg[i]))
		w = append(w, float64(s.Neg[neg[i]]))
	}
	if s.Zero > 0 {
		x = append(x, 0)
		w = append(w, float64(s.Zero))
	}
	for _, k := range keys(s.Pos) {
		x = append(x, representative(k))
		w = append(w, float64(s.Pos[k]))
	}
	for i := range x {
		x[i] = math.Min(math.Max(x[i], s.Min), s.Max)
	}
	return x, w
}

// Quantile returns the q-quantile (lower, by rank ceil(q·n)), within the
// sketch's relative accuracy; exact at q=0 and q=1.
func (s *Sketch) Quantile(q float64) float64 {
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

func keys(m map[int32]int64) []int32 {
	out := make([]int32, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
