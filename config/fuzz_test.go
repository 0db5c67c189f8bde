package config_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/parity-eval/parity/config"

	// The real scorer registry, so scorer definitions are checked (and
	// fuzzed) the way parity checks them.
	_ "github.com/parity-eval/parity/scorers"
	_ "github.com/parity-eval/parity/scorers/contrib"
)

// FuzzParse: config.Parse never panics, and every error it returns is a
// *config.Error or config.Errors naming the file, each with a line >= 1
// or, for the few file-level problems, a key and a message. The seeds are
// the demo config, the README example and the small configs of
// config_test.go; testdata/fuzz/FuzzParse adds broken YAML shapes.
//
//	go test -run '^$' -fuzz '^FuzzParse$' -fuzztime 60s ./config
func FuzzParse(f *testing.F) {
	for _, p := range []string{"../cmd/parity/demo.yaml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(fuzzGood))
	f.Add([]byte(fuzzGood + "jobs:\n  - name: daily\n    schedule: \"TZ=UTC 30 0 * * *\"\n  - name: back\n    kind: backfill\n    windows: 3\nreconcile:\n  - name: r\n    legacy: a\n    new: b\n    critical_fields:\n      - name: x\n"))
	f.Add([]byte(fuzzGood + "publish:\n  flag_prefix: parity.\n  pushgateway: http://pg:9091\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse("fz.yaml", data)
		if err == nil {
			if c == nil || len(c.Features) == 0 || c.Output == "" || c.Source.Logs == "" {
				t.Fatalf("accepted an incomplete config: %+v", c)
			}
			if c.Window.D() <= 0 {
				t.Fatalf("accepted window %s", c.Window.D())
			}
			for _, ft := range c.Features {
				if ft.Name == "" || ft.Name == "." || ft.Name == ".." || strings.ContainsAny(ft.Name, "/\\") {
					t.Fatalf("accepted feature name %q (used in output keys)", ft.Name)
				}
			}
			for _, r := range c.Reconcile {
				if r.Name == "." || r.Name == ".." || strings.ContainsAny(r.Name, "/\\") {
					t.Fatalf("accepted reconcile name %q (used in output keys)", r.Name)
				}
			}
			return
		}
		var list config.Errors
		var one *config.Error
		switch {
		case errors.As(err, &list):
			if len(list) == 0 {
				t.Fatalf("empty config.Errors")
			}
		case errors.As(err, &one):
			list = config.Errors{one}
		default:
			t.Fatalf("error of type %T, want config.Error(s): %v", err, err)
		}
		for _, e := range list {
			if e.File != "fz.yaml" || e.Key == "" || strings.TrimSpace(e.Msg) == "" {
				t.Errorf("unclear error %#v", e)
			}
			if e.Line < 0 {
				t.Errorf("negative line in %q", e.Error())
			}
			if e.Line == 0 && !strings.HasPrefix(e.Key, "(") && !topLevel(e.Key) {
				// Only file-level problems and required top-level keys
				// (absent, so without a line) may lack one.
				t.Errorf("error without a line: %q", e.Error())
			}
			if !strings.HasPrefix(e.Error(), "fz.yaml:") {
				t.Errorf("error does not start with the file: %q", e.Error())
			}
		}
	})
}

// topLevel reports whether key is a top-level key (or a direct child of
// one) that may be absent from the file, so its error has no line.
func topLevel(key string) bool {
	switch key {
	case "version", "source.logs", "output", "window", "features", "stats.alpha", "stats.power", "stats.adjust", "stats.graduation", "baseline", "baseline.windows", "publish.flag_prefix", "publish.pushgateway", "publish.push_job":
		return true
	}
	return false
}

const fuzzGood = `version: 1
source:
  logs: s3://bucket/logs
output: ./out
window: 6h
features:
  - name: routing
    fields:
      - name: category
        critical: true
      - name: amount
        legacy_json: legacy_output
        ai_json: ai_output
        path: $.items[0]['amount']
        comparator: numeric
        abs_tolerance: 0.01
    scorers:
      - name: sim
        type: edit_similarity
        legacy: legacy_text
        ai: ai_text
        threshold: 0.8
    criteria:
      baseline:
        - metric: agreement.critical
          max_drop: 0.02
    policy:
      steps: [0, 10, 100]
      freshness: 2d
`
