package jobs

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/eval"
)

// JobOptions tune one run of a configured job.
type JobOptions struct {
	// Options for each evaluation (clock, log, progress, workers). The
	// job's features apply when Options.Features is empty.
	Options
	// OnlyMissing: evaluate only windows not completely evaluated (no
	// stored history record, or no verdicts: see historyWindows) (the
	// daemon, so repeated ticks and a second replica do no work twice).
	// A one-shot run always includes the last complete window.
	OnlyMissing bool
	// Stopping is checked before each window: when it returns true the
	// run takes no new window and returns what it finished.
	Stopping func() bool
	// OnWindow is called after each evaluation (one window, or a
	// backfill's range) with the windows and the result.
	OnWindow func(ws []eval.Window, res *Result)
}

// JobRun reports one run of a job.
type JobRun struct {
	Job, Kind string
	// Planned windows, oldest first; Done those evaluated.
	Planned, Done []eval.Window
	// Rows and Bytes read from the source (manifests of every evaluation).
	Rows, Bytes int64
	// Last is the result of the last evaluation (nil when nothing ran).
	Last *Result
	// Stopped is true when Stopping cut the run short.
	Stopped bool
	// Reconciled lists the snapshot runs a reconcile job compared, in
	// order; Summary is a line saying how the last one came out.
	Reconciled []string
	Summary    string
}

// KindFunc runs one job of a kind.
type KindFunc func(ctx context.Context, r *Runner, job *config.Job, jo JobOptions) (*JobRun, error)

var (
	kindsMu sync.RWMutex
	kinds   = map[string]KindFunc{"evaluate": runEvaluateJob, "backfill": runBackfillJob}
)

// RegisterKind adds a job kind (report, reconcile) implemented elsewhere;
// `parity run --job` and `parity schedule` then run it.
func RegisterKind(kind string, fn KindFunc) {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	kinds[kind] = fn
}

// ErrKindNotAvailable is returned for a configured job kind this build
// does not implement.
var ErrKindNotAvailable = errors.New("job kind not available in this build")

// KindAvailable tells whether a kind can run.
func KindAvailable(kind string) bool {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	return kinds[kind] != nil
}

// RunJob runs a configured job once: evaluate covers the last complete
// window plus up to catch_up missed ones before it (oldest first, one
// window at a time); backfill re-evaluates its from/to range or its last
// N windows in one scan.
func (r *Runner) RunJob(ctx context.Context, job *config.Job, jo JobOptions) (*JobRun, error) {
	kindsMu.RLock()
	fn := kinds[job.Kind]
	kindsMu.RUnlock()
	if fn == nil {
		return nil, fmt.Errorf("job %q: kind %q: %w", job.Name, job.Kind, ErrKindNotAvailable)
	}
	jo.defaults()
	if len(jo.Features) == 0 {
		jo.Features = job.Features
	}
	jo.Log = jo.Log.With("job", job.Name, "kind", job.Kind)
	return fn(ctx, r, job, jo)
}

// PlanEvaluate returns the windows an evaluate job covers at now, oldest
// first: the last complete window and the catch_up windows before it;
// with onlyMissing, those not completely evaluated (historyWindows).
func (r *Runner) PlanEvaluate(ctx context.Context, job *config.Job, now time.Time, onlyMissing bool) ([]eval.Window, error) {
	length := r.Cfg.Window.D()
	last := eval.LastComplete(now, length)
	var stored map[int64]bool
	if onlyMissing || job.CatchUp > 0 {
		var err error
		if stored, err = r.historyWindows(ctx); err != nil {
			return nil, err
		}
	}
	var out []eval.Window
	for k := job.CatchUp; k >= 0; k-- {
		w := eval.Window{Start: last.Start.Add(-time.Duration(k) * length), End: last.End.Add(-time.Duration(k) * length)}
		if stored[w.Start.Unix()] && (onlyMissing || k > 0) {
			continue
		}
		out = append(out, w)
	}
	return out, nil
}

// PlanBackfill returns a backfill job's windows at now: from..to
// (clipped to complete windows) or the last N complete windows.
func (r *Runner) PlanBackfill(job *config.Job, now time.Time) ([]eval.Window, error) {
	length := r.Cfg.Window.D()
	last := eval.LastComplete(now, length)
	if job.From == "" {
		n := max(job.Windows, 1)
		return eval.WindowsBetween(last.End.Add(-time.Duration(n)*length), last.End, length), nil
	}
	from, err := eval.ParseTime(job.From)
	if err != nil {
		return nil, fmt.Errorf("job %q: from: %w", job.Name, err)
	}
	to := last.End
	if job.To != "" {
		t, err := eval.ParseTime(job.To)
		if err != nil {
			return nil, fmt.Errorf("job %q: to: %w", job.Name, err)
		}
		if t.Before(to) {
			to = t
		}
	}
	return eval.WindowsBetween(from, to, length), nil
}

