package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/parity-eval/parity/eval"
)

// storedWindows lists the windows with stored aggregates, in order.
func (r *Runner) storedWindows(ctx context.Context) ([]eval.Window, error) {
	objs, err := r.Out.List(ctx, "aggregates/")
	if err != nil {
		return nil, err
	}
	var out []eval.Window
	for _, o := range objs {
		if !strings.HasSuffix(o.Key, "/aggregates.json") {
			continue
		}
		w, ok := windowFromKey(o.Key, r.Cfg.Window.D())
		if ok {
			out = append(out, w)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

// windowFromKey parses ".../window=2026-11-21T00-00-00Z/...".
func windowFromKey(key string, length time.Duration) (eval.Window, bool) {
	i := strings.Index(key, "window=")
	if i < 0 {
		return eval.Window{}, false
	}
	rest := key[i+len("window="):]
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		rest = rest[:j]
	}
	// The key form replaces ':' with '-' in the time part.
	if len(rest) != len("2006-01-02T15-04-05Z") {
		return eval.Window{}, false
	}
	t, err := time.Parse("2006-01-02T15-04-05Z", rest)
	if err != nil {
		return eval.Window{}, false
	}
	return eval.Window{Start: t, End: t.Add(length)}, true
}

// loadAggregates reads one window's stored aggregates.
func (r *Runner) loadAggregates(ctx context.Context, w eval.Window) (*eval.Aggregates, error) {
	key := fmt.Sprintf(keyAggregates, w.Key())
	data, _, err := r.Out.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	var f eval.AggregatesFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s/%s: corrupt aggregates: %w", r.Out.URI(), key, err)
	}
	return f.Aggregates(), nil
}

// baselineReader picks and merges the baseline period of each window of
// one run. It lists the stored aggregates once and parses each stored
// window at most once: a backfill of N windows otherwise re-read and
// re-parsed the same baseline windows N times. Cached aggregates are only
// read (baseline merges into fresh groups), so sharing them is safe.
//
// The windows of this run (fresh, by window key) count as stored, since
// the run writes every one of them before anything that depends on its
// baselines, and are taken from memory rather than read back and parsed:
// in a backfill most baseline windows are the run's own, and the
// baselines are read before the run's aggregates are written. With
// checkFresh, each fresh window is read back once written and must encode
// to the same bytes (checkStoredAggregates), the same check replay makes
// of the evaluations.
type baselineReader struct {
	r      *Runner
	stored []eval.Window
	fresh  map[string]*eval.Aggregates
	loaded map[string]*eval.Aggregates
}

func (r *Runner) newBaselineReader(ctx context.Context, windows []eval.Window, fresh map[string]*eval.Aggregates) (*baselineReader, error) {
	listed, err := r.storedWindows(ctx)
	if err != nil {
		return nil, err
	}
	stored := slices.Clone(windows)
	for _, w := range listed {
		if _, ok := fresh[w.Key()]; !ok {
			stored = append(stored, w)
		}
	}
	sort.Slice(stored, func(i, j int) bool { return stored[i].Start.Before(stored[j].Start) })
	return &baselineReader{r: r, stored: stored, fresh: fresh, loaded: map[string]*eval.Aggregates{}}, nil
}

func (br *baselineReader) load(ctx context.Context, w eval.Window) (*eval.Aggregates, error) {
	if a, ok := br.loaded[w.Key()]; ok {
		return a, nil
	}
	a, ok := br.fresh[w.Key()]
	if !ok {
		var err error
		if a, err = br.r.loadAggregates(ctx, w); err != nil {
			return nil, err
		}
	}
	br.loaded[w.Key()] = a
	return a, nil
}

// checkStoredAggregates (checkFresh) reads back each window's stored
// aggregates and fails unless they encode to the same bytes as the ones
// in memory, which the run's evaluations and baselines used.
func (r *Runner) checkStoredAggregates(ctx context.Context, windows []eval.Window, fresh map[string]*eval.Aggregates) error {
	for _, w := range windows {
		stored, err := r.loadAggregates(ctx, w)
		if err != nil {
			return err
		}
		if err := sameAggregates(fresh[w.Key()], stored); err != nil {
			return fmt.Errorf("window %s: %w", w, err)
		}
	}
	return nil
}

// sameAggregates fails unless the aggregates in memory and as read back
// encode identically (checkFresh).
func sameAggregates(mem, stored *eval.Aggregates) error {
	a, err := json.Marshal(mem.File())
	if err != nil {
		return err
	}
	b, err := json.Marshal(stored.File())
	if err != nil {
		return err
	}
	if !bytes.Equal(a, b) {
		return fmt.Errorf("PARITY_CHECK_FRESH_EVALUATIONS: the aggregates in memory differ from the stored ones (%d and %d bytes encoded)", len(a), len(b))
	}
	return nil
}

// baseline merges the aggregates of the baseline period per feature ×
// class (the window dimension dropped). A window inside its own baseline
// period gets none: it cannot drift from itself.
func (br *baselineReader) baseline(ctx context.Context, w eval.Window) (map[eval.GroupKey]*eval.Group, error) {
	r, stored := br.r, br.stored
	var pick []eval.Window
	b := r.Cfg.Baseline
	if b.From != "" {
		from, err := eval.ParseTime(b.From)
		if err != nil {
			return nil, err
		}
		to := w.Start
		if b.To != "" {
			if to, err = eval.ParseTime(b.To); err != nil {
				return nil, err
			}
		}
		for _, s := range stored {
			if !s.Start.Before(from) && !s.End.After(to) && s.Start.Before(w.Start) {
				pick = append(pick, s)
			}
		}
	} else {
		for _, s := range stored {
			if len(pick) < b.Windows {
				pick = append(pick, s)
			}
		}
		if len(pick) < b.Windows {
			return nil, nil // the baseline period is not complete yet
		}
		for _, s := range pick {
			if s.Start.Equal(w.Start) {
				return nil, nil
			}
		}
		if pick[len(pick)-1].Start.After(w.Start) {
			return nil, nil
		}
	}
	if len(pick) == 0 {
		return nil, nil
	}
	out := map[eval.GroupKey]*eval.Group{}
	for _, s := range pick {
		a, err := br.load(ctx, s)
		if err != nil {
			return nil, fmt.Errorf("baseline window %s: %w", s, err)
		}
		for k, g := range a.Groups {
			bk := eval.GroupKey{Feature: k.Feature, Class: k.Class}
			t := out[bk]
			if t == nil {
				t = &eval.Group{Metrics: map[string]*eval.Acc{}}
				out[bk] = t
			}
			t.Rows += g.Rows
			for m, acc := range g.Metrics {
				x := t.Metrics[m]
				if x == nil {
					x = &eval.Acc{}
					t.Metrics[m] = x
				}
				x.Merge(acc)
			}
		}
	}
	return out, nil
}
