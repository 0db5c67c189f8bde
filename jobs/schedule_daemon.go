package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/storage"
)

// ScheduleOptions configure the daemon.
type ScheduleOptions struct {
	// Options for every evaluation (clock, log, progress, workers).
	Options
	// Jobs to schedule, by name (default: every job with a schedule).
	Jobs []string
	// LockStore holds the per-job leases (default: the output store, so
	// replicas writing the same outputs share the lock).
	LockStore storage.Store
	// LockTTL is the job lease (default 2m; renewed every TTL/3), and
	// the run lock's lease of the job's runs unless Options.LockTTL is
	// set.
	LockTTL time.Duration
	// Owner names this replica in lease objects (default host/pid).
	Owner string
	// Grace bounds a stop, from the signal to Run's return: the current
	// window may finish within it; at Grace minus a margin (a quarter of
	// it, at most 5s) a run still scanning is cancelled and abandoned
	// cleanly (nothing written for an unfinished window); at Grace, Run
	// returns whatever is still running. Default 30s.
	Grace time.Duration
	// Metrics receive per-job series (may be nil).
	Metrics *Metrics
	// ProgressFor, when set, gives each job's runs their own Progress
	// callback (labelled with the job); it overrides Options.Progress.
	ProgressFor func(job string) func(Progress)
	// OnRun is called after every run (tests, progress displays).
	OnRun func(run *JobRun, err error)
}

// Scheduler runs configured jobs on their cron schedules with gocron:
// singleton per job, one job at a time per process, a lease per job
// shared by all replicas, catch-up of missed windows, jitter, and a
// graceful stop.
type Scheduler struct {
	r    *Runner
	o    ScheduleOptions
	log  *slog.Logger
	s    gocron.Scheduler
	jobs []*config.Job

	ready    atomic.Bool
	draining atomic.Bool
	stopCh   chan struct{} // closed when draining starts
	runCtx   context.Context
	abandon  context.CancelFunc

	mu      sync.Mutex
	cancels map[string]context.CancelFunc // running job -> its cancel (lease lost)
	ids     map[string]uuid.UUID
	gjobs   map[string]gocron.Job
	// retries holds each job's pending retry of a tick skipped on a
	// held lock (at most one per job).
	retries map[string]*retry
	// running counts runs in progress; begin adds to it under mu only
	// while not draining, so Run's Wait starts after every Add.
	running sync.WaitGroup
}

// ErrJobConfig marks NewScheduler errors that are the configuration's
// fault (unknown job, no schedule, unavailable kind): a usage error, not
// a runtime one.
var ErrJobConfig = errors.New("job configuration")

