package reconcile

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/eval/stats"
	"github.com/parity-eval/parity/scorers"
	"github.com/parity-eval/parity/storage"
)

// Options tune one reconciliation run.
type Options struct {
	// Run is the snapshot run: the value of the run partition
	// (run_partition: run and Run "03" read run=03/ of both sides). With
	// no run_partition both datasets are read whole and Run only labels
	// the result (default: the start time, 20261122T031500Z).
	Run string
	// MemoryLimitBytes overrides memory_limit_mb (tests use a few KiB to
	// force spilling and re-partitioning).
	MemoryLimitBytes int64
	// TempDir is where spill folders go (default os.TempDir()).
	TempDir string
	// Workers decode row groups in parallel (default GOMAXPROCS).
	Workers int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Version is parity's version, recorded in results.
	Version string
	Log     *slog.Logger
	// LockTTL is the lease of the reconciliation's lock
	// (locks/reconcile-<name>.lock), renewed every third of it while
	// the run writes, so a killed run's lock is taken over once it
	// expires (default 10m).
	LockTTL time.Duration
}

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.LockTTL <= 0 {
		o.LockTTL = 10 * time.Minute
	}
}

// Reconciler reconciles one configured reconcile section.
type Reconciler struct {
	Cfg    *config.Config
	Sec    *config.Reconcile
	Legacy storage.Store
	New    storage.Store
	Out    storage.Store
}

// Section returns the named reconcile section; an empty name selects the
// only one.
func Section(cfg *config.Config, name string) (*config.Reconcile, error) {
	if name == "" {
		if len(cfg.Reconcile) == 1 {
			return &cfg.Reconcile[0], nil
		}
		return nil, fmt.Errorf("%s has %d reconcile sections: name one with --name", cfg.Path, len(cfg.Reconcile))
	}
	for i := range cfg.Reconcile {
		if cfg.Reconcile[i].Name == name {
			return &cfg.Reconcile[i], nil
		}
	}
	var names []string
	for _, r := range cfg.Reconcile {
		names = append(names, r.Name)
	}
	return nil, fmt.Errorf("%s: no reconcile section named %q (have %s)", cfg.Path, name, strings.Join(names, ", "))
}

// Open opens the stores of the named reconcile section.
func Open(ctx context.Context, cfg *config.Config, name string) (*Reconciler, error) {
	sec, err := Section(cfg, name)
	if err != nil {
		return nil, err
	}
	opts := storage.Options{S3Endpoint: cfg.S3.Endpoint, S3Region: cfg.S3.Region, S3PathStyle: cfg.S3.PathStyle}
	r := &Reconciler{Cfg: cfg, Sec: sec}
	if r.Legacy, err = storage.Open(ctx, sec.Legacy, opts); err != nil {
		return nil, fmt.Errorf("reconcile %s: legacy: %w", sec.Name, err)
	}
	if r.New, err = storage.Open(ctx, sec.New, opts); err != nil {
		return nil, fmt.Errorf("reconcile %s: new: %w", sec.Name, err)
	}
	if r.Out, err = storage.Open(ctx, cfg.Output, opts); err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	return r, nil
}

var runRE = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)

