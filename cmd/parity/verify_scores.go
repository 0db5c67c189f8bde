package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/reports"
	"github.com/parity-eval/parity/reports/html"
	"github.com/parity-eval/parity/storage"
)

// storedScoreDiffs compares the scores history stored in the report's
// output (scores/window=<w>/scores.parquet, the figures routers'
// dashboards and reviewers read beside the report) with the recomputed
// ones, for the report's feature and windows: a score row edited in
// place would otherwise pass, since the report is built from the
// evaluations, not from the Parquet history. Rows are matched by class
// and metric; floating-point figures may differ within a relative 1e-9,
// as the report's do (sums in another order). It returns the
// differences and a note saying what was compared, or why nothing was.
func storedScoreDiffs(ctx context.Context, cfg *config.Config, d *html.Data, rec storage.Store) ([]html.Diff, string, error) {
	if d.Lineage.Output == "" {
		return nil, "", nil
	}
	src, err := storage.Open(ctx, d.Lineage.Output, storage.Options{S3Endpoint: cfg.S3.Endpoint, S3Region: cfg.S3.Region, S3PathStyle: cfg.S3.PathStyle})
	if err != nil {
		return nil, fmt.Sprintf("the report's output %s cannot be opened (%v): its stored scores are not compared", d.Lineage.Output, err), nil
	}
	var diffs []html.Diff
	rows := 0
	for _, w := range d.Windows {
		key := fmt.Sprintf("scores/window=%s/scores.parquet", w.Window.Key())
		stored, twice, err := featureScores(ctx, src, key, d.Feature)
		if errors.Is(err, storage.ErrNotExist) {
			diffs = append(diffs, html.Diff{Name: "stored scores " + d.Lineage.Output + "/" + key, Report: "absent", Recomputed: "present"})
			continue
		}
		if err != nil {
			return nil, "", err
		}
		recomputed, _, err := featureScores(ctx, rec, key, d.Feature)
		if err != nil {
			return nil, "", fmt.Errorf("recompute: %w", err)
		}
		for _, k := range twice {
			diffs = append(diffs, html.Diff{Name: "stored scores " + d.Lineage.Output + "/" + key + " " + k, Report: "written more than once", Recomputed: "once"})
		}
		rows += len(stored) + len(twice)
		diffs = append(diffs, scoreRowDiffs(d.Lineage.Output+"/"+key, stored, recomputed)...)
	}
	return diffs, fmt.Sprintf("the stored scores of the report's %d window(s) (%d rows of %s under %s/scores/) were compared with the recomputed ones", len(d.Windows), rows, d.Feature, d.Lineage.Output), nil
}

// featureScores reads one window's scores file and keeps feature's rows,
// by class and metric, without the run's identity; twice lists the keys
// of rows written more than once (a file parity writes has one row per
// class and metric).
func featureScores(ctx context.Context, s storage.Store, key, feature string) (rows map[string]reports.ScoreRow, twice []string, err error) {
	data, _, err := s.Get(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	all, err := reports.DecodeScores(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s/%s: %w", s.URI(), key, err)
	}
	rows = map[string]reports.ScoreRow{}
	for _, r := range all {
		if r.Feature != feature {
			continue
		}
		r.RunID, r.ConfigHash = "", ""
		k := r.InputClass + " " + r.Metric
		if _, dup := rows[k]; dup {
			twice = append(twice, k)
			continue
		}
		rows[k] = r
	}
	return rows, twice, nil
}

// scoreRowDiffs names every row and field of stored that differs from
// recomputed, and every row only one of them has.
func scoreRowDiffs(where string, stored, recomputed map[string]reports.ScoreRow) []html.Diff {
	keys := map[string]bool{}
	for k := range stored {
		keys[k] = true
	}
	for k := range recomputed {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	var diffs []html.Diff
	for _, k := range sorted {
		a, inA := stored[k]
		b, inB := recomputed[k]
		name := "stored scores " + where + " " + k
		switch {
		case !inA:
			diffs = append(diffs, html.Diff{Name: name, Report: "absent", Recomputed: "present"})
			continue
		case !inB:
			diffs = append(diffs, html.Diff{Name: name, Report: "present", Recomputed: "absent"})
			continue
		}
		nums := []struct {
			field string
			x, y  *float64
		}{{"value", a.Value, b.Value}, {"ci_low", a.CILow, b.CILow}, {"ci_high", a.CIHigh, b.CIHigh}, {"ci_level", a.CILevel, b.CILevel},
			{"statistic", a.Statistic, b.Statistic}, {"p_value", a.PValue, b.PValue}, {"p_adjusted", a.PAdjusted, b.PAdjusted}, {"threshold", a.Threshold, b.Threshold}}
		for _, n := range nums {
			if !closeNums(n.x, n.y) {
				diffs = append(diffs, html.Diff{Name: name + " " + n.field, Report: numText(n.x), Recomputed: numText(n.y)})
			}
		}
		strs := []struct{ field, x, y string }{
			{"status", a.Status, b.Status}, {"test", a.Test, b.Test}, {"ci_method", a.CIMethod, b.CIMethod}, {"reason", a.Reason, b.Reason}, {"warnings", a.Warnings, b.Warnings},
			{"n", fmt.Sprint(a.N), fmt.Sprint(b.N)}, {"n_needed", fmt.Sprint(a.NNeeded), fmt.Sprint(b.NNeeded)}, {"criterion", fmt.Sprint(a.Criterion), fmt.Sprint(b.Criterion)},
			{"window", a.WindowStart.String() + "/" + a.WindowEnd.String(), b.WindowStart.String() + "/" + b.WindowEnd.String()},
		}
		for _, s := range strs {
			if s.x != s.y {
				diffs = append(diffs, html.Diff{Name: name + " " + s.field, Report: fmt.Sprintf("%q", s.x), Recomputed: fmt.Sprintf("%q", s.y)})
			}
		}
	}
	return diffs
}

// closeNums: both absent, or equal within a relative 1e-9.
func closeNums(x, y *float64) bool {
	if x == nil || y == nil {
		return x == nil && y == nil
	}
	return *x == *y || math.Abs(*x-*y) <= 1e-9*math.Max(math.Abs(*x), math.Abs(*y))
}

func numText(x *float64) string {
	if x == nil {
		return "null"
	}
	return fmt.Sprintf("%.6g", *x)
}
