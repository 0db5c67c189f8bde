package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/go-co-op/gocron/v2"
)

// CronSpec returns the job's schedule as gocron takes it, and whether it
// has a seconds field: six fields (after an optional "TZ=Zone " or
// "CRON_TZ=Zone " prefix) mean seconds first, five the standard crontab.
// Descriptors (@hourly, @every 10m) work either way. Fields are joined by
// single spaces: the cron parser ends the time zone at a space, not a tab.
func (j *Job) CronSpec() (spec string, withSeconds bool) {
	f := strings.Fields(j.Schedule)
	spec = strings.Join(f, " ")
	if len(f) > 0 && (strings.HasPrefix(f[0], "TZ=") || strings.HasPrefix(f[0], "CRON_TZ=")) {
		f = f[1:]
	}
	return spec, len(f) == 6
}

// validateJobSchedule checks the parts of a job the scheduler needs, with
// the same cron parser gocron uses, so a bad schedule fails at config load
// naming its line instead of when the daemon starts.
func (c *Config) validateJobSchedule(j *Job, p string, add func(key, format string, a ...any)) {
	if j.Schedule != "" {
		spec, secs := j.CronSpec()
		const want = `want a crontab like "TZ=UTC 30 0 * * *" (00:30 UTC, after a day's window has ended), six fields for seconds, or @every 1h`
		if !strings.Contains(spec, " ") && (strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=")) {
			// The cron parser panics on a time zone with nothing after it.
			add(p+".schedule", "invalid schedule %q: a time zone and no schedule (%s)", j.Schedule, want)
		} else if err := gocron.NewDefaultCron(secs).IsValid(spec, time.UTC, time.Now()); err != nil {
			msg := strings.ReplaceAll(strings.TrimPrefix(err.Error(), "gocron: CronJob: "), "\n", ": ")
			add(p+".schedule", "invalid schedule %q: %s (%s)", j.Schedule, msg, want)
		}
	}
	if j.Jitter < 0 {
		add(p+".jitter", "must be >= 0")
	}
	if j.Windows < 0 {
		add(p+".windows", "must be >= 0")
	}
	var from, to time.Time
	var err error
	if j.From != "" {
		if from, err = parseJobTime(j.From); err != nil {
			add(p+".from", "%v", err)
		}
	}
	if j.To != "" {
		if to, err = parseJobTime(j.To); err != nil {
			add(p+".to", "%v", err)
		} else if j.From == "" {
			add(p+".to", "to needs from")
		}
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		add(p+".to", "must be after from")
	}
	if j.Kind == "backfill" && j.From == "" && j.Windows == 0 {
		add(p, "a backfill job needs from (and optionally to) or windows: N (the last N complete windows)")
	}
}

// parseJobTime accepts RFC 3339 times and dates, as the CLI's --from/--to do.
func parseJobTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: want RFC 3339 (2026-10-01T00:00:00Z) or a date (2026-10-01)", s)
}
