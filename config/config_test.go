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
