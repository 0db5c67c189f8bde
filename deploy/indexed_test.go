package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/parity-eval/parity/datasets/synth"
	"github.com/parity-eval/parity/eval"
)

// The sharded-evaluation manifests (indexed-job.yaml, merge-job.yaml)
// are checked as YAML for the fields that make sharding correct, and then
// their container args are run as written, with the real binary, on
// generated data: N shards (JOB_COMPLETION_INDEX set as the Job
// controller sets it) and the merge must give the aggregates of one
// unsharded run.

func loadFile(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// shardManifests checks both manifests and returns the shard count and
// the shard and merge containers' args.
func shardManifests(t *testing.T) (n int, shardArgs, mergeArgs []string) {
	t.Helper()
	_, cmName, saName := mountedConfig(t)
	job := loadFile(t, "indexed-job.yaml")
	if str(t, job, "apiVersion") != "batch/v1" || str(t, job, "kind") != "Job" {
		t.Fatal("indexed-job.yaml is not a batch/v1 Job")
	}
	if got := str(t, job, "spec.completionMode"); got != "Indexed" {
		t.Fatalf("completionMode %q, want Indexed (JOB_COMPLETION_INDEX is only set in Indexed Jobs)", got)
	}
	n = num(t, job, "spec.completions")
	if p := num(t, job, "spec.parallelism"); n < 2 || p < 1 || p > n {
		t.Errorf("completions %d, parallelism %d: want N >= 2 shards and 1 <= parallelism <= N", n, p)
	}
	pod := get(t, job, "spec.template.spec")
	if str(t, pod, "restartPolicy") != "Never" {
		t.Error("restartPolicy must be Never (the Job retries the index)")
	}
	shardArgs = args(t, podChecks(t, pod, cmName, saName))
	if shardArgs[0] != "run" && shardArgs[0] != "backfill" {
		t.Fatalf("shard pods run %v, want run or backfill", shardArgs)
	}
	// The shard count in the args must be the Job's completions: a
	// mismatch would leave shards unevaluated or indexes out of range.
	if got, want := flagValue(shardArgs, "--shard"), "env/"+strconv.Itoa(n); got != want {
		t.Errorf("--shard %q, want %q (index from JOB_COMPLETION_INDEX, count = completions)", got, want)
	}

	merge := loadFile(t, "merge-job.yaml")
	if str(t, merge, "kind") != "Job" || str(t, merge, "metadata.namespace") != str(t, job, "metadata.namespace") {
		t.Fatal("merge-job.yaml must be a Job in the shards' namespace")
	}
	mpod := get(t, merge, "spec.template.spec")
	mergeArgs = args(t, podChecks(t, mpod, cmName, saName))
	if mergeArgs[0] != "merge" {
		t.Fatalf("merge job runs %v, want merge", mergeArgs)
	}
	if flagValue(mergeArgs, "--window") != flagValue(shardArgs, "--window") {
		t.Errorf("merge --window %q differs from the shards' %q", flagValue(mergeArgs, "--window"), flagValue(shardArgs, "--window"))
	}
	return n, shardArgs, mergeArgs
}

func TestIndexedJobManifests(t *testing.T) { shardManifests(t) }

func TestIndexedJobRunsAndMerges(t *testing.T) {
	if testing.Short() {
		t.Skip("builds parity and evaluates generated data")
	}
	n, shardArgs, mergeArgs := shardManifests(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "parity")
	build := exec.Command("go", "build", "-o", bin, "../cmd/parity")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if _, err := synth.Generate(dir, synth.Options{Scale: 0.05, Days: 3}); err != nil {
		t.Fatal(err)
	}
	demo, err := os.ReadFile("../cmd/parity/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfgFor := func(out string) string {
		p := filepath.Join(dir, out+".yaml")
		c := strings.Replace(string(demo), "output: ../demo-out", "output: "+out, 1)
		if c == string(demo) {
			t.Fatal("demo.yaml has no `output: ../demo-out` line to redirect")
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const window = "2026-10-02T00:00:00Z/2026-10-03T00:00:00Z"
	parity := func(cfg string, env []string, a []string) {
		t.Helper()
		var args []string
		for _, x := range a {
			x = strings.ReplaceAll(x, "/etc/parity/parity.yaml", cfg)
			args = append(args, strings.ReplaceAll(x, "WINDOW", window))
		}
		cmd := exec.Command(bin, append(args, "--log-level", "error")...)
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("parity %v (%v): %v\n%s", args, env, err, out)
		}
	}
	sharded := cfgFor("out-shards")
	for i := 0; i < n; i++ {
		parity(sharded, []string{"JOB_COMPLETION_INDEX=" + strconv.Itoa(i)}, shardArgs)
	}
	parity(sharded, nil, mergeArgs)
	single := cfgFor("out-single")
	parity(single, nil, []string{"run", "--config", "/etc/parity/parity.yaml", "--window", "WINDOW"})

	got, want := aggregates(t, filepath.Join(dir, "out-shards")), aggregates(t, filepath.Join(dir, "out-single"))
	if len(want) < 10 || len(got) != len(want) {
		t.Fatalf("%d groups merged from %d shards, %d in the single run", len(got), n, len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: merged shards %s, single run %s", k, got[k], w)
		}
	}
}

// aggregates reads the window's aggregates.json and returns, per group,
// its row count and every metric's integer counts: these add exactly, so
// shards plus merge must reproduce them bit for bit.
func aggregates(t *testing.T, out string) map[string]string {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(out, "aggregates", "window=*", "aggregates.json"))
	if len(paths) != 1 {
		t.Fatalf("%s: %d aggregates files, want 1", out, len(paths))
	}
	b, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	var f eval.AggregatesFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, g := range f.Groups {
		names := make([]string, 0, len(g.Metrics))
		for name := range g.Metrics {
			names = append(names, name)
		}
		sort.Strings(names)
		s := fmt.Sprintf("rows %d", g.Rows)
		for _, name := range names {
			a := g.Metrics[name]
			s += fmt.Sprintf("; %s n=%d k=%d paired=%d/%d/%d/%d", name, a.N, a.K, a.BothRight, a.LegacyOnly, a.AIOnly, a.BothWrong)
			for _, sk := range []*eval.Sketch{a.Legacy, a.AI, a.Value} {
				if sk != nil {
					s += fmt.Sprintf(" count=%d", sk.Count)
				}
			}
		}
		m[g.Key.Feature+"|"+g.Key.Class] = s
	}
	return m
}
