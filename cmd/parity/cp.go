package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/parity-eval/parity/storage"
)

func init() {
	register(&command{name: "cp", summary: "copy every object under one location to another (folder <-> s3://bucket/prefix)", run: cmdCp})
}

// cpWorkers bounds concurrent object copies: enough to hide S3 latency,
// few enough to stay polite to a shared bucket.
const cpWorkers = 8

// cmdCp copies a dataset between locations through the same Store layer
// the runs use, so `parity cp demo-data s3://bucket/demo` is all it takes
// to put the demo (or a fixture) on S3, with the same credentials chain,
// endpoint options and atomic puts as parity itself. Objects are read
// whole: this is for datasets and fixtures, not terabytes.
func cmdCp(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts storage.Options
	fs.StringVar(&opts.S3Endpoint, "s3-endpoint", "", "S3 endpoint URL (default: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL / AWS)")
	fs.StringVar(&opts.S3Region, "s3-region", "", "S3 region (default: AWS_REGION / the profile)")
	fs.BoolVar(&opts.S3PathStyle, "s3-path-style", false, "address buckets as endpoint/bucket (forced for IP and localhost endpoints)")
	prefix := fs.String("prefix", "", "copy only keys under this prefix of SRC (e.g. logs/)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: parity cp SRC DST [--prefix P] [flags]\n\nCopies every object under SRC (a folder, file:// or s3://bucket/prefix) to the same\nkey under DST, replacing objects that exist. Each object is put atomically. A SRC\nholding no object (under --prefix, when given) is an error, exit 1: a mistyped\npath copies nothing.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return helpOrUsage(err)
	}
	switch {
	case len(pos) < 2:
		return usageError(stderr, "parity cp: want SRC and DST, got %d argument(s)", len(pos))
	case len(pos) > 2:
		return usageError(stderr, "parity cp: unexpected argument %q after SRC and DST", pos[2])
	}
	if _, err := storage.CleanKey(*prefix); *prefix != "" && err != nil {
		return usageError(stderr, "parity cp: --prefix %q: want a key prefix inside SRC (e.g. logs/), not absolute and without \"..\"", *prefix)
	}
	src, err := storage.Open(ctx, pos[0], opts)
	if err != nil {
		return usageError(stderr, "parity cp: %v", err)
	}
	dst, err := storage.Open(ctx, pos[1], opts)
	if err != nil {
		return usageError(stderr, "parity cp: %v", err)
	}
	start := time.Now()
	objs, err := src.List(ctx, *prefix)
	if err != nil {
		return fail(stderr, err)
	}
	// Nothing to copy is a mistake (a mistyped path, an unmounted volume,
	// a prefix that names no folder), not an empty success that lets a
	// pipeline carry on without its data.
	switch {
	case len(objs) == 0 && *prefix != "":
		return fail(stderr, fmt.Errorf("cp: no object under --prefix %q in %s (keys are relative to SRC, e.g. logs/)", *prefix, src.URI()))
	case len(objs) == 0:
		return fail(stderr, fmt.Errorf("cp: %s holds no object at all (is the location right, and mounted?)", src.URI()))
	}
	var (
		mu       sync.Mutex
		firstErr error
		bytes    int64
		wg       sync.WaitGroup
	)
	work := make(chan storage.Object)
	for range cpWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range work {
				data, _, err := src.Get(ctx, o.Key)
				if err == nil {
					_, err = dst.Put(ctx, o.Key, data)
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				bytes += int64(len(data))
				mu.Unlock()
			}
		}()
	}
	for _, o := range objs {
		mu.Lock()
		stop := firstErr != nil
		mu.Unlock()
		if stop || ctx.Err() != nil {
			break
		}
		work <- o
	}
	close(work)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return fail(stderr, fmt.Errorf("cp %s -> %s: %w", src.URI(), dst.URI(), firstErr))
	}
	fmt.Fprintf(stdout, "copied %d objects (%.1f MiB) from %s to %s in %.1fs\n", len(objs), float64(bytes)/(1<<20), src.URI(), strings.TrimSuffix(dst.URI(), "/"), time.Since(start).Seconds())
	return ExitOK
}
