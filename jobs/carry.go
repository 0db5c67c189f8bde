package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/storage"
)

// A run limited to some features (--features, a job's `features:`) still
// writes every per-window output whole: each window's aggregates,
// evaluation, scores and verdicts hold every feature, and latest.json,
// the flagd file and the metrics are built from them. So the features the
// run did not scan are carried over: their groups come from the window's
// stored aggregates and are evaluated again with the run's own, exactly
// as a shard merge evaluates stored aggregates. Without this, a daily job
// for one feature replaced every other feature's verdicts with nothing
// (flagd answered FLAG_NOT_FOUND for them).

// carried is, by window key, the features a limited run carries over
// from that window's stored aggregates.
type carried map[string][]string

// carryOver adds to each window's aggregates (parts, by window start) the
// stored groups of configured features that the run (features, empty for
// all) does not evaluate, and returns which features it carried where.
// Features without stored aggregates in a window stay out of it, as
// before: a limited run never invents an evaluation for them.
func (r *Runner) carryOver(ctx context.Context, windows []eval.Window, parts map[int64]*eval.Aggregates, features []string) (carried, error) {
	if len(features) == 0 {
		return nil, nil
	}
	out := carried{}
	for _, w := range windows {
		stored, err := r.loadAggregates(ctx, w)
		if errors.Is(err, storage.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		part := parts[w.Start.Unix()]
		var names []string
		for k, g := range stored.Groups {
			if k.Window != w.Start.Unix() || slices.Contains(features, k.Feature) || r.Cfg.Feature(k.Feature) == nil {
				continue
			}
			part.Groups[k] = g
			if !slices.Contains(names, k.Feature) {
				names = append(names, k.Feature)
			}
		}
		if len(names) > 0 {
			out[w.Key()] = names
		}
	}
	return out, nil
}

// features is what window w's evaluation covers: the run's features and
// those carried into w, in configuration order; nil (every feature) for
// an unlimited run.
func (c carried) features(r *Runner, w eval.Window, run []string) []string {
	if len(run) == 0 {
		return nil
	}
	more := c[w.Key()]
	if len(more) == 0 {
		return run
	}
	var out []string
	for _, f := range r.Cfg.Features {
		if slices.Contains(run, f.Name) || slices.Contains(more, f.Name) {
			out = append(out, f.Name)
		}
	}
	return out
}

// manifestFor is the manifest stored for window w: the run's (m), or,
// where features were carried into w, the run's files followed by the
// stored manifest's other files, so it still lists every input object
// behind the window's outputs.
func (r *Runner) manifestFor(ctx context.Context, w eval.Window, c carried, m datasets.Manifest) (datasets.Manifest, error) {
	if len(c[w.Key()]) == 0 {
		return m, nil
	}
	key := fmt.Sprintf(keyManifest, w.Key())
	old, _, err := r.Out.Get(ctx, key)
	if errors.Is(err, storage.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return m, err
	}
	var prev datasets.Manifest
	if err := json.Unmarshal(old, &prev); err != nil {
		return m, fmt.Errorf("%s/%s: corrupt manifest: %w", r.Out.URI(), key, err)
	}
	stored := map[string]datasets.FileInfo{}
	for _, f := range prev.Files {
		stored[f.Location] = f
	}
	have := map[string]bool{}
	m.Files = slices.Clone(m.Files)
	for i, f := range m.Files {
		have[f.Location] = true
		// This run used only its features' rows of an object the stored
		// manifest's run used for every feature: the window's outputs
		// rest on the larger count, as long as the object is unchanged.
		if p, ok := stored[f.Location]; ok && p.ETag == f.ETag && p.RowsUsed > f.RowsUsed {
			m.Files[i].RowsUsed = p.RowsUsed
		}
	}
	for _, f := range prev.Files {
		if !have[f.Location] {
			m.Files = append(m.Files, f)
		}
	}
	return m, nil
}
