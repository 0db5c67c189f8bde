package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parity-eval/parity/storage"
)

// A reconcile killed while it holds the reconciliation's lock
// (locks/reconcile-NAME.lock) leaves a lease of --lock-ttl, not a fixed
// 10 minutes: a second reconcile right after the kill exits 1 naming the
// holder and an expiry within the lease, and one after the expiry takes
// the lock over and runs. The kill lands at a known point: the test
// holds the flock(2) the file store takes for a conditional write on
// the lock object, so the run takes its lease (link(2), no flock),
// writes its results and then blocks releasing the lease, where it is
// killed as a crash there would leave it.
func TestReconcileKilledRunLockExpiresAfterLockTTL(t *testing.T) {
	bin, _ := schedSetup(t)
	cfg, out := reconConfig(t)
	const ttl = 3 * time.Second
	lockPath := filepath.Join(out, "locks", "reconcile-dual_write.lock")
	if err := os.MkdirAll(filepath.Dir(lockPath), 0o755); err != nil {
		t.Fatal(err)
	}
	cas, err := os.OpenFile(lockPath+".parity-cas", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer cas.Close()
	if err := syscall.Flock(int(cas.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "reconcile", "--config", cfg, "--run", "03", "--lock-ttl", ttl.String(), "--log-level", "info")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	result := filepath.Join(out, "reconcile", "dual_write", "run=03", "result.json")
	waitFor(t, "the lease taken and run 03's result written", 60*time.Second, func() bool {
		select {
		case <-exited:
			t.Fatalf("reconcile --lock-ttl %v exited (%d) before it could be killed holding its lease:\n%s", ttl, cmd.ProcessState.ExitCode(), stderr.String())
		default:
		}
		_, e1 := os.Stat(lockPath)
		_, e2 := os.Stat(result)
		return e1 == nil && e2 == nil
	})
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	killed := time.Now()
	if err := syscall.Flock(int(cas.Fd()), syscall.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(lockPath)
	if err != nil {
		t.Fatalf("no lease left by the killed run: %v", err)
	}
	var li storage.LockInfo
	if err := json.Unmarshal(b, &li); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(li.Owner, "reconcile-dual_write-run-03-") || li.Expires.After(killed.Add(ttl)) {
		t.Fatalf("lease left by the killed run: %s until %v (killed at %v), want reconcile-dual_write-run-03-… for at most --lock-ttl %v", li.Owner, li.Expires, killed, ttl)
	}

	code, _, errs := runBin(t, bin, "reconcile", "--config", cfg, "--run", "04", "--lock-ttl", ttl.String())
	if time.Now().Before(li.Expires) {
		if code != ExitFailure || !strings.Contains(errs, "held by ") || !strings.Contains(errs, "reconcile-dual_write-run-03-") || !strings.Contains(errs, li.Expires.Format(time.RFC3339)) {
			t.Errorf("reconcile during the dead run's lease: exit %d, want %d naming the holder and %s:\n%s", code, ExitFailure, li.Expires.Format(time.RFC3339), errs)
		}
	}
	time.Sleep(time.Until(li.Expires.Add(500 * time.Millisecond)))
	code, stdout, errs := runBin(t, bin, "reconcile", "--config", cfg, "--pending", "--lock-ttl", ttl.String())
	if code != ExitOK || !strings.Contains(stdout, "reconciled dual_write: 4 run(s)") {
		t.Fatalf("reconcile after the lease expired: exit %d, want 0 reconciling runs 01, 02, 04, 05\n%s%s", code, stdout, errs)
	}
	if _, err := os.Stat(lockPath); err == nil {
		t.Errorf("lock %s left behind by a run that finished", lockPath)
	}
}

func runBin(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	var o, e bytes.Buffer
	c := exec.Command(bin, args...)
	c.Stdout, c.Stderr = &o, &e
	if err := c.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatal(err)
		}
	}
	return c.ProcessState.ExitCode(), o.String(), e.String()
}
