package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/jobs"
	"github.com/parity-eval/parity/reconcile"
)

func init() {
	register(&command{name: "reconcile", summary: "reconcile the legacy and new stores of a dual-write migration (one snapshot run, --pending or --all)", run: cmdReconcile})
	jobs.RegisterKind("reconcile", runReconcileJob)
}

// runReconcileJob is the reconcile job kind for `parity run --job` and
// `parity schedule`: it reconciles every pending snapshot run of the
// job's section, oldest first. Streaks come from the stored results, so
// repeated ticks and a second replica agree (a run already stored is not
// pending; the per-reconciliation lock serialises the writes).
func runReconcileJob(ctx context.Context, jr *jobs.Runner, job *config.Job, jo jobs.JobOptions) (*jobs.JobRun, error) {
	out := &jobs.JobRun{Job: job.Name, Kind: job.Kind}
	r, err := reconcile.Open(ctx, jr.Cfg, job.Reconcile)
	if err != nil {
		return nil, err
	}
	runs, err := r.Pending(ctx)
	if err != nil {
		return nil, err
	}
	for _, run := range runs {
		if jo.Stopping != nil && jo.Stopping() {
			out.Stopped = true
			break
		}
		res, err := r.Run(ctx, reconcile.Options{Run: run, Now: jo.Now, Workers: jo.Workers, Version: version(), Log: jo.Log, LockTTL: jo.LockTTL})
		if err != nil {
			return out, err
		}
		out.Reconciled = append(out.Reconciled, res.Run)
		out.Summary = reconcileLine(r.Sec.Name, res)
		out.Rows += res.Legacy.Rows + res.New.Rows
		for _, s := range [2]reconcile.SideInfo{res.Legacy, res.New} {
			for _, f := range s.Files {
				out.Bytes += f.BytesRead
			}
		}
		for _, a := range res.Alerts {
			if a.Severity == "critical" {
				jo.Log.Error("reconciliation alert", "reconcile", r.Sec.Name, "run", res.Run, "entity_type", a.Class, "message", a.Message)
			}
		}
		// an export that came out empty or lost a critical type raises no
		// alert (nothing diverged), yet stops the clean streak: say so
		if res.Status == eval.StatusInsufficient {
			jo.Log.Warn("reconciliation run not clean: nothing to compare", "reconcile", r.Sec.Name, "run", res.Run, "not_clean", strings.Join(res.NotClean, "; "))
		}
	}
	return out, nil
}

const reconcileHelp = `Compares the legacy and new stores' snapshots per entity type and writes
reconcile/NAME/run=RUN/result.json and reconcile/NAME/latest.json to the output.
A run is clean when every critical entity type has entities to compare and none
diverges; the output says why a run is not.

Each snapshot run writes its results under a lease on the reconciliation,
locks/reconcile-NAME.lock in the output location (file or S3, conditional
writes), taken after the comparison and held while the run reads the stored
streaks and writes, renewed every third of --lock-ttl: a second reconcile
of the same section at that moment exits 1 naming the holder and the
lease's expiry, and the lock of a killed run is taken over once its lease
expires (--lock-ttl after its last renewal). A scheduled or run --job
reconcile job takes it with the --lock-ttl of schedule or run.
`

