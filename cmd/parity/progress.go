package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/parity-eval/parity/jobs"
)

// progressLogEvery spaces progress log lines when stderr is not a
// terminal: enough to see a long backfill move, few enough for a log
// store.
const progressLogEvery = 10 * time.Second

// newProgress returns a jobs.Options.Progress callback for stderr: a
// redrawn one-line bar on a terminal, a structured log line every
// progressLogEvery otherwise (cron, Kubernetes). The bar is a few lines
// of fmt: a progress library would bring its own terminal handling for
// one line.
func newProgress(stderr io.Writer, log *slog.Logger, label string) func(jobs.Progress) {
	return newProgressEvery(stderr, log, label, progressLogEvery)
}

// newProgressEvery is newProgress logging every every; tests shorten it.
func newProgressEvery(stderr io.Writer, log *slog.Logger, label string, every time.Duration) func(jobs.Progress) {
	f, ok := stderr.(*os.File)
	tty := ok && isTerminal(f)
	var mu sync.Mutex
	var lastLog time.Time
	var drawn int // length of the bar last drawn
	// The scan reports on a beat while it stalls (an S3 GET that hangs, a
	// huge row group), with the same counts: moved is its Elapsed when
	// the counts last changed, so each line says how long nothing did.
	var files int
	var rows int64
	var moved, seen time.Duration
	return func(p jobs.Progress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Elapsed < seen { // the next scan
			files, rows, moved = 0, 0, 0
		}
		seen = p.Elapsed
		if p.FilesDone != files || p.RowsDone != rows {
			files, rows, moved = p.FilesDone, p.RowsDone, p.Elapsed
		}
		stalled := (p.Elapsed - moved).Truncate(time.Second)
		finished := p.FilesTotal > 0 && p.FilesDone >= p.FilesTotal
		if tty {
			line := progressLine(label, p)
			if stalled > 0 && !finished {
				line += fmt.Sprintf("  no progress for %s", stalled)
			}
			fmt.Fprintf(stderr, "\r%s%s", line, strings.Repeat(" ", max(drawn-len(line), 0)))
			drawn = len(line)
			if finished {
				fmt.Fprintln(stderr)
				drawn = 0
			}
			return
		}
		if finished || p.Elapsed < every || time.Since(lastLog) < every {
			// Short scans stay quiet; the runner logs the finished scan.
			return
		}
		lastLog = time.Now()
		args := []any{"files_done", p.FilesDone, "files_total", p.FilesTotal, "rows_done", p.RowsDone,
			"rows_per_second", int64(p.Rate()), "elapsed_seconds", int64(p.Elapsed.Seconds())}
		if eta := p.ETA(); eta > 0 {
			args = append(args, "eta_seconds", int64(eta.Seconds()))
		}
		if stalled > 0 {
			args = append(args, "no_progress_seconds", int64(stalled.Seconds()))
		}
		if label != "" {
			args = append(args, "job", label)
		}
		log.Info("progress", args...)
	}
}

// progressLine renders "label [=====>    ] 3/10 files  1.2M rows  450k rows/s  ETA 12s".
func progressLine(label string, p jobs.Progress) string {
	const width = 24
	frac := 0.0
	if p.FilesTotal > 0 {
		frac = float64(p.FilesDone) / float64(p.FilesTotal)
	}
	n := int(frac * width)
	bar := strings.Repeat("=", n)
	if n < width {
		bar += ">" + strings.Repeat(" ", width-n-1)
	}
	var b strings.Builder
	if label != "" {
		b.WriteString(label + " ")
	}
	fmt.Fprintf(&b, "[%s] %d/%d files  %s rows  %s rows/s", bar, p.FilesDone, p.FilesTotal, human(float64(p.RowsDone)), human(p.Rate()))
	if eta := p.ETA(); eta > 0 {
		fmt.Fprintf(&b, "  ETA %s", eta)
	} else if p.FilesDone >= p.FilesTotal {
		fmt.Fprintf(&b, "  %s", p.Elapsed.Round(100*time.Millisecond))
	}
	return b.String()
}

func human(x float64) string {
	switch {
	case x >= 1e9:
		return fmt.Sprintf("%.1fG", x/1e9)
	case x >= 1e6:
		return fmt.Sprintf("%.1fM", x/1e6)
	case x >= 1e4:
		return fmt.Sprintf("%.0fk", x/1e3)
	default:
		return fmt.Sprintf("%.0f", x)
	}
}
