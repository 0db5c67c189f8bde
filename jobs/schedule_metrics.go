package jobs

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the scheduler's Prometheus series, labelled by job.
type Metrics struct {
	Runs        *prometheus.CounterVec   // parity_job_runs_total{job,outcome}
	Failures    *prometheus.CounterVec   // parity_job_failures_total{job}
	Duration    *prometheus.HistogramVec // parity_job_duration_seconds{job}
	LastSuccess *prometheus.GaugeVec     // parity_job_last_success_timestamp_seconds{job}
	Windows     *prometheus.CounterVec   // parity_job_windows_evaluated_total{job}
	Rows        *prometheus.CounterVec   // parity_job_rows_read_total{job}
	Bytes       *prometheus.CounterVec   // parity_job_bytes_read_total{job}
	LockSkips   *prometheus.CounterVec   // parity_job_lock_skips_total{job}
	Running     *prometheus.GaugeVec     // parity_job_running{job}
}

// NewMetrics creates the series and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parity_job_runs_total",
			Help: "Job runs by outcome: success, failure, idle (nothing to do: every window already stored) or busy (another run held the output's run lock; retried next tick)."}, []string{"job", "outcome"}),
		Failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parity_job_failures_total",
			Help: "Job runs that failed (nothing partial is written; the next run retries)."}, []string{"job"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "parity_job_duration_seconds",
			Help:    "Wall time of job runs.",
			Buckets: prometheus.ExponentialBuckets(0.1, 2.5, 12)}, []string{"job"}),
		LastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "parity_job_last_success_timestamp_seconds",
			Help: "Unix time of the job's last successful run; alert when time() minus this exceeds the schedule."}, []string{"job"}),
		Windows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parity_job_windows_evaluated_total",
			Help: "Evaluation windows written by the job."}, []string{"job"}),
		Rows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parity_job_rows_read_total",
			Help: "Rows decoded from the source datasets."}, []string{"job"}),
		Bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parity_job_bytes_read_total",
			Help: "Bytes fetched from the source datasets."}, []string{"job"}),
		LockSkips: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parity_job_lock_skips_total",
			Help: "Ticks skipped because the job's lease was held (by a running replica, or a crashed one's unexpired lease); each is retried when the lease expires."}, []string{"job"}),
		Running: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "parity_job_running",
			Help: "1 while the job runs in this process."}, []string{"job"}),
	}
	reg.MustRegister(m.Runs, m.Failures, m.Duration, m.LastSuccess, m.Windows, m.Rows, m.Bytes, m.LockSkips, m.Running)
	return m
}

// init makes every job's series visible from the start (a dashboard
// shows 0 runs rather than no data).
func (m *Metrics) init(job string) {
	if m == nil {
		return
	}
	for _, o := range []string{"success", "failure", "idle", "busy"} {
		m.Runs.WithLabelValues(job, o)
	}
	m.Failures.WithLabelValues(job)
	m.Windows.WithLabelValues(job)
	m.Rows.WithLabelValues(job)
	m.Bytes.WithLabelValues(job)
	m.LockSkips.WithLabelValues(job)
	m.Running.WithLabelValues(job)
}

func (m *Metrics) observe(job string, run *JobRun, err error, d time.Duration, end time.Time) {
	if m == nil {
		return
	}
	m.Duration.WithLabelValues(job).Observe(d.Seconds())
	if run != nil {
		m.Windows.WithLabelValues(job).Add(float64(len(run.Done)))
		m.Rows.WithLabelValues(job).Add(float64(run.Rows))
		m.Bytes.WithLabelValues(job).Add(float64(run.Bytes))
	}
	switch {
	case err != nil:
		m.Runs.WithLabelValues(job, "failure").Inc()
		m.Failures.WithLabelValues(job).Inc()
	case run != nil && len(run.Done) == 0 && !run.Stopped:
		m.Runs.WithLabelValues(job, "idle").Inc()
		m.LastSuccess.WithLabelValues(job).Set(float64(end.Unix()))
	default:
		m.Runs.WithLabelValues(job, "success").Inc()
		m.LastSuccess.WithLabelValues(job).Set(float64(end.Unix()))
	}
}