// historyWindows lists the window starts that were completely
// evaluated: with a stored history record and a verdicts document. A
// run writes its windows' history records first and each window's
// evaluation, scores and verdicts after them (the verdicts last), so a
// run killed in between leaves records of windows that have no verdicts:
// those are not done, and catch-up evaluates them again.
func (r *Runner) historyWindows(ctx context.Context) (map[int64]bool, error) {
	list := func(prefix, suffix string) (map[int64]bool, error) {
		objs, err := r.Out.List(ctx, prefix)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", strings.TrimSuffix(prefix, "/"), err)
		}
		out := map[int64]bool{}
		for _, o := range objs {
			if !strings.HasSuffix(o.Key, suffix) {
				continue
			}
			if w, ok := windowFromKey(o.Key, r.Cfg.Window.D()); ok {
				out[w.Start.Unix()] = true
			}
		}
		return out, nil
	}
	recs, err := list("history/", "/records.json")
	if err != nil {
		return nil, err
	}
	verdicts, err := list("verdicts/window=", "/verdicts.json")
	if err != nil {
		return nil, err
	}
	for w := range recs {
		if !verdicts[w] {
			delete(recs, w)
		}
	}
	return recs, nil
}

func (jo *JobOptions) defaults() {
	jo.Options.defaults()
	if jo.Stopping == nil {
		jo.Stopping = func() bool { return false }
	}
}

func (run *JobRun) add(ws []eval.Window, res *Result) {
	run.Done = append(run.Done, ws...)
	run.Last = res
	for _, f := range res.Manifest.Files {
		run.Rows += f.RowsRead
		run.Bytes += f.BytesRead
	}
}

// runEvaluateJob evaluates one window at a time, oldest first, so a stop
// request between windows leaves every finished window complete and the
// rest for the next run's catch-up.
func runEvaluateJob(ctx context.Context, r *Runner, job *config.Job, jo JobOptions) (*JobRun, error) {
	plan, err := r.PlanEvaluate(ctx, job, jo.Now(), jo.OnlyMissing)
	if err != nil {
		return nil, err
	}
	run := &JobRun{Job: job.Name, Kind: job.Kind, Planned: plan}
	if len(plan) == 0 {
		jo.Log.Debug("nothing to evaluate: every window is stored", "last_complete", eval.LastComplete(jo.Now(), r.Cfg.Window.D()).String())
		return run, nil
	}
	if len(plan) > 1 {
		jo.Log.Info("catching up", "windows", len(plan), "first", plan[0].String(), "last", plan[len(plan)-1].String())
	}
	for _, w := range plan {
		if jo.Stopping() {
			run.Stopped = true
			jo.Log.Info("stopping: leaving the remaining windows to the next run", "done", len(run.Done), "left", len(plan)-len(run.Done))
			return run, nil
		}
		res, err := r.Evaluate(ctx, []eval.Window{w}, jo.Options)
		if err != nil {
			return run, fmt.Errorf("window %s: %w", w, err)
		}
		run.add([]eval.Window{w}, res)
		jo.Log.Info("window evaluated", "window", w.String(), "rows", res.Rows, "run_id", res.RunID)
		if jo.OnWindow != nil {
			jo.OnWindow([]eval.Window{w}, res)
		}
	}
	return run, nil
}

// runBackfillJob re-evaluates the job's range in one scan (the runner
// writes per-window outputs in order and replays the policy after).
func runBackfillJob(ctx context.Context, r *Runner, job *config.Job, jo JobOptions) (*JobRun, error) {
	plan, err := r.PlanBackfill(job, jo.Now())
	if err != nil {
		return nil, err
	}
	run := &JobRun{Job: job.Name, Kind: job.Kind, Planned: plan}
	if len(plan) == 0 {
		jo.Log.Info("nothing to backfill: no complete window in the range")
		return run, nil
	}
	if jo.Stopping() {
		run.Stopped = true
		return run, nil
	}
	sort.Slice(plan, func(i, j int) bool { return plan[i].Start.Before(plan[j].Start) })
	res, err := r.Evaluate(ctx, plan, jo.Options)
	if err != nil {
		return run, err
	}
	run.add(plan, res)
	jo.Log.Info("windows evaluated", "windows", len(plan), "first", plan[0].String(), "last", plan[len(plan)-1].String(), "rows", res.Rows, "run_id", res.RunID)
	if jo.OnWindow != nil {
		jo.OnWindow(plan, res)
	}
	return run, nil
}
