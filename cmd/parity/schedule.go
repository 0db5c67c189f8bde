package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/jobs"
)

func init() {
	register(&command{name: "schedule", summary: "run the configured jobs on their schedules (daemon): catch-up, leases, /healthz /readyz /metrics", run: cmdSchedule})
}

const scheduleHelp = `parity schedule runs every job with a schedule (jobs[].schedule, cron with an
optional "TZ=Zone " prefix; six fields for seconds) until SIGTERM or SIGINT.

Each tick of an evaluate job, and one at start-up, evaluates the last
complete window and up to catch_up missed windows before it (windows not
completely evaluated: with no stored history record, or with one but no
verdicts, as a run killed between the two leaves them), oldest first, one
window at a time; windows already evaluated are skipped, so ticks are
idempotent. A backfill job re-evaluates its from/to range or its last N
windows. A job never overlaps itself (singleton), jobs run one at a time
per process, and a lease per job under locks/schedule/ in the output
location (file or S3, conditional writes) keeps replicas from running the
same job at once. A tick that finds the job's lease (or the output's run
lock) held, by a running replica or by a crashed one whose lease has not
expired yet, is skipped and retried once that lease expires (plus 2s),
unless the next tick comes first; a retry that finds the lease renewed
waits for its new expiry. So a replica restarted right after a crash
catches up about --lock-ttl after it, not at the next tick. A backfill
job is not retried (it would redo its range); its next tick runs it.

On SIGTERM the daemon takes no new work, lets the current window finish
within --grace, and otherwise abandons it with nothing written for it
(outputs are written atomically, verdicts/latest.json last); /readyz turns
503 while draining. The process exits at most --grace after the signal,
plus the time exiting itself takes (milliseconds; up to 0.3s was seen on
a loaded two-core node), having released its locks. Only a run that
cannot be abandoned can still be going then: one already writing a
window's outputs (a stop never interrupts it) or one waiting on a
plug-in scorer's answer. The process then exits 1 anyway, leaving that
run as a kill would: every object written is complete, the run lock
expires after its lease (--lock-ttl), and a temporary file left in a
local output folder is removed by the first write into that folder once
it is an hour old.

HTTP on --listen: /healthz (200 while the process runs), /readyz (200 while
scheduling), /metrics (Prometheus: parity_job_runs_total{job,outcome},
parity_job_failures_total, parity_job_duration_seconds,
parity_job_last_success_timestamp_seconds, parity_job_rows_read_total,
parity_job_bytes_read_total, parity_job_windows_evaluated_total,
parity_job_lock_skips_total, parity_job_running).
`

func cmdSchedule(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("schedule", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfgPath, listen, jobList, logLevel, now, owner string
	var grace, lockTTL time.Duration
	var rate float64
	var workers int
	fs.StringVar(&cfgPath, "config", "", "config file (YAML)")
	fs.StringVar(&listen, "listen", "127.0.0.1:9090", `address for /healthz, /readyz and /metrics ("" to disable; use 0.0.0.0:9090 in a container)`)
	fs.StringVar(&jobList, "jobs", "", "comma-separated jobs to schedule (default: every job with a schedule)")
	fs.DurationVar(&grace, "grace", 30*time.Second, "on SIGTERM/SIGINT, the longest the process takes to exit (plus the moment exiting takes, under 0.3s): the current window may finish within it; a window still being scanned a quarter of it (at most 5s) before its end is abandoned with nothing written for it; a run still going at its end is left as a kill leaves it, exit 1. Keep it below Kubernetes' terminationGracePeriodSeconds")
	fs.DurationVar(&lockTTL, "lock-ttl", 2*time.Minute, "lease of a job's lock and of its runs' run lock (renewed every third of it); a crashed replica's leases expire after this, and a tick skipped on them is retried then")
	fs.StringVar(&owner, "owner", "", "name of this replica in lock objects (default host/pid)")
	fs.IntVar(&workers, "workers", 0, "scan workers (default: GOMAXPROCS)")
	logLevelFlag(fs, &logLevel, "info")
	fs.StringVar(&now, "now", "", "start the evaluation clock at this time (RFC 3339) instead of the real time; for replays, demos and tests (ticks still follow the real clock)")
	fs.Float64Var(&rate, "clock-rate", 1, "with --now: how many seconds of evaluation clock pass per real second")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: parity schedule --config FILE [--listen ADDR] [--grace 30s] [--jobs a,b]\n\n%s\nFlags:\n", scheduleHelp)
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nExit codes:\n  0  stopped cleanly on SIGTERM/SIGINT\n  1  runtime failure at start (storage, --listen address in use), or a run was still going at the end of --grace\n  2  usage or configuration error (named with file:line: key), a malformed --listen\n")
	}
	if err := fs.Parse(args); err != nil {
		return helpOrUsage(err)
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "parity schedule: unexpected argument %q", fs.Arg(0))
	}
	if grace <= 0 || lockTTL <= 0 || rate <= 0 {
		return usageError(stderr, "parity schedule: --grace, --lock-ttl and --clock-rate must be positive")
	}
	if listen != "" {
		if err := checkAddr(listen); err != nil {
			return usageError(stderr, "parity schedule: --listen %q: %v", listen, err)
		}
	}
	cfg, code := loadConfig(cfgPath, stderr)
	if cfg == nil {
		return code
	}
	log := newLogger(stderr, logLevel)
	// What parity validate warns about: the daemon runs these schedules.
	for _, w := range cfg.ScheduleWarnings(time.Now()) {
		log.Warn(strings.TrimPrefix(w.Msg, "warning: "), configAttrs(w)...)
	}
	so := jobs.ScheduleOptions{Grace: grace, LockTTL: lockTTL, Owner: owner}
	so.Log = log
	so.Workers = workers
	if jobList != "" {
		so.Jobs = strings.Split(jobList, ",")
	}
	if now != "" {
		t, err := eval.ParseTime(now)
		if err != nil {
			return usageError(stderr, "parity schedule: --now: %v", err)
		}
		so.Now = scaledClock(t, rate)
	}
	so.ProgressFor = func(job string) func(jobs.Progress) { return newProgress(stderr, log, job) }
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	so.Metrics = jobs.NewMetrics(reg)

	applyMemoryLimit() // the daemon's scans run under it, like run's
	r, err := jobs.Open(ctx, cfg)
	if err != nil {
		return fail(stderr, err)
	}
	s, err := jobs.NewScheduler(r, so)
	if err != nil {
		if errors.Is(err, jobs.ErrJobConfig) {
			return usageError(stderr, "parity schedule: %v", err)
		}
		return fail(stderr, err)
	}
	var srv *http.Server
	if listen != "" {
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			_ = s.Stop()
			return fail(stderr, fmt.Errorf("--listen: %w", err))
		}
		srv = &http.Server{Handler: healthMux(s, reg), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		log.Info("listening", "addr", ln.Addr().String(), "paths", "/healthz /readyz /metrics")
	}
	err = s.Run(ctx)
	if srv != nil {
		// Closed, not shut down gracefully: the drain is over (/readyz
		// said 503 throughout), and waiting on a scrape or a probe's
		// connection would take the exit past --grace.
		_ = srv.Close()
	}
	if err != nil {
		log.Error("stopped uncleanly", "err", err)
		return ExitFailure
	}
	return ExitOK
}

