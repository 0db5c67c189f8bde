package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parity-eval/parity/datasets/synth"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/jobs"
	"github.com/parity-eval/parity/reports"
	"github.com/parity-eval/parity/storage"
)

// Kill-test knobs: PARITY_KILL_ITERATIONS (default 100, 20 with -short)
// and PARITY_KILL_SEED (default 1) let a soak run go longer or explore
// other kill points; a failure names the seed and iteration to replay.
func killKnobs(t *testing.T) (iterations int, seed uint64) {
	iterations, seed = 100, 1
	if testing.Short() {
		iterations = 20
	}
	if v := os.Getenv("PARITY_KILL_ITERATIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("PARITY_KILL_ITERATIONS=%q: want a positive integer", v)
		}
		iterations = n
	}
	if v := os.Getenv("PARITY_KILL_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("PARITY_KILL_SEED=%q: want an unsigned integer", v)
		}
		seed = n
	}
	return iterations, seed
}

// TestKillRuns SIGKILLs real `parity run` and `parity backfill` processes
// (logs and output on S3) at seeded random points, many times, and after
// every kill checks the consumer-visible state (checkState): every output
// parses, no temporary object is listed, latest.json names a window whose
// outputs are all there, and each window's verdicts agree with its scores
// and with the uninterrupted reference run. The next run recovers on its
// own: a killed run's lock is taken over once its short lease
// (--lock-ttl) has expired, and a final run reproduces the reference.
func TestKillRuns(t *testing.T) {
	iterations, seed := killKnobs(t)
	e := newS3Env(t)
	runKills(t, e, []string{e.config(t, e.endpoint)}, iterations, seed)
}

// TestKillRunsChangingInput is TestKillRuns with the input switching, at
// random, between two datasets (as when late logs or labels arrive between
// runs), so a rerun really changes a window's scores and verdicts. A
// window's scores and verdicts are two objects: between their writes, and
// after a kill there, a reader sees new scores beside old verdicts
// (docs/s3.md). The test counts those states, requires everything else
// after every kill, and requires the next complete run to repair them.
func TestKillRunsChangingInput(t *testing.T) {
	iterations, seed := killKnobs(t)
	e := newS3Env(t)
	other, err := otherSynthDir()
	if err != nil {
		t.Fatal(err)
	}
	b := e.store(t, "in-b", e.srv.Endpoint)
	upload(t, b, other, "logs", "labels")
	cfgB := strings.Replace(string(must(os.ReadFile(e.config(t, e.endpoint)))), "/in/", "/in-b/", 2)
	pathB := t.TempDir() + "/parity-b.yaml"
	if err := os.WriteFile(pathB, []byte(cfgB), 0o600); err != nil {
		t.Fatal(err)
	}
	runKills(t, e, []string{e.config(t, e.endpoint), pathB}, max(5, iterations*2/5), seed)
}

