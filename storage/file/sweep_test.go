package file

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The first write into a folder removes the temp files a killed writer
// left there (unwritten for an hour), and only those: a fresh temp file
// may be another live process's write in progress, and folders not
// written to are left alone.
func TestSweepStaleTemp(t *testing.T) {
	var logs bytes.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))

	root := t.TempDir()
	s, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	plant := func(rel string, age time.Duration) string {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("partial"), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stale := plant("scores/window=1/"+tmpPrefix+"0123456789abcdef", 2*time.Hour)
	stale2 := plant("scores/window=1/"+tmpPrefix+"killedlastweek", 7*24*time.Hour)
	live := plant("scores/window=1/"+tmpPrefix+"fedcba9876543210", 0)
	recent := plant("scores/window=1/"+tmpPrefix+"slowbutalive", 50*time.Minute)
	old := plant("scores/window=1/old.json", 2*time.Hour)
	elsewhere := plant("scores/window=2/"+tmpPrefix+"0123456789abcdef", 2*time.Hour)

	ctx := context.Background()
	if _, err := s.Put(ctx, "scores/window=1/scores.parquet", []byte("x")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{stale, stale2} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s: stale temp file not removed (stat: %v)", p, err)
		}
	}
	for _, p := range []string{live, recent, old, elsewhere} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
	removed := map[string]bool{}
	for _, line := range bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var rec struct{ Level, Msg, Path string }
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec.Level == "INFO" && rec.Msg == "removed a temporary file left by a writer killed mid-write" {
			removed[rec.Path] = true
		}
	}
	if len(removed) != 2 || !removed[stale] || !removed[stale2] {
		t.Errorf("removals logged: %v; want %s and %s\n%s", removed, stale, stale2, logs.String())
	}
	objs, err := s.List(ctx, "scores/")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.Key != "scores/window=1/old.json" && o.Key != "scores/window=1/scores.parquet" {
			t.Errorf("List returned %s", o.Key)
		}
	}

	// Conditional writes (lock objects) write temp files too.
	lock := plant("locks/"+tmpPrefix+"0123456789abcdef", 2*time.Hour)
	if _, err := s.PutIfAbsent(ctx, "locks/evaluate.lock", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Errorf("stale temp file beside a lock not removed (stat: %v)", err)
	}
}
