package reconcile

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/cespare/xxhash/v2"

	"github.com/parity-eval/parity/scorers"
)

// fieldCmp is one critical field as the join compares it.
type fieldCmp struct {
	name string
	cmp  scorers.Comparator
}

// dupField names the pseudo-field of a key whose duplicate rows on one
// side disagree: the store holds no single value to compare.
const dupField = "_duplicate"

// typeAcc counts one entity type.
type typeAcc struct {
	onlyLegacy, onlyNew, mismatched, equal int64
	fieldMismatch                          map[string]int64
	dupKeys, dupRows                       [2]int64

	sOnlyLegacy, sOnlyNew, sDup sampler[string]
	sMismatch                   sampler[Mismatch]
}

// sampler keeps the k items with the smallest key hash: a deterministic
// pseudo-random sample that does not depend on partitioning or row order
// (so a spilled run and an in-memory run pick the same keys), and tends
// to pick the same entities run after run.
type sampler[T any] struct {
	k     int
	items []sampled[T]
	max   uint64 // after a trim: items with a larger hash cannot make it
	full  bool
}

type sampled[T any] struct {
	hash uint64
	key  string
	v    T
}

// wants reports whether an item with hash h could be kept, so callers
// build the sample only when needed.
func (s *sampler[T]) wants(h uint64) bool { return s.k > 0 && (!s.full || h <= s.max) }

func (s *sampler[T]) add(h uint64, key string, v T) {
	if !s.wants(h) {
		return
	}
	s.items = append(s.items, sampled[T]{h, key, v})
	if len(s.items) >= 4*s.k {
		s.trim()
	}
}

func (s *sampler[T]) trim() {
	slices.SortFunc(s.items, func(a, b sampled[T]) int {
		if c := cmp.Compare(a.hash, b.hash); c != 0 {
			return c
		}
		return cmp.Compare(a.key, b.key)
	})
	if s.k > 0 && len(s.items) >= s.k {
		s.items = s.items[:s.k]
		s.max, s.full = s.items[s.k-1].hash, true
	}
}

// result returns the sample sorted by key.
func (s *sampler[T]) result() []T {
	s.trim()
	slices.SortFunc(s.items, func(a, b sampled[T]) int { return cmp.Compare(a.key, b.key) })
	out := make([]T, len(s.items))
	for i, it := range s.items {
		out[i] = it.v
	}
	return out
}

// joiner merge-joins partitions and accumulates counts per entity type.
type joiner struct {
	ctx      context.Context // checked between partitions
	fields   []fieldCmp
	typeName string // the type column, named in type mismatches
	k        int
	values   bool
	types    map[string]*typeAcc

	partitions int   // partition pairs joined
	maxDepth   int   // deepest re-partitioning level
	spilled    int64 // bytes written to spill files, all levels
}

func (j *joiner) acc(typ []byte) *typeAcc {
	if a, ok := j.types[string(typ)]; ok {
		return a
	}
	a := &typeAcc{fieldMismatch: map[string]int64{}}
	a.sOnlyLegacy.k, a.sOnlyNew.k, a.sDup.k, a.sMismatch.k = j.k, j.k, j.k, j.k
	j.types[string(typ)] = a
	return a
}

// run joins every partition of p, splitting a spilled partition further
// when it does not fit in the memory limit.
func (j *joiner) run(p *partitioner) error {
	j.spilled += p.written
	j.maxDepth = max(j.maxDepth, p.depth)
	for i := 0; i < p.fanout; i++ {
		if err := j.ctx.Err(); err != nil {
			return err
		}
		if p.spilled && p.cost(i) > p.limit && p.canSplit() {
			c, err := p.split(i)
			if err != nil {
				return err
			}
			err = j.run(c)
			c.close()
			if err != nil {
				return err
			}
			continue
		}
		lb, err := p.load(sideLegacy, i)
		if err != nil {
			return err
		}
		nb, err := p.load(sideNew, i)
		if err != nil {
			return err
		}
		if err := j.join(lb, nb); err != nil {
			return err
		}
	}
	return nil
}

func parseAll(buf []byte, n int64) ([]rec, error) {
	out := make([]rec, 0, n)
	for len(buf) > 0 {
		body, rest, err := nextRecord(buf)
		if err != nil {
			return nil, err
		}
		r, err := parseBody(body)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
		buf = rest
	}
	// by key, then row hash: duplicates of a key come out in a fixed order
	slices.SortFunc(out, func(a, b rec) int {
		if c := bytes.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.hash, b.hash)
	})
	return out, nil
}

