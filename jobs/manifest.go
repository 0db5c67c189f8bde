package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/storage"
)

// windowDropReasons are the drop reasons counted per window: a row is
// assigned to its window before its request id is checked. The others
// (null timestamp or feature, a feature not evaluated, a time outside the
// evaluated windows, labels joined to no request) belong to no evaluated
// window and are the run's (Manifest.RunDropped).
var windowDropReasons = []string{"null_request_id", "duplicate_request_id"}

// windowManifests splits a run's manifest by window: each window's lists
// the log files with a row in it (RowsUsed: that window's rows used) and
// the labels files with a label joined to one of its requests (RowsUsed:
// those labels), with that window's dropped rows; the run's other drops
// are in RunDropped. A reviewer of one window is shown the inputs behind
// it, not every object of a months-long backfill. A window without any
// row still gets a manifest (no files), so every evaluated window has one.
func windowManifests(run datasets.Manifest, windows []eval.Window, logs map[int64]map[string]eval.FileUse, labels map[int64]map[string]int64) map[string]datasets.Manifest {
	runDropped := map[string]int64{}
	for k, v := range run.Dropped {
		if !slices.Contains(windowDropReasons, k) {
			runDropped[k] = v
		}
	}
	if len(runDropped) == 0 {
		runDropped = nil
	}
	out := make(map[string]datasets.Manifest, len(windows))
	for _, w := range windows {
		m := datasets.Manifest{Window: &datasets.TimeRange{Start: w.Start, End: w.End}, Files: []datasets.FileInfo{}, RunDropped: runDropped, Labels: run.Labels}
		uses, joined := logs[w.Start.Unix()], labels[w.Start.Unix()]
		var nullID, dup int64
		for _, f := range run.Files {
			if f.Role == datasets.RoleLabels {
				if n := joined[f.Key]; n > 0 {
					f.RowsUsed = n
					m.Files = append(m.Files, f)
				}
				continue
			}
			u, ok := uses[f.Key]
			if !ok {
				continue
			}
			f.RowsUsed = u.Used
			m.Files = append(m.Files, f)
			nullID += u.NullRequestID
			dup += u.DuplicateRequestID
		}
		if nullID > 0 || dup > 0 {
			m.Dropped = map[string]int64{}
			if nullID > 0 {
				m.Dropped["null_request_id"] = nullID
			}
			if dup > 0 {
				m.Dropped["duplicate_request_id"] = dup
			}
		}
		out[w.Key()] = m
	}
	return out
}

// mergeManifests combines the manifests shards wrote for one window
// into the manifest an unsharded run writes: a log file's row groups are
// split between shards, so what each read of it adds up (bytes_read
// excepted, which counts every shard's read of the file's footer); every
// shard reads the whole labels dataset, so a labels file's reads are one
// shard's, and its labels joined add up (a request is one shard's). The
// run's drops add up, except labels_unmatched: each shard counts the
// labels its own requests did not match, so of the L labels, those no
// shard matched are the sum of the shards' counts less (N-1)·L.
func mergeManifests(parts []datasets.Manifest) datasets.Manifest {
	var m datasets.Manifest
	idx := map[string]int{}
	var unmatched int64
	for _, p := range parts {
		if m.Window == nil {
			m.Window = p.Window
		}
		m.Labels = p.Labels
		for _, f := range p.Files {
			k := f.Location + "\x00" + f.ETag
			i, ok := idx[k]
			if !ok {
				idx[k] = len(m.Files)
				m.Files = append(m.Files, f)
				continue
			}
			x := &m.Files[i]
			x.RowsUsed += f.RowsUsed
			if f.Role != datasets.RoleLabels {
				x.RowGroupsRead += f.RowGroupsRead
				x.RowsRead += f.RowsRead
				x.BytesRead += f.BytesRead
			}
		}
		m.Dropped = addCounts(m.Dropped, p.Dropped)
		m.RunDropped = addCounts(m.RunDropped, p.RunDropped)
		unmatched += p.RunDropped["labels_unmatched"]
	}
	if m.RunDropped != nil {
		delete(m.RunDropped, "labels_unmatched")
		if u := unmatched - int64(len(parts)-1)*m.Labels; u > 0 {
			m.RunDropped["labels_unmatched"] = u
		}
		if len(m.RunDropped) == 0 {
			m.RunDropped = nil
		}
	}
	if m.Files == nil {
		m.Files = []datasets.FileInfo{}
	}
	// Unsharded runs list log files in key order, then labels files in
	// key order.
	slices.SortStableFunc(m.Files, func(a, b datasets.FileInfo) int {
		if la, lb := a.Role == datasets.RoleLabels, b.Role == datasets.RoleLabels; la != lb {
			if la {
				return 1
			}
			return -1
		}
		return strings.Compare(a.Key, b.Key)
	})
	return m
}

// addCounts adds src into dst, allocated when needed.
func addCounts(dst, src map[string]int64) map[string]int64 {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = map[string]int64{}
	}
	for k, v := range src {
		dst[k] += v
	}
	return dst
}

// shardPlan identifies what a sharded run split into shards: its time
// range and every log object listed for it, with ETag and size. A shard
// takes every N-th (file, row group) unit of that list, so shards of one
// window add up to the whole only if they were run over the same plan: a
// shard rerun over another range, or after an object arrived, numbers the
// units otherwise and its merge would count some twice and others never.
func shardPlan(files []storage.Object, from, to time.Time) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d %d\n", from.UnixNano(), to.UnixNano())
	for _, f := range files {
		fmt.Fprintf(h, "%q %q %d\n", f.Key, f.ETag, f.Size)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// shardManifests loads the manifest each shard wrote for window w
// (parts: the shards found by shardParts), refusing a missing one and
// shards run over different plans (shardPlan).
func (r *Runner) shardManifests(ctx context.Context, w eval.Window, parts []shardPart) ([]datasets.Manifest, error) {
	out := make([]datasets.Manifest, 0, len(parts))
	for _, p := range parts {
		key := fmt.Sprintf(keyShardManifest, w.Key(), p.index, p.of)
		data, _, err := r.Out.Get(ctx, key)
		if errors.Is(err, storage.ErrNotExist) {
			return nil, fmt.Errorf("merge: window %s: shard %d of %d has aggregates but no manifest (%s/%s; written by an older parity, or the shard was killed): rerun that shard", w, p.index, p.of, r.Out.URI(), key)
		}
		if err != nil {
			return nil, err
		}
		var m datasets.Manifest
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("merge: %s/%s: corrupt shard manifest: %w", r.Out.URI(), key, err)
		}
		if len(out) > 0 && m.ShardPlan != out[0].ShardPlan {
			return nil, fmt.Errorf("merge: window %s: shard %d of %d was run over other inputs than shard %d (another time range, or objects added or changed between the shard runs), so their row groups do not add up to the whole: rerun all %d shards with one --window/--from/--to over unchanged inputs; nothing merged",
				w, p.index, p.of, parts[0].index, p.of)
		}
		out = append(out, m)
	}
	return out, nil
}

// encodeManifests encodes each window's manifest (by window key), with
// the stored manifest's other files where features were carried into
// the window (manifestFor).
func (r *Runner) encodeManifests(ctx context.Context, windows []eval.Window, ms map[string]datasets.Manifest, c carried) (map[string][]byte, error) {
	out := make(map[string][]byte, len(windows))
	for _, w := range windows {
		m, err := r.manifestFor(ctx, w, c, ms[w.Key()])
		if err != nil {
			return nil, err
		}
		if out[w.Key()], err = marshalIndent(m); err != nil {
			return nil, err
		}
	}
	return out, nil
}
