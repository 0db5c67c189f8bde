package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/jobs"
	_ "github.com/parity-eval/parity/storage/file" // local folders, as the parity binary registers them
)

// profile runs the same evaluation as `parity backfill` in this process
// through the jobs API, writing a CPU profile and a heap profile (taken
// at the end of the scan, live objects only) into work.
func profile(work string, days int, from time.Time) error {
	cfgPath, err := filepathConfig(work)
	if err != nil {
		return err
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(cfg.Output); err != nil {
		return err
	}
	// The same soft heap limit `parity backfill` runs under, so the
	// profile shows the binary's garbage collection and memory reuse,
	// not an unlimited heap's.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(jobs.DefaultMemoryLimit)
	}
	ctx := context.Background()
	r, err := jobs.Open(ctx, cfg)
	if err != nil {
		return err
	}
	windows := eval.WindowsBetween(from, from.AddDate(0, 0, days), cfg.Window.D())
	cpu, err := os.Create(filepath.Join(work, "cpu.pprof"))
	if err != nil {
		return err
	}
	defer cpu.Close()
	if err := pprof.StartCPUProfile(cpu); err != nil {
		return err
	}
	start := time.Now()
	_, err = r.Evaluate(ctx, windows, jobs.Options{})
	pprof.StopCPUProfile()
	if err != nil {
		return err
	}
	wall := time.Since(start)
	heap, err := os.Create(filepath.Join(work, "heap.pprof"))
	if err != nil {
		return err
	}
	defer heap.Close()
	runtime.GC()
	if err := pprof.Lookup("allocs").WriteTo(heap, 0); err != nil {
		return err
	}
	fmt.Printf("in-process evaluation: %.2fs; profiles: go tool pprof %s/cpu.pprof (and heap.pprof: -sample_index=alloc_space or inuse_space)\n", wall.Seconds(), work)
	return nil
}

func filepathConfig(work string) (string, error) {
	p := filepath.Join(work, "parity.yaml")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("no config at %s: run parity-bench without -profile first", p)
	}
	return p, nil
}
