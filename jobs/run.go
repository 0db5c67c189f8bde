// Package jobs drives parity: it runs evaluations (one window, a
// backfill, a shard and its merge), holds the run lock, writes every
// output in crash-safe order, and schedules jobs. It is the only package
// that knows the order of the steps; datasets, scorers, eval and reports
// each do one of them.
package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/reconcile"
	"github.com/parity-eval/parity/reports"
	"github.com/parity-eval/parity/reports/html"
	"github.com/parity-eval/parity/scorers"
	"github.com/parity-eval/parity/storage"
)

// Version is parity's version, set by the linker (-X).
var Version = "dev"

// Options tune one run.
type Options struct {
	// Features limits the run (default: all configured).
	Features []string
	// Now is the clock (default time.Now); tests and the demo fix it.
	// It is called from several goroutines (verdicts and audit entries
	// are built a few windows ahead), so it must be safe for that.
	Now func() time.Time
	// ShardIndex/ShardCount: evaluate a deterministic 1/N of the input
	// and write only mergeable partial aggregates (see Merge).
	ShardIndex, ShardCount int
	// Workers for the scan (default GOMAXPROCS).
	Workers int
	// LockTTL is the run lock's lease (default 10m; renewed while running).
	LockTTL time.Duration
	// Extra scorers per feature (Go plug-ins registered by the binary's builder).
	Extra map[string][]scorers.Scorer
	Log   *slog.Logger
	// Progress receives progress updates (may be nil).
	Progress func(Progress)
	// Report writes a review report per feature after the run (as a job
	// with `report: true` does).
	Report bool
}

// Progress of a scan.
type Progress struct {
	FilesDone, FilesTotal int
	RowsDone              int64
	Elapsed               time.Duration
}

// Result summarises a run.
type Result struct {
	RunID    string
	Windows  []eval.Window
	Verdicts *reports.Verdicts // the latest window's document
	Manifest datasets.Manifest
	Rows     int64
	Outputs  []string // keys written
}

// Runner evaluates windows of one configuration.
type Runner struct {
	Cfg    *config.Config
	Logs   *datasets.Dataset
	Labels *datasets.Dataset
	Out    storage.Store
}

// Open opens the stores a configuration names.
func Open(ctx context.Context, cfg *config.Config) (*Runner, error) {
	opts := storage.Options{S3Endpoint: cfg.S3.Endpoint, S3Region: cfg.S3.Region, S3PathStyle: cfg.S3.PathStyle}
	logs, err := storage.Open(ctx, cfg.Source.Logs, opts)
	if err != nil {
		return nil, fmt.Errorf("source.logs: %w", err)
	}
	out, err := storage.Open(ctx, cfg.Output, opts)
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	r := &Runner{Cfg: cfg, Logs: &datasets.Dataset{Store: logs, Name: "logs"}, Out: out}
	if cfg.Source.Labels != "" {
		ls, err := storage.Open(ctx, cfg.Source.Labels, opts)
		if err != nil {
			return nil, fmt.Errorf("source.labels: %w", err)
		}
		r.Labels = &datasets.Dataset{Store: ls, Name: "labels"}
	}
	return r, nil
}

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Workers == 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.LockTTL == 0 {
		o.LockTTL = 10 * time.Minute
	}
}

// Output keys. Everything a run writes lives under these prefixes of the
// output location.
const (
	keyScores     = "scores/window=%s/scores.parquet"
	keyAggregates = "aggregates/window=%s/aggregates.json"
	keyShard      = "aggregates/window=%s/shard-%03d-of-%03d.json"
	keyRecords    = "history/window=%s/records.json"
	keyManifest   = "manifests/window=%s/manifest.json"
	// keyShardManifest is a shard's manifest of a window, which merge
	// combines into the window's manifest.
	keyShardManifest = "manifests/window=%s/shard-%03d-of-%03d.json"
	keyVerdicts      = "verdicts/window=%s/verdicts.json"
	keyEvaluation    = "evaluations/window=%s/evaluation.json"
	KeyLatest        = "verdicts/latest.json"
	keyLock          = "locks/evaluate.lock"
)

