package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/reports/html"
	"github.com/parity-eval/parity/storage"
)

func init() {
	register(&command{name: "report", summary: "write a self-contained review report (HTML, Markdown or JSON) for one feature and period", run: cmdReport})
}

func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "config file (YAML)")
	feature := fs.String("feature", "", "the feature to report on")
	from := fs.String("from", "", "first window start (RFC 3339 or date; default: the first stored window)")
	to := fs.String("to", "", "end of the period (default: the end of the last stored window)")
	out := fs.String("out", "-", `output file ("-": standard output)`)
	format := fs.String("format", "html", "html (self-contained review report), md (summary for a ticket or pull request) or json (the data behind the report)")
	now := fs.String("now", "", "generated-at time (RFC 3339; default now), for reproducible tests")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: parity report --config FILE --feature F [--from T1] [--to T2] [--out FILE] [--format html|md|json]\n\nReads the stored evaluations of the period and writes a report that explains the verdict,\nshows the evidence and names every input object; `parity verify` recomputes it.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\n%s", exitHelp)
	}
	if err := fs.Parse(args); err != nil {
		return helpOrUsage(err)
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "parity report: unexpected argument %q", fs.Arg(0))
	}
	if *format != "html" && *format != "md" && *format != "json" {
		return usageError(stderr, "parity report: --format %q: want html, md or json", *format)
	}
	cfg, code := loadConfig(*cfgPath, stderr)
	if cfg == nil {
		return code
	}
	if *feature == "" || cfg.Feature(*feature) == nil {
		return usageError(stderr, "parity report: --feature: want one of the configured features, got %q", *feature)
	}
	var t1, t2 time.Time
	var err error
	if *from != "" {
		if t1, err = eval.ParseTime(*from); err != nil {
			return usageError(stderr, "parity report: --from: %v", err)
		}
	}
	if *to != "" {
		if t2, err = eval.ParseTime(*to); err != nil {
			return usageError(stderr, "parity report: --to: %v", err)
		}
	}
	o := html.Options{Version: version()}
	if *now != "" {
		if o.Now, err = eval.ParseTime(*now); err != nil {
			return usageError(stderr, "parity report: --now: %v", err)
		}
	}
	d, err := buildReport(ctx, cfg, *feature, t1, t2, o)
	if err != nil {
		return fail(stderr, err)
	}
	var b bytes.Buffer
	switch *format {
	case "html":
		err = html.Render(&b, d)
	case "md":
		err = html.Markdown(&b, d)
	case "json":
		var js []byte
		js, err = d.Encode()
		b.Write(js)
	}
	if err != nil {
		return fail(stderr, err)
	}
	if *out == "-" {
		_, err = stdout.Write(b.Bytes())
	} else {
		err = writeFileAtomic(*out, b.Bytes())
		if err == nil {
			fmt.Fprintf(stdout, "report: %s\n", *out)
		}
	}
	if err != nil {
		return fail(stderr, err)
	}
	return ExitOK
}

func buildReport(ctx context.Context, cfg *config.Config, feature string, from, to time.Time, o html.Options) (*html.Data, error) {
	st, err := storage.Open(ctx, cfg.Output, storage.Options{S3Endpoint: cfg.S3.Endpoint, S3Region: cfg.S3.Region, S3PathStyle: cfg.S3.PathStyle})
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	return html.Build(ctx, cfg, st, feature, from, to, o)
}

// writeFileAtomic writes via a temporary file and rename, so a reader
// never sees half a report.
func writeFileAtomic(path string, data []byte) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// demoReports writes one HTML report per feature of a demo run into
// OUTPUT/reports/<feature>.html and prints their paths.
func demoReports(ctx context.Context, cfg *config.Config, now time.Time, stdout io.Writer) error {
	for _, f := range cfg.Features {
		d, err := buildReport(ctx, cfg, f.Name, time.Time{}, time.Time{}, html.Options{Now: now, Version: version()})
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := html.Render(&b, d); err != nil {
			return err
		}
		p := filepath.Join(cfg.Output, "reports", f.Name+".html")
		if err := writeFileAtomic(p, b.Bytes()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "report:   %s\n", p)
	}
	return nil
}
