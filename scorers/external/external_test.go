package external_test

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/internal/testtmp"
	"github.com/parity-eval/parity/scorers"
	"github.com/parity-eval/parity/scorers/external"
	"github.com/parity-eval/parity/scorers/scorertest"
)

// TestMain removes the example binary's folder when the tests end.
func TestMain(m *testing.M) { os.Exit(testtmp.Run(m)) }

// exampleBin builds the example scorer once per test binary: the tests
// run it as a real subprocess.
var exampleBin = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "parity-external-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "example")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/parity-eval/parity/scorers/external/example").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build example: %v\n%s", err, out)
	}
	return bin, nil
})

func example(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the go tool is needed to build the example scorer")
		}
		t.Skip("the go tool is needed to build the example scorer (install Go 1.26)")
	}
	bin, err := exampleBin()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// def is a scorer definition running the example with extra flags.
func def(t testing.TB, extra string, more string) string {
	args := []string{example(t), "--legacy", "l", "--ai", "a"}
	if extra != "" {
		args = append(args, strings.Fields(extra)...)
	}
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = fmt.Sprintf("%q", a)
	}
	return fmt.Sprintf("name: ext\ntype: external\nlegacy: l\nai: a\ncommand: [%s]\n%s", strings.Join(q, ", "), more)
}

func rows() []scorertest.Row {
	return []scorertest.Row{
		{"l": "abcd", "a": "ab", "input_class": "x"},  // 0.5
		{"l": "abc", "a": "abc", "input_class": "x"},  // 1
		{"l": "", "a": "", "input_class": "x"},        // 1
		{"l": "abcd", "a": nil, "input_class": "x"},   // null: not applicable
		{"l": "日本", "a": "日本語です", "input_class": "y"}, // characters, not bytes: 0.4
		{"l": "a", "a": "aaaa", "input_class": "y"},   // 0.25
		{"l": "aaaa", "a": "aaa", "input_class": "y"}, // 0.75
	}
}

func TestRoundTrip(t *testing.T) {
	kit := scorertest.Parse(t, def(t, "", "threshold: 0.5"))
	s := kit.Scorer.(interface {
		scorers.Scorer
		Processes() int64
		Close() error
	})
	if s.Kind() != scorers.Score {
		t.Fatalf("kind %v", s.Kind())
	}
	out := kit.Score(t, rows())
	scorertest.Floats(t, "value", out.Value, []float64{0.5, 1, 1, scorertest.NaN, 0.4, 0.25, 0.75}, 1e-12)

	// Batch after batch, one long-lived process answers them all, with
	// or without echoing parity.batch (scorers written before it).
	for _, kit := range []*scorertest.Kit{kit, scorertest.Parse(t, def(t, "--no-echo", ""))} {
		s := kit.Scorer.(interface {
			scorers.Scorer
			Processes() int64
			Close() error
		})
		for i, err := range batches(s) {
			if err != nil {
				t.Errorf("batch %d: %v", i+1, err)
			}
		}
		if n := s.Processes(); n != 1 {
			t.Errorf("%d processes started for one worker, want 1", n)
		}
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}

	// Through the engine in batches of 2 (4 batches): the aggregates
	// are a run's.
	kit.BatchRows = 2
	res := kit.Evaluate(t, rows())
	x := res.Acc("x", "ext")
	if x == nil || x.Value.Count != 3 || x.N != 3 || x.K != 3 {
		t.Fatalf("class x aggregate %+v", x)
	}
	if m := res.Metric(t, "y", "ext.mean"); math.Abs(m.Value-(0.4+0.25+0.75)/3) > 1e-12 || m.N != 3 {
		t.Errorf("class y mean %+v", m)
	}
	if m := res.Metric(t, "y", "ext.pass_rate"); math.Abs(m.Value-1.0/3) > 1e-12 {
		t.Errorf("class y pass rate %+v", m)
	}
}

