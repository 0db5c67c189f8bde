package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const good = `version: 1
source:
  logs: s3://bucket/logs
output: ./out
window: 6h
features:
  - name: routing
    fields:
      - name: category
        critical: true
`

func TestDefaults(t *testing.T) {
	c, err := Parse("good.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	f := c.Features[0]
	if f.Fields[0].Legacy != "legacy_category" || f.Fields[0].AI != "ai_category" || f.Fields[0].Label != "label_category" {
		t.Errorf("field column defaults: %+v", f.Fields[0])
	}
	if f.Criteria.MinAgreement != 0.95 || f.Policy.GraduateAfter != 14 || f.Policy.RollbackAfter != 2 || f.Policy.Freshness.D() != 24*time.Hour {
		t.Errorf("criteria/policy defaults: %+v %+v", f.Criteria, f.Policy)
	}
	if c.Window.D() != 6*time.Hour || c.Columns.TS != "ts" || c.Stats.Adjust != "holm" {
		t.Errorf("top-level defaults: window %s ts %q adjust %q", c.Window.D(), c.Columns.TS, c.Stats.Adjust)
	}
	if len(c.Hash) != 64 {
		t.Errorf("hash %q", c.Hash)
	}
}

// TestErrorsPointAtLines: each bad value is reported with its line and key.
func TestErrorsPointAtLines(t *testing.T) {
	for _, tc := range []struct {
		name, replace, with string
		line                int
		key, msg            string
	}{
		{"unknown key", "window: 6h", "windw: 6h", 5, "windw", "unknown key"},
		{"bad duration", "window: 6h", "window: 6 hours", 5, "window", `want a duration like 24h, 30m or 7d, got "6 hours"`},
		{"window not dividing a day", "window: 6h", "window: 7h", 5, "window", "divide a day"},
		{"bad comparator", "        critical: true", "        comparator: fuzzy\n        critical: true", 10, "features[0].fields[0].comparator", `"fuzzy"`},
		{"no critical field", "        critical: true", "        critical: false", 8, "features[0].fields", "no critical field"},
		{"missing logs", "  logs: s3://bucket/logs", "  labels: x", 2, "source.logs", "required"},
		{"bad alpha", "window: 6h", "window: 6h\nstats:\n  alpha: 0.7", 7, "stats.alpha", "out of range"},
		{"bad json path", "      - name: category\n        critical: true", "      - name: amount\n        legacy_json: l\n        ai_json: a\n        path: amount\n        critical: true", 12, "features[0].fields[0].path", "must start with $"},
		{"wrong type", "window: 6h", "window: 6h\nbaseline:\n  windows: many", 7, "baseline.windows", `want a whole number, got "many"`},
		{"bad steps", "        critical: true", "        critical: true\n    policy:\n      steps: [0, 50, 25]", 12, "features[0].policy.steps", "rise strictly"},
		{"quality margin without labels", "        critical: true", "        critical: true\n        label: \"-\"\n    criteria:\n      quality_margin: 0.02", 13, "features[0].criteria.quality_margin", "no labelled field"},
		{"time zone and no schedule", "window: 6h", "window: 6h\njobs:\n  - name: j\n    schedule: TZ=Europe/Paris", 8, "jobs[0].schedule", "a time zone and no schedule"},
		{"override without who", "        critical: true", "        critical: true\n    policy:\n      force_legacy: true", 11, "features[0].policy", "override_by"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(good, tc.replace, tc.with, 1)
			if src == good {
				t.Fatal("test replacement did not apply")
			}
			_, err := Parse("c.yaml", []byte(src))
			if err == nil {
				t.Fatal("accepted")
			}
			var es Errors
			var e *Error
			switch {
			case errors.As(err, &es):
				e = es[0]
			case errors.As(err, &e):
			default:
				t.Fatalf("error of type %T: %v", err, err)
			}
			if e.Line != tc.line || (tc.key != "" && e.Key != tc.key) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %q (line %d, key %q), want line %d key %q containing %q", err.Error(), e.Line, e.Key, tc.line, tc.key, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "c.yaml:") {
				t.Errorf("error does not start with the file name: %q", err)
			}
		})
	}
}

