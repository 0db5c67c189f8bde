package eval

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/parity-eval/parity/datasets"
)

// plainIDs is a request-id column as the decoder makes it from PLAIN
// pages: one code per row, so equal ids have distinct codes.
func plainIDs(ids []string) *datasets.Column {
	c := &datasets.Column{Name: "request_id", Kind: datasets.KindString, Dict: ids, Codes: make([]int32, len(ids)), DictRepeats: true}
	for i := range c.Codes {
		c.Codes[i] = int32(i)
	}
	return c
}

// TestDupFinderMatchesMap checks dupFinder.mark against a Go map: on
// 200k rows drawn from 150k ids (so buckets hold distinct ids as well as
// repeats), over a subset of the rows, twice with the same finder
// (buffers reused, the table's stale entries ignored), on more rows than
// the buckets' usual size allows, and on a batch of a single repeated id.
func TestDupFinderMatchesMap(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	const n = 200_000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("req-%d", rnd.IntN(150_000))
	}
	col := plainIDs(ids)
	var f dupFinder
	for round := range 2 {
		var rows []int32
		for i := range n {
			if rnd.IntN(10) != round { // rows other checks dropped are not candidates
				rows = append(rows, int32(i))
			}
		}
		want := make([]int32, len(rows))
		seen := map[string]bool{}
		dups := 0
		for k, i := range rows {
			want[k] = i
			if seen[ids[i]] {
				want[k] = -1
				dups++
			}
			seen[ids[i]] = true
		}
		if dups < n/10 {
			t.Fatalf("fixture: only %d repeats", dups)
		}
		if got := f.mark(col, rows); got != dups {
			t.Fatalf("round %d: mark counted %d duplicates, want %d", round, got, dups)
		}
		for k := range rows {
			if rows[k] != want[k] {
				t.Fatalf("round %d: candidate %d: %d, want %d (-1 = duplicate)", round, k, rows[k], want[k])
			}
		}
	}

	// More rows than dupMaxBits' buckets hold at their usual size: the
	// buckets grow instead, one id in three repeated.
	big := make([]string, 1<<(dupBucketLog+dupMaxBits)+5)
	for i := range big {
		big[i] = "id-" + strconv.Itoa(rnd.IntN(len(big)*2/3))
	}
	rows := make([]int32, len(big))
	for i := range rows {
		rows[i] = int32(i)
	}
	f.mark(plainIDs(big), rows)
	seen := map[string]bool{}
	for i, id := range big {
		if want := seen[id]; (rows[i] < 0) != want {
			t.Fatalf("%d rows: row %d marked %v, want %v", len(big), i, rows[i] < 0, want)
		}
		seen[id] = true
	}

	same := make([]string, 100_000)
	for i := range same {
		same[i] = "the-one-id"
	}
	rows = make([]int32, len(same))
	for i := range rows {
		rows[i] = int32(i)
	}
	f.mark(plainIDs(same), rows)
	if rows[0] != 0 {
		t.Errorf("first row of a repeated id marked as a duplicate")
	}
	for k, r := range rows[1:] {
		if r != -1 {
			t.Fatalf("row %d of a repeated id not marked", k+1)
		}
	}
}