// otherSynthDir is a second small dataset (another seed) for the
// changing-input kill test.
var otherSynthDir = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "parity-jobs-s3-b-")
	if err != nil {
		return "", err
	}
	_, err = synth.Generate(dir, synth.Options{Seed: 6, Start: testStart, Days: testDays, Scale: 0.02})
	return dir, err
})

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// runKills is the kill loop. With one config, every state must also match
// the uninterrupted reference run; with several (changing input), states
// where a window's verdicts disagree with its scores are counted, not
// failed. Either way the final recovery run (first config) must reproduce
// the reference.
func runKills(t *testing.T, e *s3Env, cfgs []string, iterations int, seed uint64) {
	// Killed runs hold a short lease, so the next iteration can take over
	// a dead run's lock quickly. Runs that are never killed (the timed
	// reference runs and the recovery run) hold a long one: on a loaded
	// machine a 600 ms lease can miss its renewals and the run stops
	// itself, a clean failure the kill loop counts but these runs must not
	// suffer.
	const ttl, steady = 600 * time.Millisecond, 30 * time.Second
	wins := allWindows()
	backfillTTL := func(cfg string, ttl time.Duration) []string {
		return []string{"backfill", "--config", cfg, "--from", testStart.Format(time.RFC3339),
			"--to", wins[len(wins)-1].End.Format(time.RFC3339), "--now", testNow.Format(time.RFC3339),
			"--lock-ttl", ttl.String(), "--log-level", "info"}
	}
	backfillArgs := func(cfg string) []string { return backfillTTL(cfg, ttl) }
	oneArgs := func(cfg string, w eval.Window) []string {
		a := runArgs(cfg, w, ttl)
		a[len(a)-1] = "info" // the "scanned" line tells a kill while writing
		return a
	}
	changing := len(cfgs) > 1

	// timed runs a command to completion and returns its duration.
	timed := func(args []string) time.Duration {
		start := time.Now()
		c, o, er := e.parityCmd(t, args...)
		if err := c.Run(); err != nil {
			t.Fatalf("uninterrupted %s: %v\n%s%s", args[0], err, o, er)
		}
		return time.Since(start)
	}
	// The first run pays for cold caches; the kill points are drawn over
	// the shorter of two later runs of each command. The last backfill
	// (first config) is the reference, the "previous state" of the first
	// kill.
	oneSteady := runArgs(cfgs[0], wins[0], steady)
	oneSteady[len(oneSteady)-1] = "info"
	timed(backfillTTL(cfgs[0], steady))
	one := min(timed(oneSteady), timed(oneSteady))
	full := min(timed(backfillTTL(cfgs[0], steady)), timed(backfillTTL(cfgs[0], steady)))
	ref := stateSnapshot(t, e.out)
	checkState(t, ref, true)
	refDocs := map[string]string{}
	for _, w := range wins {
		k := verdictKey(w)
		refDocs[k] = normVerdicts(t, ref[k])
	}

	rng := rand.New(rand.NewPCG(seed, 0x9a17))
	var killed, writing, finished, refused, lostLease, waited, mixedStates, mixes int
	prevMixed := map[string]bool{}
	for i := range iterations {
		cfg := cfgs[rng.IntN(len(cfgs))]
		what, args, d := "backfill", backfillArgs(cfg), full
		if rng.IntN(2) == 0 {
			w := wins[rng.IntN(len(wins))]
			what, args, d = "run "+w.Key(), oneArgs(cfg, w), one
		}
		delay := time.Duration(rng.Int64N(int64(d)))
		// The recovery path: a lease left by the previous kill is waited
		// out (it is short), then taken over by this run.
		waited += waitLease(t, e.out)
		c, _, er := e.parityCmd(t, args...)
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- c.Wait() }()
		var err error
		select {
		case err = <-exited:
		case <-time.After(delay):
			_ = c.Process.Signal(syscall.SIGKILL)
			err = <-exited
		}
		switch code := exitCode(err); {
		case code == 0:
			finished++
		case code == -int(syscall.SIGKILL):
			killed++
			if strings.Contains(er.String(), `"scanned"`) {
				writing++ // killed after the scan: while writing outputs
			}
		case code == 1 && strings.Contains(er.String(), "held by"):
			refused++
		case code == 1 && strings.Contains(er.String(), "run lock"):
			// The short lease could not be renewed in time on a loaded
			// machine: the run stopped itself, a clean failure.
			lostLease++
		default:
			t.Fatalf("seed %d iteration %d (%s, kill after %v): exit %d\n%s", seed, i, what, delay, code, er)
		}
		snap := stateSnapshot(t, e.out)
		if !t.Run(fmt.Sprintf("state-after-%d", i), func(t *testing.T) {
			// A backfill that completed rewrote every window: no mix may
			// survive it, whatever earlier kills left.
			tolerate := changing && !(exitCode(err) == 0 && what == "backfill")
			cur := checkStateMixes(t, snap, false, tolerate)
			if len(cur) > 0 {
				mixedStates++
				mixes += len(cur)
			}
			// Scores go out just before their window's verdicts, so a
			// kill adds at most the one window it interrupted.
			var added []string
			for w := range cur {
				if !prevMixed[w] && w != "latest" {
					added = append(added, w)
				}
			}
			if len(added) > 1 {
				t.Errorf("one kill left %d more windows with verdicts and scores of different runs: %v", len(added), added)
			}
			prevMixed = cur
			if changing {
				return
			}
			for k, want := range refDocs {
				if got := normVerdicts(t, snap[k]); got != want {
					t.Errorf("%s differs from the uninterrupted run's:\n%s\nwant\n%s", k, got, want)
				}
			}
		}) {
			t.Fatalf("seed %d iteration %d (%s, kill after %v): inconsistent state", seed, i, what, delay)
		}
	}

	// Recovery: the next run, with no manual cleanup, completes and
	// leaves the reference state (apart from run ids).
	waited += waitLease(t, e.out)
	c, o, er := e.parityCmd(t, backfillTTL(cfgs[0], steady)...)
	if err := c.Run(); err != nil {
		t.Fatalf("recovery backfill after the kills: %v\n%s%s", err, o, er)
	}
	snap := stateSnapshot(t, e.out)
	checkState(t, snap, true)
	for k, want := range refDocs {
		if got := normVerdicts(t, snap[k]); got != want {
			t.Errorf("after recovery %s differs from the reference", k)
		}
	}
	t.Logf("seed %d, %d input(s): %d iterations (uninterrupted backfill %v, run %v): %d killed (%d of them while writing), %d finished before the kill, %d refused by a live lease, %d stopped on a lost lease; waited out %d stale leases; %d states showed %d window(s) with verdicts and scores of different runs",
		seed, len(cfgs), iterations, full.Round(time.Millisecond), one.Round(time.Millisecond), killed, writing, finished, refused, lostLease, waited, mixedStates, mixes)
	if killed == 0 || writing == 0 {
		t.Errorf("no kill landed while writing (killed %d, writing %d): the test proves nothing", killed, writing)
	}
}

