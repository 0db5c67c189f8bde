package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/reports"
	"github.com/parity-eval/parity/storage"
)

// Output keys, relative to the output store.
const (
	keyResult = "reconcile/%s/run=%s/result.json"
	keyScores = "reconcile/%s/run=%s/scores.parquet"
	keyLatest = "reconcile/%s/latest.json"
	keyLock   = "locks/reconcile-%s.lock"
)

// LatestKey is the key of a reconciliation's latest.json.
func LatestKey(name string) string { return fmt.Sprintf(keyLatest, name) }

// ResultKey is the key of one run's result.json.
func ResultKey(name, run string) string { return fmt.Sprintf(keyResult, name, run) }

// Run reconciles one snapshot run and writes its outputs: scores.parquet
// and result.json under reconcile/<name>/run=<run>/, then latest.json
// last (each Put is atomic), unless a later run is already stored — a
// rerun of an old run does not move latest.json backwards. Streaks come
// from the stored results of earlier runs, read under the reconciliation's
// run lock.
func (r *Reconciler) Run(ctx context.Context, o Options) (*Result, error) {
	o.defaults()
	res, err := r.Compute(ctx, o)
	if err != nil {
		return nil, err
	}
	name := r.Sec.Name
	owner := fmt.Sprintf("reconcile-%s-run-%s-%d", name, res.Run, os.Getpid())
	lockKey := fmt.Sprintf(keyLock, name)
	// The lease is judged on the wall clock, never on o.Now (a fixed
	// clock would make a killed run's lock expire never, or at once).
	lock, err := storage.AcquireLock(ctx, r.Out, lockKey, owner, o.LockTTL, time.Now)
	if err != nil {
		return nil, fmt.Errorf("run lock %s/%s: %w", r.Out.URI(), lockKey, err)
	}
	ctx, stop := renewLock(ctx, lock, o)
	defer func() {
		if lost := stop(); lost != nil {
			return // someone else's lock now: leave it alone
		}
		if err := lock.Release(context.WithoutCancel(ctx)); err != nil {
			o.Log.Warn("releasing reconcile lock", "err", err)
		}
	}()
	hist, err := History(ctx, r.Out, name)
	if err != nil {
		return nil, err
	}
	Derive(res, hist)
	rows := ScoreRows(res)
	data, err := reports.EncodeScores(rows)
	if err != nil {
		return nil, err
	}
	if err := r.put(ctx, fmt.Sprintf(keyScores, name, res.Run), data); err != nil {
		return nil, err
	}
	doc, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	if err := r.put(ctx, ResultKey(name, res.Run), doc); err != nil {
		return nil, err
	}
	newest := true
	for _, h := range hist {
		if runLess(res.Run, h.Run) {
			newest = false
		}
	}
	if newest {
		if err := r.put(ctx, LatestKey(name), doc); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// renewLock keeps the lease (storage.Lock.Keep) and returns ctx,
// cancelled with the loss as its cause when the lease is lost, so the run
// stops writing before another run may start; stop ends renewal and
// returns the loss.
func renewLock(ctx context.Context, lock *storage.Lock, o Options) (context.Context, func() error) {
	lost, stop := lock.Keep(func(err error) { o.Log.Warn("renewing reconcile lock", "lock", lock.Key(), "err", err) })
	ctx, cancel := context.WithCancelCause(ctx)
	context.AfterFunc(lost, func() {
		o.Log.Error("reconcile lock lost: stopping the run", "lock", lock.Key(), "err", context.Cause(lost))
		cancel(context.Cause(lost))
	})
	return ctx, func() error {
		err := stop()
		cancel(nil)
		return err
	}
}

func (r *Reconciler) put(ctx context.Context, key string, data []byte) error {
	if _, err := r.Out.Put(ctx, key, data); err != nil {
		if ctx.Err() != nil {
			err = context.Cause(ctx) // the lease was lost
		}
		return fmt.Errorf("write %s/%s: %w", r.Out.URI(), key, err)
	}
	return nil
}

// Pending lists the runs present in both stores without a stored result,
// in run order: what a scheduled job reconciles. Without a run_partition
// the datasets are one ever-changing snapshot, so there is always exactly
// one pending run, labelled by the clock ("").
func (r *Reconciler) Pending(ctx context.Context) ([]string, error) {
	if r.Sec.RunPartition == "" {
		return []string{""}, nil
	}
	runs, err := r.Runs(ctx)
	if err != nil {
		return nil, err
	}
	hist, err := History(ctx, r.Out, r.Sec.Name)
	if err != nil {
		return nil, err
	}
	done := map[string]bool{}
	for _, h := range hist {
		done[h.Run] = true
	}
	var todo []string
	for _, run := range runs {
		if !done[run] {
			todo = append(todo, run)
		}
	}
	return todo, nil
}

// History loads every stored result of a reconciliation, in run order.
func History(ctx context.Context, out storage.Store, name string) ([]*Result, error) {
	prefix := fmt.Sprintf("reconcile/%s/", name)
	objs, err := out.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("listing %s/%s: %w", out.URI(), prefix, err)
	}
	var hist []*Result
	for _, o := range objs {
		rest := strings.TrimPrefix(o.Key, prefix)
		if !strings.HasPrefix(rest, "run=") || !strings.HasSuffix(rest, "/result.json") || strings.Count(rest, "/") != 1 {
			continue
		}
		res, err := load(ctx, out, o.Key)
		if err != nil {
			return nil, err
		}
		hist = append(hist, res)
	}
	sort.Slice(hist, func(i, j int) bool { return runLess(hist[i].Run, hist[j].Run) })
	return hist, nil
}

func load(ctx context.Context, out storage.Store, key string) (*Result, error) {
	data, _, err := out.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", out.URI(), key, err)
	}
	var res Result
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("%s/%s: corrupt reconciliation result: %w", out.URI(), key, err)
	}
	return &res, nil
}