// BenchmarkDuplicateIDs finds the repeats among a 128Ki-row batch of
// distinct PLAIN request ids (the common case: none) with dupFinder and,
// for comparison, with a Go map and an open-addressing table sized to the
// batch (the alternatives its comment names). Compare the ns/id metrics.
func BenchmarkDuplicateIDs(b *testing.B) {
	const n = 128 << 10
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("req-%d-%d-%d", i%10, i%7, i)
	}
	col := plainIDs(ids)
	rows := make([]int32, n)
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/id")
	}
	b.Run("dupFinder", func(b *testing.B) {
		var f dupFinder
		for b.Loop() {
			for i := range rows {
				rows[i] = int32(i)
			}
			f.mark(col, rows)
		}
		if rows[n-1] != n-1 {
			b.Fatal("distinct id marked as a duplicate")
		}
		report(b)
	})
	// Ids as the decoder leaves them (one buffer of bytes, a Dict
	// entry per row), in batches that together outgrow the caches, as a
	// scan's row groups do: the ids' bytes and the finder's buffers are
	// not already cached from the previous call.
	b.Run("dupFinder/cold", func(b *testing.B) {
		const batches = 8
		cols := make([]*datasets.Column, batches)
		for k := range cols {
			var buf []byte
			ends := make([]int, n)
			for i := range n {
				buf = fmt.Appendf(buf, "req-%d-%d-%d", k, i%7, i)
				ends[i] = len(buf)
			}
			all, ids, start := string(buf), make([]string, n), 0
			for i := range ids {
				ids[i], start = all[start:ends[i]], ends[i]
			}
			cols[k] = plainIDs(ids)
		}
		var f dupFinder
		k := 0
		for b.Loop() {
			for i := range rows {
				rows[i] = int32(i)
			}
			f.mark(cols[k%batches], rows)
			k++
		}
		if rows[n-1] != n-1 {
			b.Fatal("distinct id marked as a duplicate")
		}
		report(b)
	})
	b.Run("map", func(b *testing.B) {
		for b.Loop() {
			seen := make(map[string]struct{}, n)
			for i := range rows {
				id := col.Dict[col.Codes[i]]
				if _, ok := seen[id]; ok {
					b.Fatal("distinct id seen twice")
				}
				seen[id] = struct{}{}
			}
		}
		report(b)
	})
	b.Run("table", func(b *testing.B) {
		slots := make([]uint64, 2*n) // hash tag << 32 | code+1
		mask := uint64(len(slots) - 1)
		for b.Loop() {
			clear(slots)
			for i := range rows {
				id := col.Dict[col.Codes[i]]
				tag := maphash.String(idSeed, id) >> 32
				for j := tag & mask; ; j = (j + 1) & mask {
					if slots[j] == 0 {
						slots[j] = tag<<32 | uint64(i+1)
						break
					}
					if slots[j]>>32 == tag && col.Dict[col.Codes[slots[j]&(1<<32-1)-1]] == id {
						b.Fatal("distinct id seen twice")
					}
				}
			}
		}
		report(b)
	})
}

// TestDupFinderIDLengths checks mark against a map on ids of every length
// from 0 to 40 bytes, so each of idHash's paths (1-3, 4-7, 8-16 bytes and
// maphash beyond) finds the repeats, ids that differ only in their middle
// bytes included, and that idHash's top 32 bits (all mark uses) spread
// near-identical ids without more collisions than chance.
func TestDupFinderIDLengths(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	var ids []string
	for n := range 41 {
		for range 300 {
			b := make([]byte, n)
			for i := range b {
				b[i] = "ab"[rnd.IntN(2)] // few symbols: many repeats at short lengths
			}
			ids = append(ids, string(b))
		}
	}
	rows := make([]int32, len(ids))
	for i := range rows {
		rows[i] = int32(i)
	}
	var f dupFinder
	f.mark(plainIDs(ids), rows)
	seen := map[string]bool{}
	for i, id := range ids {
		if want := seen[id]; (rows[i] < 0) != want {
			t.Fatalf("id %q (row %d): marked %v, want %v", id, i, rows[i] < 0, want)
		}
		seen[id] = true
	}

	tags := map[uint64]string{}
	collisions := 0
	for i := range 200_000 {
		id := fmt.Sprintf("req-%d-%d-%d", i%10, i%7, i)
		if len(id) > 16 {
			t.Fatalf("fixture: id %q is longer than idHash's short path", id)
		}
		tag := idHash(id) >> 32
		if _, ok := tags[tag]; ok {
			collisions++
		}
		tags[tag] = id
	}
	// 200k random 32-bit tags collide ~4.7 times on average.
	if collisions > 30 {
		t.Errorf("%d collisions of idHash's top 32 bits among 200k short ids", collisions)
	}
}