// stateOutputs are the prefixes checkState judges; other outputs (audit
// trails, metrics, flag files) belong to their own tests.
var stateOutputs = []string{"scores/", "verdicts/", "evaluations/", "history/", "manifests/", "aggregates/", "locks/evaluate.lock"}

// stateSnapshot is s3Snapshot restricted to stateOutputs, except that every
// listed key is kept (with no content) so checkState can still see a
// temporary object anywhere.
func stateSnapshot(t testing.TB, s storage.Store) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	objs, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, o := range objs {
		out[o.Key] = nil
		for _, p := range stateOutputs {
			if strings.HasPrefix(o.Key, p) {
				data, _, err := s.Get(ctx, o.Key)
				if err != nil {
					t.Fatalf("get %s: %v", o.Key, err)
				}
				out[o.Key] = data
			}
		}
	}
	return out
}

// waitLease sleeps until a lease left in the store has expired, and
// reports whether there was one. A dead run's lock is taken over by the
// next run once expired; waiting here keeps every iteration a real run
// rather than a refusal.
func waitLease(t *testing.T, s storage.Store) int {
	t.Helper()
	data, _, err := s.Get(context.Background(), "locks/evaluate.lock")
	if err != nil {
		return 0
	}
	var li storage.LockInfo
	if json.Unmarshal(data, &li) != nil {
		t.Fatalf("unreadable lock object: %q", data)
	}
	time.Sleep(time.Until(li.Expires) + 50*time.Millisecond)
	return 1
}

func verdictKey(w eval.Window) string {
	return fmt.Sprintf("verdicts/window=%s/verdicts.json", w.Key())
}

// perWindow are the outputs every evaluated window has.
var perWindow = []string{
	"scores/window=%s/scores.parquet",
	"verdicts/window=%s/verdicts.json",
	"evaluations/window=%s/evaluation.json",
	"history/window=%s/records.json",
	"manifests/window=%s/manifest.json",
	"aggregates/window=%s/aggregates.json",
}

// checkState asserts the consumer-visible state of an output location is
// complete and consistent; settled means no run was interrupted since the
// last complete one (so no lock may be left either).
//
// State, as a consumer sees it through Store.List/Get:
//   - every object parses (JSON documents, scores Parquet), and no
//     temporary or partial object is listed;
//   - every window with any output has all of them;
//   - latest.json names the newest window, whose outputs are all there,
//     and agrees with that window's verdict document;
//   - each window's verdict metrics equal its scores (the same
//     evaluation) and its evaluation document.
func checkState(t *testing.T, snap map[string][]byte, settled bool) {
	t.Helper()
	checkStateMixes(t, snap, settled, false)
}

