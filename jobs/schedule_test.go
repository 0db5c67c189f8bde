package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets/synth"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/internal/testtmp"
	"github.com/parity-eval/parity/jobs"
	"github.com/parity-eval/parity/storage"
	_ "github.com/parity-eval/parity/storage/file"
	s3store "github.com/parity-eval/parity/storage/s3"
	"github.com/parity-eval/parity/storage/storagetest"
)

// The synthetic shadow log is generated once per test binary (5 days,
// scale 0.05: a few thousand rows, enough for hourly windows).
var (
	dataOnce sync.Once
	dataDir  string
	dataErr  error
)

func testData(t *testing.T) string {
	t.Helper()
	dataOnce.Do(func() {
		dataDir, dataErr = os.MkdirTemp("", "parity-schedule-data-")
		if dataErr == nil {
			_, dataErr = synth.Generate(dataDir, synth.Options{Scale: 0.05, Days: 5})
		}
	})
	if dataErr != nil {
		t.Fatal(dataErr)
	}
	return dataDir
}

func TestMain(m *testing.M) {
	// Every run in these tests, in process or a started binary, checks
	// that verdicts built from its in-memory evaluations are the stored
	// ones' (run.go, checkFresh), and overwrites recycled string bytes
	// after each batch, so a string kept past its batch would change
	// the outputs the tests compare (datasets.ColumnSpec.RecycleStrings).
	os.Setenv("PARITY_CHECK_FRESH_EVALUATIONS", "1")
	os.Setenv("PARITY_POISON_RECYCLED", "1")
	// The binaries and datasets built once per test binary go in a
	// temporary folder removed at the end.
	os.Exit(testtmp.Run(m))
}

// scheduleConfig writes a config with hourly windows over the synthetic
// data, an output folder of its own, and the given jobs section.
func scheduleConfig(t *testing.T, jobsYAML string) *config.Config {
	t.Helper()
	data := testData(t)
	dir := t.TempDir()
	y := fmt.Sprintf(`version: 1
source:
  logs: %s
  labels: %s
output: %s
window: 1h
baseline:
  windows: 2
features:
  - name: ticket_routing
    fields:
      - name: category
        legacy: legacy_category
        ai: ai_category
        label: label_category
        critical: true
    criteria:
      min_agreement: 0.95
      quality_margin: 0.03
    policy:
      graduate_after: 3
      rollback_after: 2
%s`, filepath.Join(data, "logs"), filepath.Join(data, "labels"), filepath.Join(dir, "out"), jobsYAML)
	p := filepath.Join(dir, "parity.yaml")
	if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

const hourlyJob = `jobs:
  - name: hourly
    kind: evaluate
    schedule: "* * * * * *"
    catch_up: 3
`

// clock is a settable clock for the evaluation windows (ticks follow
// real time).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func hours(from string, n int) []string {
	var out []string
	t := at(from)
	for i := range n {
		s := t.Add(time.Duration(i) * time.Hour)
		out = append(out, eval.Window{Start: s, End: s.Add(time.Hour)}.String())
	}
	return out
}

func names(ws []eval.Window) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.String()
	}
	return out
}