// Evaluate scans the logs once for the given windows and writes every
// output. The sequence is crash-safe: each object is put atomically, the
// per-window outputs come first, the verdicts replay follows, and
// verdicts/latest.json is written last, so a killed run leaves the
// previous complete state visible and the rerun rewrites the same keys.
func (r *Runner) Evaluate(ctx context.Context, windows []eval.Window, o Options) (*Result, error) {
	o.defaults()
	if len(windows) == 0 {
		return nil, errors.New("no windows to evaluate")
	}
	sort.Slice(windows, func(i, j int) bool { return windows[i].Start.Before(windows[j].Start) })
	if err := checkEnded(windows[len(windows)-1], o.Now()); err != nil {
		return nil, err
	}
	runID := fmt.Sprintf("%s-%d", o.Now().UTC().Format("20060102T150405Z"), os.Getpid())
	log := o.Log.With("run_id", runID)

	// The run lock is taken before anything is read or written and
	// renewed while the run lasts (lockrun.go): a second run on the same
	// output fails here, naming the holder, with nothing written.
	lock, err := r.acquireRunLock(ctx, runID, o, log)
	if err != nil {
		return nil, err
	}
	defer lock.release(ctx, log)
	aggs, manifest, perWindow, err := r.scan(lock.guard(ctx), windows, o, log)
	if err != nil {
		return nil, err
	}
	res := &Result{RunID: runID, Windows: windows, Manifest: manifest}
	for _, f := range manifest.Files {
		if f.Role != datasets.RoleLabels { // a labels file's are labels joined
			res.Rows += f.RowsUsed
		}
	}
	shard := o.ShardCount > 1
	// Cancelled during the scan (SIGTERM past the grace period): abandon
	// with nothing written. Once writing starts the window's outputs are
	// finished detached from cancellation, so a stop never leaves a
	// history record without its evaluation and verdicts.
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("abandoned before writing: %w", err)
	}
	ctx = lock.guard(context.WithoutCancel(ctx))
	// Outputs are written through an OrderedStore: each object still
	// appears in the order written below (the order docs/s3.md gives and
	// the kill tests hold), and a failed write stops every later one, but
	// in a local folder the next objects' files are written and fsynced
	// while the current one is renamed into place, rather than each write
	// waiting on the one before (~150 fsyncs for a 10-window backfill).
	// Its error is checked before the run reports success; the lock is
	// released only after it is flushed (defers run in reverse).
	ordered := storage.Ordered(r.Out, 4)
	defer ordered.Close()
	wr := *r
	wr.Out = ordered
	r = &wr
	// Each window's manifest lists the inputs behind it (manifest.go);
	// its hash is the manifest_hash of the window's evaluation.
	run := reports.RunInfo{ID: runID, ConfigHash: r.Cfg.Hash, ParityVersion: Version}
	// An unsharded run's windows are evaluated while their aggregates are
	// encoded and written: the evaluations need only the aggregates in
	// memory, and writing them waits on the disk or the network.
	parts := splitWindows(aggs, windows)
	var fin *finishing
	var carry carried
	var mdata map[string][]byte
	if shard {
		if mdata, err = r.encodeManifests(ctx, windows, perWindow, nil); err != nil {
			return nil, err
		}
	} else {
		// A run limited to some features keeps the others' outputs
		// (carry.go): their stored groups join the windows' aggregates.
		if carry, err = r.carryOver(ctx, windows, parts, o.Features); err != nil {
			return nil, err
		}
		if mdata, err = r.encodeManifests(ctx, windows, perWindow, carry); err != nil {
			return nil, err
		}
		if fin, err = r.startFinish(ctx, windows, parts, carry, run, mdata, o); err != nil {
			return nil, err
		}
		defer fin.wait()
	}
	// Windows' aggregates are encoded a few ahead of the writes, on all
	// cores; they are written in window order, as before.
	key := func(w eval.Window) string {
		if shard {
			return fmt.Sprintf(keyShard, w.Key(), o.ShardIndex, o.ShardCount)
		}
		return fmt.Sprintf(keyAggregates, w.Key())
	}
	encoded := runAhead(len(windows), o.Workers, func(i int) ([]byte, error) {
		data, err := marshalIndent(parts[windows[i].Start.Unix()].File())
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", key(windows[i]), err)
		}
		return data, nil
	})
	defer encoded.stop()
	for i, w := range windows {
		data, err := encoded.get(i)
		if err != nil {
			return nil, err
		}
		if _, err := r.Out.Put(ctx, key(w), data); err != nil {
			return nil, fmt.Errorf("write %s/%s: %w", r.Out.URI(), key(w), err)
		}
		mkey := fmt.Sprintf(keyManifest, w.Key())
		if shard {
			res.Outputs = append(res.Outputs, key(w))
			mkey = fmt.Sprintf(keyShardManifest, w.Key(), o.ShardIndex, o.ShardCount)
		}
		if _, err := r.Out.Put(ctx, mkey, mdata[w.Key()]); err != nil {
			return nil, fmt.Errorf("write %s/%s: %w", r.Out.URI(), mkey, err)
		}
	}
	if shard {
		if err := ordered.Close(); err != nil {
			return nil, fmt.Errorf("write %s: %w", r.Out.URI(), err)
		}
		log.Info("shard written", "shard", fmt.Sprintf("%d/%d", o.ShardIndex, o.ShardCount), "windows", len(windows))
		return res, nil
	}
	if err := fin.complete(ctx, res); err != nil {
		return nil, err
	}
	// Review reports (a job with `report: true`, or Options.Report):
	// reports/<feature>/<window>.html, after the verdicts they explain.
	if fs := html.RunFeatures(r.Cfg, o.Features, o.Report); len(fs) > 0 {
		keys, err := html.WriteRun(ctx, r.Cfg, r.Out, fs, windows[len(windows)-1], o.Now(), Version)
		res.Outputs = append(res.Outputs, keys...)
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
	}
	if err := ordered.Close(); err != nil {
		return nil, fmt.Errorf("write %s: %w", r.Out.URI(), err)
	}
	return res, nil
}

