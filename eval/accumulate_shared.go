package eval

import (
	"slices"

	"github.com/parity-eval/parity/datasets"
)

// sharedFolds folds a batch's per-system columns (parity's own
// PerSystemValue: latency, cost) once for all the batch's features that
// read the same columns into the same metric (Engine.shapes), instead of
// once per feature through its row indexes: a batch mixes features row
// by row, so each feature's pass had read every cache line of the
// column (~1 MiB for a 128Ki-row batch) for a third of its values, and
// the copy out of the column had become the largest part of these
// folds. Each feature's groups get a place in one batch-level group
// index (bgi, row → group, built from each feature's own group index),
// and each column is then read once, in row order. Every group belongs
// to one feature, whose rows keep their order in the batch, so each
// Sum still receives its values one at a time in row order.
//
// A fold is shared only when two or more of the batch's features have
// it; a batch of one feature (its rows already the whole batch, or
// nearly) is folded per feature as before (foldPerSystemColumns).
type sharedFolds struct {
	on  []bool // per Engine.shapes: folded once for the batch
	any bool   // some shape is on
	// bgi is, for each row of the batch, its group's index in groups;
	// 0 (the sink) for a row of no feature taking part.
	bgi []int32
	// groups are the groups of the features taking part, from index 1:
	// feature by feature, each feature's in its own order.
	groups []*Group
	spans  []sharedSpan
	// sink takes the values of rows whose group has no sketch in the
	// fold (dropped rows, rows of features without that scorer), so the
	// fold's loops need no test for them. Never read, never reset: its
	// buckets span only the values' range.
	sink *Sketch
	sks  []*Sketch // a fold's sketch per group
	// fresh[g] is the new sketch in sks[g] for a group that had none,
	// attached only if a value reached it.
	fresh []*Sketch
}

// sharedSpan is one feature's groups in sharedFolds.groups.
type sharedSpan struct {
	p      *featurePlan
	off, n int
}

// has reports whether plan p has a directPerSystem scorer of shape sh.
func has(p *featurePlan, sh int) bool { return slices.Contains(p.shape, sh) }

// batch starts a batch whose features' rows are rows (per plan, as
// Workers.Batch listed them) among n: it decides which shapes are
// folded once for the batch.
func (s *sharedFolds) batch(e *Engine, rows [][]int32, n int) {
	s.any = false
	if len(e.shapes) == 0 {
		return
	}
	if cap(s.on) < len(e.shapes) {
		s.on = make([]bool, len(e.shapes))
	}
	s.on = s.on[:len(e.shapes)]
	for sh := range s.on {
		k := 0
		for _, p := range e.order {
			if len(rows[p.idx]) > 0 && has(p, sh) {
				k++
			}
		}
		s.on[sh] = k >= 2
		s.any = s.any || s.on[sh]
	}
	if !s.any {
		return
	}
	covered := 0
	for _, p := range e.order {
		if len(rows[p.idx]) > 0 && s.takesPart(p) {
			covered += len(rows[p.idx])
		}
	}
	if cap(s.bgi) < n {
		s.bgi = make([]int32, n)
	}
	s.bgi = s.bgi[:n]
	if covered < n {
		clear(s.bgi) // rows of no feature taking part: the sink
	}
	s.groups = append(s.groups[:0], nil)
	s.spans = s.spans[:0]
	if s.sink == nil {
		s.sink = NewSketch()
	}
}

// takesPart reports whether plan p has a fold shared in this batch.
func (s *sharedFolds) takesPart(p *featurePlan) bool {
	for _, sh := range p.shape {
		if sh >= 0 && s.on[sh] {
			return true
		}
	}
	return false
}

// add enters the groups of feature p (its rows, nil for every row of
// the batch; gi, each row's group in groups) into the batch-level group
// index, if p takes part in a shared fold.
func (s *sharedFolds) add(p *featurePlan, rows, gi []int32, groups []*Group) {
	if !s.any || !s.takesPart(p) {
		return
	}
	off := int32(len(s.groups))
	s.groups = append(s.groups, groups...)
	s.spans = append(s.spans, sharedSpan{p: p, off: int(off), n: len(groups)})
	bgi := s.bgi
	if rows == nil {
		for i, g := range gi {
			bgi[i] = off + g
		}
		return
	}
	rows = rows[:len(gi)]
	for i, r := range rows {
		bgi[r] = off + gi[i]
	}
}

// fold folds the batch's shared shapes, each system's column in one
// pass over the batch's rows, after every feature has been added.
func (s *sharedFolds) fold(e *Engine, b *datasets.Batch) {
	if !s.any {
		return
	}
	ng := len(s.groups)
	if cap(s.sks) < ng {
		s.sks, s.fresh = make([]*Sketch, ng), make([]*Sketch, ng)
	}
	sks, fresh := s.sks[:ng], s.fresh[:ng]
	for sh, on := range s.on {
		if !on {
			continue
		}
		v := &e.shapes[sh]
		for system, name := range [2]string{v.LegacyCol, v.AICol} {
			c := b.Col(name)
			if c == nil { // absent: every value NaN, nothing to fold
				continue
			}
			sks[0] = s.sink
			for _, sp := range s.spans {
				member := has(sp.p, sh)
				for g := sp.off; g < sp.off+sp.n; g++ {
					if !member {
						sks[g] = s.sink
						continue
					}
					if a := s.groups[g].Metrics[v.Metric]; a != nil {
						sks[g] = *a.systemSlot(system)
					}
					if sks[g] == nil {
						sks[g] = freshPool.Get().(*Sketch)
						fresh[g] = sks[g]
					}
				}
			}
			foldRun(sks, s.bgi[:b.Rows], &foldSource{c: c})
			for g, f := range fresh {
				switch {
				case f == nil:
				case f.Count > 0:
					*s.groups[g].acc(v.Metric).systemSlot(system) = f
				default:
					freshPool.Put(f) // as foldBlocks does
				}
			}
			clear(sks)
			clear(fresh)
		}
	}
	clear(s.groups) // drop the batch's groups
	s.groups = s.groups[:0]
	for i := range s.spans {
		s.spans[i].p = nil
	}
}
