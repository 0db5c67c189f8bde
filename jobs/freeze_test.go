package jobs_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets/synth"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/jobs"
	"github.com/parity-eval/parity/reports"
	"github.com/parity-eval/parity/reports/audit"
	"github.com/parity-eval/parity/reports/flagd"
)

// TestOverrideLiftMovesOnlyByVerdict is QA's scenario through the Runner,
// one window per run as a schedule runs them: an override (freeze, or
// force_legacy) in force over the one window in which refund_approval's
// streak reaches graduate_after, expired before the next run. The next
// window must graduate as its own verdict, with flagd and the audit log
// saying so; before, it said hold while the replay graduated the overridden
// window after all, so traffic rose under a hold and no window's verdict
// was ever graduate.
func TestOverrideLiftMovesOnlyByVerdict(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: evaluates up to 20 synthetic days one run at a time")
	}
	for _, kind := range []string{"freeze", "force_legacy"} {
		t.Run(kind, func(t *testing.T) {
			cfg, out := freezeSetup(t)
			r, err := jobs.Open(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			run := func(w eval.Window) *reports.FeatureDoc {
				t.Helper()
				now := w.End.Add(time.Hour)
				res, err := r.Evaluate(context.Background(), []eval.Window{w}, jobs.Options{Now: func() time.Time { return now }, Log: log, Workers: 2})
				if err != nil {
					t.Fatal(err)
				}
				return res.Verdicts.Features["refund_approval"]
			}
			windows := eval.WindowsBetween(synth.DefaultStart, synth.DefaultStart.Add(10*24*time.Hour), 24*time.Hour)
			i, v := 0, run(windows[0])
			// Up to the window before the one whose pass would complete a streak.
			for ; v.Streak.Passing != v.Streak.RequiredToGraduate-1; i++ {
				if i+1 == len(windows) {
					t.Fatal("refund_approval never came one passing window short of graduating")
				}
				v = run(windows[i+1])
			}
			before := v.Traffic.Percent
			held, next := windows[i+1], windows[i+2]
			ov := fmt.Sprintf("overrides:\n  refund_approval:\n    %s: true\n    by: qa@example.com\n    reason: QA-7\n    at: %s\n    expires: %s\n",
				kind, held.End.Format(time.RFC3339), held.End.Add(2*time.Hour).Format(time.RFC3339))
			if err := os.WriteFile(filepath.Join(out, jobs.KeyOverrides), []byte(ov), 0o644); err != nil {
				t.Fatal(err)
			}
			v = run(held)
			if v.Override == nil || v.Streak.Passing != v.Streak.RequiredToGraduate {
				t.Fatalf("%s window %s: override %+v, passing streak %d, want the override and a full streak (reasons %v)", kind, held.Start, v.Override, v.Streak.Passing, v.Reasons)
			}
			heldPct := before
			if kind == "force_legacy" {
				heldPct = 0
			}
			if v.Traffic.Percent != heldPct {
				t.Errorf("%s window: %s at %g%%, want %g%%", kind, v.Verdict, v.Traffic.Percent, heldPct)
			}
			v = run(next)
			if v.Verdict != eval.VerdictGraduate || v.Traffic.Percent <= heldPct {
				t.Errorf("window after the lift: %s at %g%% (reasons %v), want graduate above %g%%", v.Verdict, v.Traffic.Percent, v.Reasons, heldPct)
			}
			for _, e := range v.Events {
				if e.Kind == "graduate" && e.Window.Start.Equal(held.Start) {
					t.Errorf("graduate event dated to the %s window %s", kind, held.Start)
				}
			}
			// Routers are told what the verdict says.
			data, err := os.ReadFile(filepath.Join(out, jobs.KeyFlagd))
			if err != nil {
				t.Fatal(err)
			}
			var fl flagd.File
			if err := json.Unmarshal(data, &fl); err != nil {
				t.Fatal(err)
			}
			md := fl.Flags["parity.refund_approval"].Metadata
			if md["verdict"] != v.Verdict || md["traffic_percent"] != v.Traffic.Percent {
				t.Errorf("flagd says %v at %v%%, the verdict %s at %g%%", md["verdict"], md["traffic_percent"], v.Verdict, v.Traffic.Percent)
			}
			// Per window, traffic changes only with a graduate or rollback
			// verdict, and the audit log records the graduation.
			prev := -1.0
			for _, w := range windows[:i+3] {
				fv := windowVerdict(t, out, w)
				if prev >= 0 && fv.Traffic.Percent != prev && fv.Verdict == eval.VerdictHold {
					t.Errorf("window %s: traffic %g%% -> %g%% under hold", w.Start.Format("2006-01-02"), prev, fv.Traffic.Percent)
				}
				prev = fv.Traffic.Percent
			}
			if !auditHasGraduate(t, filepath.Join(out, audit.Prefix, "window="+next.Key())) {
				t.Errorf("no graduate verdict for refund_approval in the audit log of %s", next.Start)
			}
			// A backfill over the whole range after the override expired
			// keeps it where it applied: the held window still holds, and
			// the graduation stays the next window's.
			later := next.End.Add(time.Hour)
			if _, err := r.Evaluate(context.Background(), windows[:i+3], jobs.Options{Now: func() time.Time { return later }, Log: log, Workers: 2}); err != nil {
				t.Fatal(err)
			}
			for w, want := range map[eval.Window]string{held: eval.VerdictHold, next: eval.VerdictGraduate} {
				if kind == "force_legacy" && w == held {
					want = eval.VerdictRollback
				}
				if fv := windowVerdict(t, out, w); fv.Verdict != want {
					t.Errorf("after a backfill past the lift, window %s: %s (reasons %v), want %s", w.Start.Format("2006-01-02"), fv.Verdict, fv.Reasons, want)
				}
			}
		})
	}
}

// windowVerdict is refund_approval's stored verdict for window w.
func windowVerdict(t *testing.T, out string, w eval.Window) *reports.FeatureDoc {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, "verdicts", "window="+w.Key(), "verdicts.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := reports.DecodeVerdicts(data)
	if err != nil {
		t.Fatal(err)
	}
	return doc.Features["refund_approval"]
}

// freezeConfig judges refund_approval on agreement alone, which the
// synthetic data pass from the first days on at this scale.
const freezeConfig = `version: 1
source:
  logs: logs
output: out
window: 24h
features:
  - name: refund_approval
    fields:
      - name: decision
        legacy: legacy_category
        ai: ai_category
        label: "-"
        critical: true
    criteria:
      min_agreement: 0.9
    policy:
      graduate_after: 3
      rollback_after: 2
      steps: [0, 10, 25, 50, 100]
      initial_percent: 10
publish:
  flag_prefix: "parity."
`

func freezeSetup(t *testing.T) (*config.Config, string) {
	t.Helper()
	dir := t.TempDir()
	if _, err := synth.Generate(dir, synth.Options{Scale: 0.2, Days: 10}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "parity.yaml")
	if err := os.WriteFile(path, []byte(freezeConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, filepath.Join(dir, "out")
}

func auditHasGraduate(t *testing.T, dir string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var e audit.Entry
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatal(err)
			}
			if e.Feature == "refund_approval" && e.Kind == audit.KindVerdict && e.Verdict == eval.VerdictGraduate {
				fh.Close()
				return true
			}
		}
		fh.Close()
	}
	return false
}
