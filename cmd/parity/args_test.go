package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cpSource is a folder of three objects, two under logs/.
func cpSource(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	for _, k := range []string{"logs/dt=2026-10-01/a.parquet", "logs/dt=2026-10-02/b.parquet", "labels/c.parquet"} {
		p := filepath.Join(src, filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(k), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return src
}

// notWritten fails when dst exists: a refused cp writes nothing.
func notWritten(t *testing.T, dst string) {
	t.Helper()
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Errorf("%s was created by a cp that failed", dst)
	}
}

// TestCpEmptySourceFails: a source holding no object (a mistyped path)
// or nothing under --prefix used to print "copied 0 objects" and exit 0,
// letting a cron pipeline carry on without its data.
func TestCpEmptySourceFails(t *testing.T) {
	src := cpSource(t)
	missing := filepath.Join(t.TempDir(), "no-such-dir")
	dst := filepath.Join(t.TempDir(), "dst")
	code, out, errs := run(t, "cp", missing, dst)
	if code != ExitFailure || !strings.Contains(errorText(t, errs), missing+" holds no object at all") || out != "" {
		t.Errorf("cp from a missing folder: exit %d, want %d naming it\n%s%s", code, ExitFailure, out, errs)
	}
	code, out, errs = run(t, "cp", "--prefix", "log/", src, dst)
	if msg := errorText(t, errs); code != ExitFailure || !strings.Contains(msg, `--prefix "log/"`) || !strings.Contains(msg, src) || out != "" {
		t.Errorf("cp --prefix matching nothing: exit %d, want %d naming the prefix and the source\n%s%s", code, ExitFailure, out, errs)
	}
	notWritten(t, dst)
}

// TestCpEmptyS3SourceFails: the same for an empty S3 prefix, named in
// the error.
func TestCpEmptyS3SourceFails(t *testing.T) {
	_, bucket := cpS3Env(t)
	dst := filepath.Join(t.TempDir(), "dst")
	uri := "s3://" + bucket + "/nothing-here"
	code, out, errs := run(t, "cp", uri, dst)
	if code != ExitFailure || !strings.Contains(errorText(t, errs), uri) || out != "" {
		t.Errorf("cp from an empty S3 prefix: exit %d, want %d naming it\n%s%s", code, ExitFailure, out, errs)
	}
	notWritten(t, dst)
}

// TestCpFlagsAfterArguments: README and --help write `parity cp SRC DST
// [--prefix P]`; the flag package alone stopped at SRC and the command
// exited 2 with the usage and no reason.
func TestCpFlagsAfterArguments(t *testing.T) {
	src := cpSource(t)
	for i, args := range [][]string{
		{"cp", src, "DST", "--prefix", "logs/"},
		{"cp", src, "--prefix=logs/", "DST"},
		{"cp", "--prefix", "logs/", src, "DST"},
		{"cp", "--prefix", "logs/", "--", src, "DST"},
	} {
		dst := filepath.Join(t.TempDir(), fmt.Sprint(i))
		for j := range args {
			if args[j] == "DST" {
				args[j] = dst
			}
		}
		code, out, errs := run(t, args...)
		if code != ExitOK || !strings.Contains(out, "copied 2 objects") {
			t.Errorf("%q: exit %d, want 0 copying the 2 objects under logs/\n%s%s", args, code, out, errs)
			continue
		}
		if _, err := os.Stat(filepath.Join(dst, "labels")); err == nil {
			t.Errorf("%q copied labels/, outside --prefix", args)
		}
	}
}

// TestCpUsageErrorsSayWhy: a wrong argument count used to print only the
// usage, and --prefix ../ exited 1 (the store refused the key at List)
// where every other bad argument exits 2.
func TestCpUsageErrorsSayWhy(t *testing.T) {
	src := cpSource(t)
	dst := filepath.Join(t.TempDir(), "dst")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"cp", src}, "want SRC and DST, got 1 argument"},
		{[]string{"cp", src, dst, "extra"}, `unexpected argument "extra"`},
		{[]string{"cp", src, dst, "--prefix", "../"}, `--prefix "../"`},
		{[]string{"cp", "--prefix", "logs/../../x/", src, dst}, `--prefix "logs/../../x/"`},
		{[]string{"cp", "--prefix", "/etc/", src, dst}, `--prefix "/etc/"`},
	} {
		code, _, errs := run(t, c.args...)
		if msg := errorText(t, errs); code != ExitUsage || !strings.Contains(msg, c.want) {
			t.Errorf("%q: exit %d, want %d saying %q: %s", c.args, code, ExitUsage, c.want, errs)
		}
	}
	notWritten(t, dst)
}

