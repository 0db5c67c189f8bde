package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parity-eval/parity/storage"
	"github.com/parity-eval/parity/storage/storagetest"
)

// cpS3Env points the standard AWS chain at a fresh test server and returns
// it with a new bucket.
func cpS3Env(t *testing.T) (storagetest.S3Server, string) {
	t.Helper()
	srv := storagetest.StartS3(t)
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_S3": srv.Endpoint, "AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": srv.SecretKey,
		"AWS_REGION": srv.Region, "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none,
		"AWS_MAX_ATTEMPTS": "2",
	} {
		t.Setenv(k, v)
	}
	return srv, srv.NewBucket(t)
}

func cpMain(args ...string) (int, string, string) {
	var o, e bytes.Buffer
	code := Main(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

// TestCpRoundTripS3 copies a folder to S3 and back with `parity cp` and
// gets the same bytes; --prefix selects a subtree; usage errors exit 2 and
// a refused signature exits 1 without leaking the keys.
func TestCpRoundTripS3(t *testing.T) {
	srv, bucket := cpS3Env(t)
	src := t.TempDir()
	files := map[string]string{
		"logs/dt=2026-10-01/part-00000.parquet": strings.Repeat("a", 70000),
		"logs/dt=2026-10-02/part-00000.parquet": "b",
		"labels/dt=2026-10-02/x.parquet":        "c",
		"parity.yaml":                           "version: 1\n",
	}
	for k, v := range files {
		p := filepath.Join(src, filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	uri := "s3://" + bucket + "/demo"
	code, out, errs := cpMain("cp", src, uri)
	if code != ExitOK || !strings.Contains(out, "copied 4 objects") {
		t.Fatalf("cp to S3: exit %d\n%s%s", code, out, errs)
	}
	// What S3 holds, read through a store of its own.
	st, err := storage.Open(context.Background(), uri, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := st.List(context.Background(), "")
	if err != nil || len(objs) != len(files) {
		t.Fatalf("bucket holds %v (%v), want the %d files", objs, err, len(files))
	}

	back := t.TempDir()
	if code, out, errs := cpMain("cp", "--prefix", "logs/", uri, back); code != ExitOK || !strings.Contains(out, "copied 2 objects") {
		t.Fatalf("cp --prefix logs/ from S3: exit %d\n%s%s", code, out, errs)
	}
	for k, v := range files {
		got, err := os.ReadFile(filepath.Join(back, filepath.FromSlash(k)))
		switch {
		case strings.HasPrefix(k, "logs/") && (err != nil || string(got) != v):
			t.Errorf("%s: got %d bytes (%v), want %d", k, len(got), err, len(v))
		case !strings.HasPrefix(k, "logs/") && err == nil:
			t.Errorf("%s copied although outside --prefix logs/", k)
		}
	}

	if code, _, _ := cpMain("cp", src); code != ExitUsage {
		t.Errorf("cp with one argument: exit %d, want %d", code, ExitUsage)
	}
	if code, _, errs := cpMain("cp", src, "gs://bucket/x"); code != ExitUsage || !strings.Contains(errs, "unsupported scheme") {
		t.Errorf("cp to gs://: exit %d, want %d naming the scheme: %s", code, ExitUsage, errs)
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", "not-"+srv.SecretKey)
	code, _, errs = cpMain("cp", src, uri+"2")
	if code != ExitFailure || !strings.Contains(errs, "s3://"+bucket) {
		t.Errorf("cp with a wrong secret: exit %d, want %d naming the bucket: %s", code, ExitFailure, errs)
	}
	if strings.Contains(errs, srv.SecretKey) {
		t.Errorf("error leaks the secret: %s", errs)
	}
}

// TestRunLockTTLFlag: --lock-ttl must be a positive duration.
func TestRunLockTTLFlag(t *testing.T) {
	cfg, _ := setup(t)
	for _, bad := range []string{"0s", "-1m", "soon"} {
		code, _, errs := cpMain("run", "--config", cfg, "--at", "2026-10-02T12:00:00Z", "--now", "2026-10-07T01:00:00Z", "--lock-ttl", bad)
		if code != ExitUsage {
			t.Errorf("--lock-ttl %s: exit %d, want %d: %s", bad, code, ExitUsage, errs)
		}
	}
	start := time.Now()
	code, out, errs := cpMain("run", "--config", cfg, "--at", "2026-10-02T12:00:00Z", "--now", "2026-10-07T01:00:00Z", "--lock-ttl", "3s", "--log-level", "error")
	if code != ExitOK {
		t.Fatalf("--lock-ttl 3s: exit %d\n%s%s", code, out, errs)
	}
	t.Logf("run with a 3 s lease took %v", time.Since(start).Round(time.Millisecond))
}
