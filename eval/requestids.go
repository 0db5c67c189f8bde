package eval

import (
	"hash/maphash"
	"math/bits"
	"math/rand/v2"

	"github.com/parity-eval/parity/datasets"
)

// dupFinder finds repeated request ids in one batch when the request-id
// column's Dict may hold a string under several codes
// (datasets.Column.DictRepeats: PLAIN-encoded ids are not deduplicated
// by the decoder), so codes alone cannot tell duplicates apart and the
// ids themselves must be compared. Its buffers are reused by its worker.
//
// It is hand-written because the obvious tools cost several times more
// per id on a row group of distinct ids: a Go map[string]struct{} hashes
// each id twice and allocates as it grows, and an open-addressing table
// of the batch's size (128Ki ids: 1-2 MiB) misses the cache on almost
// every insert, ~80-140 ns per id measured. Here each id is hashed once,
// one stable counting-sort pass over the hashes' top bits (sequential
// reads, at most 1,024 write streams) splits the batch into buckets of
// 512-1,024 ids, and each bucket is checked, in row order, against an
// open-addressing table of 8-16 slots per id (a 128Ki-row row group's
// are 16-32 KiB, in L1, and so sparse that a probe rarely meets another
// id, a branch that would mispredict); only ids whose 32-bit hashes are
// equal are compared. It replaced two counting-sort passes of 2,048 streams
// each, more than L1 holds, followed by a comparison of neighbours:
// 1.14× as much CPU per id on a cached batch of distinct ids, 1.23× on
// batches that outgrow the caches (BenchmarkDuplicateIDs).
type dupFinder struct {
	keys, tmp []uint64 // hash's top 32 bits | position in rows
	count     []int32  // per bucket: its size, then its end in tmp
	table     []uint32 // one bucket's table: index in tmp + 1; ≤ bucket start = empty
	marked    []int32  // the last mark's repeated rows (their row indices)
}

var idSeed = maphash.MakeSeed()

// idSeed64 seeds idHash's short-string path, drawn per process like
// idSeed so no log can be written to collide on purpose.
var idSeed64 = rand.Uint64() | 1

// idHash hashes one request id. Ids are short (up to 16 bytes: "req-3-1-
// 123456", a UUID's 16 bytes): those are read as two overlapping words
// and mixed by one 64×64→128-bit multiply (wyhash's short-input form),
// without the call, length dispatch and AES rounds of maphash.String,
// which were half of mark's CPU; longer ids go to maphash.String. Only
// the top 32 bits are used (bucket and tag), which the multiply's high
// half mixes from every input bit. Hand-written: the standard library's
// hashes have no inlinable short path and no dependency offers one.
func idHash(s string) uint64 {
	n := len(s)
	var a, b uint64
	switch {
	case n > 16:
		return maphash.String(idSeed, s)
	case n >= 8:
		a, b = le64(s), le64(s[n-8:])
	case n >= 4:
		a, b = uint64(le32(s)), uint64(le32(s[n-4:]))
	case n > 0:
		a = uint64(s[0])<<16 | uint64(s[n>>1])<<8 | uint64(s[n-1])
	}
	hi, lo := bits.Mul64(a^idSeed64^0xa0761d6478bd642f, b^uint64(n)^0xe7037ed1a0b428db)
	hi, lo = bits.Mul64(hi^lo^idSeed64, 0x8ebc6af09c88c6e3)
	return hi ^ lo
}

// le64 and le32 read the first bytes of s as a little-endian word (the
// compiler merges the byte loads into one).
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func le32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

const (
	dupBucketLog = 10 // 2^(dupBucketLog-1) to 2^dupBucketLog ids per bucket
	dupMaxBits   = 10 // at most 2^dupMaxBits buckets (write streams)
)

// mark sets to -1 each entry of rows (increasing row indices of non-null
// ids) whose id equals the id of an earlier entry, so the first of a
// request's rows is the one kept, and returns how many it set.
func (f *dupFinder) mark(ids *datasets.Column, rows []int32) (dups int) {
	f.marked = f.marked[:0]
	n := len(rows)
	if n < 2 {
		return 0
	}
	if cap(f.keys) < n {
		f.keys, f.tmp = make([]uint64, n), make([]uint64, n)
	}
	keys, tmp := f.keys[:n], f.tmp[:n]
	nb := min(bits.Len(uint(n)>>dupBucketLog), dupMaxBits) // bucket bits
	shift := uint(64 - nb)                                 // key>>64 is 0: one bucket
	if cap(f.count) < 1<<nb {
		f.count = make([]int32, 1<<nb)
	}
	count := f.count[:1<<nb]
	clear(count)
	for k, i := range rows {
		key := idHash(ids.Dict[ids.Codes[i]])&^(1<<32-1) | uint64(k)
		keys[k] = key
		count[key>>shift]++
	}
	// Stable counting sort by bucket: rows keep their order within one.
	largest, pos := int32(0), int32(0)
	for d, c := range count {
		largest = max(largest, c)
		count[d] = pos
		pos += c
	}
	for _, key := range keys {
		d := key >> shift
		tmp[count[d]] = key
		count[d]++ // ends as the bucket's end
	}
	// Each bucket's table has at least 8 slots per id, a power of two
	// indexed by the low bits of the 32-bit hash (the bucket is its top
	// bits). Entries are indices into tmp + 1, and a bucket's own are
	// past its start, so the previous buckets' entries read as empty and
	// the table is cleared once per batch, not per bucket.
	size := 1 << bits.Len(uint(8*largest-1))
	if cap(f.table) < size {
		f.table = make([]uint32, size)
	}
	table := f.table[:size]
	clear(table)
	start := 0
	for _, end := range count {
		s, e := start, int(end)
		start = e
		if e-s < 2 {
			continue
		}
		mask := uint32(1)<<bits.Len(uint(8*(e-s)-1)) - 1
		for j := s; j < e; j++ {
			key := tmp[j]
			tag := key >> 32
			for h := uint32(tag) & mask; ; h = (h + 1) & mask {
				x := int(table[h])
				if x <= s { // empty, or a previous bucket's
					table[h] = uint32(j + 1)
					break
				}
				y := tmp[x-1]
				if y>>32 == tag && ids.Dict[ids.Codes[rows[uint32(y)]]] == ids.Dict[ids.Codes[rows[uint32(key)]]] {
					f.marked = append(f.marked, rows[uint32(key)])
					rows[uint32(key)] = -1
					dups++
					break
				}
			}
		}
	}
	return dups
}