// TestListenAddressIsUsageError: a malformed --addr or --listen exited 1
// as if the environment had failed; it is a usage error naming the flag
// and value, found before anything starts. A well-formed address that
// cannot be bound (in use) stays a runtime failure.
func TestListenAddressIsUsageError(t *testing.T) {
	cfg, _ := setup(t)
	out := t.TempDir()
	for _, addr := range []string{"999.1.1.1:99999", "127.0.0.1:44321x", "999.1.1.1:80", "127.0.0.1", "a b:80", "127.0.0.1:-1"} {
		code, _, errs := run(t, "serve", "--output", out, "--addr", addr)
		if msg := errorText(t, errs); code != ExitUsage || !strings.Contains(msg, fmt.Sprintf("--addr %q", addr)) {
			t.Errorf("serve --addr %s: exit %d, want %d naming --addr and the value: %s", addr, code, ExitUsage, errs)
		}
		code, _, errs = run(t, "schedule", "--config", cfg, "--listen", addr)
		if msg := errorText(t, errs); code != ExitUsage || !strings.Contains(msg, fmt.Sprintf("--listen %q", addr)) {
			t.Errorf("schedule --listen %s: exit %d, want %d naming --listen and the value: %s", addr, code, ExitUsage, errs)
		}
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	if code, _, errs := run(t, "serve", "--output", out, "--addr", addr); code != ExitFailure || !strings.Contains(errs, "address already in use") {
		t.Errorf("serve --addr %s (in use): exit %d, want %d: %s", addr, code, ExitFailure, errs)
	}
	if code, _, errs := run(t, "schedule", "--config", cfg, "--listen", addr); code != ExitFailure || !strings.Contains(errs, "address already in use") {
		t.Errorf("schedule --listen %s (in use): exit %d, want %d: %s", addr, code, ExitFailure, errs)
	}
}

// TestRunJobShardSaysWhatItWrote: `run --job daily --shard 0/2` writes
// only partial aggregates but said "evaluated 4 window(s) ... outputs in",
// as if it had written scores and verdicts.
func TestRunJobShardSaysWhatItWrote(t *testing.T) {
	cfg, out := setup(t)
	code, stdout, errs := run(t, "run", "--config", cfg, "--job", "daily", "--shard", "0/2", "--now", "2026-10-04T05:30:00Z", "--log-level", "error")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, errs)
	}
	if !strings.Contains(stdout, "job daily (evaluate): shard 0/2: partial aggregates for ") || !strings.Contains(stdout, "parity merge") || strings.Contains(stdout, "evaluated") {
		t.Errorf("stdout does not say the shard wrote partial aggregates for parity merge:\n%s", stdout)
	}
	if _, err := os.Stat(filepath.Join(out, "verdicts")); !os.IsNotExist(err) {
		t.Errorf("a shard wrote verdicts")
	}
}