// NotEndedError is Evaluate's refusal of a window that has not ended:
// its data are incomplete, and a verdict on part of a window could
// graduate on evidence the rest of the window would contradict.
type NotEndedError struct {
	Window eval.Window
	At     time.Time // the clock it was checked against
}

func (e *NotEndedError) Error() string {
	return fmt.Sprintf("window %s has not ended yet at %s: evaluating an incomplete window could graduate on partial data", e.Window, e.At.UTC().Format(time.RFC3339))
}

// checkEnded refuses a window that ends after now (Options.Now) or after
// the real clock, whichever is earlier: an Options.Now in the future
// (a test clock, `--now`) must not let a window still being logged be
// evaluated into real outputs.
func checkEnded(w eval.Window, now time.Time) error {
	if real := time.Now(); real.Before(now) {
		now = real
	}
	if w.End.After(now) {
		return &NotEndedError{Window: w, At: now}
	}
	return nil
}

// splitWindows splits aggregates by window start (Unix seconds); every
// window gets its own Aggregates, empty when it has no groups.
func splitWindows(a *eval.Aggregates, windows []eval.Window) map[int64]*eval.Aggregates {
	out := make(map[int64]*eval.Aggregates, len(windows))
	for _, w := range windows {
		out[w.Start.Unix()] = eval.NewAggregates()
	}
	for k, g := range a.Groups {
		if part := out[k.Window]; part != nil {
			part.Groups[k] = g
		}
	}
	return out
}