// Derive sets a result's status, clean flag, streaks, alerts and
// readiness from the stored results of the runs before it (hist may hold
// later runs and this run's earlier result too; both are ignored).
func Derive(res *Result, hist []*Result) {
	var prev []*Result
	for _, h := range hist {
		if runLess(h.Run, res.Run) {
			prev = append(prev, h)
		}
	}
	sort.SliceStable(prev, func(i, j int) bool { return runLess(prev[i].Run, prev[j].Run) })
	res.Status, res.Alert = eval.StatusPass, false
	var alerts []eval.Alert
	for _, t := range res.Types {
		if t.Status != eval.StatusFail {
			t.ConsecutiveFailing = 0
			continue
		}
		n := 1
		var runs []string
		for i := len(prev) - 1; i >= 0; i-- {
			pt := prev[i].Type(t.Type)
			if pt == nil || pt.Status != eval.StatusFail {
				break
			}
			n++
			runs = append([]string{prev[i].Run}, runs...)
		}
		runs = append(runs, res.Run)
		t.ConsecutiveFailing = n
		if !t.Critical {
			continue
		}
		res.Status = eval.StatusFail
		if n >= res.Settings.AlertAfter {
			res.Alert = true
			alerts = append(alerts, eval.Alert{Severity: "critical", Class: t.Type, Message: fmt.Sprintf("entity type %s: divergence above the tolerance %s for %d consecutive runs (%s); now %s (%d only in legacy, %d only in new, %d mismatched of %d)", t.Type, pct(t.Tolerance), n, strings.Join(runs, ", "), pct(float64(t.DivergenceRate)), t.OnlyInLegacy, t.OnlyInNew, t.Mismatched, t.Entities)})
		} else {
			alerts = append(alerts, eval.Alert{Severity: "warning", Class: t.Type, Message: fmt.Sprintf("entity type %s: divergence %s above the tolerance %s (%d of %d consecutive failing runs before an alert)", t.Type, pct(float64(t.DivergenceRate)), pct(t.Tolerance), n, res.Settings.AlertAfter)})
		}
	}
	res.Alerts = append(res.Alerts, alerts...)
	var missing bool
	res.NotClean, missing = unclean(res)
	res.NotClean = nonNil(res.NotClean)
	res.Clean = len(res.NotClean) == 0
	if missing && res.Status != eval.StatusFail {
		res.Status = eval.StatusInsufficient
	}
	res.ConsecutiveCleanRuns = 0
	if res.Clean {
		res.ConsecutiveCleanRuns = 1
		for i := len(prev) - 1; i >= 0 && clean(prev[i]); i-- {
			res.ConsecutiveCleanRuns++
		}
	}
	res.PrimarySwitchReady = res.Clean
	res.DecommissionReady = res.ConsecutiveCleanRuns >= DecommissionAfter
}

