package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/reports"
	"github.com/parity-eval/parity/storage"
)

// shardPart is what one shard wrote for one window.
type shardPart struct {
	key         string
	index, of   int
	aggregates  *eval.Aggregates
	rawChecksum string
}

// Merge combines the partial aggregates that `run --shard I/N` wrote for
// the given windows into the same scores and verdicts as one unsharded
// run. Counts, paired tables, histogram buckets and category counts all
// add exactly, so every count-based test is identical; quantiles and rank
// tests come from the same merged histograms as an unsharded run's, so
// they are identical too. It refuses to merge an incomplete set of shards.
func (r *Runner) Merge(ctx context.Context, windows []eval.Window, o Options) (*Result, error) {
	o.defaults()
	if len(windows) == 0 {
		return nil, fmt.Errorf("merge: no windows")
	}
	sort.Slice(windows, func(i, j int) bool { return windows[i].Start.Before(windows[j].Start) })
	merged := make(map[int64]*eval.Aggregates, len(windows))
	manifests := make(map[string]datasets.Manifest, len(windows))
	for _, w := range windows {
		parts, err := r.shardParts(ctx, w)
		if err != nil {
			return nil, err
		}
		m := eval.NewAggregates()
		for _, p := range parts {
			m.Merge(p.aggregates)
		}
		merged[w.Start.Unix()] = m
		ms, err := r.shardManifests(ctx, w, parts)
		if err != nil {
			return nil, err
		}
		manifests[w.Key()] = mergeManifests(ms)
	}
	// Shards of a run limited to some features: the others' stored
	// groups are kept (carry.go), read before anything is written.
	carry, err := r.carryOver(ctx, windows, merged, o.Features)
	if err != nil {
		return nil, err
	}
	mdata, err := r.encodeManifests(ctx, windows, manifests, carry)
	if err != nil {
		return nil, err
	}
	for _, w := range windows {
		if err := r.putJSON(ctx, fmt.Sprintf(keyAggregates, w.Key()), merged[w.Start.Unix()].File()); err != nil {
			return nil, err
		}
		key := fmt.Sprintf(keyManifest, w.Key())
		if _, err := r.Out.Put(ctx, key, mdata[w.Key()]); err != nil {
			return nil, fmt.Errorf("write %s/%s: %w", r.Out.URI(), key, err)
		}
	}
	runID := fmt.Sprintf("%s-merge", o.Now().UTC().Format("20060102T150405Z"))
	res := &Result{RunID: runID, Windows: windows}
	run := reports.RunInfo{ID: runID, ConfigHash: r.Cfg.Hash, ParityVersion: Version}
	if err := r.finish(ctx, windows, merged, carry, run, mdata, o, res); err != nil {
		return nil, err
	}
	return res, nil
}

// shardParts loads every shard file of a window and checks the set is
// complete: shards 0..N-1 of one N, each exactly once.
func (r *Runner) shardParts(ctx context.Context, w eval.Window) ([]shardPart, error) {
	prefix := fmt.Sprintf("aggregates/window=%s/", w.Key())
	objs, err := r.Out.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	var parts []shardPart
	n := 0
	counts := map[int][]storage.Object{} // shard files by shard count
	for _, obj := range objs {
		var i, of int
		if _, err := fmt.Sscanf(strings.TrimPrefix(obj.Key, prefix), "shard-%03d-of-%03d.json", &i, &of); err == nil {
			counts[of] = append(counts[of], obj)
		}
	}
	if len(counts) > 1 {
		return nil, mixedShardCounts(r.Out.URI(), w, counts)
	}
	for _, obj := range objs {
		name := strings.TrimPrefix(obj.Key, prefix)
		var i, of int
		if _, err := fmt.Sscanf(name, "shard-%03d-of-%03d.json", &i, &of); err != nil {
			continue
		}
		n = of
		data, _, err := r.Out.Get(ctx, obj.Key)
		if err != nil {
			return nil, err
		}
		var f eval.AggregatesFile
		if err := json.Unmarshal(data, &f); err != nil {
			return nil, fmt.Errorf("merge: %s/%s: corrupt shard: %w", r.Out.URI(), obj.Key, err)
		}
		sum := sha256.Sum256(data)
		parts = append(parts, shardPart{key: obj.Key, index: i, of: of, aggregates: f.Aggregates(), rawChecksum: hex.EncodeToString(sum[:])})
	}
	if n == 0 {
		return nil, fmt.Errorf("merge: no shard outputs for window %s under %s/%s (run `parity run --shard I/N` first)", w, r.Out.URI(), prefix)
	}
	seen := make([]bool, n)
	for _, p := range parts {
		if p.index < 0 || p.index >= n || seen[p.index] {
			return nil, fmt.Errorf("merge: window %s: shard %d of %d is out of range or duplicated", w, p.index, n)
		}
		seen[p.index] = true
	}
	var missing []string
	for i, ok := range seen {
		if !ok {
			missing = append(missing, fmt.Sprint(i))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("merge: window %s: shards %s of %d are missing; nothing merged", w, strings.Join(missing, ", "), n)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].index < parts[j].index })
	return parts, nil
}

// mixedShardCounts is merge's refusal of a window holding shard files of
// several runs with different shard counts: the files of a run with
// another N are never overwritten by a new one, so the error names the
// older runs' files to delete (those of the count whose newest file is
// newest are kept).
func mixedShardCounts(uri string, w eval.Window, counts map[int][]storage.Object) error {
	newest := func(objs []storage.Object) time.Time {
		var t time.Time
		for _, o := range objs {
			if o.ModTime.After(t) {
				t = o.ModTime
			}
		}
		return t
	}
	keep := 0
	for n, objs := range counts {
		if keep == 0 || newest(objs).After(newest(counts[keep])) {
			keep = n
		}
	}
	var stale []string
	for n, objs := range counts {
		if n == keep {
			continue
		}
		for _, o := range objs {
			stale = append(stale, uri+"/"+o.Key, uri+"/"+strings.Replace(o.Key, "aggregates/", "manifests/", 1))
		}
	}
	sort.Strings(stale)
	return fmt.Errorf("merge: window %s holds shard files of runs with different shard counts (%s); the newest run used %d shards: delete the older runs' files (%s) and merge again, or rerun all shards with one --shard I/N; nothing merged",
		w, strings.Trim(strings.Join(strings.Fields(fmt.Sprint(slices.Sorted(maps.Keys(counts)))), ", "), "[]"), keep, strings.Join(stale, " "))
}