// scan reads the logs for the windows and aggregates them.
func (r *Runner) scan(ctx context.Context, windows []eval.Window, o Options, log *slog.Logger) (*eval.Aggregates, datasets.Manifest, map[string]datasets.Manifest, error) {
	from, to := windows[0].Start, windows[len(windows)-1].End
	var labels *eval.Labels
	if r.Labels != nil {
		var want []string
		for _, f := range r.Cfg.Features {
			for _, fd := range f.Fields {
				if fd.Label != "-" {
					want = append(want, fd.Label)
				}
			}
			for _, sc := range f.Scorers {
				if sc.Label != "" {
					want = append(want, sc.Label)
				}
			}
		}
		var err error
		labels, err = eval.LoadLabels(ctx, r.Labels, r.Cfg.Source.LabelsKey, want)
		if err != nil {
			return nil, datasets.Manifest{}, nil, err
		}
		if err := noData(ctx, r.Labels, labels.Files(), "source.labels"); err != nil {
			return nil, datasets.Manifest{}, nil, err
		}
		log.Info("labels loaded", "requests", labels.Len(), "duplicates", labels.Duplicates)
		if missing := labels.Absent(); len(missing) > 0 {
			log.Warn("label columns with no value in any labels file: the log's columns of those names are used, if any", "columns", missing, "labels", r.Labels.Store.URI())
		}
	}
	eng, err := eval.NewEngine(r.Cfg, o.Features, windows, o.Extra, labels)
	if err != nil {
		return nil, datasets.Manifest{}, nil, err
	}
	files, err := r.Logs.Files(ctx, from, to)
	if err != nil {
		return nil, datasets.Manifest{}, nil, err
	}
	if err := noData(ctx, r.Logs, len(files), "source.logs"); err != nil {
		return nil, datasets.Manifest{}, nil, err
	}
	// ReuseBuffers: ws.Batch keeps no column slice past its call (scorers
	// must not keep an Input's slices after Score), so the scan recycles them.
	spec := datasets.ScanSpec{Columns: eng.RecyclingProjection(), TimeColumn: r.Cfg.Columns.TS, From: from, To: to, Workers: o.Workers, ShardIndex: o.ShardIndex, ShardCount: o.ShardCount, ReuseBuffers: true}
	// Check every footer before reading a row: a config naming a column
	// the data lacks fails here, with nothing written.
	fp, err := r.Logs.Inspect(ctx, files, spec)
	if err != nil {
		return nil, datasets.Manifest{}, nil, err
	}
	if extra := 2 * int64(spec.WorkerCount()) * fp.FetchBytes; extra > 0 {
		if old, ok := raiseDefaultMemoryLimit(extra); ok {
			defer debug.SetMemoryLimit(old)
			log.Info("soft heap limit raised for remote reads", "limit_mib", (old+extra)>>20,
				"fetched_mib_per_worker", 2*fp.FetchBytes>>20)
		}
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Key
	}
	ws := eng.NewWorkers(o.Workers, names)
	log.Info("scanning", "files", len(files), "from", from, "to", to, "columns", len(spec.Columns))
	start := time.Now()
	pt := newProgressTracker(o.Progress, names)
	pt.watch()      // reports continue while the scan is stalled
	defer pt.stop() // finish stops it too; this is for a scan that fails
	cpu0 := readCPUTimes()
	manifest, err := r.Logs.Scan(ctx, files, spec, pt.wrap(ws.Batch))
	if err != nil {
		return nil, datasets.Manifest{}, nil, err
	}
	pt.finish()
	if msg := heapLimitWarning(cpu0, readCPUTimes(), currentMemoryLimit()); msg != "" {
		log.Warn(msg)
	}
	uses := ws.Uses()
	used := map[string]int64{} // a log file's rows used in all windows
	for _, byFile := range uses {
		for key, u := range byFile {
			used[key] += u.Used
		}
	}
	for i := range manifest.Files {
		manifest.Files[i].RowsUsed = used[manifest.Files[i].Key]
	}
	joined := labels.Uses()
	if labels != nil {
		n := len(manifest.Files)
		manifest.Files = append(manifest.Files, labels.Manifest.Files...)
		for i := range manifest.Files[n:] {
			f := &manifest.Files[n+i]
			for _, m := range joined {
				f.RowsUsed += m[f.Key]
			}
		}
		manifest.Labels = int64(labels.Len())
	}
	aggs := ws.Result()
	manifest.Dropped = aggs.Dropped
	if aggs.LabelsUnmatched > 0 {
		// Labels joined to no request of the evaluated windows (unknown
		// request ids, or requests of other windows): counted, not used.
		manifest.Dropped = map[string]int64{}
		maps.Copy(manifest.Dropped, aggs.Dropped)
		manifest.Dropped["labels_unmatched"] = aggs.LabelsUnmatched
		// Info, not a warning: a run over some windows leaves every other
		// window's labels unmatched, so the count says nothing wrong by
		// itself; over a backfill of the whole log it counts labels of
		// unknown requests.
		log.Info("labels not joined to any request of the evaluated windows (other windows' labels, or labels of unknown request ids)", "labels_unmatched", aggs.LabelsUnmatched)
	}
	var rows int64
	for _, f := range manifest.Files {
		rows += f.RowsRead
	}
	log.Info("scanned", "files", len(files), "rows_read", rows, "seconds", time.Since(start).Seconds(), "dropped", aggs.Dropped)
	perWindow := windowManifests(manifest, windows, uses, joined)
	if o.ShardCount > 1 {
		plan := shardPlan(files, from, to)
		for k, m := range perWindow {
			m.ShardPlan = plan
			perWindow[k] = m
		}
	}
	return aggs, manifest, perWindow, nil
}

// noData fails when a scan found no files (n) and the dataset's
// location holds no object at all: a mistyped path, an unmounted volume
// or an empty S3 prefix would otherwise evaluate as windows without
// requests, exit 0, and keep a scheduled job's success metric advancing.
func noData(ctx context.Context, d *datasets.Dataset, n int, key string) error {
	if n > 0 {
		return nil
	}
	ok, err := d.Exists(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s: %s holds no objects at all (want Parquet files; is the location right, and mounted?)", key, d.Store.URI())
	}
	return nil
}

