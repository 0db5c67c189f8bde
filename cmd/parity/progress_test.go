package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/parity-eval/parity/jobs"
)

// While a scan stalls, the tracker keeps reporting the same counts
// (jobs.TestProgressWhileStalled): each log line still comes at its
// interval and says for how long nothing moved; a line after the scan
// moves again does not.
func TestProgressLogWhileStalled(t *testing.T) {
	const every = 10 * time.Millisecond
	var buf bytes.Buffer
	fn := newProgressEvery(&buf, slog.New(slog.NewJSONHandler(&buf, nil)), "daily", every)
	p := jobs.Progress{FilesDone: 1, FilesTotal: 4, RowsDone: 1000, Elapsed: 15 * time.Second}
	for range 4 {
		fn(p)
		time.Sleep(every + every/2) // the real clock spaces the lines
		p.Elapsed += time.Second
	}
	p.RowsDone, p.FilesDone = 2000, 2
	fn(p)

	var recs []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("progress log line %q: %v", l, err)
		}
		recs = append(recs, rec)
	}
	if len(recs) != 5 {
		t.Fatalf("%d progress lines, want one per report (5):\n%s", len(recs), buf.String())
	}
	for i, rec := range recs {
		var want any // no no_progress_seconds on the first and last lines
		if i > 0 && i < 4 {
			want = float64(i)
		}
		if rec["msg"] != "progress" || rec["rows_done"] == nil || rec["no_progress_seconds"] != want {
			t.Errorf("line %d: %v, want no_progress_seconds %v", i, rec, want)
		}
	}
}
