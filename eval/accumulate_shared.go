package eval

import (
	"fmt"
	"slices"
	"strings"

	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers"
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
//
// Built-in scorers that read only the batch's columns (rshapes) are
// shared the same way: count scorers (error rates, the AI share, audit
// completeness, the latency bound) have their codes computed once over
// the batch's rows (for the latency bound, each row against its own
// feature's bound) and counted per group through bgi, counts being
// integers that do not depend on the order of rows; a CategoryValue's
// column is counted per group, and a NumericValue's values are folded
// into each group's sketch in row order.
type sharedFolds struct {
	on  []bool // per Engine.shapes: folded once for the batch
	ron []bool // per Engine.rshapes: codes computed once for the batch
	any bool   // some shape or rshape is on
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
	codes []uint8    // a shared count scorer's codes, per row of the batch
	bound []float64  // per group: its feature's bound (rateOverBound)
	tab   [][4]int64 // per group (4 tables), rows of each code
	// cgroups are groups with the sink and other features' groups
	// replaced by sinkGroup, whose counts are never read: for the
	// category counts and a NumericValue's sketch, which create a group's
	// Acc as they go. sinkGroup's Accs are kept from batch to batch, so
	// its rows go into one sketch or map made once, not into new ones
	// dropped after every batch.
	cgroups   []*Group
	sinkGroup *Group
	accs      []*Acc
	out       *scorers.Out // a shared NumericValue's values, per row of the batch
}

// rateKey identifies a shared built-in scorer by what it computes from
// the batch's columns: two features' scorers of one key give the same
// code on every row, except the latency bound's, whose bound is read
// per feature.
type rateKey struct {
	kind               uint8
	metric, col, value string
}

// Kinds of rateKey.
const (
	rateBool = 1 + iota
	rateValue
	rateAudit
	rateOverBound
	rateCategory // not a count: a CategoryValue's dictionary column counted per key
	rateNumeric  // not a count: a NumericValue's column folded into sketches
)

// rateShape is one of Engine.rshapes: its key and the first scorer
// found with it (any other of that key computes the same codes).
type rateShape struct {
	key rateKey
	s   scorers.Scorer
}

// rateKeyOf returns the key of a built-in scorer that may be computed
// for the whole batch.
func rateKeyOf(s scorers.Scorer) (rateKey, bool) {
	switch s := s.(type) {
	case *scorers.BoolRate:
		return rateKey{kind: rateBool, metric: s.Metric, col: s.Column}, true
	case *scorers.ValueRate:
		return rateKey{kind: rateValue, metric: s.Metric, col: s.Column, value: s.Value}, true
	case *scorers.AuditComplete:
		return rateKey{kind: rateAudit, metric: s.Name(), col: strings.Join(append(slices.Clip(s.Columns), s.NoneOnError, s.ErrorColumn), "\x00")}, true
	case *scorers.OverBound:
		return rateKey{kind: rateOverBound, metric: s.Metric, col: s.Column}, true
	case *scorers.CategoryValue:
		return rateKey{kind: rateCategory, metric: s.Metric, col: s.Column}, true
	case *scorers.NumericValue:
		return rateKey{kind: rateNumeric, metric: s.Metric, col: s.Column}, true
	}
	return rateKey{}, false
}

// sharedSpan is one feature's groups in sharedFolds.groups.
type sharedSpan struct {
	p      *featurePlan
	off, n int
}

// has reports whether plan p has a directPerSystem scorer of shape sh.
func has(p *featurePlan, sh int) bool { return slices.Contains(p.shape, sh) }

// hasRate reports whether plan p has a scorer of rshape sh.
func hasRate(p *featurePlan, sh int) bool { return slices.Contains(p.rshape, sh) }

// onIn reports which of shapes (Engine.shapes or rshapes, by has) two
// or more of the batch's features have, into on; and whether any.
func onIn(on []bool, n int, order []*featurePlan, rows [][]int32, has func(*featurePlan, int) bool) ([]bool, bool) {
	if cap(on) < n {
		on = make([]bool, n)
	}
	on = on[:n]
	anyOn := false
	for sh := range on {
		k := 0
		for _, p := range order {
			if len(rows[p.idx]) > 0 && has(p, sh) {
				k++
			}
		}
		on[sh] = k >= 2
		anyOn = anyOn || on[sh]
	}
	return on, anyOn
}

// skips reports whether column col is not gathered for plan p in this
// batch: every scorer of p reading it is computed for the whole batch
// (an rshape).
func (s *sharedFolds) skips(p *featurePlan, col string) bool {
	shs, ok := p.rateOnly[col]
	if !ok {
		return false
	}
	for _, sh := range shs {
		if !s.ron[sh] {
			return false
		}
	}
	return true
}

// batch starts a batch whose features' rows are rows (per plan, as
// Workers.Batch listed them) among n: it decides which shapes are
// folded once for the batch.
func (s *sharedFolds) batch(e *Engine, rows [][]int32, n int) {
	var anyFold, anyRate bool
	s.on, anyFold = onIn(s.on, len(e.shapes), e.order, rows, has)
	s.ron, anyRate = onIn(s.ron, len(e.rshapes), e.order, rows, hasRate)
	s.any = anyFold || anyRate
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
	for _, sh := range p.rshape {
		if sh >= 0 && s.ron[sh] {
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
func (s *sharedFolds) fold(e *Engine, b *datasets.Batch) error {
	if !s.any {
		return nil
	}
	if err := s.rates(e, b); err != nil {
		return err
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
	return nil
}

// rates computes the batch's shared rshapes (ron) into the groups: each
// one over every row of the batch, then counted or folded per
// batch-level group, the sink's and other features' results unread.
func (s *sharedFolds) rates(e *Engine, b *datasets.Batch) error {
	ng := len(s.groups)
	if cap(s.bound) < ng {
		s.bound = make([]float64, ng)
	}
	if cap(s.codes) < b.Rows {
		s.codes = make([]uint8, b.Rows)
	}
	bgi := s.bgi[:b.Rows]
	in := &scorers.Input{Rows: b.Rows, Batch: b}
	for sh, on := range s.ron {
		if !on {
			continue
		}
		r := &e.rshapes[sh]
		switch r.key.kind {
		case rateCategory:
			s.categories(sh, r.key.metric, b.Col(r.key.col), b.Rows)
			continue
		case rateNumeric:
			if err := s.numeric(sh, r, in); err != nil {
				return fmt.Errorf("%s: %w", r.s.Name(), err)
			}
			continue
		}
		var codes []uint8
		if r.key.kind == rateOverBound {
			bound := s.bound[:ng]
			for _, sp := range s.spans {
				k := slices.Index(sp.p.rshape, sh)
				for g := sp.off; g < sp.off+sp.n; g++ {
					bound[g] = 0
					if k >= 0 {
						bound[g] = sp.p.scorers[k].(*scorers.OverBound).Bound
					}
				}
			}
			codes = overBoundCodesByGroup(s.codes[:b.Rows], b.Col(r.key.col), bgi, bound)
		} else {
			codes = r.s.(scorers.RateCoder).RateCodes(in, s.codes[:b.Rows])
		}
		s.tab = countCodes(s.tab, ng, bgi, codes)
		for _, sp := range s.spans {
			if !hasRate(sp.p, sh) {
				continue // its groups' counts, as the sink's, are not read
			}
			for g := sp.off; g < sp.off+sp.n; g++ {
				if c := s.tab[g]; c[0]+c[1] > 0 {
					a := s.groups[g].acc(r.key.metric)
					a.N += c[0] + c[1]
					a.K += c[1]
				}
			}
		}
	}
	return nil
}

// overBoundCodesByGroup is overBoundCodes over every row of the batch
// (c nil: absent), row i against the bound of its group gi[i]: the same
// codes, in loops of their own so that overBoundCodes' per-feature loops
// keep their one bound in a register rather than load it per row.
func overBoundCodesByGroup(dst []uint8, c *datasets.Column, gi []int32, bound []float64) []uint8 {
	if c == nil {
		for i := range dst {
			dst[i] = 2
		}
		return dst
	}
	src := c.Float[:len(dst)]
	gi = gi[:len(dst)]
	if c.Null == nil {
		for i, x := range src {
			dst[i] = uint8(b2i(!(x >= 0))<<1 | b2i(x > bound[gi[i]]))
		}
		return dst
	}
	null := c.Null[:len(dst)]
	for i, x := range src {
		dst[i] = uint8((b2i(!(x >= 0))|b2i(null[i]))<<1 | b2i(x > bound[gi[i]])&^b2i(null[i]))
	}
	return dst
}

// categories counts a shared CategoryValue's column c (nil: absent,
// nothing counted) over the batch's n rows into the groups of the
// features with rshape sh, as countCategoryCodes does per feature.
func (s *sharedFolds) categories(sh int, metric string, c *datasets.Column, n int) {
	if c == nil {
		return
	}
	accs := s.memberGroups(sh)
	var null []bool
	if c.Null != nil {
		null = c.Null[:n]
	}
	countCategoryCodes(&accSet{name: metric, gi: s.bgi[:n], groups: s.cgroups, accs: accs}, c.Codes[:n], null, c.Dict)
	s.dropSink()
}

// memberGroups sets cgroups for rshape sh: the batch's groups, with the
// sink and the groups of features without sh replaced by sinkGroup,
// whose metrics are never read. It returns accs for them, nil.
func (s *sharedFolds) memberGroups(sh int) []*Acc {
	if s.sinkGroup == nil {
		s.sinkGroup = &Group{Metrics: map[string]*Acc{}}
	}
	ng := len(s.groups)
	s.cgroups = append(s.cgroups[:0], s.sinkGroup)
	for _, sp := range s.spans {
		member := hasRate(sp.p, sh)
		for g := sp.off; g < sp.off+sp.n; g++ {
			if member {
				s.cgroups = append(s.cgroups, s.groups[g])
			} else {
				s.cgroups = append(s.cgroups, s.sinkGroup)
			}
		}
	}
	if cap(s.accs) < ng {
		s.accs = make([]*Acc, ng)
	}
	accs := s.accs[:ng]
	clear(accs)
	return accs
}

// dropSink drops memberGroups' references to the batch's groups.
func (s *sharedFolds) dropSink() {
	clear(s.accs)
	clear(s.cgroups)
}

// numeric folds a shared NumericValue (rshape sh) over the batch's rows
// (in) into the groups of the features that have it, as Score and
// accumulate do per feature: each group's sketch still gets its values
// in row order.
func (s *sharedFolds) numeric(sh int, r *rateShape, in *scorers.Input) error {
	if s.out == nil {
		s.out = &scorers.Out{}
	}
	s.out.ResetBuiltin(r.s, in.Rows)
	if err := r.s.Score(in, s.out); err != nil {
		return err
	}
	s.out.Untouched(r.s.Kind())
	accs := s.memberGroups(sh)
	accumulateScores(&accSet{name: r.key.metric, gi: s.bgi[:in.Rows], groups: s.cgroups, accs: accs}, s.out, 0, false)
	s.dropSink()
	return nil
}