// TestQualityMarginNeedsLabels: the default margin on an unlabelled
// feature is fine (nothing to test); an explicit one must be testable.
func TestQualityMarginNeedsLabels(t *testing.T) {
	unlabelled := strings.Replace(good, "        critical: true", "        critical: true\n        label: \"-\"", 1)
	if _, err := Parse("c.yaml", []byte(unlabelled)); err != nil {
		t.Errorf("unlabelled feature without quality_margin: %v", err)
	}
	flow := strings.Replace(unlabelled, "        label: \"-\"", "        label: \"-\"\n    criteria: {min_agreement: 0.9, quality_margin: 0.03}", 1)
	if _, err := Parse("c.yaml", []byte(flow)); err == nil || !strings.Contains(err.Error(), "c.yaml:12: features[0].criteria.quality_margin") {
		t.Errorf("flow-style quality_margin on an unlabelled feature: %v", err)
	}
	labelled := strings.Replace(good, "        critical: true", "        critical: true\n    criteria: {quality_margin: 0.03}", 1)
	if _, err := Parse("c.yaml", []byte(labelled)); err != nil {
		t.Errorf("labelled feature with quality_margin: %v", err)
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "90m": 90 * time.Minute, "24h": 24 * time.Hour} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	if _, err := ParseDuration("soon"); err == nil {
		t.Error("accepted soon")
	}
}