func (r *Runner) putJSON(ctx context.Context, key string, v any) error {
	data, err := marshalIndent(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	if _, err := r.Out.Put(ctx, key, data); err != nil {
		return fmt.Errorf("write %s/%s: %w", r.Out.URI(), key, err)
	}
	return nil
}

// finish evaluates windows from their aggregates and writes scores,
// history records and verdicts. Used by Merge; Evaluate starts the
// evaluations before it writes the aggregates (startFinish) and writes
// the rest after them (complete).
func (r *Runner) finish(ctx context.Context, windows []eval.Window, parts map[int64]*eval.Aggregates, carry carried, run reports.RunInfo, manifests map[string][]byte, o Options, res *Result) error {
	f, err := r.startFinish(ctx, windows, parts, carry, run, manifests, o)
	if err != nil {
		return err
	}
	return f.complete(ctx, res)
}

// finishing is a run's windows being evaluated in the background; its
// complete writes the results.
type finishing struct {
	r       *Runner
	windows []eval.Window
	fresh   map[string]*eval.Aggregates // by window key
	carry   carried
	run     reports.RunInfo
	o       Options
	out     []computed
	wg      sync.WaitGroup
}

// computed is one window's evaluation and its encodings, waiting to be
// written.
type computed struct {
	scores []byte
	doc    *Evaluation
	evalJS []byte // doc encoded
	recs   map[string]eval.WindowRecord
	err    error
}

// startFinish reads the windows' baselines and starts evaluating the
// windows (parts: the aggregates split by window, splitWindows) on all
// cores. Nothing is written until complete, so a caller
// can write the aggregates meanwhile: the evaluations read only the
// aggregates in memory and the baseline periods read here, never what
// this run writes.
//
// manifests are the windows' encoded manifests, by window key: a
// window's evaluation records its manifest's hash.
func (r *Runner) startFinish(ctx context.Context, windows []eval.Window, parts map[int64]*eval.Aggregates, carry carried, run reports.RunInfo, manifests map[string][]byte, o Options) (*finishing, error) {
	fresh := make(map[string]*eval.Aggregates, len(windows))
	for _, w := range windows {
		fresh[w.Key()] = parts[w.Start.Unix()]
	}
	br, err := r.newBaselineReader(ctx, windows, fresh)
	if err != nil {
		return nil, err
	}
	bases := make([]map[eval.GroupKey]*eval.Group, len(windows))
	for i, w := range windows {
		if bases[i], err = br.baseline(ctx, w); err != nil {
			return nil, err
		}
	}
	// The windows' evaluations are independent of each other (each reads
	// its own aggregates and its baseline period), so they are computed
	// on all cores; everything is then written in window order.
	f := &finishing{r: r, windows: windows, fresh: fresh, carry: carry, run: run, o: o, out: make([]computed, len(windows))}
	sem := make(chan struct{}, max(1, o.Workers))
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for i, w := range windows {
			f.wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; f.wg.Done() }()
				run := run
				run.ManifestHash = config.HashBytes(manifests[w.Key()])
				f.out[i] = r.compute(w, parts[w.Start.Unix()], bases[i], carry.features(r, w, o.Features), run)
			}()
		}
	}()
	return f, nil
}

// compute evaluates one window and encodes its scores and evaluation.
func (r *Runner) compute(w eval.Window, part *eval.Aggregates, base map[eval.GroupKey]*eval.Group, features []string, run reports.RunInfo) (c computed) {
	fws := eval.Evaluate(r.Cfg, features, w, part, base)
	if c.scores, c.err = reports.EncodeScores(reports.ScoreRows(fws, run.ID, run.ConfigHash)); c.err != nil {
		return c
	}
	c.doc = evaluationDoc(w, fws, run)
	if c.evalJS, c.err = marshalIndent(c.doc); c.err != nil {
		c.err = fmt.Errorf("encode %s: %w", fmt.Sprintf(keyEvaluation, w.Key()), c.err)
		return c
	}
	c.recs = map[string]eval.WindowRecord{}
	for _, fw := range fws {
		groups := map[string]*eval.Group{}
		for k, g := range part.Groups {
			if k.Feature == fw.Feature {
				groups[k.Class] = g
			}
		}
		c.recs[fw.Feature] = eval.Record(fw, groups)
	}
	return c
}

// wait waits for the evaluations (a caller that fails before complete
// calls it too, so no evaluation outlives the run).
func (f *finishing) wait() { f.wg.Wait() }

