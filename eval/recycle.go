package eval

import (
	"strings"

	"github.com/parity-eval/parity/datasets"
)

// RecyclingProjection is Projection with datasets.ColumnSpec.RecycleStrings
// set on every string column that only parity's own code reads: the scan
// then reuses those columns' string bytes (request ids, JSON documents)
// from one row group to the next instead of allocating them per page,
// which had been most of a full evaluation's allocation. Use it with
// ScanSpec.ReuseBuffers and Workers.Batch as the callback.
//
// A column qualifies when no configured, contrib or external scorer
// (any scorer after a plan's built-ins) reads it or a column derived
// from it: those may keep strings past Score (docs/scorers.md promises
// them only that column slices are reused). Everything else that reads
// such a column keeps no string, nor substring, of it past the batch:
//
//   - eval itself: the request id's null and duplicate checks and the
//     labels' join only compare and look up; the feature's name only
//     picks a plan; a class becomes part of a group key only copied
//     (cellTable.groupRows, strings.Clone).
//   - JSON extraction (scorers.JSONFields.Extract) keeps values as
//     offsets into the documents, so derived columns' strings are
//     substrings of the recycled bytes, and so is its scanner's memory
//     of keys and few values; its buffers outlive a batch, but those
//     memories are rebuilt per call, that is per batch, and reused
//     dictionary entries are reset to "" (no old document is kept).
//   - built-in scorers (scorers.Builtins and the latency bound) compare
//     values, parse numbers or number values within one batch
//     (Input.numbers, the quality scorers' interner); the keys they
//     output are either new strings (ClassificationKey concatenates) or
//     a column's values, which eval copies when it counts them into a
//     group (Acc.addCat clones every key it stores), and the Out key
//     dictionary is dropped once counted. Their errors are formatted
//     when made, with no column value.
//
// TestRecycledAggregatesMatch scans with the bytes poisoned after each
// batch (PARITY_POISON_RECYCLED=1) and requires the same aggregates.
func (e *Engine) RecyclingProjection() []datasets.ColumnSpec {
	cols := e.Projection()
	foreign := e.foreignColumns()
	for i := range cols {
		c := &cols[i]
		c.RecycleStrings = c.Kind == datasets.KindString && !c.PresenceOnly && !foreign[c.Name]
	}
	return cols
}

// foreignColumns are the columns a scorer that is not parity's own reads
// (its Needs, presence only or not), with the source column of any JSON
// field it reads: a derived column's strings are its source's bytes.
func (e *Engine) foreignColumns() map[string]bool {
	out := map[string]bool{}
	for _, p := range e.order {
		src := map[string]string{} // derived column -> JSON source
		for _, j := range p.jsonSrcs {
			for _, n := range j.names {
				src[n] = j.src
			}
		}
		for _, s := range p.scorers[p.builtin:] {
			for _, n := range s.Needs() {
				out[n.Column] = true
				if s, ok := src[n.Column]; ok {
					out[s] = true
				}
				// Derived names are "<source>#<path>": whatever the plan,
				// a name of that form is taken to read its source.
				if k := strings.IndexByte(n.Column, '#'); k > 0 {
					out[n.Column[:k]] = true
				}
			}
		}
	}
	return out
}