// TestTrafficStepsInHundredths: flagd weights traffic in hundredths of a
// percent, so a step (or initial_percent) finer than that was accepted
// and then routed as another share (0.004 -> 0%). It is an error naming
// the step's key and line; decimals that binary floats do not hold
// exactly (33.33, 0.07) are whole hundredths and accepted.
func TestTrafficStepsInHundredths(t *testing.T) {
	for _, tc := range []struct{ name, policy, want string }{
		{"QA steps", "    policy:\n      steps: [0, 0.004, 33.33333, 100]", `c.yaml:12: features[0].policy.steps[1]: 0.004 is finer than a hundredth of a percent: flagd splits traffic in whole hundredths of a percent (weights out of 10000), so 0.004% could not be routed as stated (want a multiple of 0.01, such as 0.01)
c.yaml:12: features[0].policy.steps[2]: 33.33333 is finer than a hundredth of a percent: flagd splits traffic in whole hundredths of a percent (weights out of 10000), so 33.33333% could not be routed as stated (want a multiple of 0.01, such as 33.33)`},
		{"block list", "    policy:\n      steps:\n        - 0\n        - 12.345\n        - 100", `c.yaml:14: features[0].policy.steps[1]: 12.345 is finer than a hundredth of a percent: flagd splits traffic in whole hundredths of a percent (weights out of 10000), so 12.345% could not be routed as stated (want a multiple of 0.01, such as 12.35)`},
		{"initial_percent", "    policy:\n      steps: [0, 0.5, 100]\n      initial_percent: 0.505", `c.yaml:13: features[0].policy.initial_percent: 0.505 is finer than a hundredth of a percent: flagd splits traffic in whole hundredths of a percent (weights out of 10000), so 0.505% could not be routed as stated (want a multiple of 0.01, such as 0.51)`},
		{"hundredths", "    policy:\n      steps: [0, 0.01, 0.07, 0.5, 33.33, 66.67, 99.99, 100]\n      initial_percent: 0.07", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseErr(t, good+tc.policy+"\n"); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestScheduleWarnings: valid schedules that work against the verdicts
// are warnings (never errors) at the schedule's line. With a 24h window
// and the default 24h freshness, a window's verdict expires at the next
// window's end, before any run after that end can replace it: the QA
// report (TZ=UTC 30 0 * * * with 5m jitter) went stale every day from
// 00:00 to 00:30-00:35. A TZ= schedule due in a daylight-saving gap does
// not run that day.
func TestScheduleWarnings(t *testing.T) {
	now := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	const daily = "window: 24h\n"
	for _, tc := range []struct {
		name, policy, jobs string
		want               []string
	}{
		{"QA defaults", "", `  - {name: daily, schedule: "TZ=UTC 30 0 * * *", jitter: 5m}`, []string{
			`c.yaml:12: jobs[0].schedule: warning: verdicts of feature "routing" go stale every window before this schedule replaces them, for up to 35m plus the run's own time: a verdict is valid until its window's end + freshness (24h), and the next window's evaluation (that window ends 24h later) starts up to 30m after its end, plus up to 5m of jitter; set features[0].policy.freshness to at least 26h (window + that delay + a margin for the run), or run sooner after the window's end`,
		}},
		{"freshness covers the lag", "    policy: {freshness: 26h}\n", `  - {name: daily, schedule: "TZ=UTC 30 0 * * *", jitter: 5m}`, nil},
		{"six fields, no jitter", "    policy: {freshness: 24h10m}\n", `  - {name: daily, schedule: "0 0 0 * * *"}`, nil},
		// The old error hint's example: 00:30 in Paris is 22:30Z or
		// 23:30Z, before the UTC day's window has ended.
		{"Europe/Paris 00:30", "    policy: {freshness: 26h}\n", `  - {name: daily, schedule: "TZ=Europe/Paris 30 0 * * *"}`, []string{
			`c.yaml:13: jobs[0].schedule: warning: verdicts of feature "routing" go stale every window before this schedule replaces them, for up to 21h30m plus the run's own time: a verdict is valid until its window's end + freshness (26h), and the next window's evaluation (that window ends 24h later) starts up to 23h30m after its end; set features[0].policy.freshness to at least 49h (window + that delay + a margin for the run), or run sooner after the window's end`,
		}},
		// 02:30 Berlin does not exist on 2027-03-28: no run that day, and
		// that day's window waits a day longer.
		{"DST gap", "    policy: {freshness: 26h}\n", `  - {name: daily, schedule: "TZ=Europe/Berlin 30 2 * * *"}`, []string{
			`c.yaml:13: jobs[0].schedule: warning: verdicts of feature "routing" go stale in 1 of the next 366 windows before this schedule replaces them, for up to 22h30m plus the run's own time: a verdict is valid until its window's end + freshness (26h), and the next window's evaluation (that window ends 24h later) starts up to 24h30m after its end; set features[0].policy.freshness to at least 50h (window + that delay + a margin for the run), or run sooner after the window's end`,
			`c.yaml:13: jobs[0].schedule: warning: "TZ=Europe/Berlin 30 2 * * *" is due between 02:00–03:00 local time, which does not exist in Europe/Berlin on 2027-03-28 (clocks go forward): the cron parser gocron uses skips a run due in that gap, so the job does not run that day; choose a time outside 02:00–03:00, or a zone without daylight saving (TZ=UTC)`,
		}},
		{"DST gap, weekly on the day of the change", "", `  - {name: weekly, kind: backfill, windows: 7, schedule: "CRON_TZ=America/New_York 15 2 * * 0"}`, []string{
			`c.yaml:12: jobs[0].schedule: warning: "CRON_TZ=America/New_York 15 2 * * 0" is due between 02:00–03:00 local time, which does not exist in America/New_York on 2027-03-14 (clocks go forward): the cron parser gocron uses skips a run due in that gap, so the job does not run that day; choose a time outside 02:00–03:00, or a zone without daylight saving (TZ=UTC)`,
		}},
		{"weekdays only, the change on a Sunday", "", `  - {name: b, kind: backfill, windows: 7, schedule: "TZ=Europe/Berlin 30 2 * * 1-5"}`, nil},
		{"02:30 in a zone without daylight saving", "    policy: {freshness: 27h}\n", `  - {name: daily, schedule: "TZ=Asia/Tokyo 30 11 * * *"}`, nil},
		{"Berlin 03:30, after the UTC day", "    policy: {freshness: 27h}\n", `  - {name: daily, schedule: "TZ=Europe/Berlin 30 3 * * *"}`, nil},
		// Only evaluate jobs refresh the verdicts; a job limited to other
		// features does not refresh this one's.
		{"no evaluate job for the feature", "", `  - {name: other, features: [other]}
  - {name: relabel, kind: backfill, windows: 7, schedule: "TZ=UTC 0 3 * * 0"}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(good, "window: 6h\n", daily, 1) + tc.policy + "jobs:\n" + tc.jobs + "\n"
			if tc.name == "no evaluate job for the feature" {
				src = strings.Replace(src, "  - name: routing\n", "  - name: other\n    fields: [{name: category, critical: true}]\n    policy: {freshness: 26h}\n  - name: routing\n", 1)
				src = strings.Replace(src, "  - {name: other, features: [other]}", `  - {name: other, features: [other], schedule: "TZ=UTC 30 0 * * *"}`, 1)
			}
			c, err := Parse("c.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range c.ScheduleWarnings(now) {
				got = append(got, w.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