// complete waits for the evaluations and writes history records, then
// (replay) evaluations, scores and verdicts.
func (f *finishing) complete(ctx context.Context, res *Result) error {
	f.wait()
	r, windows := f.r, f.windows
	if checkFresh() {
		if err := r.checkStoredAggregates(ctx, windows, f.fresh); err != nil {
			return err
		}
	}
	// Evaluations and scores are written by replay, each window's just
	// before its verdict document (which is built from the evaluation),
	// so a reader (or a kill) can find at most the one window being
	// written with new figures beside old verdicts, not every window of
	// the run (docs/s3.md). Written here up front, a killed run's new
	// evaluations would have been paired by a later run's replay with the
	// old scores of every window it had not reached.
	pend := pending{scores: map[string][]byte{}, evals: map[string][]byte{}, docs: map[string]*Evaluation{}}
	for i, w := range windows {
		c := &f.out[i]
		if c.err != nil {
			return c.err
		}
		pend.scores[w.Key()] = c.scores
		pend.evals[w.Key()] = c.evalJS
		pend.docs[w.Key()] = c.doc
		if err := r.mergeRecords(ctx, w, c.recs); err != nil {
			return err
		}
	}
	f.out = nil
	// Replay the policy from the earliest evaluated window to the newest
	// stored one: re-evaluating a past window changes the streaks after it.
	return r.replay(ctx, windows[0], f.run, f.o, res, pend)
}

// pending holds the encoded evaluations and scores of the windows this
// run evaluated, by window key, until replay writes them, and the
// evaluations themselves, which replay builds verdicts from without
// decoding what it just encoded.
type pending struct {
	scores, evals map[string][]byte
	docs          map[string]*Evaluation
}

// checkFresh (PARITY_CHECK_FRESH_EVALUATIONS set) makes replay also
// build each of this run's windows' verdicts from the encoded evaluation,
// as a later run would read it back, and fail unless both documents are
// byte-identical: the in-memory evaluation is only a shortcut if it says
// exactly what the stored one says (NaN and ±Inf both store as null, for
// one). The jobs and cmd tests set it, for the binaries they start too.
func checkFresh() bool { return os.Getenv("PARITY_CHECK_FRESH_EVALUATIONS") != "" }

// putPending writes a window's pending evaluation and scores, in that order.
func (r *Runner) putPending(ctx context.Context, p pending, w string, res *Result) error {
	if data, ok := p.evals[w]; ok {
		key := fmt.Sprintf(keyEvaluation, w)
		if _, err := r.Out.Put(ctx, key, data); err != nil {
			return fmt.Errorf("write %s/%s: %w", r.Out.URI(), key, err)
		}
	}
	return r.putScores(ctx, p.scores, w, res)
}

// putScores writes a window's pending scores (and forgets them).
func (r *Runner) putScores(ctx context.Context, scores map[string][]byte, w string, res *Result) error {
	data, ok := scores[w]
	if !ok {
		return nil
	}
	key := fmt.Sprintf(keyScores, w)
	if _, err := r.Out.Put(ctx, key, data); err != nil {
		return fmt.Errorf("write %s/%s: %w", r.Out.URI(), key, err)
	}
	res.Outputs = append(res.Outputs, key)
	delete(scores, w)
	return nil
}

// mergeRecords stores the window's records, keeping records of features
// not evaluated in this run.
func (r *Runner) mergeRecords(ctx context.Context, w eval.Window, recs map[string]eval.WindowRecord) error {
	key := fmt.Sprintf(keyRecords, w.Key())
	old := map[string]eval.WindowRecord{}
	if data, _, err := r.Out.Get(ctx, key); err == nil {
		if err := json.Unmarshal(data, &old); err != nil {
			return fmt.Errorf("%s/%s: corrupt history record: %w", r.Out.URI(), key, err)
		}
	} else if !errors.Is(err, storage.ErrNotExist) {
		return err
	}
	for k, v := range recs {
		if v.Override == nil {
			// The override the window was decided under is history: a
			// re-evaluation keeps it (replay updates it).
			v.Override = old[k].Override
		}
		old[k] = v
	}
	return r.putJSON(ctx, key, old)
}

// History loads every stored window record, by feature, sorted by window.
func (r *Runner) History(ctx context.Context) (map[string][]eval.WindowRecord, error) {
	objs, err := r.Out.List(ctx, "history/")
	if err != nil {
		return nil, err
	}
	out := map[string][]eval.WindowRecord{}
	for _, o := range objs {
		if !strings.HasSuffix(o.Key, "/records.json") {
			continue
		}
		data, _, err := r.Out.Get(ctx, o.Key)
		if err != nil {
			return nil, err
		}
		var recs map[string]eval.WindowRecord
		if err := json.Unmarshal(data, &recs); err != nil {
			return nil, fmt.Errorf("%s/%s: corrupt history record: %w", r.Out.URI(), o.Key, err)
		}
		for f, rec := range recs {
			out[f] = append(out[f], rec)
		}
	}
	for f := range out {
		sort.Slice(out[f], func(i, j int) bool { return out[f][i].Window.Start.Before(out[f][j].Window.Start) })
	}
	return out, nil
}

