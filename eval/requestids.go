package eval

import (
	"hash/maphash"

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
// two stable counting-sort passes over the hashes' top bits (sequential
// reads, 2,048 write streams) bring equal ids next to each other in row
// order, and only ids whose hashes share those bits are compared.
type dupFinder struct {
	keys, tmp []uint64 // hash's top 32 bits | position in rows
	kept      []uint32 // positions kept so far in the current run
}

var idSeed = maphash.MakeSeed()

const (
	dupDigit = 11 // bits per counting-sort pass
	dupShift = 64 - 2*dupDigit
)

// mark sets to -1 each entry of rows (increasing row indices of non-null
// ids) whose id equals the id of an earlier entry, so the first of a
// request's rows is the one kept.
func (f *dupFinder) mark(ids *datasets.Column, rows []int32) {
	n := len(rows)
	if cap(f.keys) < n {
		f.keys, f.tmp = make([]uint64, n), make([]uint64, n)
	}
	keys, tmp := f.keys[:n], f.tmp[:n]
	// Counting sort in two passes, least significant digit first: after
	// both, keys are ordered by their top 2·dupDigit bits, and the sort is
	// stable, so row order is kept among equal ones. Both digits' counts
	// are taken while hashing.
	const m = 1<<dupDigit - 1
	var count [2][1 << dupDigit]int32
	for k, i := range rows {
		key := maphash.String(idSeed, ids.Dict[ids.Codes[i]])&^(1<<32-1) | uint64(k)
		keys[k] = key
		count[0][key>>dupShift&m]++
		count[1][key>>(dupShift+dupDigit)&m]++
	}
	for pass, shift := range [2]uint{dupShift, dupShift + dupDigit} {
		c := &count[pass]
		pos := int32(0)
		for d, n := range c {
			c[d] = pos
			pos += n
		}
		for _, key := range keys {
			d := key >> shift & m
			tmp[c[d]] = key
			c[d]++
		}
		keys, tmp = tmp, keys
	}
	// A run of keys with equal top bits is nearly always one key. Each
	// key is compared with the distinct ids kept before it in its run (not
	// with every earlier key, so a batch of one id repeated stays linear).
	for a := 0; a < n; {
		b := a + 1
		for b < n && keys[b]>>dupShift == keys[a]>>dupShift {
			b++
		}
		if b == a+1 {
			a = b // no id to compare with: its string is not even loaded
			continue
		}
		kept := f.kept[:0] // indices into keys
		for j := a; j < b; j++ {
			key := keys[j]
			id := ids.Dict[ids.Codes[rows[uint32(key)]]]
			dup := false
			for _, y := range kept {
				if keys[y]>>32 == key>>32 && ids.Dict[ids.Codes[rows[uint32(keys[y])]]] == id {
					dup = true
					break
				}
			}
			if dup {
				rows[uint32(key)] = -1
			} else {
				kept = append(kept, uint32(j))
			}
		}
		f.kept = kept
		a = b
	}
}
