package jobs_test

// Integration tests of whole evaluations with logs, labels and outputs on
// S3: a real versitygw server (SigV4 enforced), started per test by
// storagetest.StartS3, and, where processes matter (locks, concurrency,
// kills), real subprocesses of the parity binary built from this tree.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets/synth"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/jobs"
	"github.com/parity-eval/parity/reports"
	"github.com/parity-eval/parity/storage"
	s3store "github.com/parity-eval/parity/storage/s3"
	"github.com/parity-eval/parity/storage/storagetest"
)

// The small synthetic dataset every S3 test uploads: three daily windows,
// a few thousand rows, so a whole run takes about a second.
var (
	testStart = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	testDays  = 3
	testNow   = testStart.Add(time.Duration(testDays)*24*time.Hour + time.Hour)
)

var synthDir = sync.OnceValues(func() (string, error) { return genSynth(0.02) })

// bigSynthDir has files large enough (over a MiB each) that reading
// a few columns is visibly cheaper than reading the file: small files are
// fetched whole with their footer.
var bigSynthDir = sync.OnceValues(func() (string, error) { return genSynth(2) })

func genSynth(scale float64) (string, error) {
	dir, err := os.MkdirTemp("", "parity-jobs-s3-")
	if err != nil {
		return "", err
	}
	_, err = synth.Generate(dir, synth.Options{Seed: 5, Start: testStart, Days: testDays, Scale: scale})
	return dir, err
}

// testConfig is one feature over the log and label columns; OUTPUT, LOGS,
// LABELS and ENDPOINT are filled in per test.
const testConfig = `version: 1
source:
  logs: LOGS
  labels: LABELS
output: OUTPUT
s3:
  endpoint: ENDPOINT
  region: us-east-1
window: 24h
baseline:
  windows: 1
features:
  - name: ticket_routing
    fields:
      - name: category
        legacy: legacy_category
        ai: ai_category
        label: label_category
        critical: true
    criteria:
      min_agreement: 0.95
      quality_margin: 0.03
    policy:
      graduate_after: 2
      rollback_after: 2
      steps: [0, 10, 25, 50, 100]
      initial_percent: 10
`

// s3Env is one test's server, bucket and stores.
type s3Env struct {
	srv      storagetest.S3Server
	bucket   string
	endpoint string // the server, or a FaultProxy in front of it
	in, out  *s3store.Store
}

// newS3Env starts a server, creates a bucket, uploads the synthetic logs
// and labels under in/ with the s3 Store's Put, and points the AWS
// environment at the server's keys (jobs.Open uses the standard chain).
func newS3Env(t *testing.T) *s3Env { return newS3EnvWith(t, synthDir) }

func newS3EnvWith(t *testing.T, data func() (string, error)) *s3Env {
	t.Helper()
	srv := storagetest.StartS3(t)
	e := &s3Env{srv: srv, bucket: srv.NewBucket(t), endpoint: srv.Endpoint}
	e.in = e.store(t, "in", srv.Endpoint)
	e.out = e.store(t, "out", srv.Endpoint)
	dir, err := data()
	if err != nil {
		t.Fatal(err)
	}
	upload(t, e.in, dir, "logs", "labels")
	for k, v := range e.awsEnv() {
		t.Setenv(k, v)
	}
	return e
}

// awsEnv is the environment a parity process needs for the server: its
// keys, and no shared config or credentials files from the host.
func (e *s3Env) awsEnv() map[string]string {
	none := filepath.Join(os.TempDir(), "parity-no-aws-config")
	return map[string]string{
		"AWS_ACCESS_KEY_ID":           e.srv.AccessKey,
		"AWS_SECRET_ACCESS_KEY":       e.srv.SecretKey,
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  e.srv.Region,
		"AWS_CONFIG_FILE":             none,
		"AWS_SHARED_CREDENTIALS_FILE": none,
		"AWS_PROFILE":                 "",
		"AWS_MAX_ATTEMPTS":            "",
	}
}