func cmdReconcile(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "config file (YAML)")
	name := fs.String("name", "", "the reconcile section (default: the only one)")
	job := fs.String("job", "", "run this configured job of kind reconcile (its section; --pending unless --run or --all)")
	run := fs.String("run", "", "the snapshot run to reconcile: the value of the run partition (e.g. 03 for run=03/)")
	all := fs.Bool("all", false, "reconcile every run found in both stores, in order (recomputes the stored streaks)")
	pending := fs.Bool("pending", false, "reconcile every run without a stored result, in order")
	memMB := fs.Int("memory-limit-mb", 0, "override memory_limit_mb: above it, partitions spill to --temp-dir")
	tempDir := fs.String("temp-dir", "", "folder for spill files (default: the system temp folder)")
	exitOn := fs.String("exit-code-on", "", `"alert": exit 3 when the (last) run raised an alert`)
	lockTTL := fs.Duration("lock-ttl", 10*time.Minute, "lease of the reconciliation's lock (locks/reconcile-NAME.lock in the output), renewed every third of it while the run is alive; a killed run's lock is taken over once it expires")
	logLevel := new(string)
	logLevelFlag(fs, logLevel, "warn")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: parity reconcile --config FILE [--name NAME] (--run RUN | --pending | --all) [--memory-limit-mb N] [--temp-dir DIR] [--lock-ttl 10m] [--exit-code-on alert]\n       parity reconcile --config FILE --job NAME [--run RUN | --all] [--memory-limit-mb N] [--temp-dir DIR] [--lock-ttl 10m] [--exit-code-on alert]\n\n%s\nFlags:\n", reconcileHelp)
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nExit codes: 0 done, 1 runtime failure, 2 usage or configuration error,\n3 with --exit-code-on alert: an entity type failed for alert_after consecutive runs.\n")
	}
	if err := fs.Parse(args); err != nil {
		return helpOrUsage(err)
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "parity reconcile: unexpected argument %q", fs.Arg(0))
	}
	if *lockTTL <= 0 {
		return usageError(stderr, "parity reconcile: --lock-ttl %v: must be positive", *lockTTL)
	}
	if *exitOn != "" && *exitOn != "alert" {
		return usageError(stderr, "parity reconcile: --exit-code-on %q: the only value is \"alert\"", *exitOn)
	}
	cfg, code := loadConfig(*cfgPath, stderr)
	if cfg == nil {
		return code
	}
	if *job != "" {
		j := cfg.Job(*job)
		if j == nil || j.Kind != "reconcile" {
			return usageError(stderr, "parity reconcile: --job: no job of kind reconcile named %q in %s", *job, cfg.Path)
		}
		if *name != "" && *name != j.Reconcile {
			return usageError(stderr, "parity reconcile: --job %s reconciles %q, not --name %q", *job, j.Reconcile, *name)
		}
		*name = j.Reconcile
		if *run == "" && !*all {
			*pending = true
		}
	}
	modes := 0
	for _, m := range []bool{*run != "", *all, *pending} {
		if m {
			modes++
		}
	}
	if modes != 1 {
		return usageError(stderr, "parity reconcile: give exactly one of --run RUN, --pending or --all")
	}
	if _, err := reconcile.Section(cfg, *name); err != nil {
		return usageError(stderr, "parity reconcile: %v", err)
	}
	o := reconcile.Options{Run: *run, TempDir: *tempDir, Version: version(), Log: newLogger(stderr, *logLevel), LockTTL: *lockTTL}
	if *memMB > 0 {
		o.MemoryLimitBytes = int64(*memMB) << 20
	}
	results, code := reconcileRuns(ctx, cfg, *name, *all, *pending, o, stdout, stderr)
	if code != ExitOK {
		return code
	}
	if len(results) == 0 {
		fmt.Fprintln(stdout, "nothing to reconcile: every run has a stored result")
		return ExitOK
	}
	if len(results) == 1 {
		printReconcileRun(stdout, results[0])
	} else {
		printReconcileTable(stdout, results)
	}
	if last := results[len(results)-1]; *exitOn == "alert" && last.Alert {
		return ExitRollback
	}
	return ExitOK
}

// reconcileRuns reconciles one run (o.Run), every pending run or every
// run, in run order; shared by reconcile and demo.
func reconcileRuns(ctx context.Context, cfg *config.Config, name string, all, pending bool, o reconcile.Options, stdout, stderr io.Writer) ([]*reconcile.Result, int) {
	r, err := reconcile.Open(ctx, cfg, name)
	if err != nil {
		return nil, fail(stderr, err)
	}
	runs := []string{o.Run}
	switch {
	case all:
		runs, err = r.Runs(ctx)
	case pending:
		runs, err = r.Pending(ctx)
	}
	if err != nil {
		return nil, fail(stderr, err)
	}
	var out []*reconcile.Result
	for _, run := range runs {
		o.Run = run
		res, err := r.Run(ctx, o)
		if err != nil {
			return nil, fail(stderr, err)
		}
		out = append(out, res)
	}
	if len(out) > 0 {
		fmt.Fprintf(stdout, "reconciled %s: %d run(s); results in %s/reconcile/%s/\n", r.Sec.Name, len(out), r.Out.URI(), r.Sec.Name)
	}
	return out, ExitOK
}

// cell is a type's status in one run, as the run-by-run table shows it.
func cell(res *reconcile.Result, t *reconcile.TypeResult) string {
	switch {
	case t == nil:
		return "-"
	case t.Status == eval.StatusFail && t.Critical && t.ConsecutiveFailing >= res.Settings.AlertAfter:
		return "ALERT " + pctCell(float64(t.DivergenceRate))
	case t.Status == eval.StatusFail:
		return "FAIL " + pctCell(float64(t.DivergenceRate))
	case t.Divergent == 0 && t.Entities > 0:
		return "clean"
	case t.Status == eval.StatusPass:
		return "pass " + pctCell(float64(t.DivergenceRate))
	}
	return t.Status
}

