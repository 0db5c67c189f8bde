package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/parity-eval/parity/eval"
)

// ParityGroups reads the aggregates a parity run wrote under out
// (aggregates/window=*/aggregates.json) and extracts the figures DuckDB
// recomputes.
func ParityGroups(out string) ([]Group, error) {
	paths, err := filepath.Glob(filepath.Join(out, "aggregates", "window=*", "aggregates.json"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("bench: no aggregates under %s", out)
	}
	var groups []Group
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var f eval.AggregatesFile
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("bench: %s: %w", p, err)
		}
		for _, e := range f.Groups {
			groups = append(groups, parityGroup(e))
		}
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].Key() < groups[j].Key() })
	return groups, nil
}

// parityGroup reads every figure of figures.go from one stored group.
func parityGroup(e eval.GroupEntry) Group {
	g := Group{Feature: e.Key.Feature, Class: e.Key.Class, Window: e.Key.Window, Rows: e.Rows,
		Counts: map[string]int64{}, Sums: map[string]float64{}, Cats: map[string]map[string]int64{}}
	m := e.Metrics
	for _, f := range countFigures {
		g.Counts[f.name] = f.parity(g.Feature, e.Rows, m)
	}
	for _, f := range sumFigures {
		if v, ok := f.parity(g.Feature, m); ok {
			g.Sums[f.name] = v
		}
	}
	for _, f := range catFigures {
		if c := f.parity(g.Feature, m); len(c) > 0 {
			g.Cats[f.name] = c
		}
	}
	return g
}

// Compare lists every difference between parity's and DuckDB's groups:
// counts and category counts must be equal, sums (and extremes) equal
// within a relative 1e-9 (the two add the same values in different
// orders), and a figure present on one side only is a difference.
func Compare(set Set, parity, duck []Group) []string {
	var diffs []string
	pm := map[string]Group{}
	for _, g := range parity {
		pm[g.Key()] = g
	}
	seen := map[string]bool{}
	for _, d := range duck {
		k := d.Key()
		seen[k] = true
		p, ok := pm[k]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s: in DuckDB (%d rows), not in parity", k, d.Rows))
			continue
		}
		for _, f := range set.counts {
			if pv, dv := p.Counts[f.name], d.Counts[f.name]; pv != dv {
				diffs = append(diffs, fmt.Sprintf("%s: %s: parity %d, DuckDB %d", k, f.name, pv, dv))
			}
		}
		for _, f := range set.sums {
			pv, pok := p.Sums[f.name]
			dv, dok := d.Sums[f.name]
			switch {
			case pok != dok:
				diffs = append(diffs, fmt.Sprintf("%s: %s: parity has it %v, DuckDB %v", k, f.name, pok, dok))
			case math.Abs(pv-dv) > 1e-9*math.Max(math.Abs(pv), math.Abs(dv)):
				diffs = append(diffs, fmt.Sprintf("%s: %s: parity %.17g, DuckDB %.17g", k, f.name, pv, dv))
			}
		}
		for _, f := range set.cats {
			pc, dc := p.Cats[f.name], d.Cats[f.name]
			for c, n := range dc {
				if pc[c] != n {
					diffs = append(diffs, fmt.Sprintf("%s: %s[%q]: parity %d, DuckDB %d", k, f.name, c, pc[c], n))
				}
			}
			for c, n := range pc {
				if _, ok := dc[c]; !ok {
					diffs = append(diffs, fmt.Sprintf("%s: %s[%q]: parity %d, not in DuckDB", k, f.name, c, n))
				}
			}
		}
	}
	for _, p := range parity {
		if !seen[p.Key()] {
			diffs = append(diffs, fmt.Sprintf("%s: in parity (%d rows), not in DuckDB", p.Key(), p.Rows))
		}
	}
	return diffs
}