// NewScheduler checks the jobs and builds their schedules; Run starts them.
func NewScheduler(r *Runner, so ScheduleOptions) (*Scheduler, error) {
	if so.LockTTL <= 0 {
		so.LockTTL = 2 * time.Minute
	}
	// Not a one-shot run's 10m: a replica killed mid-run, or stopped at
	// the end of its grace with a run still going, would keep every
	// replica from the output's run lock that long.
	if so.Options.LockTTL == 0 {
		so.Options.LockTTL = so.LockTTL
	}
	so.Options.defaults()
	if so.Grace <= 0 {
		so.Grace = 30 * time.Second
	}
	if so.LockStore == nil {
		so.LockStore = r.Out
	}
	if so.Owner == "" {
		so.Owner = DefaultOwner()
	}
	sch := &Scheduler{r: r, o: so, log: so.Log, stopCh: make(chan struct{}), cancels: map[string]context.CancelFunc{}, ids: map[string]uuid.UUID{},
		gjobs: map[string]gocron.Job{}, retries: map[string]*retry{}}
	sch.runCtx, sch.abandon = context.WithCancel(context.Background())
	if len(so.Jobs) > 0 {
		for _, n := range so.Jobs {
			j := r.Cfg.Job(n)
			if j == nil {
				return nil, fmt.Errorf("%w: no job named %q in %s", ErrJobConfig, n, r.Cfg.Path)
			}
			if j.Schedule == "" {
				return nil, fmt.Errorf("%w: job %q has no schedule", ErrJobConfig, n)
			}
			sch.jobs = append(sch.jobs, j)
		}
	} else {
		for i := range r.Cfg.Jobs {
			if r.Cfg.Jobs[i].Schedule != "" {
				sch.jobs = append(sch.jobs, &r.Cfg.Jobs[i])
			}
		}
	}
	if len(sch.jobs) == 0 {
		return nil, fmt.Errorf("%w: %s: no job has a schedule (jobs[].schedule)", ErrJobConfig, r.Cfg.Path)
	}
	for _, j := range sch.jobs {
		if !KindAvailable(j.Kind) {
			return nil, fmt.Errorf("%w: job %q: kind %q: %w", ErrJobConfig, j.Name, j.Kind, ErrKindNotAvailable)
		}
	}
	locker := &StoreLocker{Store: so.LockStore, Owner: so.Owner, TTL: so.LockTTL, Log: so.Log, OnLost: sch.leaseLost}
	s, err := gocron.NewScheduler(
		gocron.WithLocation(time.UTC),
		gocron.WithDistributedLocker(locker),
		// One job at a time per process: jobs share the runner's output
		// lock, and two scans at once only compete for the same cores.
		gocron.WithLimitConcurrentJobs(1, gocron.LimitModeWait),
		gocron.WithStopTimeout(so.Grace),
		gocron.WithLogger(gocronLogger{so.Log}),
	)
	if err != nil {
		return nil, err
	}
	sch.s = s
	for _, j := range sch.jobs {
		spec, secs := j.CronSpec()
		job := j
		gj, err := s.NewJob(gocron.CronJob(spec, secs), gocron.NewTask(func() error { return sch.runOnce(job) }),
			gocron.WithName(j.Name),
			gocron.WithSingletonMode(gocron.LimitModeReschedule),
			// A tick at start-up catches up windows missed while the
			// daemon was down, rather than at the next scheduled time
			// (a no-op when nothing was missed).
			gocron.WithStartAt(gocron.WithStartImmediately()),
			gocron.WithEventListeners(gocron.AfterLockError(func(_ uuid.UUID, name string, err error) {
				if so.Metrics != nil {
					so.Metrics.LockSkips.WithLabelValues(name).Inc()
				}
				if errors.Is(err, storage.ErrLocked) {
					// Off gocron's executor: the retry asks gocron
					// for the job's next run.
					go sch.lockHeld(name, "tick skipped: the job's lock", "a running replica", err)
				} else {
					sch.log.Warn("tick skipped: taking the job lease failed", "job", name, "err", err)
				}
			})),
		)
		if err != nil {
			_ = s.Shutdown()
			return nil, fmt.Errorf("%w: job %q: schedule %q: %w", ErrJobConfig, j.Name, j.Schedule, err)
		}
		sch.ids[j.Name] = gj.ID()
		sch.gjobs[j.Name] = gj
		so.Metrics.init(j.Name)
	}
	return sch, nil
}

// Run starts the schedules and blocks until ctx is cancelled (SIGTERM),
// then drains: no new run or window starts, the current window finishes
// if it can within Grace, otherwise it is abandoned with nothing written
// for it. Run returns when every job has stopped, or at Grace after ctx
// was cancelled with an error if a run is still going then (a write
// phase, which is never cancelled, or a scan waiting on a plug-in
// scorer): the caller exits, and that run is left as a kill would leave
// it.
func (s *Scheduler) Run(ctx context.Context) error {
	s.s.Start()
	s.ready.Store(true)
	for _, j := range s.jobs {
		next := ""
		if jobs := s.s.Jobs(); len(jobs) > 0 {
			for _, gj := range jobs {
				if gj.ID() == s.ids[j.Name] {
					if t, err := gj.NextRun(); err == nil {
						next = t.UTC().Format(time.RFC3339)
					}
				}
			}
		}
		s.log.Info("job scheduled", "job", j.Name, "kind", j.Kind, "schedule", j.Schedule, "catch_up", j.CatchUp, "next_run", next)
	}
	<-ctx.Done()
	start := time.Now()
	// One deadline for every wait of the stop: waits that each had the
	// grace to themselves, one after the other, overran it.
	dl, cancel := context.WithDeadline(context.Background(), start.Add(s.o.Grace))
	defer cancel()
	s.ready.Store(false)
	s.mu.Lock()
	s.draining.Store(true)
	for name, r := range s.retries {
		r.t.Stop()
		delete(s.retries, name)
	}
	s.mu.Unlock()
	close(s.stopCh)
	s.log.Info("stopping: no new work; finishing the current window", "grace", s.o.Grace.String())
	// Leave a margin for the abandoned run to unwind and release its
	// locks before the grace period is over.
	margin := min(s.o.Grace/4, 5*time.Second)
	t := time.AfterFunc(s.o.Grace-margin, func() {
		s.log.Warn("grace period nearly over: abandoning the current window (nothing is written for it)")
		s.abandon()
	})
	defer t.Stop()
	idle := make(chan struct{})
	go func() {
		s.running.Wait()
		close(idle)
	}()
	// Wait for the run here, not in gocron's Shutdown: that waits in a
	// busy loop (half a core of a two-core node, taken from the run it
	// waits for), on a timeout of its own.
	select {
	case <-idle:
	case <-dl.Done():
	}
	s.abandon()
	// Now gocron has at most the job lease's release to wait for; it is
	// not waited for past the deadline either (the lease then expires).
	err := s.s.ShutdownWithContext(dl)
	select {
	case <-idle:
	default:
		return fmt.Errorf("grace period %s over with a run still going: left as a kill leaves it (every object written is complete; its run lock expires after its lease)", s.o.Grace)
	}
	if err != nil {
		return fmt.Errorf("stopping the scheduler: %w", err)
	}
	s.log.Info("stopped", "seconds", time.Since(start).Seconds())
	return nil
}

