package html

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/storage"
)

// RunReportWindows is how many windows, ending with the run's last,
// a per-run report covers: enough for the charts to show a trend and the
// graduation streak, small enough to stay a readable document.
const RunReportWindows = 28

// KeyRunReport is the output key of a per-run report.
func KeyRunReport(feature string, w eval.Window) string {
	return fmt.Sprintf("reports/%s/%s.html", feature, w.Key())
}

// RunFeatures lists the features that get a report after a run of
// features (empty: all): all of them when always is set, else those of
// the config's jobs with `report: true`.
func RunFeatures(cfg *config.Config, features []string, always bool) []string {
	in := func(xs []string, s string) bool {
		if len(xs) == 0 {
			return true
		}
		for _, x := range xs {
			if x == s {
				return true
			}
		}
		return false
	}
	var out []string
	for _, f := range cfg.Features {
		if !in(features, f.Name) {
			continue
		}
		want := always
		for _, j := range cfg.Jobs {
			if j.Report && in(j.Features, f.Name) {
				want = true
			}
		}
		if want {
			out = append(out, f.Name)
		}
	}
	return out
}

// WriteRun writes one HTML report per feature of a run, covering the
// RunReportWindows windows up to last, to
// reports/<feature>/<window key>.html in out, and returns the keys.
// jobs.Runner.Evaluate calls it after the verdicts are written.
func WriteRun(ctx context.Context, cfg *config.Config, out storage.Store, features []string, last eval.Window, now time.Time, version string) ([]string, error) {
	var keys []string
	from := last.End.Add(-RunReportWindows * cfg.Window.D())
	for _, f := range features {
		d, err := Build(ctx, cfg, out, f, from, last.End, Options{Now: now, Version: version})
		if err != nil {
			return keys, err
		}
		var b bytes.Buffer
		if err := Render(&b, d); err != nil {
			return keys, err
		}
		key := KeyRunReport(f, last)
		if _, err := out.Put(ctx, key, b.Bytes()); err != nil {
			return keys, fmt.Errorf("write %s/%s: %w", out.URI(), key, err)
		}
		keys = append(keys, key)
	}
	return keys, nil
}
