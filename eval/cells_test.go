package eval

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
)

// groupRowsByMap is the simple form cellTable replaced: one map lookup
// per (class code, window) cell, groups in the order of their first row.
func groupRowsByMap(e *Engine, agg *Aggregates, p *featurePlan, cls, ts *datasets.Column, n int) ([]int32, []*Group) {
	gi := make([]int32, n)
	var groups []*Group
	cells := map[cell]int32{}
	pos := map[*Group]int32{}
	for i := range n {
		c := cell{code: -1}
		if cls != nil && !cls.IsNull(i) {
			c.code = cls.Codes[i]
		}
		c.win = ts.Int[i] - floorMod(ts.Int[i], e.winLen)
		j, ok := cells[c]
		if !ok {
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
				agg.Groups[k] = g
			}
			if j, ok = pos[g]; !ok {
				j = int32(len(groups))
				pos[g] = j
				groups = append(groups, g)
			}
			cells[c] = j
		}
		gi[i] = j
	}
	return gi, groups
}

// TestCellTableMatchesMap: the dense table gives every row the group the
// map gives it, with the groups in the same order and the same keys
// created, for time-ordered and shuffled timestamps, null and "" classes
// (one group), repeated dictionary values, no class column, and class
// dictionaries too large for the table over many windows (the map
// fallback), reusing one table across calls as a worker does.
func TestCellTableMatchesMap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const hour = int64(time.Hour)
	e := &Engine{winLen: hour}
	p := &featurePlan{cfg: &config.Feature{Name: "f"}}
	var tab cellTable
	var gibuf []int32
	farTrials := 0
	for trial := range 300 {
		n := 1 + r.IntN(3000)
		ndict := 1 + r.IntN(8)
		if trial%5 == 0 {
			ndict = 2000 + r.IntN(8000) // beyond the budget over a few windows
		}
		nwin := 1 + r.IntN(6)
		if trial%7 == 0 {
			nwin = 1 + r.IntN(200)
		}
		dict := make([]string, ndict)
		for k := range dict {
			dict[k] = fmt.Sprint("c", r.IntN(ndict/2+1)) // values repeat under several codes
		}
		dict[0] = ""
		cls := &datasets.Column{Name: "class", Kind: datasets.KindString, Dict: dict, Codes: make([]int32, n)}
		if trial%3 == 0 {
			cls.Null = make([]bool, n)
		}
		ts := &datasets.Column{Name: "ts", Kind: datasets.KindTimestamp, Int: make([]int64, n)}
		base := int64(1_790_000_000) * 1e9
		if trial%4 == 0 {
			base = -int64(3e9) * 1e9 // before 1970: floorMod of negatives
		}
		for i := range n {
			cls.Codes[i] = int32(r.IntN(ndict))
			if cls.Null != nil && r.IntN(10) == 0 {
				cls.Null[i] = true
			}
			ts.Int[i] = base + r.Int64N(int64(nwin)*hour)
		}
		if trial%2 == 0 {
			slices.Sort(ts.Int)
		}
		var c *datasets.Column
		if trial%11 != 0 {
			c = cls
		}
		gotAgg, wantAgg := NewAggregates(), NewAggregates()
		wgi, wgroups := groupRowsByMap(e, wantAgg, p, c, ts, n)
		ggi, ggroups := tab.groupRows(e, gotAgg, p, c, ts, nil, n, &gibuf)
		if slices.Contains(tab.off, -1) {
			farTrials++
		}
		if !slices.Equal(wgi, ggi) {
			t.Fatalf("trial %d: group indexes differ", trial)
		}
		keys := func(a *Aggregates, gs []*Group) []GroupKey {
			byPtr := map[*Group]GroupKey{}
			for k, g := range a.Groups {
				byPtr[g] = k
			}
			out := make([]GroupKey, len(gs))
			for i, g := range gs {
				out[i] = byPtr[g]
			}
			return out
		}
		if w, g := keys(wantAgg, wgroups), keys(gotAgg, ggroups); !slices.Equal(w, g) || len(wantAgg.Groups) != len(gotAgg.Groups) {
			t.Fatalf("trial %d: groups %v, want %v", trial, g, w)
		}
		// Through row indexes (a feature's rows of the batch): as the
		// map on the gathered rows.
		var idx []int32
		for i := range n {
			if r.IntN(3) > 0 {
				idx = append(idx, int32(i))
			}
		}
		var gb gatherBufs
		cols := []*datasets.Column{ts}
		if c != nil {
			cols = append(cols, c)
		}
		gathered := gb.gather(cols, idx)
		var gc *datasets.Column
		if c != nil {
			gc = gathered[1]
		}
		gotAgg, wantAgg = NewAggregates(), NewAggregates()
		wgi, wgroups = groupRowsByMap(e, wantAgg, p, gc, gathered[0], len(idx))
		ggi, ggroups = tab.groupRows(e, gotAgg, p, c, ts, idx, len(idx), &gibuf)
		if !slices.Equal(wgi, ggi) {
			t.Fatalf("trial %d, row indexes: group indexes differ", trial)
		}
		if w, g := keys(wantAgg, wgroups), keys(gotAgg, ggroups); !slices.Equal(w, g) || len(wantAgg.Groups) != len(gotAgg.Groups) {
			t.Fatalf("trial %d, row indexes: groups %v, want %v", trial, g, w)
		}
	}
	if farTrials == 0 {
		t.Fatal("no trial used the map fallback")
	}
}

// TestGroupKeysDoNotPinBatchBytes: a group's class, taken from the class
// column's strings (substrings of a page's bytes when the column is
// PLAIN-encoded), is copied into the group key, which lives for the run.
func TestGroupKeysDoNotPinBatchBytes(t *testing.T) {
	page := "chatemailphone"
	lo := uintptr(unsafe.Pointer(unsafe.StringData(page)))
	hi := lo + uintptr(len(page))
	const n = 30
	cls := &datasets.Column{Name: "class", Kind: datasets.KindString,
		Dict: []string{page[0:4], page[4:9], page[9:14]}, Codes: make([]int32, n)}
	ts := &datasets.Column{Name: "ts", Kind: datasets.KindTimestamp, Int: make([]int64, n)}
	for i := range n {
		cls.Codes[i] = int32(i % 3)
		ts.Int[i] = int64(1_790_000_000)*1e9 + int64(i)*int64(time.Minute)
	}
	e := &Engine{winLen: int64(time.Hour)}
	p := &featurePlan{cfg: &config.Feature{Name: "f"}}
	var tab cellTable
	var gibuf []int32
	agg := NewAggregates()
	tab.groupRows(e, agg, p, cls, ts, nil, n, &gibuf)
	if len(agg.Groups) != 3 {
		t.Fatalf("%d groups, want 3", len(agg.Groups))
	}
	for k := range agg.Groups {
		if q := uintptr(unsafe.Pointer(unsafe.StringData(k.Class))); q >= lo && q < hi {
			t.Errorf("group key class %q points into the batch's bytes", k.Class)
		}
	}
}
