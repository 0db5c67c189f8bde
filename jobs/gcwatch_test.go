package jobs

import (
	"math"
	"runtime/debug"
	"strings"
	"testing"
)

// TestHeapLimitWarning: the warning appears only with a limit set, enough
// collection to judge, and a collector share above gcWarnShare.
func TestHeapLimitWarning(t *testing.T) {
	base := cpuTimes{user: 10, gc: 1}
	for _, c := range []struct {
		name  string
		to    cpuTimes
		limit int64
		warn  bool
	}{
		{"thrashing under the limit", cpuTimes{user: 12, gc: 3}, 160 << 20, true},
		{"no limit", cpuTimes{user: 12, gc: 3}, math.MaxInt64, false},
		{"ordinary share", cpuTimes{user: 20, gc: 1.6}, 160 << 20, false},
		{"too little to judge", cpuTimes{user: 10.1, gc: 1.3}, 160 << 20, false},
	} {
		msg := heapLimitWarning(base, c.to, c.limit)
		if (msg != "") != c.warn {
			t.Errorf("%s: warning %q, want one: %v", c.name, msg, c.warn)
		}
		if c.warn && (!strings.Contains(msg, "50%") || !strings.Contains(msg, "160 MiB") || !strings.Contains(msg, "GOMEMLIMIT")) {
			t.Errorf("%s: %q does not give the share, the limit and the fix", c.name, msg)
		}
	}
}

// TestReadCPUTimesSeesCollection: the runtime/metrics names read are the
// ones the runtime fills, so a heap held near a tight soft limit shows up
// as collection time (a renamed metric would read as zero and the
// warning could never fire).
func TestReadCPUTimesSeesCollection(t *testing.T) {
	old := debug.SetMemoryLimit(32 << 20)
	defer debug.SetMemoryLimit(old)
	live := make([][]byte, 0, 24)
	for range 24 {
		live = append(live, make([]byte, 1<<20)) // ~24 MiB held: the limit is tight
	}
	from := readCPUTimes()
	for i := range 20000 {
		gcSink = make([]byte, 256<<10) // escapes: every allocation is heap garbage
		gcSink[i%len(gcSink)] = 1
	}
	to := readCPUTimes()
	if to.gc <= from.gc || to.user <= from.user {
		t.Fatalf("no CPU time measured: from %+v to %+v", from, to)
	}
	_ = live[len(live)-1][0]
}

var gcSink []byte

// TestRaiseDefaultMemoryLimit: the limit parity set is raised for a
// remote scan's fetches, and the limit to restore is returned; an
// operator's GOMEMLIMIT, or a limit an embedding program set, is left
// alone. (Runner.scan restores it with a defer.)
func TestRaiseDefaultMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(DefaultMemoryLimit)
	defer debug.SetMemoryLimit(prev)
	t.Setenv("GOMEMLIMIT", "") // empty: not set by the operator

	old, ok := raiseDefaultMemoryLimit(32 << 20)
	if !ok || old != DefaultMemoryLimit || currentMemoryLimit() != DefaultMemoryLimit+32<<20 {
		t.Fatalf("default limit: raised %v from %d to %d; want %d + 32 MiB", ok, old>>20, currentMemoryLimit()>>20, DefaultMemoryLimit>>20)
	}
	debug.SetMemoryLimit(old)

	if _, ok := raiseDefaultMemoryLimit(0); ok {
		t.Error("nothing to add, yet raised")
	}
	debug.SetMemoryLimit(200 << 20)
	if _, ok := raiseDefaultMemoryLimit(32 << 20); ok || currentMemoryLimit() != 200<<20 {
		t.Errorf("a limit parity did not set was raised to %d MiB", currentMemoryLimit()>>20)
	}
	debug.SetMemoryLimit(DefaultMemoryLimit)
	t.Setenv("GOMEMLIMIT", "120MiB")
	if _, ok := raiseDefaultMemoryLimit(32 << 20); ok || currentMemoryLimit() != DefaultMemoryLimit {
		t.Errorf("the operator's GOMEMLIMIT was overridden: %d MiB", currentMemoryLimit()>>20)
	}
}