func (e *s3Env) store(t testing.TB, prefix, endpoint string) *s3store.Store {
	t.Helper()
	s, err := s3store.New(context.Background(), s3store.Config{
		Bucket: e.bucket, Prefix: prefix, Endpoint: endpoint, Region: e.srv.Region,
		Credentials: e.srv.Credentials(), MaxBackoff: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// config writes the test config with every location on S3 (through
// endpoint, the server or a proxy) and returns its path.
func (e *s3Env) config(t testing.TB, endpoint string) string {
	t.Helper()
	return e.configWith(t, endpoint, "")
}

// configWith is config with extra top-level YAML.
func (e *s3Env) configWith(t testing.TB, endpoint, extra string) string {
	t.Helper()
	r := strings.NewReplacer(
		"LOGS", "s3://"+e.bucket+"/in/logs",
		"LABELS", "s3://"+e.bucket+"/in/labels",
		"OUTPUT", "s3://"+e.bucket+"/out",
		"ENDPOINT", endpoint)
	p := filepath.Join(t.TempDir(), "parity.yaml")
	if err := os.WriteFile(p, []byte(r.Replace(testConfig)+extra), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// upload puts every file under dir/sub (for each sub) at the same key.
func upload(t testing.TB, s storage.Store, dir string, subs ...string) {
	t.Helper()
	ctx := context.Background()
	for _, sub := range subs {
		err := filepath.WalkDir(filepath.Join(dir, sub), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			_, err = s.Put(ctx, filepath.ToSlash(rel), data)
			return err
		})
		if err != nil {
			t.Fatalf("upload %s: %v", sub, err)
		}
	}
}

// openRunner loads cfgPath the way the CLI does and opens its stores.
func openRunner(t testing.TB, cfgPath string) *jobs.Runner {
	t.Helper()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	r, err := jobs.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func allWindows() []eval.Window {
	return eval.WindowsBetween(testStart, testStart.Add(time.Duration(testDays)*24*time.Hour), 24*time.Hour)
}

func quietOptions() jobs.Options {
	return jobs.Options{Now: func() time.Time { return testNow }, Log: discardLog()}
}

// s3Snapshot maps every key under the store to its content.
func s3Snapshot(t testing.TB, s storage.Store) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	objs, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, o := range objs {
		data, _, err := s.Get(ctx, o.Key)
		if err != nil {
			t.Fatalf("get %s: %v", o.Key, err)
		}
		out[o.Key] = data
	}
	return out
}

func sortedKeys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestS3EndToEnd runs a backfill with logs, labels and output on S3 and
// checks every output and the input manifest; a rerun is idempotent; a
// wrong secret is refused by the server (signatures are checked).
func TestS3EndToEnd(t *testing.T) {
	e := newS3Env(t)
	cfgPath := e.config(t, e.endpoint)
	r := openRunner(t, cfgPath)
	if got, want := r.Out.URI(), "s3://"+e.bucket+"/out"; !strings.HasPrefix(got, want) {
		t.Fatalf("output store %s, want %s: config.resolve must keep s3:// locations", got, want)
	}
	ctx := context.Background()
	res, err := r.Evaluate(ctx, allWindows(), quietOptions())
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows == 0 || res.Verdicts == nil {
		t.Fatalf("run used %d rows, verdicts %v", res.Rows, res.Verdicts)
	}
	first := s3Snapshot(t, e.out)
	for _, w := range allWindows() {
		for _, k := range []string{"scores/window=%s/scores.parquet", "verdicts/window=%s/verdicts.json", "manifests/window=%s/manifest.json", "evaluations/window=%s/evaluation.json", "history/window=%s/records.json"} {
			if _, ok := first[fmt.Sprintf(k, w.Key())]; !ok {
				t.Errorf("missing output %s; have %v", fmt.Sprintf(k, w.Key()), sortedKeys(first))
			}
		}
	}
	if _, ok := first["locks/evaluate.lock"]; ok {
		t.Error("run lock left behind after a successful run")
	}
	latest, err := reports.DecodeVerdicts(first[jobs.KeyLatest])
	if err != nil {
		t.Fatalf("latest.json: %v", err)
	}
	if last := allWindows()[testDays-1]; !latest.Window.Start.Equal(last.Start) || latest.Run.ID != res.RunID {
		t.Fatalf("latest.json is window %v run %s; want %v run %s", latest.Window, latest.Run.ID, last, res.RunID)
	}

	// The input manifest names every object read on S3, with its ETag and
	// size as the server reports them.
	inObjs, err := e.in.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]storage.Object{}
	for _, o := range inObjs {
		want[o.Key] = o
	}
	// Each window's manifest names the objects with rows in that window
	// (here one a day); together they name every object read.
	type fileEntry struct {
		Location, Key, ETag, Role string
		Size                      int64
		RowsUsed                  int64 `json:"rows_used"`
	}
	var files []fileEntry
	for _, w := range allWindows() {
		var man struct{ Files []fileEntry }
		if err := json.Unmarshal(first[fmt.Sprintf("manifests/window=%s/manifest.json", w.Key())], &man); err != nil {
			t.Fatal(err)
		}
		day := "dt=" + w.Start.Format("2006-01-02") + "/"
		var logs []fileEntry
		for _, f := range man.Files {
			if f.Role == "" {
				logs = append(logs, f)
			}
		}
		if len(logs) != 1 || !strings.HasPrefix(logs[0].Key, day) || logs[0].RowsUsed == 0 {
			t.Errorf("window %s's manifest lists the log files %+v, want the one of %s with its rows used", w, logs, day)
		}
		files = append(files, man.Files...)
	}
	seen := map[string]bool{}
	for _, f := range files {
		o, ok := want[strings.TrimPrefix(f.Location, "s3://"+e.bucket+"/in/")]
		if !ok || !strings.HasPrefix(f.Location, "s3://"+e.bucket+"/in/") {
			t.Errorf("manifest entry %+v is not an uploaded object", f)
			continue
		}
		if f.ETag == "" || f.ETag != o.ETag || f.Size != o.Size {
			t.Errorf("manifest %s: etag %q size %d; server has %q %d", f.Location, f.ETag, f.Size, o.ETag, o.Size)
		}
		seen[o.Key] = true
	}
	for k := range want {
		if !seen[k] {
			t.Errorf("object %s was read but is not in the manifest", k)
		}
	}

	// Rerun: same keys; verdicts equal apart from the run's identity.
	res2, err := openRunner(t, cfgPath).Evaluate(ctx, allWindows(), quietOptions())
	if err != nil {
		t.Fatal(err)
	}
	second := s3Snapshot(t, e.out)
	if a, b := strings.Join(sortedKeys(first), " "), strings.Join(sortedKeys(second), " "); a != b {
		t.Fatalf("rerun changed the set of outputs:\n%s\n%s", a, b)
	}
	for _, w := range allWindows() {
		k := fmt.Sprintf("verdicts/window=%s/verdicts.json", w.Key())
		if a, b := normVerdicts(t, first[k]), normVerdicts(t, second[k]); a != b {
			t.Errorf("rerun changed %s:\n%s\n%s", k, a, b)
		}
	}
	if res2.RunID == res.RunID && res2.RunID != "" {
		t.Logf("same run id %s (same pid and clock)", res.RunID)
	}

	// A wrong secret: the server checks signatures, the run fails and
	// the error carries no credentials.
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong"+e.srv.SecretKey[5:])
	_, err = openRunner(t, cfgPath).Evaluate(ctx, allWindows(), quietOptions())
	if err == nil {
		t.Fatal("run with a wrong secret key succeeded: signatures are not checked")
	}
	if strings.Contains(err.Error(), e.srv.SecretKey[5:]) {
		t.Fatalf("error leaks the secret: %v", err)
	}
	if after := s3Snapshot(t, e.out); !equalSnap(second, after) {
		t.Fatal("a refused run changed the outputs")
	}
}

// normVerdicts renders a verdict document without the fields that name
// the run (id, generation time), for comparing reruns.
func normVerdicts(t testing.TB, data []byte) string {
	t.Helper()
	v, err := reports.DecodeVerdicts(data)
	if err != nil {
		t.Fatalf("verdicts: %v", err)
	}
	v.Run = reports.RunInfo{}
	v.GeneratedAt = time.Time{}
	out, err := v.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func equalSnap(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

// fewColumns points the operational columns (errors, latency, cost,
// routing, confidence, model, input hash) at names the logs lack, as for
// a legacy system that records none of them; they are optional, so the
// run needs 6 of the 21 log columns: request_id, ts, feature, input_class
// and the two answers (labels come from the labels dataset).
const fewColumns = `columns:
  legacy_error: absent_legacy_error
  ai_error: absent_ai_error
  legacy_latency_ms: absent_legacy_latency_ms
  ai_latency_ms: absent_ai_latency_ms
  legacy_cost: absent_legacy_cost
  ai_cost: absent_ai_cost
  served_by: absent_served_by
  ai_confidence: absent_ai_confidence
  ai_model_version: absent_ai_model_version
  input_hash: absent_input_hash
`

// TestS3ReadsFewBytes: a run that needs a third of the log columns
// fetches well under half of each object's bytes, in ranged GETs.
func TestS3ReadsFewBytes(t *testing.T) {
	e := newS3EnvWith(t, bigSynthDir)
	r := openRunner(t, e.configWith(t, e.endpoint, fewColumns))
	res, err := r.Evaluate(context.Background(), allWindows(), quietOptions())
	if err != nil {
		t.Fatal(err)
	}
	logs := r.Logs.Store.(*s3store.Store)
	st := logs.Stats()
	var size, read int64
	n := 0
	for _, f := range res.Manifest.Files {
		if !strings.HasPrefix(f.Location, logs.URI()) {
			continue // labels
		}
		n++
		size += f.Size
		read += f.BytesRead
		// Well under half: the six columns hold a fifth of the bytes,
		// plus the footer.
		if f.BytesRead <= 0 || float64(f.BytesRead) >= 0.4*float64(f.Size) {
			t.Errorf("%s: read %d of %d bytes; want under 40%%", f.Key, f.BytesRead, f.Size)
		}
	}
	if n == 0 {
		t.Fatalf("no log files in the manifest: %+v", res.Manifest.Files)
	}
	// The store's own counters also count the footer reads of the
	// pre-scan Check.
	if st.BytesFetched <= 0 || st.BytesFetched*2 >= size || st.RangeGETs == 0 || st.Gets != 0 {
		t.Errorf("logs store stats %+v for %d bytes of logs; want ranged GETs of well under half", st, size)
	}
	t.Logf("%d log files, %d bytes; manifest bytes_read %d (%.0f%%); store: %d ranged GETs, %d bytes (%.0f%%)",
		n, size, read, 100*float64(read)/float64(size), st.RangeGETs, st.BytesFetched, 100*float64(st.BytesFetched)/float64(size))
}

// --- subprocess helpers (lock, concurrency and kill tests) ---

// parityBin builds the binary from this tree once per test binary.
var parityBin = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "parity-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "parity")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "github.com/parity-eval/parity/cmd/parity")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func bin(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go toolchain not on PATH: cannot build the parity binary")
	}
	b, err := parityBin()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parityCmd is a `parity` subprocess with the S3 environment.
func (e *s3Env) parityCmd(t testing.TB, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	return e.parityCmdEnv(t, nil, args...)
}

// parityCmdEnv is parityCmd with extra environment (e.g. AWS_MAX_ATTEMPTS).
func (e *s3Env) parityCmdEnv(t testing.TB, extra map[string]string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bin(t), args...)
	env := os.Environ()
	for k, v := range e.awsEnv() {
		env = append(env, k+"="+v)
	}
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	cmd.Env = env
	var o, er bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &er
	return cmd, &o, &er
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -int(ws.Signal())
		}
		return ee.ExitCode()
	}
	if err != nil {
		return -1000
	}
	return 0
}