// Ready is true from Run's start until draining begins.
func (s *Scheduler) Ready() bool { return s.ready.Load() }

// Draining is true once a stop was requested.
func (s *Scheduler) Draining() bool { return s.draining.Load() }

// begin counts a run in, unless draining has started.
func (s *Scheduler) begin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining.Load() {
		return false
	}
	s.running.Add(1)
	return true
}

func (s *Scheduler) leaseLost(job string) {
	s.mu.Lock()
	c := s.cancels[job]
	s.mu.Unlock()
	if c != nil {
		c()
	}
}

// runOnce is one tick of a job, run by gocron under the job's lease.
func (s *Scheduler) runOnce(job *config.Job) error {
	if !s.begin() {
		return nil
	}
	defer s.running.Done()
	log := s.log.With("job", job.Name)
	if d := job.Jitter.D(); d > 0 {
		wait := rand.N(d)
		log.Debug("jitter", "wait", wait.String())
		select {
		case <-time.After(wait):
		case <-s.stopCh:
			return nil
		}
	}
	ctx, cancel := context.WithCancel(s.runCtx)
	defer cancel()
	s.mu.Lock()
	s.cancels[job.Name] = cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.cancels, job.Name)
		s.mu.Unlock()
	}()
	if s.o.Metrics != nil {
		s.o.Metrics.Running.WithLabelValues(job.Name).Set(1)
		defer s.o.Metrics.Running.WithLabelValues(job.Name).Set(0)
	}
	jo := JobOptions{Options: s.o.Options, OnlyMissing: true, Stopping: s.draining.Load}
	jo.Features = nil
	if s.o.ProgressFor != nil {
		jo.Progress = s.o.ProgressFor(job.Name)
	}
	start := time.Now()
	run, err := s.r.RunJob(ctx, job, jo)
	end := time.Now()
	if err != nil && errors.Is(err, storage.ErrLocked) {
		// Another job or a one-shot run holds the output's run lock (or
		// a crashed one's lease has not expired yet): nothing was
		// written; the job is retried when that lease expires. Not a
		// failure worth an alert.
		go s.lockHeld(job.Name, "run skipped: the output's run lock", "another replica's job or a one-shot run", err)
		if s.o.Metrics != nil {
			s.o.Metrics.Runs.WithLabelValues(job.Name, "busy").Inc()
		}
		if s.o.OnRun != nil {
			s.o.OnRun(run, err)
		}
		return nil
	}
	s.o.Metrics.observe(job.Name, run, err, end.Sub(start), end)
	switch {
	case err != nil && ctx.Err() != nil:
		log.Warn("run abandoned: the unfinished window is left for the next run", "err", err, "done", windowsOf(run))
	case err != nil:
		log.Error("run failed: nothing partial was written; the next tick retries", "err", err, "done", windowsOf(run))
	case len(run.Done) > 0 || run.Stopped:
		log.Info("run finished", "windows", len(run.Done), "rows_read", run.Rows, "bytes_read", run.Bytes, "seconds", end.Sub(start).Seconds(), "stopped_early", run.Stopped)
	}
	if s.o.OnRun != nil {
		s.o.OnRun(run, err)
	}
	return err
}

// retryMargin is how long after a lease's expiry a skipped tick is
// retried, and the shortest wait for a retry: the lease is judged on the
// clock of whoever takes it over, and a retry that finds the lock still
// held waits at least this long again, so retries never spin.
const retryMargin = 2 * time.Second

// retry is a job's pending one-off run after a tick skipped on a lock.
type retry struct {
	at time.Time
	t  *time.Timer
}

