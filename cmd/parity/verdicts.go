package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/parity-eval/parity/jobs"
	"github.com/parity-eval/parity/reports"
	"github.com/parity-eval/parity/reports/audit"
	"github.com/parity-eval/parity/storage"
)

func init() {
	register(&command{name: "verdicts", summary: "print the latest verdicts (or the audit log); --check exits 4 when one is stale", run: cmdVerdicts})
}

func cmdVerdicts(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verdicts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var of outputFlags
	of.register(fs)
	check := fs.Bool("check", false, "exit 4 when any verdict is past its valid_until (stale: consumers must use legacy only)")
	asJSON := fs.Bool("json", false, "print verdicts/latest.json as stored instead of the summary")
	auditLog := fs.Bool("audit", false, "print the audit log (every verdict and override ever published) as JSON lines, oldest first")
	feature := fs.String("feature", "", "with --audit: only this feature's entries")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: parity verdicts (--config FILE | --output LOCATION) [--check] [--json] [--now TIME]\n       parity verdicts (--config FILE | --output LOCATION) --audit [--feature NAME]\n\nPrints the latest verdicts from the output location.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\n%s", exitHelp)
	}
	if err := fs.Parse(args); err != nil {
		return helpOrUsage(err)
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "parity verdicts: unexpected argument %q", fs.Arg(0))
	}
	if *feature != "" && !*auditLog {
		return usageError(stderr, "parity verdicts: --feature only applies with --audit")
	}
	st, now, code := of.open(ctx, "verdicts", stderr)
	if st == nil {
		return code
	}
	if *auditLog {
		entries, err := audit.Read(ctx, st, *feature)
		if err != nil {
			return fail(stderr, err)
		}
		if len(entries) == 0 && *feature != "" {
			// No entry for it: a mistyped name would otherwise print
			// nothing and exit 0, as for a feature not yet judged.
			all, err := audit.Read(ctx, st, "")
			if err != nil {
				return fail(stderr, err)
			}
			known := map[string]bool{}
			for _, e := range all {
				known[e.Feature] = true
			}
			if len(known) > 0 {
				return usageError(stderr, "parity verdicts: --feature %q: no audit entry in %s (features with entries: %s)", *feature, st.URI(), strings.Join(slices.Sorted(maps.Keys(known)), ", "))
			}
		}
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		for i := range entries {
			if err := enc.Encode(&entries[i]); err != nil {
				return fail(stderr, err)
			}
		}
		return ExitOK
	}
	doc, raw, err := jobs.ReadLatest(ctx, st)
	if err != nil {
		if errors.Is(err, storage.ErrNotExist) {
			return fatal(stderr, ExitFailure, fmt.Sprintf("parity verdicts: no verdicts yet in %s (run `parity run` first)", st.URI()))
		}
		return fail(stderr, err)
	}
	if *asJSON {
		stdout.Write(raw)
	} else {
		reports.WriteSummary(stdout, doc, now())
	}
	if stale := doc.Stale(now()); *check && len(stale) > 0 {
		return fatal(stderr, ExitStale, fmt.Sprintf("parity verdicts: stale at %s (past valid_until; treat as legacy only): %s", now().UTC().Format("2006-01-02T15:04:05Z"), strings.Join(stale, ", ")), "stale", stale)
	}
	return ExitOK
}