func equal(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// daemon runs a Scheduler until stop is called; runs are delivered on
// the returned channel.
type daemon struct {
	s      *jobs.Scheduler
	runs   chan runEvent
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
	took   time.Duration
}

// wait stops the daemon (once) and returns how long the stop took,
// whether it stopped within limit, and Run's result.
func (d *daemon) wait(limit time.Duration) (time.Duration, bool, error) {
	ok := true
	d.once.Do(func() {
		start := time.Now()
		d.cancel()
		select {
		case d.err = <-d.done:
		case <-time.After(limit):
			ok = false
		}
		d.took = time.Since(start)
	})
	return d.took, ok, d.err
}

type runEvent struct {
	run *jobs.JobRun
	err error
}

func startDaemon(t *testing.T, cfg *config.Config, so jobs.ScheduleOptions) *daemon {
	t.Helper()
	r, err := jobs.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{runs: make(chan runEvent, 100), done: make(chan error, 1)}
	so.OnRun = func(run *jobs.JobRun, err error) { d.runs <- runEvent{run, err} }
	if so.Grace == 0 {
		so.Grace = 20 * time.Second
	}
	d.s, err = jobs.NewScheduler(r, so)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	go func() { d.done <- d.s.Run(ctx) }()
	t.Cleanup(func() { d.wait(30 * time.Second) })
	return d
}

// nextWork waits for the next run that evaluated something.
func (d *daemon) nextWork(t *testing.T) runEvent {
	t.Helper()
	deadline := time.After(45 * time.Second)
	for {
		select {
		case ev := <-d.runs:
			if ev.err != nil || (ev.run != nil && len(ev.run.Done) > 0) {
				return ev
			}
		case <-deadline:
			t.Fatal("no run with work within 45s")
		}
	}
}

// stop stops the daemon and returns how long that took and Run's result.
func (d *daemon) stop(t *testing.T) (time.Duration, error) {
	t.Helper()
	took, ok, err := d.wait(60 * time.Second)
	if !ok {
		t.Fatal("scheduler did not stop within 60s")
	}
	return took, err
}

func storedHistory(t *testing.T, cfg *config.Config) []string {
	t.Helper()
	var out []string
	ents, _ := os.ReadDir(filepath.Join(cfg.Output, "history"))
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// After a downtime of three windows, the next tick evaluates exactly the
// three missed windows, oldest first, in one run; later ticks are idle.
func TestSchedulerCatchesUpAfterDowntime(t *testing.T) {
	cfg := scheduleConfig(t, hourlyJob)
	clk := &clock{t: at("2026-10-03T05:30:00Z")}
	so := jobs.ScheduleOptions{}
	so.Now = clk.Now
	d := startDaemon(t, cfg, so)
	ev := d.nextWork(t)
	if ev.err != nil {
		t.Fatal(ev.err)
	}
	// First start: the last complete window and catch_up=3 before it.
	if want := hours("2026-10-03T01:00:00Z", 4); !equal(names(ev.run.Done), want) {
		t.Fatalf("first run evaluated %v, want %v", names(ev.run.Done), want)
	}
	if _, err := d.stop(t); err != nil {
		t.Fatal(err)
	}

	// Down for three windows.
	clk.Set(at("2026-10-03T08:30:00Z"))
	d2 := startDaemon(t, cfg, so)
	ev = d2.nextWork(t)
	if ev.err != nil {
		t.Fatal(ev.err)
	}
	if want := hours("2026-10-03T05:00:00Z", 3); !equal(names(ev.run.Done), want) {
		t.Fatalf("after downtime evaluated %v, want the missed windows in order %v", names(ev.run.Done), want)
	}
	// The next ticks find nothing to do.
	select {
	case ev := <-d2.runs:
		if ev.err != nil || len(ev.run.Done) != 0 {
			t.Fatalf("tick after catch-up: err %v, evaluated %v; want an idle tick", ev.err, names(ev.run.Done))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no tick after the catch-up run")
	}
	if got := storedHistory(t, cfg); len(got) != 7 {
		t.Fatalf("history holds %d windows (%v), want 7", len(got), got)
	}
	latest, err := os.ReadFile(filepath.Join(cfg.Output, jobs.KeyLatest))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(latest, []byte("2026-10-03T07:00:00Z")) {
		t.Fatalf("latest.json is not the 07:00 window:\n%.400s", latest)
	}
}

// Missed windows are caught up at start-up, not at the next scheduled
// time (here: next New Year).
func TestSchedulerCatchesUpAtStartup(t *testing.T) {
	cfg := scheduleConfig(t, `jobs:
  - name: yearly
    schedule: "TZ=Europe/Paris 0 0 1 1 *"
    catch_up: 2
`)
	so := jobs.ScheduleOptions{}
	so.Now = func() time.Time { return at("2026-10-03T05:30:00Z") }
	d := startDaemon(t, cfg, so)
	ev := d.nextWork(t)
	if ev.err != nil {
		t.Fatal(ev.err)
	}
	if want := hours("2026-10-03T02:00:00Z", 3); !equal(names(ev.run.Done), want) {
		t.Fatalf("start-up evaluated %v, want %v", names(ev.run.Done), want)
	}
}

// A stop during a run lets the current window finish within the grace
// period and starts no further window.
func TestSchedulerStopFinishesCurrentWindow(t *testing.T) {
	cfg := scheduleConfig(t, hourlyJob)
	clk := &clock{t: at("2026-10-03T05:30:00Z")}
	scanning := make(chan struct{})
	var once sync.Once
	so := jobs.ScheduleOptions{Grace: 20 * time.Second}
	so.Now = clk.Now
	// A scan that takes a while: the stop arrives in the middle of it.
	so.Progress = func(jobs.Progress) {
		once.Do(func() {
			close(scanning)
			time.Sleep(500 * time.Millisecond)
		})
	}
	d := startDaemon(t, cfg, so)
	select {
	case <-scanning:
	case <-time.After(45 * time.Second):
		t.Fatal("no scan started")
	}
	took, err := d.stop(t)
	if err != nil {
		t.Fatal(err)
	}
	if took >= so.Grace {
		t.Fatalf("stop took %v, grace %v", took, so.Grace)
	}
	ev := d.nextWork(t)
	if ev.err != nil {
		t.Fatal(ev.err)
	}
	if want := hours("2026-10-03T01:00:00Z", 1); !equal(names(ev.run.Done), want) || !ev.run.Stopped {
		t.Fatalf("evaluated %v (stopped %v); want only the window in progress %v", names(ev.run.Done), ev.run.Stopped, want)
	}
	for _, k := range []string{"history/window=2026-10-03T01-00-00Z/records.json", "evaluations/window=2026-10-03T01-00-00Z/evaluation.json",
		"verdicts/window=2026-10-03T01-00-00Z/verdicts.json", jobs.KeyLatest} {
		if _, err := os.Stat(filepath.Join(cfg.Output, k)); err != nil {
			t.Errorf("finished window incomplete: %v", err)
		}
	}
	if got := storedHistory(t, cfg); len(got) != 1 {
		t.Fatalf("history %v: want only the finished window", got)
	}
}

// When the grace period runs short the current window is abandoned
// during its scan: nothing is written for it and the previous outputs
// stay as they were, byte for byte.
func TestSchedulerStopAbandonsWithinGrace(t *testing.T) {
	cfg := scheduleConfig(t, hourlyJob)
	// Previous outputs: one window evaluated by a one-shot run.
	r, err := jobs.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	prev := eval.Window{Start: at("2026-10-02T12:00:00Z"), End: at("2026-10-02T13:00:00Z")}
	if _, err := r.Evaluate(context.Background(), []eval.Window{prev}, jobs.Options{}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, cfg.Output)

	clk := &clock{t: at("2026-10-03T05:30:00Z")}
	scanning := make(chan struct{})
	var once sync.Once
	var sch *jobs.Scheduler
	var schMu sync.Mutex
	// The run is abandoned at Grace minus a quarter of it; with 8 s the
	// abandoning run has 2 s to unwind, which a loaded machine needs (1 s
	// was seen to overrun by 0.2 s).
	so := jobs.ScheduleOptions{Grace: 8 * time.Second}
	so.Now = clk.Now
	// A scan that outlasts the grace period: it blocks until the
	// scheduler abandons the run.
	so.Progress = func(jobs.Progress) {
		once.Do(func() {
			close(scanning)
			schMu.Lock()
			s := sch
			schMu.Unlock()
			select {
			case <-s.Abandoning():
			case <-time.After(30 * time.Second):
			}
		})
	}
	d := startDaemon(t, cfg, so)
	schMu.Lock()
	sch = d.s
	schMu.Unlock()
	select {
	case <-scanning:
	case <-time.After(45 * time.Second):
		t.Fatal("no scan started")
	}
	took, err := d.stop(t)
	if err != nil {
		t.Fatalf("stop: %v (after %v)", err, took)
	}
	if took > so.Grace {
		t.Fatalf("stop took %v, grace %v", took, so.Grace)
	}
	ev := d.nextWork(t)
	if ev.err == nil || !errors.Is(ev.err, context.Canceled) {
		t.Fatalf("run error %v, want an abandoned (cancelled) run", ev.err)
	}
	if len(ev.run.Done) != 0 {
		t.Fatalf("abandoned run reports windows done: %v", names(ev.run.Done))
	}
	after := snapshot(t, cfg.Output)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed by the abandoned run", k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("abandoned run wrote %s", k)
		}
	}
}

// The daemon's runs take the output's run lock on the job lease's TTL
// (--lock-ttl), not a one-shot run's 10m: a replica killed mid-run, or
// stopped at the end of its grace with a run still going, keeps the other
// replicas from the output only that long.
func TestSchedulerRunLockLease(t *testing.T) {
	cfg := scheduleConfig(t, hourlyJob)
	scanning, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	so := jobs.ScheduleOptions{LockTTL: 9 * time.Second}
	so.Now = func() time.Time { return at("2026-10-03T05:30:00Z") }
	so.Progress = func(jobs.Progress) {
		once.Do(func() {
			close(scanning)
			<-release
		})
	}
	startDaemon(t, cfg, so)
	select {
	case <-scanning:
	case <-time.After(45 * time.Second):
		t.Fatal("no scan started")
	}
	b, err := os.ReadFile(filepath.Join(cfg.Output, "locks", "evaluate.lock"))
	close(release)
	if err != nil {
		t.Fatal(err)
	}
	var li storage.LockInfo
	if err := json.Unmarshal(b, &li); err != nil {
		t.Fatal(err)
	}
	// Renewals (every 3 s) may have moved the expiry on since.
	if lease := li.Expires.Sub(li.Acquired); lease < so.LockTTL || lease > so.LockTTL+10*time.Second {
		t.Fatalf("run lock lease %v (acquired %v, expires %v), want the job lease %v", lease, li.Acquired, li.Expires, so.LockTTL)
	}
}

// snapshot maps every file under dir (locks excluded) to its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if filepath.Dir(rel) == "locks" || filepath.Dir(filepath.Dir(rel)) == "locks" {
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A one-shot evaluate job always covers the last complete window and
// fills missed ones within catch_up; a backfill job covers its range.
func TestRunJobKinds(t *testing.T) {
	cfg := scheduleConfig(t, hourlyJob+`  - name: refill
    kind: backfill
    from: 2026-10-02T00:00:00Z
    to: 2026-10-02T06:00:00Z
`)
	r, err := jobs.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	o := jobs.Options{Now: func() time.Time { return at("2026-10-03T05:30:00Z") }}
	run, err := r.RunJob(context.Background(), cfg.Job("hourly"), jobs.JobOptions{Options: o})
	if err != nil {
		t.Fatal(err)
	}
	if want := hours("2026-10-03T01:00:00Z", 4); !equal(names(run.Done), want) {
		t.Fatalf("evaluate: %v, want %v", names(run.Done), want)
	}
	// Again: nothing missed, but a one-shot run re-evaluates the last window.
	run, err = r.RunJob(context.Background(), cfg.Job("hourly"), jobs.JobOptions{Options: o})
	if err != nil {
		t.Fatal(err)
	}
	if want := hours("2026-10-03T04:00:00Z", 1); !equal(names(run.Done), want) {
		t.Fatalf("evaluate again: %v, want %v", names(run.Done), want)
	}
	if run.Rows <= 0 || run.Bytes <= 0 {
		t.Fatalf("rows %d bytes %d: want the source reads counted", run.Rows, run.Bytes)
	}
	run, err = r.RunJob(context.Background(), cfg.Job("refill"), jobs.JobOptions{Options: o})
	if err != nil {
		t.Fatal(err)
	}
	if want := hours("2026-10-02T00:00:00Z", 6); !equal(names(run.Done), want) {
		t.Fatalf("backfill: %v, want %v", names(run.Done), want)
	}
}

// A run killed after it stored its windows' history records but before
// a window's verdicts left that window half written: catch-up must
// evaluate it again, not count it done because its record exists.
func TestCatchUpRedoesWindowWithoutVerdicts(t *testing.T) {
	cfg := scheduleConfig(t, hourlyJob)
	r, err := jobs.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	o := jobs.Options{Now: func() time.Time { return at("2026-10-03T05:30:00Z") }}
	if _, err := r.RunJob(context.Background(), cfg.Job("hourly"), jobs.JobOptions{Options: o}); err != nil {
		t.Fatal(err)
	}
	// As a kill between the records and the window's verdicts leaves it.
	w := "window=2026-10-03T02-00-00Z"
	for _, k := range []string{"verdicts/" + w + "/verdicts.json", "evaluations/" + w + "/evaluation.json", "scores/" + w + "/scores.parquet"} {
		if err := os.Remove(filepath.Join(cfg.Output, k)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(cfg.Output, "history", w, "records.json")); err != nil {
		t.Fatal(err)
	}
	run, err := r.RunJob(context.Background(), cfg.Job("hourly"), jobs.JobOptions{Options: o})
	if err != nil {
		t.Fatal(err)
	}
	if want := append(hours("2026-10-03T02:00:00Z", 1), hours("2026-10-03T04:00:00Z", 1)...); !equal(names(run.Done), want) {
		t.Fatalf("evaluated %v, want the half-written window and the last one %v", names(run.Done), want)
	}
	if _, err := os.Stat(filepath.Join(cfg.Output, "verdicts", w, "verdicts.json")); err != nil {
		t.Errorf("the half-written window still has no verdicts: %v", err)
	}
}

// Two lockers on one store: the lease is exclusive, survives past its
// TTL while renewed, and is free again after Unlock.
func TestStoreLockerExclusive(t *testing.T) {
	st, err := storage.Open(context.Background(), t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	lockerTests(t, st)
}

func TestStoreLockerExclusiveS3(t *testing.T) {
	lockerTests(t, s3Store(t))
}

func s3Store(t *testing.T) storage.Store {
	t.Helper()
	srv := storagetest.StartS3(t)
	st, err := s3store.New(context.Background(), s3store.Config{
		Bucket: srv.NewBucket(t), Prefix: "parity-out", Endpoint: srv.Endpoint,
		Region: srv.Region, Credentials: srv.Credentials(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// Two schedulers whose job leases live on S3: each window is evaluated
// by exactly one of them, however their ticks interleave.
func TestTwoSchedulersShareS3Lease(t *testing.T) {
	locks := s3Store(t)
	cfg := scheduleConfig(t, hourlyJob)
	clk := &clock{t: at("2026-10-03T05:30:00Z")}
	var mu sync.Mutex
	count := map[string]int{}
	var errs []error
	var ds []*daemon
	reg := prometheus.NewRegistry()
	metrics := jobs.NewMetrics(reg)
	for _, owner := range []string{"a", "b"} {
		so := jobs.ScheduleOptions{LockStore: locks, Owner: owner, Metrics: metrics}
		so.Now = clk.Now
		ds = append(ds, startDaemon(t, cfg, so))
	}
	// Drain both daemons' runs, counting evaluated windows.
	for _, d := range ds {
		go func() {
			for ev := range d.runs {
				mu.Lock()
				if ev.err != nil {
					errs = append(errs, ev.err)
				}
				for _, w := range ev.run.Done {
					count[w.String()]++
				}
				mu.Unlock()
			}
		}()
	}
	want := hours("2026-10-03T01:00:00Z", 4)
	for i := range 3 {
		waitForCount := time.Now().Add(45 * time.Second)
		for {
			mu.Lock()
			n := len(count)
			mu.Unlock()
			if n >= len(want) {
				break
			}
			if time.Now().After(waitForCount) {
				t.Fatalf("only %d of %d windows evaluated", n, len(want))
			}
			time.Sleep(50 * time.Millisecond)
		}
		if i < 2 {
			clk.Set(clk.Now().Add(time.Hour))
			want = hours("2026-10-03T01:00:00Z", 5+i)
		}
	}
	for _, d := range ds {
		if _, err := d.stop(t); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(errs) > 0 {
		t.Errorf("failed runs: %v", errs)
	}
	// The lease did the excluding: ticks were skipped on it.
	if n := counterSum(t, reg, "parity_job_lock_skips_total"); n == 0 {
		t.Errorf("no tick was skipped on the S3 lease")
	} else {
		t.Logf("%v ticks skipped on the S3 lease", n)
	}
	for _, w := range want {
		if count[w] != 1 {
			t.Errorf("window %s evaluated %d times, want once", w, count[w])
		}
	}
}

// counterSum adds up a counter's series as /metrics would show them.
func counterSum(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}

func lockerTests(t *testing.T, st storage.Store) {
	ctx := context.Background()
	// A lease renewed every third of its TTL survives a renewal delayed
	// by a loaded machine (the test server shares its two cores with
	// parallel test binaries); 1.5 s was seen to lapse under load.
	const ttl = 3 * time.Second
	a := &jobs.StoreLocker{Store: st, Owner: "a", TTL: ttl}
	b := &jobs.StoreLocker{Store: st, Owner: "b", TTL: ttl}
	la, err := a.Lock(ctx, "daily")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Lock(ctx, "daily"); !errors.Is(err, storage.ErrLocked) {
		t.Fatalf("second lock: %v, want ErrLocked", err)
	}
	if lo, err := b.Lock(ctx, "other-job"); err != nil {
		t.Fatalf("another job's lease: %v", err)
	} else if err := lo.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * ttl) // only renewal keeps the lease
	if _, err := b.Lock(ctx, "daily"); !errors.Is(err, storage.ErrLocked) {
		t.Fatalf("lock after 2 TTLs of a renewed lease: %v, want ErrLocked", err)
	}
	// Unlock with a cancelled context (as gocron does at shutdown) still
	// deletes the lease.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := la.Unlock(cctx); err != nil {
		t.Fatal(err)
	}
	lb, err := b.Lock(ctx, "daily")
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	_ = lb.Unlock(ctx)
}