// lockHeld handles a tick skipped because a lock was held (what names
// it: the job's lock, or the output's run lock; live says who holds it
// when alive): the holder is a live replica or run, which renews its
// lease, or a crashed one, whose lease runs out. Either way the job is
// run again once the lease has expired (plus retryMargin), unless its
// next scheduled tick comes first: a crash-restarted replica does its
// start-up catch-up as soon as the dead incarnation's lease is over, not
// at the next tick a day later. A retry that finds the lease renewed is
// skipped again and waits for the new expiry, so a long run on another
// replica costs one attempt per lease, and two replicas never run the
// job at once (the lock decides).
func (s *Scheduler) lockHeld(job, what, live string, err error) {
	var h *LockHeldError
	if !errors.As(err, &h) {
		h = &LockHeldError{Err: err} // another Locker: expiry unknown
	}
	now := time.Now()
	until := h.Until
	if until.IsZero() {
		// Unknown expiry (the lock could not be read back): a lease
		// taken now would have run out by then.
		until = now.Add(s.o.LockTTL)
	}
	at := until.Add(retryMargin)
	if at.Before(now.Add(retryMargin)) {
		at = now.Add(retryMargin)
	}
	msg := fmt.Sprintf("%s is held by %s until %s (%s, or a crashed run whose lease expires then)",
		what, h.Describe(), until.UTC().Format(time.RFC3339), live)
	attrs := []any{"job", job, "holder", h.Describe(), "until", until.UTC().Format(time.RFC3339), "lock", err.Error()}
	next := s.nextRun(job)
	switch {
	case s.r.Cfg.Job(job) != nil && s.r.Cfg.Job(job).Kind == "backfill":
		// A backfill re-evaluates its whole range: retried after a live
		// replica's run it would do that work twice, and a crashed one's
		// range is redone by the next tick anyway.
		s.log.Info(msg+"; a backfill is not retried: the next tick runs it", attrs...)
	case !next.IsZero() && next.After(now) && !next.After(at):
		s.log.Info(msg+"; the next tick retries", append(attrs, "next_run", next.UTC().Format(time.RFC3339))...)
	case !s.armRetry(job, at):
		s.log.Info(msg+"; not retried: stopping", attrs...)
	default:
		s.log.Info(msg+"; retrying once it expires, at "+at.UTC().Format(time.RFC3339), append(attrs, "retry_at", at.UTC().Format(time.RFC3339))...)
	}
}

// nextRun is the job's next scheduled tick (zero if unknown).
func (s *Scheduler) nextRun(job string) time.Time {
	s.mu.Lock()
	gj := s.gjobs[job]
	s.mu.Unlock()
	if gj == nil {
		return time.Time{}
	}
	t, err := gj.NextRun()
	if err != nil {
		return time.Time{}
	}
	return t
}

// armRetry sets the job's retry for at, unless one at or before at is
// pending already (that one, if it finds the lock still held, arms the
// next); false when stopping.
func (s *Scheduler) armRetry(job string, at time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining.Load() {
		return false
	}
	if r := s.retries[job]; r != nil {
		if !r.at.After(at) {
			return true
		}
		r.t.Stop()
	}
	r := &retry{at: at}
	r.t = time.AfterFunc(time.Until(at), func() { s.retryNow(job, r) })
	s.retries[job] = r
	return true
}

// retryNow runs the job once now (through gocron: under the job's lock,
// singleton, one job at a time), unless stopping or superseded.
func (s *Scheduler) retryNow(job string, r *retry) {
	s.mu.Lock()
	if s.retries[job] != r || s.draining.Load() {
		s.mu.Unlock()
		return
	}
	delete(s.retries, job)
	gj := s.gjobs[job]
	s.mu.Unlock()
	s.log.Info("retrying the skipped tick: the lease it waited for has expired", "job", job)
	if err := gj.RunNow(); err != nil && !s.draining.Load() {
		// gocron did not take the request (busy for 100ms): try again
		// shortly.
		s.log.Warn("retrying the skipped tick: could not start it; trying again", "job", job, "err", err, "in", retryMargin.String())
		s.armRetry(job, time.Now().Add(retryMargin))
	}
}

func windowsOf(run *JobRun) []string {
	if run == nil {
		return nil
	}
	out := make([]string, len(run.Done))
	for i, w := range run.Done {
		out[i] = w.String()
	}
	return out
}

// gocronLogger adapts slog to gocron's logger (debug-level chatter).
type gocronLogger struct{ l *slog.Logger }

func (g gocronLogger) Debug(msg string, args ...any) { g.l.Debug("gocron: "+msg, args...) }
func (g gocronLogger) Info(msg string, args ...any)  { g.l.Debug("gocron: "+msg, args...) }
func (g gocronLogger) Warn(msg string, args ...any)  { g.l.Warn("gocron: "+msg, args...) }
func (g gocronLogger) Error(msg string, args ...any) { g.l.Error("gocron: "+msg, args...) }

// Stop releases a scheduler that was built but never Run.
func (s *Scheduler) Stop() error {
	s.abandon()
	return s.s.Shutdown()
}

// Abandoning is closed when the scheduler gives up on the current run
// (the grace period is nearly over, or the scheduler is released).
func (s *Scheduler) Abandoning() <-chan struct{} { return s.runCtx.Done() }
