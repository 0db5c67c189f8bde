package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/storage/file"
)

// TestBaselineFreshWindows: a window of this run counts as stored before
// it is written and is taken from memory, never from storage; with
// checkFresh, checkStoredAggregates reads each back once written, and a
// stored copy that differs from memory (or is missing) fails the run.
func TestBaselineFreshWindows(t *testing.T) {
	ctx := context.Background()
	out, err := file.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Cfg: &config.Config{}, Out: out}
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	w := eval.Window{Start: start, End: start.Add(24 * time.Hour)}
	mem := eval.NewAggregates()
	g := &eval.Group{Rows: 10, Metrics: map[string]*eval.Acc{"agreement.x": {N: 10, K: 9}}}
	mem.Groups[eval.GroupKey{Feature: "f", Class: "c", Window: start.Unix()}] = g
	fresh := map[string]*eval.Aggregates{w.Key(): mem}
	put := func(a *eval.Aggregates) {
		data, err := json.Marshal(a.File())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := out.Put(ctx, fmt.Sprintf(keyAggregates, w.Key()), data); err != nil {
			t.Fatal(err)
		}
	}
	load := func() (*eval.Aggregates, error) {
		br, err := r.newBaselineReader(ctx, []eval.Window{w}, fresh)
		if err != nil {
			return nil, err
		}
		if len(br.stored) != 1 || !br.stored[0].Start.Equal(start) {
			t.Fatalf("stored windows %v, want the fresh window %v", br.stored, w)
		}
		return br.load(ctx, w)
	}
	check := func() error { return r.checkStoredAggregates(ctx, []eval.Window{w}, fresh) }

	// Nothing stored yet: listed and loaded from memory; the check fails.
	if a, err := load(); err != nil || a != mem {
		t.Fatalf("fresh window, nothing stored: %v, %v; want the aggregates in memory", a, err)
	}
	if err := check(); err == nil {
		t.Fatal("check with nothing stored: no error")
	}
	// Stored as in memory: the check passes.
	put(mem)
	if err := check(); err != nil {
		t.Fatalf("stored = memory: %v", err)
	}
	// Stored differently: the check fails, naming the difference; the
	// baseline still comes from memory.
	other := eval.NewAggregates()
	other.Groups[eval.GroupKey{Feature: "f", Class: "c", Window: start.Unix()}] = &eval.Group{Rows: 10, Metrics: map[string]*eval.Acc{"agreement.x": {N: 10, K: 8}}}
	put(other)
	if err := check(); err == nil || !strings.Contains(err.Error(), "differ from the stored") {
		t.Fatalf("stored != memory: err = %v, want a difference reported", err)
	}
	if a, err := load(); err != nil || a != mem {
		t.Fatalf("stored != memory: %v, %v; want the aggregates in memory", a, err)
	}
}