// Runs lists the snapshot runs present in both stores (the values of the
// run partition), in run order. A run present on one side only is an
// error naming it: reconciling it would report every entity as missing.
func (r *Reconciler) Runs(ctx context.Context) ([]string, error) {
	rp := r.Sec.RunPartition
	if rp == "" {
		return nil, fmt.Errorf("reconcile %s: no run_partition configured, so there are no runs to list (give --run to label a whole-dataset run)", r.Sec.Name)
	}
	var sides [2]map[string]bool
	for s, st := range [2]storage.Store{r.Legacy, r.New} {
		dirs, _, err := st.ListLevel(ctx, "")
		if err != nil {
			return nil, fmt.Errorf("reconcile %s: listing %s: %w", r.Sec.Name, st.URI(), err)
		}
		sides[s] = map[string]bool{}
		for _, d := range dirs {
			if v, ok := strings.CutPrefix(strings.TrimSuffix(d, "/"), rp+"="); ok {
				sides[s][v] = true
			}
		}
	}
	var runs []string
	for v := range sides[0] {
		if !sides[1][v] {
			return nil, fmt.Errorf("reconcile %s: %s=%s exists in legacy (%s) but not in new (%s)", r.Sec.Name, rp, v, r.Legacy.URI(), r.New.URI())
		}
		runs = append(runs, v)
	}
	for v := range sides[1] {
		if !sides[0][v] {
			return nil, fmt.Errorf("reconcile %s: %s=%s exists in new (%s) but not in legacy (%s)", r.Sec.Name, rp, v, r.New.URI(), r.Legacy.URI())
		}
	}
	sort.Slice(runs, func(i, j int) bool { return runLess(runs[i], runs[j]) })
	return runs, nil
}

// runLess orders run ids: numerically when both are integers (9 before
// 10), else as strings (dates and zero-padded ids sort correctly).
func runLess(a, b string) bool {
	x, err1 := strconv.ParseInt(a, 10, 64)
	y, err2 := strconv.ParseInt(b, 10, 64)
	if err1 == nil && err2 == nil && x != y {
		return x < y
	}
	return a < b
}

// sideScan is what scanning one side produced besides its records.
type sideScan struct {
	info   SideInfo
	checks map[string]*Checksum // by the side's own entity type
}

// Compute reads both sides of one run and counts; it writes nothing and
// derives no streaks (see Run).
func (r *Reconciler) Compute(ctx context.Context, o Options) (*Result, error) {
	o.defaults()
	sec := r.Sec
	started := o.Now().UTC()
	if o.Run == "" {
		if sec.RunPartition != "" {
			return nil, fmt.Errorf("reconcile %s: which run? give --run (a %s= partition) or --all", sec.Name, sec.RunPartition)
		}
		o.Run = started.Format("20060102T150405Z")
	}
	if !runRE.MatchString(o.Run) {
		return nil, fmt.Errorf("reconcile %s: run %q: use letters, digits, _ . : - only (it is used in output keys)", sec.Name, o.Run)
	}
	limit := o.MemoryLimitBytes
	if limit <= 0 {
		limit = int64(sec.MemoryLimitMB) << 20
	}
	tmp, err := os.MkdirTemp(o.TempDir, "parity-reconcile-")
	if err != nil {
		return nil, fmt.Errorf("reconcile %s: temp folder: %w", sec.Name, err)
	}
	defer os.RemoveAll(tmp)
	p := newPartitioner(limit, fanout0, 0, 0, tmp)
	defer p.close()

	var scans [2]*sideScan
	for side, st := range [2]storage.Store{r.Legacy, r.New} {
		ss, err := r.scanSide(ctx, side, st, o, p)
		if err != nil {
			return nil, err
		}
		if err := p.closeSide(side); err != nil {
			return nil, err
		}
		scans[side] = ss
	}
	j := &joiner{ctx: ctx, typeName: sec.TypeColumn, k: sec.SampleKeys, values: sec.SampleValues, types: map[string]*typeAcc{}}
	for _, fd := range sec.CriticalFields {
		j.fields = append(j.fields, fieldCmp{name: fd.Name, cmp: scorers.NewComparator(&fd)})
	}
	if err := j.run(p); err != nil {
		return nil, fmt.Errorf("reconcile %s: join: %w", sec.Name, err)
	}
	res := r.result(o, started, j, scans)
	res.Spill = SpillInfo{Spilled: p.spilled, MemoryLimitBytes: limit, Partitions: j.partitions, MaxDepth: j.maxDepth, SpilledBytes: j.spilled}
	o.Log.Info("reconciled", "name", sec.Name, "run", o.Run, "legacy_rows", res.Legacy.Rows, "new_rows", res.New.Rows, "spilled", p.spilled, "spilled_bytes", j.spilled, "seconds", o.Now().Sub(started).Seconds())
	return res, nil
}