// TestMergeWindowOrRange: merge took --window and --from/--to together
// (silently using --window), and --shard and --exit-code-on were
// accepted and ignored.
func TestMergeWindowOrRange(t *testing.T) {
	cfg, out := setup(t)
	const window, now = "2026-10-02/2026-10-03", "2026-10-07T00:00:00Z"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--window", window, "--from", "2026-10-01", "--to", "2026-10-03"}, "give --window, or --from and --to, not both"},
		{[]string{"--window", window, "--to", "2026-10-03"}, "give --window, or --from and --to, not both"},
		{[]string{"--window", window, "--shard", "0/2"}, `--shard "0/2"`},
		{[]string{"--from", "2026-10-03", "--to", "2026-10-01"}, "with from < to"},
		{[]string{"--window", window, "extra"}, `unexpected argument "extra"`},
	} {
		code, _, errs := run(t, append([]string{"merge", "--config", cfg}, c.args...)...)
		if msg := errorText(t, errs); code != ExitUsage || !strings.Contains(msg, c.want) {
			t.Errorf("merge %q: exit %d, want %d saying %q: %s", c.args, code, ExitUsage, c.want, errs)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused merge wrote to %s", out)
	}
	// Two failing windows of ticket_routing make a rollback verdict.
	const from, to = "2026-10-01", "2026-10-03"
	for i := range 2 {
		if code, _, errs := run(t, "backfill", "--config", cfg, "--from", from, "--to", to, "--now", now, "--shard", fmt.Sprintf("%d/2", i), "--log-level", "error"); code != ExitOK {
			t.Fatalf("shard %d: %s", i, errs)
		}
	}
	code, stdout, errs := run(t, "merge", "--config", cfg, "--from", from, "--to", to, "--now", now, "--exit-code-on", "rollback", "--log-level", "error")
	if v := readVerdicts(t, filepath.Join(out, "verdicts/latest.json")); v.Features["ticket_routing"].Verdict != "rollback" {
		t.Fatalf("ticket_routing is %s after merging two failing windows, want rollback (the test's premise)", v.Features["ticket_routing"].Verdict)
	}
	if code != ExitRollback {
		t.Errorf("merge --exit-code-on rollback with a rollback verdict: exit %d, want %d\n%s%s", code, ExitRollback, stdout, errs)
	}
}

// TestRunShardOfReconcileJob: a reconcile job is not split into shards;
// with --shard every shard pod ran the whole job and exited 0.
func TestRunShardOfReconcileJob(t *testing.T) {
	cfg, out := reconConfig(t)
	code, _, errs := reconMain("run", "--config", cfg, "--job", "recon-nightly", "--shard", "0/2")
	if msg := errorText(t, errs); code != ExitUsage || !strings.Contains(msg, "--shard") || !strings.Contains(msg, "recon-nightly") {
		t.Errorf("run --job recon-nightly --shard 0/2: exit %d, want %d naming --shard and the job: %s", code, ExitUsage, errs)
	}
	if _, err := os.Stat(filepath.Join(out, "reconcile")); !os.IsNotExist(err) {
		t.Errorf("a refused run wrote reconcile results")
	}
}

// A stray argument is a usage error naming it: Go's flag package stops at
// the first argument, so every flag after it used to be ignored
// (`backfill --config F extra --from ...` then said --from was missing).
// verify takes its report before, between or after the flags.
func TestStrayArgumentsAreUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"backfill", "--config", "c.yaml", "extra", "--from", "2026-10-01", "--to", "2026-10-02"},
		{"validate", "--config", "c.yaml", "extra"},
		{"demo", "extra"},
		{"verify", "a.html", "b.html"},
	} {
		code, _, errs := run(t, args...)
		msg := errorText(t, errs)
		if code != ExitUsage || !strings.Contains(msg, `unexpected argument "extra"`) && !strings.Contains(msg, "want one REPORT.html, got 2") {
			t.Errorf("%v: exit %d: %s", args, code, errs)
		}
	}
	missing := filepath.Join(t.TempDir(), "missing.html")
	for _, args := range [][]string{
		{"verify", "--log-level", "error", missing},
		{"verify", missing, "--log-level", "error"},
		{"verify", "--log-level", "error", missing, "--config", "x.yaml"},
	} {
		if code, _, errs := run(t, args...); code != ExitFailure || !strings.Contains(errs, "missing.html") {
			t.Errorf("%v: exit %d, want 1 naming the report: %s", args, code, errs)
		}
	}
}
