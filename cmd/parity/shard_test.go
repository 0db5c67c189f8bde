package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShardsMergeEqualsSingleRun: 4 local shards plus merge give scores
// and verdicts identical to a single run on the demo data.
func TestShardsMergeEqualsSingleRun(t *testing.T) {
	single, singleOut := setup(t)
	backfill(t, single)

	sharded, shardOut := setup(t)
	for i := 0; i < 4; i++ {
		code, _, errs := run(t, "backfill", "--config", sharded, "--from", backfillFrom, "--to", backfillTo, "--now", "2026-10-07T01:00:00Z", "--shard", fmt.Sprintf("%d/4", i), "--log-level", "error")
		if code != ExitOK {
			t.Fatalf("shard %d: exit %d: %s", i, code, errs)
		}
	}
	if _, err := os.Stat(filepath.Join(shardOut, "verdicts")); !os.IsNotExist(err) {
		t.Fatal("a shard wrote verdicts: only merge may")
	}
	code, _, errs := run(t, "merge", "--config", sharded, "--from", backfillFrom, "--to", backfillTo, "--now", "2026-10-07T01:00:00Z", "--log-level", "error")
	if code != ExitOK {
		t.Fatalf("merge: exit %d: %s", code, errs)
	}
	a, b := snapshot(t, singleOut), snapshot(t, shardOut)
	compared := 0
	for k, v := range a {
		if strings.HasPrefix(k, "manifests/") || strings.Contains(k, "shard-") {
			continue // a merge has no single input manifest; shard files exist only in the sharded run
		}
		compared++
		// Counts, tests and quantiles must be identical; sums of floats
		// (means, totals) may differ in the last bits by summation order.
		if b[k] != v && !nearlyEqualJSON(t, v, b[k], 1e-12) {
			t.Errorf("%s differs between the single run and the merged shards", k)
		}
	}
	if compared < 20 {
		t.Fatalf("compared only %d outputs", compared)
	}
}

func TestMergeRefusesMissingShard(t *testing.T) {
	cfg, _ := setup(t)
	for _, i := range []int{0, 2} {
		if code, _, errs := run(t, "run", "--config", cfg, "--window", "2026-10-02/2026-10-03", "--now", "2026-10-07T00:00:00Z", "--shard", fmt.Sprintf("%d/3", i), "--log-level", "error"); code != ExitOK {
			t.Fatalf("shard %d: %s", i, errs)
		}
	}
	code, _, errs := run(t, "merge", "--config", cfg, "--window", "2026-10-02/2026-10-03", "--log-level", "error")
	if code != ExitFailure || !strings.Contains(errs, "shards 1 of 3 are missing") {
		t.Errorf("exit %d: %s", code, errs)
	}
}

// nearlyEqualJSON compares two JSON documents, numbers to a relative tolerance.
func nearlyEqualJSON(t *testing.T, a, b string, tol float64) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	var eq func(x, y any, path string) bool
	eq = func(x, y any, path string) bool {
		switch xv := x.(type) {
		case map[string]any:
			yv, ok := y.(map[string]any)
			if !ok || len(xv) != len(yv) {
				return false
			}
			for k := range xv {
				if !eq(xv[k], yv[k], path+"."+k) {
					return false
				}
			}
			return true
		case []any:
			yv, ok := y.([]any)
			if !ok || len(xv) != len(yv) {
				return false
			}
			for i := range xv {
				if !eq(xv[i], yv[i], fmt.Sprintf("%s[%d]", path, i)) {
					return false
				}
			}
			return true
		case float64:
			yv, ok := y.(float64)
			if !ok {
				return false
			}
			if xv == yv || math.Abs(xv-yv) <= tol*math.Max(math.Abs(xv), math.Abs(yv)) {
				return true
			}
			t.Logf("%s: %v vs %v", path, xv, yv)
			return false
		default:
			if x != y {
				t.Logf("%s: %v vs %v", path, x, y)
			}
			return x == y
		}
	}
	return eq(x, y, "")
}
