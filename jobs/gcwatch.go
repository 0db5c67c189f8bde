package jobs

import (
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
)

// The scan holds one decoded row group per worker, so its heap follows the
// writers' row-group size. Under the soft heap limit the binary sets
// (cmd/parity), a log of much larger row groups (Spark's 128 MB default)
// makes the garbage collector run almost without pause: the run still
// finishes, with the same results, but up to twice as slowly and with
// nothing saying why. The scan therefore measures the share of CPU the
// collector took, from runtime/metrics, and warns with the fix.

// DefaultMemoryLimit is the soft heap limit an evaluation runs under
// unless the operator sets GOMEMLIMIT (the parity binary sets it, and
// parity-bench's profile mode, so both collect garbage alike). Without a
// limit the garbage collector lets the peak RSS drift upwards with the
// run's length; with this one it stays flat (docs/performance.md): a
// run long enough to reach the limit peaks at about the limit plus the
// binary's touched code, a 1M-row run a little below. It was 160 MiB,
// then 140 as less was decoded per row, then 128 once string bytes were
// recycled (datasets.ColumnSpec.RecycleStrings). With per-worker JSON
// buffers (scorers.JSONFields) a 1M-row, one-day run peaked at 131-138
// MiB and a 10M- or 50M-row one at 143-150 under 128 (each size's
// highest: +7-10%, at the bound); under 120 MiB, three runs each: 1M
// rows 128-133 MiB, 10M 135-138, 50M 139-140 (highest: +4-5%), for ~1%
// more CPU at 10M rows (1.60 against 1.58 s). It is soft: a larger
// workload still gets memory.
const DefaultMemoryLimit = 120 << 20

// cpuTimes is the process's CPU time so far, in seconds: running Go code
// and collecting garbage (runtime/metrics estimates, updated at each
// collection).
type cpuTimes struct{ user, gc float64 }

func readCPUTimes() cpuTimes {
	s := []metrics.Sample{{Name: "/cpu/classes/user:cpu-seconds"}, {Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	var t cpuTimes
	if s[0].Value.Kind() == metrics.KindFloat64 {
		t.user = s[0].Value.Float64()
	}
	if s[1].Value.Kind() == metrics.KindFloat64 {
		t.gc = s[1].Value.Float64()
	}
	return t
}

const (
	// gcWarnShare: a collector taking more than this share of the scan's
	// CPU is working against the limit rather than collecting garbage
	// (the benchmark logs spend ~4% there, 28% under a 40 MiB limit).
	gcWarnShare = 0.2
	// gcWarnSeconds: below this much collection a short run's share
	// says nothing.
	gcWarnSeconds = 0.5
)

// heapLimitWarning says what to do when garbage collection took more than
// gcWarnShare of the CPU between from and to while a soft heap limit
// (bytes; math.MaxInt64 when none) was set, and "" otherwise.
func heapLimitWarning(from, to cpuTimes, limit int64) string {
	gc, user := to.gc-from.gc, to.user-from.user
	if limit == math.MaxInt64 || gc < gcWarnSeconds || gc+user <= 0 || gc/(gc+user) <= gcWarnShare {
		return ""
	}
	return fmt.Sprintf("garbage collection took %.0f%% of the scan's CPU under a soft heap limit of %d MiB: "+
		"the log's row groups are likely larger than the limit allows (each scan worker holds one decoded row group); "+
		"set GOMEMLIMIT higher (about twice the decoded size of one row group per worker), or run fewer workers (GOMAXPROCS)",
		100*gc/(gc+user), limit>>20)
}

// currentMemoryLimit is the soft heap limit in force (math.MaxInt64: none).
func currentMemoryLimit() int64 { return debug.SetMemoryLimit(-1) }

// raiseDefaultMemoryLimit adds extra bytes to the soft heap limit when it
// is the DefaultMemoryLimit parity set (not an operator's GOMEMLIMIT, nor
// a limit an embedding program set), and returns the limit to restore.
//
// A scan of a remote store holds, per worker, two row groups' compressed
// projected columns beside what a local scan holds: the one it decodes
// and the next one, fetched meanwhile (datasets.Footprint). Under the
// default limit, set from local runs, they left the collector working
// against the limit: the 10M-row benchmark log read from S3 (versitygw)
// spent 29% of the scan's CPU collecting, 3.1 s of CPU against 2.4 s
// with the room they need. Of scans at once in one process (a daemon's
// jobs) the first raises it and restores it; one starting meanwhile
// leaves it, and one running after that restore runs under the default:
// slower, with the same results.
func raiseDefaultMemoryLimit(extra int64) (old int64, ok bool) {
	if os.Getenv("GOMEMLIMIT") != "" || extra <= 0 {
		return 0, false
	}
	if old = currentMemoryLimit(); old != DefaultMemoryLimit {
		return 0, false
	}
	debug.SetMemoryLimit(old + extra)
	return old, true
}
