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
		fmt.Fprintf(stderr, "Usage: parity cp [flags] SRC DST\n\nCopies every object under SRC (a folder, file:// or s3://bucket/prefix) to the same\nkey under DST, replacing objects that exist. Each object is put atomically.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return helpOrUsage(err)
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return ExitUsage
	}
	src, err := storage.Open(ctx, fs.Arg(0), opts)
	if err != nil {
		return usageError(stderr, "parity cp: %v", err)
	}
	dst, err := storage.Open(ctx, fs.Arg(1), opts)
	if err != nil {
		return usageError(stderr, "parity cp: %v", err)
	}
	start := time.Now()
	objs, err := src.List(ctx, *prefix)
	if err != nil {
		return fail(stderr, err)
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