func healthMux(s *jobs.Scheduler, reg *prometheus.Registry) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.Ready() {
			// Draining (or not started): take no new traffic; a
			// Deployment's rollout waits for the new pod instead.
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready")
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}

// scaledClock starts at t and advances rate times faster than real time.
func scaledClock(t time.Time, rate float64) func() time.Time {
	t0 := time.Now()
	return func() time.Time {
		return t.Add(time.Duration(float64(time.Since(t0)) * rate))
	}
}

// runJob runs a configured job once for `parity run --job` (without
// --window/--at): evaluate covers the last complete window plus missed
// windows within catch_up; backfill its range. Exit codes as for run.
func runJob(ctx context.Context, cfg *config.Config, j *config.Job, o jobs.Options, exitOn string, stdout, stderr io.Writer) int {
	if !jobs.KindAvailable(j.Kind) {
		return usageError(stderr, "parity run: --job %s: kind %q is not available in this build", j.Name, j.Kind)
	}
	if o.ShardCount > 1 && j.Kind != "evaluate" && j.Kind != "backfill" {
		// Only evaluations are split into shards; every shard would
		// otherwise run the whole job.
		return usageError(stderr, "parity run: --shard: job %s is of kind %q; only evaluate and backfill jobs run in shards", j.Name, j.Kind)
	}
	applyMemoryLimit()
	r, err := jobs.Open(ctx, cfg)
	if err != nil {
		return fail(stderr, err)
	}
	if o.Progress == nil {
		o.Progress = newProgress(stderr, o.Log, j.Name)
	}
	run, err := r.RunJob(ctx, j, jobs.JobOptions{Options: o})
	if err != nil {
		return fail(stderr, err)
	}
	if o.ShardCount > 1 {
		fmt.Fprintf(stdout, "job %s (%s): %s\n", j.Name, j.Kind, shardWritten(o, len(run.Done), r.Out.URI()))
		return ExitOK
	}
	if j.Kind == "reconcile" {
		fmt.Fprintf(stdout, "job %s (reconcile): compared %d snapshot run(s) %v, %d rows read; results in %s/reconcile/%s/\n", j.Name, len(run.Reconciled), run.Reconciled, run.Rows, r.Out.URI(), j.Reconcile)
		if run.Summary != "" {
			fmt.Fprintln(stdout, run.Summary)
		}
		return ExitOK
	}
	fmt.Fprintf(stdout, "job %s (%s): evaluated %d window(s), %d rows read; outputs in %s\n", j.Name, j.Kind, len(run.Done), run.Rows, r.Out.URI())
	if run.Last == nil {
		return ExitOK
	}
	return summarize(stdout, run.Last.Verdicts, o, exitOn)
}