// Two-column answers: kind per_system gets per-system means and the
// Mann–Whitney shift, as built-in latency does.
func TestPerSystemKind(t *testing.T) {
	kit := scorertest.Parse(t, def(t, "--lengths", "params: {kind: per_system}"))
	if kit.Scorer.Kind() != scorers.PerSystem {
		t.Fatalf("kind %v", kit.Scorer.Kind())
	}
	out := kit.Score(t, rows())
	scorertest.Floats(t, "legacy", out.Legacy, []float64{4, 3, 0, 4, 2, 1, 4}, 0)
	scorertest.Floats(t, "ai", out.AI, []float64{2, 3, 0, scorertest.NaN, 5, 4, 3}, 0)
	var many []scorertest.Row
	for i := 0; i < 40; i++ {
		many = append(many, scorertest.Row{"l": strings.Repeat("x", 10+i%3), "a": strings.Repeat("x", 20+i%3)})
	}
	res := kit.Evaluate(t, many)
	if m := res.Metric(t, "(none)", "ext.legacy.mean"); m.Value != 10+39.0/40 || m.N != 40 {
		t.Errorf("legacy mean %+v", m)
	}
	if m := res.Metric(t, "(none)", "ext.ai.mean"); m.Value != 20+39.0/40 {
		t.Errorf("ai mean %+v", m)
	}
	if m := res.Metric(t, "(none)", "ext.shift"); !(m.P < 1e-6) || m.Test == "" {
		t.Errorf("shift %+v", m)
	}
}

func TestIdleProcessExits(t *testing.T) {
	old := external.IdleTimeout
	external.IdleTimeout = 50 * time.Millisecond
	defer func() { external.IdleTimeout = old }()
	kit := scorertest.Parse(t, def(t, "", ""))
	s := kit.Scorer.(*external.Scorer)
	kit.Score(t, rows())
	time.Sleep(300 * time.Millisecond)
	kit.Score(t, rows())
	if n := s.Processes(); n != 2 {
		t.Errorf("%d processes: the idle one should have been ended and a new one started", n)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
}

// A crash is that scorer's error for the window, never a pass: also for
// class z, whose rows all went in the batch answered before the crash.
func TestCrash(t *testing.T) {
	kit := scorertest.Parse(t, def(t, "--crash-after 1", "threshold: 0.1\nmin_pass_rate: 0.1"))
	kit.BatchRows = 3
	z := []scorertest.Row{{"l": "a", "a": "a", "input_class": "z"}, {"l": "a", "a": "a", "input_class": "z"}, {"l": "a", "a": "a", "input_class": "z"}}
	res := kit.Evaluate(t, append(z, rows()...))
	if a := res.Acc("z", "ext"); a == nil || a.Errors != 0 || a.Value.Count != 3 {
		t.Fatalf("class z should have been scored before the crash: %+v", a)
	}
	for _, class := range []string{"x", "y", "z"} {
		m := res.Metric(t, class, "ext")
		if m.Status != eval.StatusError || !m.Criterion {
			t.Errorf("class %s: %+v", class, m)
		}
		for _, want := range []string{`external scorer "ext"`, "exit status 3", "crashing on purpose at batch 2", "batch of"} {
			if !strings.Contains(m.Reason, want) {
				t.Errorf("class %s reason %q lacks %q", class, m.Reason, want)
			}
		}
		if c := res.Class(t, class); c.Status != eval.StatusError {
			t.Errorf("class %s status %s, want error", class, c.Status)
		}
		for _, m := range res.Class(t, class).Metrics {
			if m.Name != "ext" && strings.HasPrefix(m.Name, "ext") {
				t.Errorf("class %s: partial results published beside the error: %s", class, m.Name)
			}
		}
	}
}

func TestTimeoutDisables(t *testing.T) {
	kit := scorertest.Parse(t, def(t, "--sleep 5s", "timeout: 200ms"))
	start := time.Now()
	_, err := scorertest.TryScore(kit.Scorer, rows())
	if err == nil || !strings.Contains(err.Error(), `external scorer "ext": no answer within 200ms for a batch of 7 rows`) {
		t.Fatalf("err = %v", err)
	}
	_, err = scorertest.TryScore(kit.Scorer, rows())
	if err == nil || !strings.Contains(err.Error(), "disabled for the rest of this run") {
		t.Fatalf("second batch err = %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s: the hung process was not killed, or the second batch waited again", d)
	}
}

// TestTimeoutKillsChildren: a scorer run through a wrapper (sh -c, uv
// run) is killed with the processes it started; killing the wrapper alone
// left the scorer holding stdout and parity waited out its 5 s sleep.
func TestTimeoutKillsChildren(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("needs sh")
	}
	wrapped := fmt.Sprintf("name: ext\ntype: external\nlegacy: l\nai: a\ncommand: [sh, -c, %q]\ntimeout: 200ms", example(t)+" --legacy l --ai a --sleep 5s; exit 0")
	kit := scorertest.Parse(t, wrapped)
	start := time.Now()
	_, err := scorertest.TryScore(kit.Scorer, rows())
	if err == nil || !strings.Contains(err.Error(), "no answer within 200ms") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s: the wrapper's child was not killed with it", d)
	}
}