func pctCell(x float64) string { return fmt.Sprintf("%.2f%%", 100*x) }

// printReconcileTable prints one row per entity type and one column per run.
func printReconcileTable(w io.Writer, results []*reconcile.Result) {
	last := results[len(results)-1]
	fmt.Fprintf(w, "\nreconciliation %s (tolerance %s, alert after %d consecutive failing runs):\n", last.Name, pctCell(last.Settings.Tolerance), last.Settings.AlertAfter)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := []string{"  " + last.Settings.TypeColumn}
	seen := map[string]bool{}
	var types []string
	for _, res := range results {
		header = append(header, res.Settings.RunPartition+"="+res.Run)
		for _, t := range res.Types {
			if !seen[t.Type] {
				seen[t.Type] = true
				types = append(types, t.Type)
			}
		}
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, typ := range types {
		row := []string{"  " + typ}
		for _, res := range results {
			row = append(row, cell(res, res.Type(typ)))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	row := []string{"  clean runs in a row"}
	for _, res := range results {
		row = append(row, fmt.Sprint(res.ConsecutiveCleanRuns))
	}
	fmt.Fprintln(tw, strings.Join(row, "\t"))
	tw.Flush()
	printReconcileFooter(w, last)
}

// printReconcileRun prints one run's per-type figures.
func printReconcileRun(w io.Writer, res *reconcile.Result) {
	fmt.Fprintf(w, "\nreconciliation %s, run %s: %s (tolerance %s)\n", res.Name, res.Run, res.Status, pctCell(res.Settings.Tolerance))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "  %s\tentities\tonly legacy\tonly new\tmismatched\tdivergence\t%s CI\tchecksums\tstatus\t\n", res.Settings.TypeColumn, levelName(res))
	for _, t := range res.Types {
		ci := "-"
		if t.Entities > 0 {
			ci = fmt.Sprintf("[%s, %s]", pctCell(float64(t.CILow)), pctCell(float64(t.CIHigh)))
		}
		sums := "differ"
		if t.Checksum.Equal {
			sums = "equal"
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t\n", t.Type, t.Entities, t.OnlyInLegacy, t.OnlyInNew, t.Mismatched, pctCell(float64(t.DivergenceRate)), ci, sums, cell(res, t))
	}
	tw.Flush()
	printReconcileFooter(w, res)
}

// reconcileLine is what a reconcile job run from `parity run --job`
// says of its last run: the run's status and the footer of the table
// `parity reconcile` prints (ready or not, and why, and the alerts).
func reconcileLine(name string, res *reconcile.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "reconciliation %s, run %s: %s\n", name, res.Run, res.Status)
	printReconcileFooter(&b, res)
	return strings.TrimSuffix(b.String(), "\n")
}

func levelName(res *reconcile.Result) string {
	return fmt.Sprintf("%g%%", 100*(1-res.Settings.Alpha))
}

func printReconcileFooter(w io.Writer, res *reconcile.Result) {
	switch {
	case res.DecommissionReady:
		fmt.Fprintf(w, "  clean for %d consecutive runs: the legacy store may be decommissioned\n", res.ConsecutiveCleanRuns)
	case res.PrimarySwitchReady:
		fmt.Fprintf(w, "  run %s is clean: the new store may become the read primary (%d of %d clean runs before decommissioning)\n", res.Run, res.ConsecutiveCleanRuns, res.Settings.DecommissionAfter)
	default:
		fmt.Fprintf(w, "  run %s is not clean: %s; keep reading from legacy\n", res.Run, strings.Join(res.NotClean, "; "))
	}
	for _, a := range res.Alerts {
		fmt.Fprintf(w, "  %s: %s\n", strings.ToUpper(a.Severity), a.Message)
	}
}

// demoReconcile reconciles every run of the demo's reconcile sections
// and prints the run-by-run table; called by `parity demo`.
func demoReconcile(ctx context.Context, cfg *config.Config, now time.Time, stdout, stderr io.Writer, logLevel string) int {
	for _, sec := range cfg.Reconcile {
		fmt.Fprintln(stdout)
		o := reconcile.Options{Now: func() time.Time { return now }, Version: version(), Log: newLogger(stderr, logLevel)}
		results, code := reconcileRuns(ctx, cfg, sec.Name, true, false, o, stdout, stderr)
		if code != ExitOK {
			return code
		}
		if len(results) > 0 {
			printReconcileTable(stdout, results)
		}
	}
	return ExitOK
}
