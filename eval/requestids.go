package eval

import "hash/maphash"

// idSet is the set of request ids seen in one batch when the request-id
// column's Dict may repeat a string under several codes
// (datasets.Column.DictRepeats: PLAIN-encoded ids are not deduplicated
// by the decoder), so codes alone cannot tell duplicates apart.
//
// It is an open-addressing table of uint64 slots (32-bit hash tag | code+1)
// over the batch's Dict, sized to the batch and reused by its worker.
// It is hand-written because a Go map[string]struct{} costs more per
// insert here (an id is hashed twice, for the lookup and the insert, and
// the table's string keys are scanned by the GC); this one hashes each
// id once, holds no pointers and compares strings only on a tag hit.
type idSet struct {
	slots []uint64 // 0 = empty, else hash32<<32 | code+1
	mask  uint64
}

var idSeed = maphash.MakeSeed()

// reset empties the set and sizes it for n ids (at most half full).
func (s *idSet) reset(n int) {
	size := 1024
	for size < 2*n {
		size *= 2
	}
	if cap(s.slots) < size || cap(s.slots) > 4*size {
		s.slots = make([]uint64, size)
	} else {
		s.slots = s.slots[:size]
		clear(s.slots)
	}
	s.mask = uint64(size - 1)
}

// add inserts the id dict[code] and reports whether it was absent.
// Callers add at most the n ids reset was given.
func (s *idSet) add(dict []string, code int32) bool {
	id := dict[code]
	tag := maphash.String(idSeed, id) >> 32
	for i := tag & s.mask; ; i = (i + 1) & s.mask {
		v := s.slots[i]
		if v == 0 {
			s.slots[i] = tag<<32 | uint64(uint32(code)+1)
			return true
		}
		if v>>32 == tag {
			if c := int32(uint32(v)) - 1; c == code || dict[c] == id {
				return false
			}
		}
	}
}