// replay recomputes verdict documents for every stored window from `from`
// on, then writes latest.json last.
func (r *Runner) replay(ctx context.Context, from eval.Window, run reports.RunInfo, o Options, res *Result, pend pending) error {
	hist, err := r.History(ctx)
	if err != nil {
		return err
	}
	// Windows to (re)write: every stored window at or after from.
	wins := map[int64]eval.Window{}
	for _, recs := range hist {
		for _, rec := range recs {
			if !rec.Window.Start.Before(from.Start) {
				wins[rec.Window.Start.Unix()] = rec.Window
			}
		}
	}
	order := make([]eval.Window, 0, len(wins))
	for _, w := range wins {
		order = append(order, w)
	}
	sort.Slice(order, func(i, j int) bool { return order[i].Start.Before(order[j].Start) })
	// Overrides (config and overrides file) are read once per run, from storage.
	ovs, err := r.LoadOverrides(ctx, o.Now(), o.Log)
	if err != nil {
		return err
	}
	// Each window decided here keeps the override it is decided under in
	// its history record: a later run's replay decides it the same way
	// after the override has expired or its entry was deleted (Decide
	// takes an earlier window's override from its record).
	newest := order[len(order)-1].Start
	changed := map[int64]map[string]eval.WindowRecord{}
	for name, recs := range hist {
		f := r.Cfg.Feature(name)
		if f == nil {
			continue
		}
		for i := range recs {
			w := recs[i].Window
			if w.Start.Before(from.Start) {
				continue
			}
			o := ovs.Of(f, w, w.Start.Equal(newest))
			if o == nil && recs[i].Override != nil {
				// An override that applied when the window was decided
				// stays with it after it expires or its entry is deleted:
				// a backfill must not rewrite history with a graduation
				// the human decision held back then.
				continue
			}
			if reflect.DeepEqual(o, recs[i].Override) {
				continue
			}
			recs[i].Override = o
			if changed[w.Start.Unix()] == nil {
				changed[w.Start.Unix()] = map[string]eval.WindowRecord{}
			}
			changed[w.Start.Unix()][name] = recs[i]
		}
	}
	for _, k := range slices.Sorted(maps.Keys(changed)) {
		if err := r.mergeRecords(ctx, wins[k], changed[k]); err != nil {
			return err
		}
	}
	// The decommission checklist's reconciliation item comes from the
	// stored reconciliation results (reconcile/<name>/latest.json).
	reconClean, reconSeen, err := reconcile.CleanRuns(ctx, r.Out, r.Cfg)
	if err != nil {
		return err
	}
	var last *reports.Verdicts
	var lastData []byte
	check := checkFresh()
	// Each window's verdicts are decided, built and encoded a few windows
	// ahead of the writes, on all cores: a window's verdicts depend only
	// on its evaluation and the history records up to it, all read above,
	// never on the verdicts written before it.
	type built struct {
		doc  *reports.Verdicts
		data []byte
	}
	docs := runAhead(len(order), o.Workers, func(i int) (built, error) {
		w := order[i]
		ev, err := r.evaluationOf(ctx, w, pend.docs)
		if err != nil {
			return built{}, err
		}
		decided := map[string]eval.FeatureVerdict{}
		for _, fw := range ev.Features {
			f := r.Cfg.Feature(fw.Feature)
			if f == nil {
				continue
			}
			var recs []eval.WindowRecord
			for _, rec := range hist[fw.Feature] {
				if !rec.Window.Start.After(w.Start) {
					recs = append(recs, rec)
				}
			}
			ov := ovs.Of(f, w, w.Start.Equal(order[len(order)-1].Start))
			if n := len(recs); ov == nil && n > 0 && recs[n-1].Window.Start.Equal(w.Start) {
				ov = recs[n-1].Override // the window's recorded decision (kept above)
			}
			decided[fw.Feature] = eval.Decide(f, r.Cfg.Window.D(), recs, ov, reconClean, reconSeen)
		}
		now := o.Now()
		doc := reports.BuildVerdicts(w, ev.Features, decided, ev.Run, now)
		doc.Run = verdictRun(run, ev)
		data, err := doc.Encode()
		if err != nil {
			return built{}, err
		}
		if enc, ok := pend.evals[w.Key()]; ok && check {
			if err := sameVerdictsAsStored(enc, w, decided, run, now, data); err != nil {
				return built{}, err
			}
		}
		return built{doc, data}, nil
	})
	defer docs.stop()
	for i, w := range order {
		b, err := docs.get(i)
		if err != nil {
			return err
		}
		if err := r.putPending(ctx, pend, w.Key(), res); err != nil {
			return err
		}
		key := fmt.Sprintf(keyVerdicts, w.Key())
		if _, err := r.Out.Put(ctx, key, b.data); err != nil {
			return fmt.Errorf("write %s/%s: %w", r.Out.URI(), key, err)
		}
		res.Outputs = append(res.Outputs, key)
		last, lastData = b.doc, b.data
	}
	for _, w := range slices.Sorted(maps.Keys(pend.scores)) { // windows without a history record
		if err := r.putPending(ctx, pend, w, res); err != nil {
			return err
		}
	}
	if last == nil {
		return nil
	}
	// flagd file, metrics, audit (publish.go), then latest.json.
	if err := r.publish(ctx, last, o, res); err != nil {
		return err
	}
	// latest.json points at the newest window ever evaluated, written
	// last: the same bytes as that window's verdicts.
	if _, err := r.Out.Put(ctx, KeyLatest, lastData); err != nil {
		return fmt.Errorf("write %s/%s: %w", r.Out.URI(), KeyLatest, err)
	}
	res.Outputs = append(res.Outputs, KeyLatest)
	res.Verdicts = last
	return nil
}