// kindCandidates are the column kinds tried, in order, for a column of a
// given role: the datasets scan needs one kind per column, and the
// configuration names columns, not types.
func kindCandidates(comparator string) []datasets.Kind {
	if comparator == "numeric" {
		return []datasets.Kind{datasets.KindFloat64, datasets.KindString, datasets.KindTimestamp, datasets.KindBool}
	}
	return []datasets.Kind{datasets.KindString, datasets.KindInt64, datasets.KindFloat64, datasets.KindTimestamp, datasets.KindBool}
}

// scanSide reads one side into the partitioner.
func (r *Reconciler) scanSide(ctx context.Context, side int, st storage.Store, o Options, p *partitioner) (*sideScan, error) {
	sec := r.Sec
	ds := &datasets.Dataset{Store: st, Name: sec.Name + "/" + sideNames[side]}
	if sec.RunPartition != "" {
		ds.Prefix = sec.RunPartition + "=" + o.Run
	}
	files, err := ds.Files(ctx, time.Time{}, time.Time{})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("reconcile %s: %s: no Parquet files under %s/%s", sec.Name, sideNames[side], st.URI(), ds.Prefix)
	}
	// Pick each column's kind from the first file's schema, then check
	// every footer before reading a row.
	type col struct {
		name  string
		cands []datasets.Kind
	}
	cols := []col{{sec.Key, []datasets.Kind{datasets.KindString, datasets.KindInt64}}, {sec.TypeColumn, []datasets.Kind{datasets.KindString}}}
	for _, fd := range sec.CriticalFields {
		cols = append(cols, col{fd.Name, kindCandidates(fd.Comparator)})
	}
	spec := datasets.ScanSpec{Workers: o.Workers}
	for _, c := range cols {
		var first error
		kind := datasets.Kind(0)
		for _, k := range c.cands {
			err := ds.Check(ctx, files[:1], datasets.ScanSpec{Columns: []datasets.ColumnSpec{{Name: c.name, Kind: k}}})
			if err == nil {
				kind = k
				break
			}
			if first == nil {
				first = err
			}
		}
		if kind == 0 {
			return nil, fmt.Errorf("reconcile %s: %w", sec.Name, first)
		}
		spec.Columns = append(spec.Columns, datasets.ColumnSpec{Name: c.name, Kind: kind})
	}
	if err := ds.Check(ctx, files, spec); err != nil {
		return nil, fmt.Errorf("reconcile %s: %w", sec.Name, err)
	}

	type worker struct {
		enc      *encoder
		parts    [][]byte
		nrec     []int64
		checks   map[string]*Checksum
		nullKeys int64
		key      []byte
	}
	ws := make([]*worker, o.Workers)
	for i := range ws {
		ws[i] = &worker{enc: newEncoder(), parts: make([][]byte, p.fanout), nrec: make([]int64, p.fanout), checks: map[string]*Checksum{}}
	}
	man, err := ds.Scan(ctx, files, spec, func(wi int, b *datasets.Batch) error {
		w := ws[wi]
		kc, tc, fcs := b.Cols[0], b.Cols[1], b.Cols[2:]
		// per dictionary code of the type column; the last slot is null
		sums := make([]Checksum, len(tc.Dict)+1)
		typs := make([][]byte, len(tc.Dict))
		for c, s := range tc.Dict {
			typs[c] = []byte(s)
		}
		for i := 0; i < b.Rows; i++ {
			if kc.IsNull(i) {
				w.nullKeys++
				continue
			}
			w.key = appendKey(w.key[:0], kc, i)
			code := len(tc.Dict)
			var typ []byte
			if !tc.IsNull(i) {
				code = int(tc.Codes[i])
				typ = typs[code]
			}
			body := w.enc.encode(w.key, typ, fcs, i)
			sums[code].Rows++
			sums[code].sum += binary.LittleEndian.Uint64(body)
			pi := p.part(xxhash.Sum64(w.key))
			w.parts[pi] = binary.AppendUvarint(w.parts[pi], uint64(len(body)))
			w.parts[pi] = append(w.parts[pi], body...)
			w.nrec[pi]++
		}
		for code := range sums {
			if sums[code].Rows == 0 {
				continue
			}
			t := ""
			if code < len(tc.Dict) {
				t = tc.Dict[code]
			}
			c := w.checks[t]
			if c == nil {
				c = &Checksum{}
				w.checks[t] = c
			}
			c.Rows += sums[code].Rows
			c.sum += sums[code].sum
		}
		for pi := range w.parts {
			if err := p.add(side, pi, w.parts[pi], w.nrec[pi]); err != nil {
				return err
			}
			w.parts[pi], w.nrec[pi] = w.parts[pi][:0], 0
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reconcile %s: %w", sec.Name, err)
	}
	ss := &sideScan{info: SideInfo{Location: st.URI(), Prefix: ds.Prefix, Files: man.Files}, checks: map[string]*Checksum{}}
	for _, w := range ws {
		ss.info.NullKeys += w.nullKeys
		for t, c := range w.checks {
			a := ss.checks[t]
			if a == nil {
				a = &Checksum{}
				ss.checks[t] = a
			}
			a.Rows += c.Rows
			a.sum += c.sum
		}
	}
	for _, f := range man.Files {
		ss.info.Rows += f.RowsRead
	}
	return ss, nil
}

// result turns the join's counts into the run's result (without streaks).
func (r *Reconciler) result(o Options, started time.Time, j *joiner, scans [2]*sideScan) *Result {
	sec := r.Sec
	alpha := r.Cfg.Stats.Alpha
	res := &Result{
		SchemaVersion: SchemaVersion,
		Name:          sec.Name, Run: o.Run, StartedAt: started, CompletedAt: o.Now().UTC(),
		ConfigHash: r.Cfg.Hash, ParityVersion: o.Version,
		Settings: Settings{Key: sec.Key, TypeColumn: sec.TypeColumn, RunPartition: sec.RunPartition, Tolerance: sec.Tolerance, Alpha: alpha, AlertAfter: sec.AlertAfter, DecommissionAfter: DecommissionAfter, CriticalTypes: sec.Types},
		Legacy:   scans[0].info, New: scans[1].info,
		Alerts: []eval.Alert{},
	}
	for _, fd := range sec.CriticalFields {
		res.Settings.CriticalFields = append(res.Settings.CriticalFields, FieldSetting{Name: fd.Name, Comparator: fd.Comparator, AbsTolerance: fd.AbsTolerance, RelTolerance: fd.RelTolerance})
	}
	names := map[string]bool{}
	for t := range j.types {
		names[t] = true
	}
	for _, s := range scans {
		for t := range s.checks {
			names[t] = true
		}
	}
	for _, t := range sec.Types {
		names[t] = true
	}
	critical := func(t string) bool { return len(sec.Types) == 0 || slicesContains(sec.Types, t) }
	var order []string
	for t := range names {
		order = append(order, t)
	}
	sort.Strings(order)
	for _, t := range order {
		a := j.types[t]
		if a == nil {
			a = &typeAcc{fieldMismatch: map[string]int64{}}
		}
		tr := &TypeResult{
			Type: t, Critical: critical(t),
			OnlyInLegacy: a.onlyLegacy, OnlyInNew: a.onlyNew, Mismatched: a.mismatched, Equal: a.equal,
			FieldMismatches: a.fieldMismatch,
			DuplicateKeys:   Sides{Legacy: a.dupKeys[0], New: a.dupKeys[1]},
			DuplicateRows:   Sides{Legacy: a.dupRows[0], New: a.dupRows[1]},
			Tolerance:       sec.Tolerance,
			Reasons:         []string{},
			Samples: Samples{
				OnlyInLegacy: nonNil(a.sOnlyLegacy.result()), OnlyInNew: nonNil(a.sOnlyNew.result()),
				Mismatched: nonNil(a.sMismatch.result()), DuplicateKeys: nonNil(a.sDup.result()),
			},
		}
		for s, sc := range scans {
			c := Checksum{}
			if x := sc.checks[t]; x != nil {
				c = *x
			}
			c.Sum = fmt.Sprintf("%016x", c.sum)
			if s == 0 {
				tr.Checksum.Legacy = c
			} else {
				tr.Checksum.New = c
			}
		}
		tr.Checksum.Equal = tr.Checksum.Legacy.Sum == tr.Checksum.New.Sum && tr.Checksum.Legacy.Rows == tr.Checksum.New.Rows
		tr.Entities = a.onlyLegacy + a.onlyNew + a.mismatched + a.equal
		tr.Divergent = a.onlyLegacy + a.onlyNew + a.mismatched
		judge(tr, alpha)
		if !tr.Critical {
			tr.Status = eval.StatusInfo
			tr.Reasons = append(tr.Reasons, "not a critical entity type (reconcile.types): reported only")
		}
		res.Types = append(res.Types, tr)
	}
	for _, s := range [2]*SideInfo{&res.Legacy, &res.New} {
		if s.NullKeys > 0 {
			res.Alerts = append(res.Alerts, eval.Alert{Severity: "warning", Message: fmt.Sprintf("%d rows of %s%s have a null %s and were not reconciled", s.NullKeys, s.Location, "/"+s.Prefix, sec.Key)})
		}
	}
	return res
}

// judge sets the divergence figures and the pass/fail status of a type.
//
// A snapshot is a census, not a sample: every entity is compared, so the
// observed rate is this snapshot's divergence rate and the status follows
// it (fail when it exceeds the tolerance). The interval and the test treat
// the snapshot's entities as draws from the process that produces
// divergences (the dual-write path): the Clopper–Pearson interval (exact,
// and conservative at the rates near zero that matter here, where the
// Wilson interval can under-cover) bounds that process's rate, and the
// one-sided exact binomial test (stats.RateAbove, H1: rate > tolerance)
// says whether the excess is more than chance. Both are reported, not used
// for the status: the "two consecutive failing runs" rule is what guards
// against a one-off.
func judge(tr *TypeResult, alpha float64) {
	n, k := tr.Entities, tr.Divergent
	nan := eval.Float(math.NaN())
	tr.DivergenceRate, tr.CILow, tr.CIHigh, tr.PValue = nan, nan, nan, nan
	if n == 0 {
		tr.Status = eval.StatusInsufficient
		tr.Reasons = append(tr.Reasons, "no entities of this type in either store")
		return
	}
	rate := float64(k) / float64(n)
	tr.DivergenceRate = eval.Float(rate)
	ci := stats.ClopperPearson(k, n, 1-alpha)
	tr.CILow, tr.CIHigh, tr.CILevel, tr.CIMethod = eval.Float(ci.Lo), eval.Float(ci.Hi), ci.Level, ci.Method
	if tr.Tolerance > 0 {
		t := stats.RateAbove(k, n, tr.Tolerance, alpha)
		tr.Test, tr.PValue = t.Test, eval.Float(t.P)
		tr.Significant = t.P < alpha
	}
	if rate > tr.Tolerance {
		tr.Status = eval.StatusFail
		tr.Reasons = append(tr.Reasons, fmt.Sprintf("divergence %s (%d of %d entities: %d only in legacy, %d only in new, %d mismatched) exceeds the tolerance %s", pct(rate), k, n, tr.OnlyInLegacy, tr.OnlyInNew, tr.Mismatched, pct(tr.Tolerance)))
		return
	}
	tr.Status = eval.StatusPass
	if k == 0 {
		tr.Reasons = append(tr.Reasons, fmt.Sprintf("all %d entities equal in both stores", n))
	} else {
		tr.Reasons = append(tr.Reasons, fmt.Sprintf("divergence %s (%d of %d entities) within the tolerance %s", pct(rate), k, n, pct(tr.Tolerance)))
	}
}

func pct(x float64) string { return strconv.FormatFloat(100*x, 'f', 3, 64) + "%" }

func slicesContains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}