func runArgs(cfg string, w eval.Window, lockTTL time.Duration) []string {
	return []string{"run", "--config", cfg, "--window", w.Start.Format(time.RFC3339) + "/" + w.End.Format(time.RFC3339),
		"--now", testNow.Format(time.RFC3339), "--lock-ttl", lockTTL.String(), "--log-level", "error"}
}

// TestS3ConcurrentRuns starts two real `parity run` processes on the same
// window and output at once (through a proxy that slows every ranged
// read, so the runs surely overlap): exactly one succeeds, the other
// exits 1 naming the holder, and every output is the winner's. The lease
// is 1 s and the winner runs for several: a third run, started after the
// first lease would have expired, is refused too, so the winner renewed.
func TestS3ConcurrentRuns(t *testing.T) {
	e := newS3Env(t)
	bin(t) // build before timing anything
	p := storagetest.NewFaultProxy(t, e.srv.Endpoint)
	p.Always(storagetest.Match{Method: "GET", Ranged: true}, storagetest.Slow(time.Second))
	cfg := e.config(t, p.URL())
	w := allWindows()[1]
	const ttl = time.Second
	type result struct {
		pid          int
		code         int
		stdout, errs string
		ended        time.Time
	}
	cmds := make([]*exec.Cmd, 2)
	outs := make([][2]*bytes.Buffer, 2)
	for i := range cmds {
		c, o, er := e.parityCmd(t, runArgs(cfg, w, ttl)...)
		cmds[i], outs[i] = c, [2]*bytes.Buffer{o, er}
	}
	start := time.Now()
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan result, 2)
	for i, c := range cmds {
		go func() {
			err := c.Wait()
			done <- result{pid: c.Process.Pid, code: exitCode(err), stdout: outs[i][0].String(), errs: outs[i][1].String(), ended: time.Now()}
		}()
	}
	lose := <-done
	// A latecomer, after the first lease (1 s) would have run out.
	time.Sleep(time.Until(start.Add(2 * ttl)))
	late, _, lateErr := e.parityCmd(t, runArgs(cfg, w, ttl)...)
	lateCode := exitCode(late.Run())
	lateEnd := time.Now()
	win := <-done
	if win.code != 0 || lose.code != 1 {
		t.Fatalf("exit codes: first to end %d, second %d; want 1 then 0\n%+v\n%+v", lose.code, win.code, lose, win)
	}
	if !strings.Contains(lose.errs, "held by") || !strings.Contains(lose.errs, fmt.Sprintf("pid %d", win.pid)) {
		t.Fatalf("loser's message does not name the holder (pid %d):\n%s", win.pid, lose.errs)
	}
	if !win.ended.After(lateEnd) {
		t.Fatalf("the winner ended %v after start, before the latecomer was refused: slow the reads more", win.ended.Sub(start))
	}
	if lateCode != 1 || !strings.Contains(lateErr.String(), fmt.Sprintf("pid %d", win.pid)) {
		t.Fatalf("latecomer at %v (lease %v): exit %d, want 1 naming pid %d: the lease was not renewed\n%s", lateEnd.Sub(start), ttl, lateCode, win.pid, lateErr)
	}
	snap := s3Snapshot(t, e.out)
	checkState(t, snap, true)
	latest, _ := reports.DecodeVerdicts(snap[jobs.KeyLatest])
	if !strings.HasSuffix(latest.Run.ID, fmt.Sprintf("-%d", win.pid)) {
		t.Fatalf("latest.json run %s is not the winner's (pid %d)", latest.Run.ID, win.pid)
	}
	for _, row := range scoresOf(t, snap, w) {
		if row.RunID != latest.Run.ID {
			t.Fatalf("scores of %s hold run %s, want only the winner's %s", w.Key(), row.RunID, latest.Run.ID)
		}
	}
	t.Logf("winner pid %d ran %v with a %v lease; loser said: %s", win.pid, win.ended.Sub(start).Round(time.Millisecond), ttl, strings.TrimSpace(lose.errs))
}