// checkStateMixes is checkState that, with tolerateMix, returns instead of
// failing on windows whose verdicts disagree with their scores, or a
// latest.json that disagrees with its window's verdicts: the states a
// reader can see while a run rewrites a window whose input changed (see
// docs/s3.md). Everything else is still required.
func checkStateMixes(t *testing.T, snap map[string][]byte, settled, tolerateMix bool) (mixed map[string]bool) {
	t.Helper()
	mixed = map[string]bool{}
	mix := func(what, format string, args ...any) {
		if tolerateMix {
			mixed[what] = true
			return
		}
		t.Errorf(format, args...)
	}
	windows := map[string]bool{}
	for k, data := range snap {
		base := k[strings.LastIndex(k, "/")+1:]
		if strings.Contains(k, "tmp") || strings.HasPrefix(base, ".") {
			t.Errorf("temporary object visible: %s", k)
		}
		if data == nil {
			continue // not a state output (audit, metrics, flags)
		}
		switch {
		case strings.HasSuffix(k, ".json"):
			if !json.Valid(data) {
				t.Errorf("%s is not valid JSON (%d bytes)", k, len(data))
			}
		case strings.HasSuffix(k, ".parquet"):
			if _, err := reports.DecodeScores(data); err != nil {
				t.Errorf("%s: %v", k, err)
			}
		case k == "locks/evaluate.lock":
			if settled {
				t.Errorf("lock left behind: %s", data)
			}
		}
		if i := strings.Index(k, "window="); i >= 0 {
			w := k[i+len("window="):]
			windows[w[:strings.Index(w, "/")]] = true
		}
	}
	var newest string
	for w := range windows {
		newest = max(newest, w)
		for _, f := range perWindow {
			if _, ok := snap[fmt.Sprintf(f, w)]; !ok {
				t.Errorf("window %s has outputs but not %s", w, fmt.Sprintf(f, w))
			}
		}
		for _, p := range checkWindow(t, snap, w) {
			mix(w, "%s", p)
		}
	}
	data, ok := snap[jobs.KeyLatest]
	if !ok {
		if len(windows) > 0 {
			t.Errorf("windows %v but no latest.json", windows)
		}
		return mixed
	}
	latest, err := reports.DecodeVerdicts(data)
	if err != nil {
		t.Errorf("latest.json: %v", err)
		return mixed
	}
	if latest.Window.Key() != newest {
		t.Errorf("latest.json names window %s, newest window with outputs is %s", latest.Window.Key(), newest)
	}
	if doc, ok := snap[verdictKey(latest.Window)]; ok && normVerdicts(t, doc) != normVerdicts(t, data) {
		mix("latest", "latest.json disagrees with %s", verdictKey(latest.Window))
	}
	return mixed
}

// checkWindow compares a window's verdict metrics with its scores rows
// and its evaluation document.
func checkWindow(t *testing.T, snap map[string][]byte, w string) (mismatches []string) {
	t.Helper()
	vdata, sdata := snap[fmt.Sprintf("verdicts/window=%s/verdicts.json", w)], snap[fmt.Sprintf("scores/window=%s/scores.parquet", w)]
	if vdata == nil || sdata == nil {
		return nil
	}
	v, err := reports.DecodeVerdicts(vdata)
	if err != nil {
		t.Errorf("window %s verdicts: %v", w, err)
		return nil
	}
	rows, err := reports.DecodeScores(sdata)
	if err != nil {
		return nil // reported by checkState
	}
	scores := map[string]*float64{}
	for _, r := range rows {
		scores[r.Feature+"|"+r.InputClass+"|"+r.Metric] = r.Value
	}
	n := 0
	for fname, f := range v.Features {
		for cname, c := range f.Classes {
			for mname, m := range c.Metrics {
				s, ok := scores[fname+"|"+cname+"|"+mname]
				if !ok {
					mismatches = append(mismatches, fmt.Sprintf("window %s: verdict metric %s/%s/%s has no score row", w, fname, cname, mname))
					continue
				}
				if !sameNum(s, m.Value) {
					mismatches = append(mismatches, fmt.Sprintf("window %s: %s/%s/%s verdict says %v, scores say %v", w, fname, cname, mname, deref(m.Value), deref(s)))
				}
				n++
			}
		}
	}
	if n == 0 && len(v.Features) > 0 {
		t.Errorf("window %s: verdicts carry no metrics to check", w)
	}
	if len(mismatches) > 1 {
		mismatches = mismatches[:1] // one mix per window
	}
	return mismatches
}

func sameNum(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b || (*a != *a && *b != *b)
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// scoresOf decodes a window's scores from a snapshot.
func scoresOf(t *testing.T, snap map[string][]byte, w eval.Window) []reports.ScoreRow {
	t.Helper()
	rows, err := reports.DecodeScores(snap[fmt.Sprintf("scores/window=%s/scores.parquet", w.Key())])
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
