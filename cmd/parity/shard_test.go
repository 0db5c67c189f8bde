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
	manifests := 0
	for k, v := range a {
		if strings.Contains(k, "shard-") {
			t.Errorf("%s: a single run wrote a shard file", k)
		}
		if strings.HasPrefix(k, "manifests/") {
			// The merged manifest lists the same objects with the same
			// rows as the single run's; each shard also reads every
			// footer, so only bytes_read differs.
			v, b[k] = withoutBytesRead(t, v), withoutBytesRead(t, b[k])
			manifests++
		}
		compared++
		// Counts, tests and quantiles must be identical; sums of floats
		// (means, totals) may differ in the last bits by summation order.
		if b[k] != v && !nearlyEqualJSON(t, v, b[k], 1e-12) {
			t.Errorf("%s differs between the single run and the merged shards", k)
		}
	}
	if compared < 20 || manifests != 6 {
		t.Fatalf("compared only %d outputs, %d manifests", compared, manifests)
	}
	if n := len(b) - len(a); n != 4*6*2 {
		t.Errorf("the sharded run has %d more outputs than the single run, want 4 shards × 6 windows × (aggregates + manifest)", n)
	}
}

// withoutBytesRead is a manifest's JSON with every file's bytes_read zero.
func withoutBytesRead(t *testing.T, doc string) string {
	t.Helper()
	var m struct {
		Window     any                `json:"window"`
		Files      []map[string]any   `json:"files"`
		Dropped    map[string]float64 `json:"dropped"`
		RunDropped map[string]float64 `json:"run_dropped"`
		Labels     float64            `json:"labels"`
	}
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	if m.Window == nil || len(m.Files) == 0 {
		t.Errorf("manifest without its window or files: %s", doc)
	}
	for _, f := range m.Files {
		f["bytes_read"] = 0
	}
	b, _ := json.Marshal(m)
	return string(b)
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

// TestMergedManifestOfOneWindow: shards of one window of a longer log
// (most labels belong to other windows' requests) merge into the window
// manifest a single run writes: the same files, rows used, drops and
// labels joined to no request.
func TestMergedManifestOfOneWindow(t *testing.T) {
	const window, now = "2026-10-03/2026-10-04", "2026-10-07T00:00:00Z"
	manifest := func(out string) (string, map[string]any) {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(out, "manifests", "window=2026-10-03T00-00-00Z", "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		return withoutBytesRead(t, string(data)), m
	}
	single, singleOut := setup(t)
	if code, _, errs := run(t, "run", "--config", single, "--window", window, "--now", now, "--log-level", "error"); code != ExitOK {
		t.Fatalf("single run: %s", errs)
	}
	sharded, shardOut := setup(t)
	for i := range 3 {
		if code, _, errs := run(t, "run", "--config", sharded, "--window", window, "--now", now, "--shard", fmt.Sprintf("%d/3", i), "--log-level", "error"); code != ExitOK {
			t.Fatalf("shard %d: %s", i, errs)
		}
	}
	if code, _, errs := run(t, "merge", "--config", sharded, "--window", window, "--now", now, "--log-level", "error"); code != ExitOK {
		t.Fatalf("merge: %s", errs)
	}
	a, m := manifest(singleOut)
	b, _ := manifest(shardOut)
	if a != b {
		t.Errorf("merged manifest differs from the single run's:\n%s\n%s", a, b)
	}
	rd, _ := m["run_dropped"].(map[string]any)
	if n, _ := rd["labels_unmatched"].(float64); n == 0 || n >= m["labels"].(float64) {
		t.Errorf("run_dropped %v of %v labels: want some labels unmatched (the other windows' requests), not all", rd, m["labels"])
	}
}

// TestMergeRefusesShardsOfOtherPlans: shard 0 rerun over one window
// after a backfill's shards numbers that window's row groups otherwise,
// so merging it with the backfill's other shards would count some rows
// twice and others never; so would a shard rerun after an object
// arrived. Merge refuses both and writes nothing.
func TestMergeRefusesShardsOfOtherPlans(t *testing.T) {
	cfg, out := setup(t)
	const w, now = "2026-10-03/2026-10-04", "2026-10-07T00:00:00Z"
	for i := range 3 {
		if code, _, errs := run(t, "backfill", "--config", cfg, "--from", "2026-10-02", "--to", "2026-10-05", "--now", now, "--shard", fmt.Sprintf("%d/3", i), "--log-level", "error"); code != ExitOK {
			t.Fatalf("shard %d: %s", i, errs)
		}
	}
	if code, _, errs := run(t, "run", "--config", cfg, "--window", w, "--now", now, "--shard", "0/3", "--log-level", "error"); code != ExitOK {
		t.Fatalf("rerun of shard 0: %s", errs)
	}
	code, _, errs := run(t, "merge", "--config", cfg, "--window", w, "--now", now, "--log-level", "error")
	if code != ExitFailure || !strings.Contains(errs, "was run over other inputs than shard") {
		t.Errorf("merge of shards over other plans: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(out, "verdicts")); !os.IsNotExist(err) {
		t.Error("merge wrote verdicts from shards it refused")
	}
	// Rerun with another shard count: the older count's files are named.
	for i := range 2 {
		if code, _, errs := run(t, "run", "--config", cfg, "--window", w, "--now", now, "--shard", fmt.Sprintf("%d/2", i), "--log-level", "error"); code != ExitOK {
			t.Fatalf("shard %d/2: %s", i, errs)
		}
	}
	code, _, errs = run(t, "merge", "--config", cfg, "--window", w, "--now", now, "--log-level", "error")
	if code != ExitFailure || !strings.Contains(errs, "different shard counts (2, 3)") || !strings.Contains(errs, "shard-002-of-003.json") || strings.Contains(errs, "of-002.json") {
		t.Errorf("merge of mixed shard counts: exit %d: %s", code, errs)
	}
}
