package eval

import (
	"slices"
	"strings"

	"github.com/parity-eval/parity/datasets"
)

// cellTable resolves a feature's rows to the batch's groups by (window
// start, class code): integers, not string keys. A map per row had cost
// as much as a scorer: input classes vary from row to row, so caching
// the previous row's cell rarely hit. A batch has few windows and its
// class column a small dictionary, so each window gets a dense row of
// the table indexed by class code + 1 (0 = null), holding group index
// + 1 (0 = not resolved yet). Windows beyond the table's budget (a
// large class dictionary over many windows) are resolved through a map,
// as before. The worker reuses one table from feature to feature.
type cellTable struct {
	slot   map[int64]int32 // window start → slot in off
	off    []int           // per slot: its row's offset in tab, -1 for the map
	tab    []int32         // [off + code+1] = group index + 1, 0 = unresolved
	far    map[cell]int32  // cells of the windows without a row in tab
	pos    map[*Group]int32
	groups []*Group
}

// cell is a row's (class code, window start); code -1 is a null class.
type cell struct {
	code int32
	win  int64
}

// groupRows sets gi[i] (for the n rows of the feature being scored,
// gi's buffer recycled through gibuf) to the index of row i's group in
// the returned groups: the feature's groups of this batch, in the order
// of their first row (the order accumulate adds to them in), created in
// agg when new. cls (nil when absent) is the batch's class column, ts
// its timestamps, and the feature's row i is their row rows[i] (row i
// when rows is nil): read through the row indexes, neither column is
// gathered for the feature (a copy of each, written and read back once,
// per feature per batch); "" and a null class are both the group
// "(none)".
func (t *cellTable) groupRows(e *Engine, agg *Aggregates, p *featurePlan, cls, ts *datasets.Column, rows []int32, n int, gibuf *[]int32) ([]int32, []*Group) {
	if cap(*gibuf) < n {
		*gibuf = make([]int32, n)
	}
	gi := (*gibuf)[:n]
	if t.slot == nil {
		t.slot, t.far, t.pos = map[int64]int32{}, map[cell]int32{}, map[*Group]int32{}
	}
	clear(t.slot)
	clear(t.far)
	clear(t.pos)
	t.off, t.tab = t.off[:0], t.tab[:0]
	clear(t.groups) // drop the previous batch's pointers
	t.groups = t.groups[:0]
	width := 1
	if cls != nil {
		width = len(cls.Dict) + 1
	}
	budget := maxDenseCells(n)
	resolve := func(c cell) int32 {
		class := ""
		if c.code >= 0 {
			class = cls.Dict[c.code]
		}
		if class == "" {
			class = "(none)"
		}
		k := GroupKey{Feature: p.cfg.Name, Class: class, Window: c.win / 1e9}
		g := agg.Groups[k]
		if g == nil {
			g = &Group{Metrics: map[string]*Acc{}}
			// The class may point into the row group's string bytes (a
			// PLAIN-encoded class column); the key lives for the run.
			k.Class = strings.Clone(k.Class)
			agg.Groups[k] = g
		}
		// Distinct codes can name the same group ("" and null).
		j, ok := t.pos[g]
		if !ok {
			j = int32(len(t.groups))
			t.pos[g] = j
			t.groups = append(t.groups, g)
		}
		return j
	}
	var (
		row      []int32 // the current window's row of tab; nil: use far
		win, end int64   // the current window [win, end)
		started  bool
	)
	if rows != nil {
		rows = rows[:n]
	}
	for i := range n {
		r := i
		if rows != nil { // the same every row: predicted
			r = int(rows[i])
		}
		// Batch keeps only rows inside the configured windows, so end
		// does not overflow.
		if x := ts.Int[r]; !started || x < win || x >= end {
			win = x - floorMod(x, e.winLen)
			end, started = win+e.winLen, true
			row = t.rowOf(win, width, budget)
		}
		code := int32(-1)
		if cls != nil && !cls.IsNull(r) {
			code = cls.Codes[r]
		}
		if row != nil {
			j := row[code+1] - 1
			if j < 0 {
				j = resolve(cell{code, win})
				row[code+1] = j + 1
			}
			gi[i] = j
			continue
		}
		c := cell{code, win}
		j, ok := t.far[c]
		if !ok {
			j = resolve(c)
			t.far[c] = j
		}
		gi[i] = j
	}
	return gi, t.groups
}

// rowOf returns window win's row of the table, adding a zeroed one for
// a new window while the table stays within budget cells; nil means the
// window's cells go through the map.
func (t *cellTable) rowOf(win int64, width, budget int) []int32 {
	s, ok := t.slot[win]
	if !ok {
		s = int32(len(t.off))
		t.slot[win] = s
		o := -1
		if len(t.tab)+width <= budget {
			o = len(t.tab)
			t.tab = slices.Grow(t.tab, width)[:o+width]
			clear(t.tab[o:])
		}
		t.off = append(t.off, o)
	}
	o := t.off[s]
	if o < 0 {
		return nil
	}
	return t.tab[o : o+width]
}