// join merge-joins one partition pair.
func (j *joiner) join(lb, nb []byte) error {
	if len(lb) == 0 && len(nb) == 0 {
		return nil
	}
	j.partitions++
	L, err := parseAll(lb, 0)
	if err != nil {
		return err
	}
	N, err := parseAll(nb, 0)
	if err != nil {
		return err
	}
	i, k := 0, 0
	for i < len(L) || k < len(N) {
		var key []byte
		switch {
		case i >= len(L):
			key = N[k].key
		case k >= len(N):
			key = L[i].key
		case bytes.Compare(L[i].key, N[k].key) <= 0:
			key = L[i].key
		default:
			key = N[k].key
		}
		i2, k2 := i, k
		for i2 < len(L) && bytes.Equal(L[i2].key, key) {
			i2++
		}
		for k2 < len(N) && bytes.Equal(N[k2].key, key) {
			k2++
		}
		if err := j.entity(key, L[i:i2], N[k:k2]); err != nil {
			return err
		}
		i, k = i2, k2
	}
	return nil
}

// entity classifies one key given its rows on each side (sorted by row
// hash). The entity's type is the legacy row's (the new row's when it is
// only in new); a type that differs between the stores is a mismatch of
// the type column.
func (j *joiner) entity(key []byte, ls, ns []rec) error {
	typ := ns
	if len(ls) > 0 {
		typ = ls
	}
	a := j.acc(typ[0].typ)
	kh := xxhash.Sum64(key)
	var conflict bool
	for side, rs := range [2][]rec{ls, ns} {
		if len(rs) > 1 {
			a.dupKeys[side]++
			a.dupRows[side] += int64(len(rs) - 1)
			// sorted by row hash: all rows agree iff first and last do
			conflict = conflict || rs[0].hash != rs[len(rs)-1].hash
		}
	}
	if (len(ls) > 1 || len(ns) > 1) && a.sDup.wants(kh) {
		a.sDup.add(kh, string(key), string(key))
	}
	switch {
	case len(ns) == 0:
		a.onlyLegacy++
		if a.sOnlyLegacy.wants(kh) {
			a.sOnlyLegacy.add(kh, string(key), string(key))
		}
		return nil
	case len(ls) == 0:
		a.onlyNew++
		if a.sOnlyNew.wants(kh) {
			a.sOnlyNew.add(kh, string(key), string(key))
		}
		return nil
	}
	l, n := ls[0], ns[0]
	var diff []string
	if !bytes.Equal(l.typ, n.typ) {
		diff = append(diff, j.typeName)
	}
	if conflict {
		diff = append(diff, dupField)
	}
	var lv, nv []value
	if !bytes.Equal(l.vals, n.vals) || j.values {
		var err error
		if lv, err = values(l.vals, len(j.fields)); err != nil {
			return err
		}
		if nv, err = values(n.vals, len(j.fields)); err != nil {
			return err
		}
		for f := range j.fields {
			if !equalValues(j.fields[f].cmp, lv[f], nv[f]) {
				diff = append(diff, j.fields[f].name)
			}
		}
	}
	if len(diff) == 0 {
		a.equal++
		return nil
	}
	a.mismatched++
	for _, f := range diff {
		a.fieldMismatch[f]++
	}
	if a.sMismatch.wants(kh) {
		m := Mismatch{Key: string(key), Fields: diff}
		if j.values {
			m.Legacy, m.New = map[string]*string{}, map[string]*string{}
			for f := range j.fields {
				m.Legacy[j.fields[f].name] = lv[f].sample()
				m.New[j.fields[f].name] = nv[f].sample()
			}
			lt, nt := string(l.typ), string(n.typ)
			m.Legacy[j.typeName], m.New[j.typeName] = &lt, &nt
		}
		a.sMismatch.add(kh, m.Key, m)
	}
	return nil
}

func values(vals []byte, n int) ([]value, error) {
	out := make([]value, n)
	for i := range out {
		v, rest, err := nextValue(vals)
		if err != nil {
			return nil, fmt.Errorf("%w: field %d", err, i)
		}
		out[i] = v
		vals = rest
	}
	return out, nil
}

// Mismatch is one sampled entity present in both stores whose critical
// fields differ. Values are only filled in with sample_values: true; a
// null value is JSON null.
type Mismatch struct {
	Key    string             `json:"key"`
	Fields []string           `json:"fields"`
	Legacy map[string]*string `json:"legacy,omitempty"`
	New    map[string]*string `json:"new,omitempty"`
}