func overrideOf(f *config.Feature) *eval.Override {
	p := f.Policy
	if !p.ForceLegacy && !p.Freeze {
		return nil
	}
	return &eval.Override{ForceLegacy: p.ForceLegacy, Freeze: p.Freeze, By: p.OverrideBy, Reason: p.OverrideWhy, At: p.OverrideAt, Source: "config"}
}

// Evaluation is the stored evaluation of one window (class results and
// metrics), from which verdict documents are rebuilt during replay.
type Evaluation struct {
	Window   eval.Window           `json:"window"`
	Run      reports.RunInfo       `json:"run"`
	Features []*eval.FeatureWindow `json:"features"`
}

// AppendJSON appends ev as json.Marshal encodes it (marshalIndent's
// fast path; TestEvaluationAppendJSON holds the two equal).
func (ev *Evaluation) AppendJSON(b []byte) ([]byte, error) {
	var err error
	if b, err = appendMarshal(append(b, `{"window":`...), ev.Window); err != nil {
		return nil, err
	}
	if b, err = appendMarshal(append(b, `,"run":`...), ev.Run); err != nil {
		return nil, err
	}
	b = append(b, `,"features":`...)
	if ev.Features == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, fw := range ev.Features {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = fw.AppendJSON(b); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// appendMarshal appends json.Marshal(v) to b.
func appendMarshal(b []byte, v any) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

// verdictRun is the run recorded in a window's verdicts: the run that
// decided them, with the manifest hash of the window's evaluation, the
// inputs behind the evidence (a replayed window's are another run's).
func verdictRun(run reports.RunInfo, ev *Evaluation) reports.RunInfo {
	run.ManifestHash = ev.Run.ManifestHash
	return run
}

func evaluationDoc(w eval.Window, fws []*eval.FeatureWindow, run reports.RunInfo) *Evaluation {
	return &Evaluation{Window: w, Run: run, Features: fws}
}

// evaluationOf is a window's evaluation: this run's (fresh, not yet
// written), or the stored one, decoded.
func (r *Runner) evaluationOf(ctx context.Context, w eval.Window, fresh map[string]*Evaluation) (*Evaluation, error) {
	if ev, ok := fresh[w.Key()]; ok {
		return ev, nil
	}
	return r.loadEvaluation(ctx, w)
}

// sameVerdictsAsStored builds window w's verdicts again from its encoded
// evaluation enc (checkFresh) and fails unless they encode to want.
func sameVerdictsAsStored(enc []byte, w eval.Window, decided map[string]eval.FeatureVerdict, run reports.RunInfo, now time.Time, want []byte) error {
	var ev Evaluation
	if err := json.Unmarshal(enc, &ev); err != nil {
		return fmt.Errorf("%s: corrupt evaluation: %w", fmt.Sprintf(keyEvaluation, w.Key()), err)
	}
	doc := reports.BuildVerdicts(w, ev.Features, decided, ev.Run, now)
	doc.Run = verdictRun(run, &ev)
	got, err := doc.Encode()
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("internal error: window %s's verdicts from its in-memory evaluation differ from those of its stored form", w.Key())
	}
	return nil
}

func (r *Runner) loadEvaluation(ctx context.Context, w eval.Window) (*Evaluation, error) {
	key := fmt.Sprintf(keyEvaluation, w.Key())
	data, _, err := r.Out.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	var ev Evaluation
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, fmt.Errorf("%s/%s: corrupt evaluation: %w", r.Out.URI(), key, err)
	}
	return &ev, nil
}
