package datasets

import (
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
)

// spreadSimple is the obvious form of spread: branch per row.
func spreadSimple[T any](vals []T, nn int, defs []byte, maxDef byte, null []bool) {
	var zero T
	k := nn - 1
	for j := len(vals) - 1; j >= 0; j-- {
		if defs[j] == maxDef {
			vals[j] = vals[k]
			k--
		} else {
			vals[j] = zero
			null[j] = true
		}
	}
}

// randomLevels returns n definition levels in [0, maxDef+1] (maxDef+1 is
// out of range, as a corrupt page could hold, and must count as null)
// with about share of them equal to maxDef.
func randomLevels(r *rand.Rand, n int, maxDef byte, share float64) []byte {
	defs := make([]byte, n)
	for i := range defs {
		if r.Float64() < share {
			defs[i] = maxDef
		} else {
			defs[i] = byte(r.IntN(int(maxDef) + 2))
		}
	}
	return defs
}

func TestCountLevelMatchesLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, maxDef := range []byte{1, 2, 3, 255} {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 100, 1000} {
			for _, share := range []float64{0, 0.3, 0.9, 1} {
				defs := randomLevels(r, n, maxDef, share)
				want := 0
				for _, l := range defs {
					if l == maxDef {
						want++
					}
				}
				if got := countLevel(defs, maxDef); got != want {
					t.Fatalf("maxDef %d, %d levels, share %v: countLevel = %d, want %d (levels %v)", maxDef, n, share, got, want, defs)
				}
			}
		}
	}
}

// checkSpread runs spread on vals (packed non-null values, garbage after
// them, as a page decode leaves them) against spreadSimple.
func checkSpread[T comparable, U uint8 | uint32 | uint64](t *testing.T, r *rand.Rand, gen func() T) {
	t.Helper()
	for _, n := range []int{0, 1, 2, 9, 64, 1000} {
		for _, share := range []float64{0, 0.01, 0.5, 0.99, 1} {
			defs := randomLevels(r, n, 1, share)
			nn := countLevel(defs, 1)
			vals := make([]T, n)
			for i := range vals {
				vals[i] = gen()
			}
			want, wantNull := slices.Clone(vals), make([]bool, n)
			spreadSimple(want, nn, defs, 1, wantNull)
			got, gotNull := slices.Clone(vals), make([]bool, n)
			spread(asBits[T, U](got), nn, defs, 1, gotNull)
			if !slices.Equal(got, want) || !slices.Equal(gotNull, wantNull) {
				t.Fatalf("%d rows, %d present: spread gave %v %v, want %v %v", n, nn, got, gotNull, want, wantNull)
			}
		}
	}
}

func TestSpreadMatchesSimpleForm(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	checkSpread[int32, uint32](t, r, func() int32 { return int32(r.Uint32()) })
	checkSpread[int64, uint64](t, r, func() int64 { return int64(r.Uint64()) })
	checkSpread[float64, uint64](t, r, func() float64 { return r.NormFloat64() * 1e6 })
	checkSpread[bool, uint8](t, r, func() bool { return r.IntN(2) == 0 })
}

// TestToNanosClamps: toNanos and toNanosSlice give the exact product,
// clamped to the int64 range (computed with math/big), around every
// bound.
func TestToNanosClamps(t *testing.T) {
	src := []int64{0, 1, -1, 1700000000000, -1700000000000, math.MaxInt64, math.MinInt64,
		math.MaxInt64 / 1000, math.MaxInt64/1000 + 1, math.MinInt64 / 1000, math.MinInt64/1000 - 1,
		math.MaxInt64 / 1000000, math.MaxInt64/1000000 + 1, math.MinInt64 / 1000000, math.MinInt64/1000000 - 1, 253402214400000}
	for _, mul := range []int64{1, 1e3, 1e6, 1e9} {
		c := conv{tsMul: mul}
		got := make([]int64, len(src))
		c.toNanosSlice(got, src)
		for i, v := range src {
			p := new(big.Int).Mul(big.NewInt(v), big.NewInt(mul))
			want := int64(math.MaxInt64)
			switch {
			case p.IsInt64():
				want = p.Int64()
			case p.Sign() < 0:
				want = math.MinInt64
			}
			if got[i] != want || c.toNanos(v) != want {
				t.Errorf("tsMul %d, %d: toNanosSlice %d, toNanos %d, want %d", mul, v, got[i], c.toNanos(v), want)
			}
		}
	}
}

// unpackBoolsSimple is the obvious form of unpackBools: shift and compare
// per value.
func unpackBoolsSimple(dst []bool, bits []byte) {
	for i := range dst {
		dst[i] = bits[i>>3]>>(i&7)&1 != 0
	}
}

// TestUnpackBools checks the table-driven unpacking against the simple
// loop on random bits, for lengths that end inside a byte and on one, and
// that every byte written is a valid Go bool (0 or 1).
func TestUnpackBools(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for n := range 70 {
		bits := make([]byte, (n+7)/8+r.IntN(2))
		for i := range bits {
			bits[i] = byte(r.Uint32())
		}
		got, want := make([]bool, n), make([]bool, n)
		for i := range got {
			got[i] = i%2 == 0 // stale values must be overwritten
		}
		unpackBools(got, bits)
		unpackBoolsSimple(want, bits)
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d: got %v, want %v", n, got, want)
		}
		for i, b := range asBits[bool, uint8](got) {
			if b > 1 {
				t.Fatalf("n=%d: byte %d of the bools is %d", n, i, b)
			}
		}
	}
}
