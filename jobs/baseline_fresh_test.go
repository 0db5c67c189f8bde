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

// TestBaselineFreshWindows: a window this run has just written is taken
// from memory, without reading storage; with checkFresh it is also read
// back, and a stored copy that differs from memory fails the run.
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
	put := func(a *eval.Aggregates) {
		data, err := json.Marshal(a.File())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := out.Put(ctx, fmt.Sprintf(keyAggregates, w.Key()), data); err != nil {
			t.Fatal(err)
		}
	}
	load := func(check bool) (*eval.Aggregates, error) {
		t.Setenv("PARITY_CHECK_FRESH_EVALUATIONS", map[bool]string{true: "1", false: ""}[check])
		br := &baselineReader{r: r, fresh: map[string]*eval.Aggregates{w.Key(): mem}, loaded: map[string]*eval.Aggregates{}}
		return br.load(ctx, w)
	}

	// Nothing stored: from memory, unless checking.
	if a, err := load(false); err != nil || a != mem {
		t.Fatalf("fresh window without the check: %v, %v; want the aggregates in memory", a, err)
	}
	if _, err := load(true); err == nil {
		t.Fatal("fresh window with the check and nothing stored: no error")
	}
	// Stored as in memory: the check passes.
	put(mem)
	if _, err := load(true); err != nil {
		t.Fatalf("stored = memory, with the check: %v", err)
	}
	// Stored differently: the check fails, naming the difference.
	other := eval.NewAggregates()
	other.Groups[eval.GroupKey{Feature: "f", Class: "c", Window: start.Unix()}] = &eval.Group{Rows: 10, Metrics: map[string]*eval.Acc{"agreement.x": {N: 10, K: 8}}}
	put(other)
	if _, err := load(true); err == nil || !strings.Contains(err.Error(), "differ from the stored") {
		t.Fatalf("stored != memory, with the check: err = %v, want a difference reported", err)
	}
	if a, err := load(false); err != nil || a != mem {
		t.Fatalf("stored != memory, without the check: %v, %v; want the aggregates in memory", a, err)
	}
}