func TestBadAnswers(t *testing.T) {
	for _, tc := range []struct{ flags, want string }{
		{"--wrong-schema", `external scorer "ext": output has no float64 column "value" (kind score wants value; got schema {score float64})`},
		{"--short", `external scorer "ext": answered 6 rows for a batch of 7`},
		{"--legacy nope", `process failed (exit status 1) before answering a batch of 7 rows; stderr: example scorer: input has no columns "nope"`},
	} {
		kit := scorertest.Parse(t, def(t, tc.flags, ""))
		_, err := scorertest.TryScore(kit.Scorer, rows())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v\nwant %s", tc.flags, err, tc.want)
		}
	}
	// Pass/fail kinds must answer 1 or 0.
	kit := scorertest.Parse(t, def(t, "", "params: {kind: agreement}"))
	_, err := scorertest.TryScore(kit.Scorer, rows())
	if err == nil || !strings.Contains(err.Error(), "output value[0] is 0.5: kind agreement wants 1 or 0 per row") {
		t.Errorf("agreement kind: %v", err)
	}
	// Paired kinds want legacy and ai columns.
	kit = scorertest.Parse(t, def(t, "", "params: {kind: paired_score}"))
	_, err = scorertest.TryScore(kit.Scorer, rows())
	if err == nil || !strings.Contains(err.Error(), `output has no float64 column "legacy"`) {
		t.Errorf("paired kind: %v", err)
	}
}