// unclean says why a run is not clean (nil: clean), and whether evidence
// is missing. A run is clean only on evidence: every critical entity type
// has entities to compare, none of them diverges, and no row went
// unreconciled for a null key. A snapshot is a census, so one compared
// entity is the whole truth of its type; zero entities are no evidence
// (an export that came out empty or lost a type), not zero divergences.
func unclean(res *Result) (reasons []string, missing bool) {
	critical := 0
	for _, t := range res.Types {
		if !t.Critical {
			continue
		}
		critical++
		switch {
		case t.Entities == 0 && t.Checksum.Legacy.Rows == 0 && t.Checksum.New.Rows == 0:
			missing = true
			reasons = append(reasons, fmt.Sprintf("entity type %s has no entities in either export", t.Type))
		case t.Entities == 0:
			// its rows' keys are typed otherwise elsewhere (by legacy, or
			// by a conflicting duplicate) and counted under that type
			missing = true
			reasons = append(reasons, fmt.Sprintf("entity type %s has no entities of its own to compare: its %d legacy and %d new rows belong to keys counted under another type", t.Type, t.Checksum.Legacy.Rows, t.Checksum.New.Rows))
		case t.Status == eval.StatusInsufficient:
			missing = true
			reasons = append(reasons, fmt.Sprintf("entity type %s: insufficient data (%s)", t.Type, strings.Join(t.Reasons, "; ")))
		case t.Divergent > 0:
			reasons = append(reasons, fmt.Sprintf("entity type %s: %d divergent entities of %d (%d only in legacy, %d only in new, %d mismatched)", t.Type, t.Divergent, t.Entities, t.OnlyInLegacy, t.OnlyInNew, t.Mismatched))
		}
	}
	if critical == 0 {
		// no reconcile.types (every type found is critical) and no
		// entity found
		missing = true
		reasons = append(reasons, "no entities in either export")
	}
	for _, s := range []struct {
		name string
		n    int64
	}{{"legacy", res.Legacy.NullKeys}, {"new", res.New.NullKeys}} {
		if s.n > 0 {
			reasons = append(reasons, fmt.Sprintf("%d %s rows have a null %s and were not reconciled", s.n, s.name, res.Settings.Key))
		}
	}
	return reasons, missing
}

// clean judges a stored run again: results written before clean required
// evidence say clean: true for runs that compared nothing, and must not
// extend a streak.
func clean(res *Result) bool {
	reasons, _ := unclean(res)
	return res.Clean && len(reasons) == 0
}

// CleanRuns reads every configured reconciliation's latest.json for the
// decommission checklist: the smallest count of consecutive clean runs
// (every reconciliation must be clean), and whether any run is recorded.
func CleanRuns(ctx context.Context, out storage.Store, cfg *config.Config) (runs int, seen bool, err error) {
	missing := false
	for _, sec := range cfg.Reconcile {
		res, err := load(ctx, out, LatestKey(sec.Name))
		if errors.Is(err, storage.ErrNotExist) {
			missing = true // a reconciliation that never ran is not clean
			continue
		}
		if err != nil {
			return 0, false, err
		}
		n := res.ConsecutiveCleanRuns
		if !clean(res) {
			n = 0 // not clean by today's rule: written before clean required evidence
		}
		if !seen || n < runs {
			runs = n
		}
		seen = true
	}
	if missing {
		runs = 0
	}
	return runs, seen, nil
}

// ScoreRows flattens a result into score rows (reports.ScoreRow, the
// scores history's schema): feature "reconcile.<name>", the entity type as
// input class, and the run's start as the window.
func ScoreRows(res *Result) []reports.ScoreRow {
	var out []reports.ScoreRow
	for _, t := range res.Types {
		base := reports.ScoreRow{Feature: "reconcile." + res.Name, InputClass: t.Type, WindowStart: res.StartedAt, WindowEnd: res.CompletedAt, N: t.Entities, RunID: res.Run, ConfigHash: res.ConfigHash, Status: eval.StatusInfo}
		row := base
		row.Metric = "divergence_rate"
		row.Value, row.CILow, row.CIHigh = reports.Num(float64(t.DivergenceRate)), reports.Num(float64(t.CILow)), reports.Num(float64(t.CIHigh))
		if t.CILevel > 0 {
			row.CILevel = reports.Num(t.CILevel)
		}
		row.CIMethod, row.Test, row.PValue = t.CIMethod, t.Test, reports.Num(float64(t.PValue))
		row.Threshold, row.Status, row.Criterion = reports.Num(t.Tolerance), t.Status, t.Critical
		row.Reason = strings.Join(t.Reasons, "; ")
		out = append(out, row)
		count := func(metric string, v int64) {
			r := base
			r.Metric = metric
			r.Value = reports.Num(float64(v))
			out = append(out, r)
		}
		count("only_in_legacy", t.OnlyInLegacy)
		count("only_in_new", t.OnlyInNew)
		count("mismatched", t.Mismatched)
		count("equal", t.Equal)
		count("duplicate_keys.legacy", t.DuplicateKeys.Legacy)
		count("duplicate_keys.new", t.DuplicateKeys.New)
		fields := make([]string, 0, len(t.FieldMismatches))
		for f := range t.FieldMismatches {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		for _, f := range fields {
			count("mismatched."+f, t.FieldMismatches[f])
		}
	}
	return out
}
