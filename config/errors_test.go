package config

import (
	"strings"
	"testing"
	"time"
)

// parseErr parses src and returns its error text ("" when accepted).
func parseErr(t *testing.T, src string) string {
	t.Helper()
	_, err := Parse("c.yaml", []byte(src))
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestTypeErrorsAllReported: every value of the wrong type in a file is
// reported in one pass, each at its line with its key path (also inside
// a flow mapping in a list) and saying what was expected and found; a
// bad duration does not hide the errors after it.
func TestTypeErrorsAllReported(t *testing.T) {
	src := `version: 1
source:
  logs: l
output: o
window: 25x
stats:
  alpha: high
features:
  - name: f
    fields: [{name: a, critical: maybe}, {name: b, abs_tolerance: x, critical: true}]
    criteria:
      min_agreement: high
      max_p95: 3
    policy:
      graduate_after: "two"
      freshness: [1]
      steps: [0, x, 100]
`
	want := strings.Join([]string{
		`c.yaml:5: window: want a duration like 24h, 30m or 7d, got "25x"`,
		`c.yaml:7: stats.alpha: want a number, got "high"`,
		`c.yaml:10: features[0].fields[0].critical: want true or false, got "maybe"`,
		`c.yaml:10: features[0].fields[1].abs_tolerance: want a number, got "x"`,
		`c.yaml:12: features[0].criteria.min_agreement: want a number, got "high"`,
		`c.yaml:13: features[0].criteria.max_p95: unknown key (check spelling; see README's config reference)`,
		`c.yaml:15: features[0].policy.graduate_after: want a whole number, got "two"`,
		`c.yaml:16: features[0].policy.freshness: want a duration like 24h, 30m or 7d, got a list`,
		`c.yaml:17: features[0].policy.steps[1]: want a number, got "x"`,
	}, "\n")
	if got := parseErr(t, src); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestTypeErrors: one wrong shape or type per case, with the exact error.
// The snippets continue the feature of good (line 11 on).
func TestTypeErrors(t *testing.T) {
	for _, tc := range []struct{ name, add, want string }{
		{"fraction for a whole number", "    policy: {graduate_after: 1.5}", `c.yaml:11: features[0].policy.graduate_after: want a whole number, got "1.5"`},
		{"mapping for a list", "    expected_classes: {a: 1}", `c.yaml:11: features[0].expected_classes: want a list, got a mapping`},
		{"list for a mapping", "    criteria: [0.9]", `c.yaml:11: features[0].criteria: want a mapping, got a list`},
		{"list for a string", "    class_column: [a, b]", `c.yaml:11: features[0].class_column: want a string, got a list`},
		{"bad duration in a list item", "    scorers:\n      - {name: s, type: external, command: [x], timeout: soon}", `c.yaml:12: features[0].scorers[0].timeout: want a duration like 24h, 30m or 7d, got "soon"`},
		{"list in params", "    scorers:\n      - name: s\n        type: external\n        command: [x]\n        params: {a: [1]}", `c.yaml:15: features[0].scorers[0].params.a: want a string, got a list`},
		{"null list item", "    policy:\n      steps:\n        - 0\n        -\n        - 100", `c.yaml:14: features[0].policy.steps[1]: no value: want a number`},
		{"quoted number", "    criteria: {min_agreement: \"0.95\"}", `c.yaml:11: features[0].criteria.min_agreement: want a number, got the quoted string "0.95" (remove the quotes)`},
		{"merged key overridden here is not read", "    policy:\n      <<: {graduate_after: TBD, rollback_after: x}\n      graduate_after: 14", `c.yaml:12: features[0].policy.rollback_after: want a whole number, got "x"`},
		{"duplicate key", "    policy:\n      rollback_after: 2\n      rollback_after: 3", `c.yaml:13: features[0].policy.rollback_after: written twice (first at line 12)`},
		{"unknown nested key in a flow mapping", "    policy: {graduate_after: 3, rollbak_after: 2}", `c.yaml:11: features[0].policy.rollbak_after: unknown key (check spelling; see README's config reference)`},
		{"merged mapping", "    criteria: &c {min_agreement: 0.9}\n  - name: other\n    fields: [{name: x, critical: true}]\n    criteria: {<<: *c, max_error_rate: lots}", `c.yaml:14: features[1].criteria.max_error_rate: want a number, got "lots"`},
		{"error in an alias reported once", "    policy: &p {rollback_after: x}\n  - name: other\n    fields: [{name: x, critical: true}]\n    policy: *p", `c.yaml:11: features[0].policy.rollback_after: want a whole number, got "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseErr(t, good+tc.add+"\n"); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	if got, want := parseErr(t, "just a string\n"), `c.yaml:1: (file): want a mapping, got "just a string"`; got != want {
		t.Errorf("scalar document: got %q, want %q", got, want)
	}
}

// TestExplicitValuesAreNotDefaulted: a key the file leaves out gets its
// default; a key written with a zero, empty or out-of-range value is an
// error naming its line, key and allowed range, never silently the
// default. The snippets are added at the end of good (line 11 on) or
// replace one of its lines.
func TestExplicitValuesAreNotDefaulted(t *testing.T) {
	for _, tc := range []struct{ name, replace, with, want string }{
		{"graduate_after 0", "", "    policy: {graduate_after: 0}", `c.yaml:11: features[0].policy.graduate_after: want a whole number ≥ 1, got 0 (omit the key for the default, 14)`},
		{"rollback_after 0", "", "    policy:\n      rollback_after: 0", `c.yaml:12: features[0].policy.rollback_after: want a whole number ≥ 1, got 0 (omit the key for the default, 2)`},
		{"freshness 0s", "", "    policy: {freshness: 0s}", `c.yaml:11: features[0].policy.freshness: want a duration > 0, got 0s (omit the key for the default, 24h)`},
		{"negative freshness", "", "    policy: {freshness: -1h}", `c.yaml:11: features[0].policy.freshness: want a duration > 0, got -1h0m0s (omit the key for the default, 24h)`},
		{"empty steps", "", "    policy: {steps: []}", `c.yaml:11: features[0].policy.steps: want at least one step, the first 0 (omit the key for the default, [0 1 5 25 50 100])`},
		{"scorer timeout 0s", "", "    scorers:\n      - {name: s, type: external, command: [x], ai: y, timeout: 0s}", `c.yaml:12: features[0].scorers[0].timeout: want a duration > 0, got 0s (omit the key for the default, 5m)`},
		{"min_agreement 0", "", "    criteria: {min_agreement: 0}", `c.yaml:11: features[0].criteria.min_agreement: 0 out of range: want 0 < x < 1 (omit the key for the default, 0.95)`},
		{"quality_margin 0", "", "    criteria: {quality_margin: 0}", `c.yaml:11: features[0].criteria.quality_margin: 0 out of range: want 0 < x < 1 (omit the key for the default, 0.02)`},
		{"critical_agreement 0", "", "    criteria: {critical_agreement: 0}", `c.yaml:11: features[0].criteria.critical_agreement: 0 out of range: want 0 < x ≤ min_agreement (0.95) (omit the key for the default, 0.8)`},
		{"default critical_agreement above min_agreement", "", "    criteria: {min_agreement: 0.7}", `c.yaml:11: features[0].criteria.critical_agreement: the default 0.8 is above min_agreement 0.7: set critical_agreement, 0 < x ≤ 0.7`},
		{"alpha 0", "window: 6h", "window: 6h\nstats: {alpha: 0}", `c.yaml:6: stats.alpha: alpha 0 out of range: want 0 < alpha < 0.5 (omit the key for the default, 0.05)`},
		{"power 0", "window: 6h", "window: 6h\nstats: {power: 0}", `c.yaml:6: stats.power: power 0 out of range: want 0 < power < 1 (omit the key for the default, 0.8)`},
		{"window 0s", "window: 6h", "window: 0s", `c.yaml:5: window: window 0s must be at least 1m and divide a day (e.g. 1h, 6h, 24h) or be whole days (omit the key for the default, 24h)`},
		{"version 0", "version: 1", "version: 0", `c.yaml:1: version: unsupported version 0 (want 1)`},
		{"baseline windows 0", "window: 6h", "window: 6h\nbaseline: {windows: 0}", `c.yaml:6: baseline.windows: want a whole number ≥ 1, got 0 (omit the key for the default, 7, or give from and to)`},
		{"memory_limit_mb 0", "", "reconcile:\n  - {name: r, legacy: a, new: b, critical_fields: [{name: x}], memory_limit_mb: 0}", `c.yaml:12: reconcile[0].memory_limit_mb: want a whole number ≥ 1, got 0 (omit the key for the default, 256)`},
		{"alert_after 0", "", "reconcile:\n  - {name: r, legacy: a, new: b, critical_fields: [{name: x}], alert_after: 0}", `c.yaml:12: reconcile[0].alert_after: want a whole number ≥ 1, got 0 (omit the key for the default, 2)`},
		{"empty label", "        critical: true", "        critical: true\n        label: \"\"", `c.yaml:11: features[0].fields[0].label: empty: want a column name, or "-" for none (omit the key for the default, "label_category")`},
		{"empty comparator", "        critical: true", "        critical: true\n        comparator: ''", `c.yaml:11: features[0].fields[0].comparator: empty: want one of exact, case_insensitive, numeric, set (omit the key for the default, "exact")`},
		{"empty column", "window: 6h", "window: 6h\ncolumns: {ts: \"\"}", `c.yaml:6: columns.ts: empty: want a column name (omit the key for the default, "ts")`},
		{"empty job kind", "", "jobs:\n  - {name: j, kind: \"\"}", `c.yaml:12: jobs[0].kind: empty: want evaluate, backfill, report or reconcile (omit the key for the default, "evaluate")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := good + tc.with + "\n"
			if tc.replace != "" {
				src = strings.Replace(good, tc.replace, tc.with, 1)
				if src == good {
					t.Fatal("test replacement did not apply")
				}
			}
			if got := parseErr(t, src); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestWrittenZerosThatMeanSomething: where 0 is a setting (no catch-up,
// zero tolerance, no sample keys, a bound switched off), the written 0 is
// kept; left out, the default applies.
func TestWrittenZerosThatMeanSomething(t *testing.T) {
	src := good + `    criteria: {max_p95_latency_ms: 0, max_error_rate: 0}
    policy: {initial_percent: 0}
jobs:
  - {name: j, catch_up: 0}
  - {name: k}
reconcile:
  - {name: r, legacy: a, new: b, critical_fields: [{name: x}], tolerance: 0, sample_keys: 0}
  - {name: s, legacy: a, new: b, critical_fields: [{name: x}]}
`
	c, err := Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if c.Jobs[0].CatchUp != 0 || c.Jobs[1].CatchUp != 3 {
		t.Errorf("catch_up: written 0 → %d, omitted → %d (want 0 and 3)", c.Jobs[0].CatchUp, c.Jobs[1].CatchUp)
	}
	r, s := c.Reconcile[0], c.Reconcile[1]
	if r.Tolerance != 0 || r.SampleKeys != 0 {
		t.Errorf("written tolerance 0, sample_keys 0 became %g, %d", r.Tolerance, r.SampleKeys)
	}
	if s.Tolerance != 0.001 || s.SampleKeys != 20 || s.MemoryLimitMB != 256 || s.AlertAfter != 2 {
		t.Errorf("reconcile defaults: %+v", s)
	}
	f := c.Features[0]
	if f.Criteria.MaxP95LatencyMS != 0 || f.Criteria.MaxErrorRate != 0 || f.Policy.InitialPercent != 0 {
		t.Errorf("criteria %+v policy %+v", f.Criteria, f.Policy)
	}
	if c.Baseline.Windows != 7 || c.Stats.Alpha != 0.05 || c.Stats.Power != 0.8 || c.Version != 1 {
		t.Errorf("top-level defaults: baseline %d alpha %g power %g version %d", c.Baseline.Windows, c.Stats.Alpha, c.Stats.Power, c.Version)
	}
	if f.Policy.Freshness.D() != 24*time.Hour || len(f.Policy.Steps) != 6 || f.Criteria.QualityMargin != 0.02 || f.Criteria.CriticalAgreement != 0.8 {
		t.Errorf("feature defaults: %+v %+v", f.Criteria, f.Policy)
	}
}

// TestKeysWithoutValueAreLeftOut: a key written with no value (`labels:`,
// `~`) is a key left out, as YAML reads it: its default, or none.
func TestKeysWithoutValueAreLeftOut(t *testing.T) {
	src := strings.Replace(good, "  logs: s3://bucket/logs\n", "  logs: s3://bucket/logs\n  labels: ~\n", 1) + `    criteria: {critical_agreement: ~}
    policy:
      freshness:
      graduate_after: null
s3:
  endpoint:
`
	c, err := Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	f := c.Features[0]
	if c.Source.Labels != "" || c.S3.Endpoint != "" || f.Policy.Freshness.D() != 24*time.Hour || f.Policy.GraduateAfter != 14 || f.Criteria.CriticalAgreement != 0.8 {
		t.Errorf("labels %q endpoint %q freshness %v graduate_after %d critical_agreement %g: want none, none and the defaults",
			c.Source.Labels, c.S3.Endpoint, f.Policy.Freshness.D(), f.Policy.GraduateAfter, f.Criteria.CriticalAgreement)
	}
}