func TestCannotStart(t *testing.T) {
	kit := scorertest.Parse(t, "name: ext\ntype: external\nai: a\ncommand: [/nonexistent/scorer]")
	_, err := scorertest.TryScore(kit.Scorer, rows())
	if err == nil || !strings.Contains(err.Error(), `external scorer "ext": cannot start "/nonexistent/scorer"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ def, want string }{
		{"name: e\ntype: external\nai: a", "features[0].scorers[0].command: required"},
		{"name: e\ntype: external\nai: a\ncommand: [x]\nparams: {kind: fuzzy}", "params.kind: \"fuzzy\": want one of score"},
		{"name: e\ntype: external\ncommand: [x]\nparams: {columns: 'n:decimal'}", "params.columns: column \"n\": kind \"decimal\""},
		{"name: e\ntype: external\ncommand: [x]", "features[0].scorers[0].ai: an external scorer needs input"},
		{"name: e\ntype: external\nai: a\ncommand: [x]\nmin_pass_rate: 0.5", "threshold: required with min_pass_rate"},
		{"name: e\ntype: external\nai: a\ncommand: [x]\ntimeout: soon", "timeout: want a duration like 24h, 30m or 7d, got \"soon\""},
	} {
		_, err := scorertest.Load(tc.def)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant %q", tc.def, err, tc.want)
		}
	}
}

// The input schema carries the needed columns with their kinds, and the
// scorer's name and kind as metadata.
func TestInputSchema(t *testing.T) {
	kit := scorertest.Parse(t, "name: e\ntype: external\nlegacy: l\nai: a\nlabel: truth\ncommand: [x]\nparams: {kind: paired_score, columns: 'input_tokens:int64, ai_confidence:double, ts:timestamp, ai_error:bool'}")
	s := kit.Scorer.(*external.Scorer)
	got := s.Schema().String()
	for _, want := range []string{"l: type=utf8, nullable", "a: type=utf8, nullable", "truth: type=utf8, nullable", "input_tokens: type=int64", "ai_confidence: type=float64", "ts: type=timestamp[ns, tz=UTC]", "ai_error: type=bool", `"parity.kind": "paired_score"`, `"parity.scorer": "e"`} {
		if !strings.Contains(got, want) {
			t.Errorf("schema lacks %q:\n%s", want, got)
		}
	}
}

// evenRows are rows() and one more, so batches of 2 all have 2 rows: an
// answer to the wrong batch then has the right number of rows, and
// only the new checks can tell.
func evenRows() []scorertest.Row {
	return append(rows(), scorertest.Row{"l": "abcde", "a": "a", "input_class": "y"})
}

// wantUnasked checks that every class of the window is an error saying
// the scorer wrote an answer it was not asked for.
func wantUnasked(t *testing.T, res *scorertest.Result, detail string) {
	t.Helper()
	for _, class := range []string{"x", "y"} {
		m := res.Metric(t, class, "ext")
		for _, want := range []string{`external scorer "ext": wrote an answer batch it was not asked for`, detail} {
			if m.Status != eval.StatusError || !strings.Contains(m.Reason, want) {
				t.Errorf("class %s: %s %q, want error saying %q", class, m.Status, m.Reason, want)
			}
		}
		if c := res.Class(t, class); c.Status != eval.StatusError {
			t.Errorf("class %s status %s, want error", class, c.Status)
		}
	}
}

// batches scores evenRows two at a time, one Score call per batch as a
// worker makes them, and returns each call's error.
func batches(s scorers.Scorer) []error {
	var errs []error
	all := evenRows()
	for lo := 0; lo < len(all); lo += 2 {
		_, err := scorertest.TryScore(s, all[lo:lo+2])
		errs = append(errs, err)
	}
	return errs
}

func wantErr(t *testing.T, what string, err error, want ...string) {
	t.Helper()
	for _, w := range want {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("%s: %v\nwant %q", what, err, w)
		}
	}
}

const unasked = `external scorer "ext": wrote an answer batch it was not asked for`

// A scorer that writes every answer twice (both copies in one write, as
// a buffered writer flushed once per batch does): each extra copy would
// be read as the next batch's answer, so the figures would be another
// batch's. The batch is an error, then every batch (the scorer is
// disabled), so the window is; and Close reports it. Whether or not the
// scorer echoes parity.batch: the copy is found waiting on stdout.
func TestAnswerWrittenTwice(t *testing.T) {
	for _, flags := range []string{"--twice --no-echo", "--twice"} {
		t.Run(flags, func(t *testing.T) {
			kit := scorertest.Parse(t, def(t, flags, "threshold: 0.5\nmin_pass_rate: 0.1"))
			kit.BatchRows = 2
			wantUnasked(t, kit.Evaluate(t, evenRows()), "more output followed its answer to batch 1")

			errs := batches(kit.Scorer)
			wantErr(t, "batch 1", errs[0], unasked, "more output followed its answer to batch 1")
			wantErr(t, "batch 2", errs[1], `external scorer "ext": disabled for the rest of this run after an earlier error`, unasked)
			wantErr(t, "close", kit.Scorer.(interface{ Close() error }).Close(), unasked)
		})
	}
}

// The extra copy comes 300 ms after the answer, when parity has sent the
// next batch: the copy arrives where that batch's answer is awaited.
// Echoing parity.batch, it is refused on the spot. Without the echo it
// can be taken for the next batch's answer; the stream is then one
// answer ahead, which a later batch or the end of the stream finds: the
// scorer is disabled and Close reports it (a caller that closes its
// scorers after a scan can fail every window of it).
func TestLateExtraAnswer(t *testing.T) {
	kit := scorertest.Parse(t, def(t, "--twice --late 300ms", ""))
	kit.BatchRows = 2
	wantUnasked(t, kit.Evaluate(t, evenRows()), "it answered batch 1 when batch 2 was asked (parity.batch)")
	errs := batches(kit.Scorer)
	if errs[0] != nil {
		t.Errorf("batch 1: %v", errs[0])
	}
	wantErr(t, "batch 2", errs[1], unasked, "it answered batch 1 when batch 2 was asked (parity.batch)")

	kit = scorertest.Parse(t, def(t, "--twice --late 300ms --no-echo", ""))
	batches(kit.Scorer)
	wantErr(t, "close without the echo", kit.Scorer.(interface{ Close() error }).Close(), unasked)
	_, err := scorertest.TryScore(kit.Scorer, rows())
	wantErr(t, "batch after close", err, "disabled for the rest of this run")
}

// A scorer that answers every batch right, then writes one more answer
// when its input ends: found when its stream is closed, by Close or
// after IdleTimeout, and the scorer is disabled from then on.
func TestExtraAnswerAtEnd(t *testing.T) {
	kit := scorertest.Parse(t, def(t, "--extra-at-end --no-echo", ""))
	out := kit.Score(t, rows())
	scorertest.Floats(t, "value", out.Value, []float64{0.5, 1, 1, scorertest.NaN, 0.4, 0.25, 0.75}, 1e-12)
	wantErr(t, "close", kit.Scorer.(*external.Scorer).Close(), unasked+" (an answer batch after its input ended)")
	_, err := scorertest.TryScore(kit.Scorer, rows())
	wantErr(t, "batch after close", err, "disabled for the rest of this run")

	old := external.IdleTimeout
	external.IdleTimeout = 50 * time.Millisecond
	defer func() { external.IdleTimeout = old }()
	kit = scorertest.Parse(t, def(t, "--extra-at-end", ""))
	kit.Score(t, rows())
	time.Sleep(500 * time.Millisecond) // the idle process is ended and checked
	_, err = scorertest.TryScore(kit.Scorer, rows())
	wantErr(t, "batch after the idle process ended", err, "disabled for the rest of this run", "an answer batch after its input ended")
}