// TestS3LockTakeover SIGKILLs a real run while it holds the lock: the
// next run is refused while the dead run's lease lasts, naming it, and
// takes the lock over once the lease has expired.
func TestS3LockTakeover(t *testing.T) {
	e := newS3Env(t)
	bin(t)
	p := storagetest.NewFaultProxy(t, e.srv.Endpoint)
	// Slow reads keep the victim inside its run until we kill it.
	p.Always(storagetest.Match{Method: "GET", Ranged: true}, storagetest.Slow(300*time.Millisecond))
	cfg := e.config(t, p.URL())
	w := allWindows()[0]
	const ttl = 3 * time.Second
	victim, _, verr := e.parityCmd(t, runArgs(cfg, w, ttl)...)
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var info storage.LockInfo
	deadline := time.Now().Add(30 * time.Second)
	for {
		data, _, err := e.out.Get(ctx, "locks/evaluate.lock")
		if err == nil && json.Unmarshal(data, &info) == nil && info.PID == victim.Process.Pid {
			break
		}
		if time.Now().After(deadline) {
			_ = victim.Process.Kill()
			t.Fatalf("the run never took the lock: %s", verr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = victim.Process.Signal(syscall.SIGKILL)
	_ = victim.Wait()
	p.Clear()

	c, _, er := e.parityCmd(t, runArgs(cfg, w, ttl)...)
	if code := exitCode(c.Run()); code != 1 || !strings.Contains(er.String(), fmt.Sprintf("pid %d", victim.Process.Pid)) {
		t.Fatalf("run during the dead run's lease: exit %d, want 1 naming pid %d:\n%s", code, victim.Process.Pid, er)
	}
	// Read the lease again: the victim may have renewed it before dying.
	if data, _, err := e.out.Get(ctx, "locks/evaluate.lock"); err == nil {
		_ = json.Unmarshal(data, &info)
	}
	time.Sleep(time.Until(info.Expires) + 100*time.Millisecond)
	c, o, er := e.parityCmd(t, runArgs(cfg, w, ttl)...)
	if code := exitCode(c.Run()); code != 0 {
		t.Fatalf("run after the lease expired: exit %d\n%s%s", code, o, er)
	}
	snap := s3Snapshot(t, e.out)
	checkState(t, snap, true)
	if _, ok := snap["locks/evaluate.lock"]; ok {
		t.Fatal("the recovering run left the lock behind")
	}
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
