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
			g := Group{Feature: e.Key.Feature, Class: e.Key.Class, Window: e.Key.Window, Rows: e.Rows}
			m := e.Metrics
			if a := m[AgreementMetric[g.Feature]]; a != nil {
				g.AgreeN, g.AgreeK = a.N, a.K
			}
			if a := m["error_rate.legacy"]; a != nil {
				g.LegacyErrN, g.LegacyErrK = a.N, a.K
			}
			if a := m["error_rate.ai"]; a != nil {
				g.AIErrN, g.AIErrK = a.N, a.K
			}
			if a := m["latency_ms"]; a != nil {
				if a.Legacy != nil {
					g.LegacyLatN, g.LegacyLatSum = a.Legacy.Count, a.Legacy.Sum
				}
				if a.AI != nil {
					g.AILatN, g.AILatSum = a.AI.Count, a.AI.Sum
				}
			}
			if a := m["ai_share"]; a != nil {
				g.ShareN, g.ShareK = a.N, a.K
			}
			groups = append(groups, g)
		}
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].Key() < groups[j].Key() })
	return groups, nil
}

// Compare lists every difference between parity's and DuckDB's groups:
// counts must be equal, latency sums equal within a relative 1e-9 (the
// two add the same values in different orders).
func Compare(parity, duck []Group) []string {
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
		ints := []struct {
			name string
			p, d int64
		}{
			{"rows", p.Rows, d.Rows}, {"agreement n", p.AgreeN, d.AgreeN}, {"agreement k", p.AgreeK, d.AgreeK},
			{"legacy errors n", p.LegacyErrN, d.LegacyErrN}, {"legacy errors k", p.LegacyErrK, d.LegacyErrK},
			{"ai errors n", p.AIErrN, d.AIErrN}, {"ai errors k", p.AIErrK, d.AIErrK},
			{"legacy latency n", p.LegacyLatN, d.LegacyLatN}, {"ai latency n", p.AILatN, d.AILatN},
			{"ai share n", p.ShareN, d.ShareN}, {"ai share k", p.ShareK, d.ShareK},
		}
		for _, x := range ints {
			if x.p != x.d {
				diffs = append(diffs, fmt.Sprintf("%s: %s: parity %d, DuckDB %d", k, x.name, x.p, x.d))
			}
		}
		for _, x := range []struct {
			name string
			p, d float64
		}{{"legacy latency sum", p.LegacyLatSum, d.LegacyLatSum}, {"ai latency sum", p.AILatSum, d.AILatSum}} {
			if math.Abs(x.p-x.d) > 1e-9*math.Max(math.Abs(x.p), math.Abs(x.d)) {
				diffs = append(diffs, fmt.Sprintf("%s: %s: parity %.17g, DuckDB %.17g", k, x.name, x.p, x.d))
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
