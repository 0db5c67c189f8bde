package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/jobs"
	"github.com/parity-eval/parity/reports/html"
	"github.com/parity-eval/parity/storage"
)

func init() {
	register(&command{name: "verify", summary: "regenerate a review report from the inputs it names and say whether it matches, byte for byte and figure by figure", run: cmdVerify})
}

const (
	dataOpen  = `<script type="application/json" id="parity-data">`
	dataClose = `</script>`
)

// extractData returns the JSON embedded in a report.
func extractData(page []byte) (*html.Data, error) {
	lo, hi, err := dataSpan(page)
	if err != nil {
		return nil, err
	}
	return html.Decode(page[lo:hi])
}

// dataSpan is where the embedded JSON is in a report: page[lo:hi].
func dataSpan(page []byte) (lo, hi int, err error) {
	i := bytes.Index(page, []byte(dataOpen))
	if i < 0 {
		return 0, 0, errors.New("no embedded report data (script#parity-data): not a parity report, or one from before schema version 1")
	}
	lo = i + len(dataOpen)
	j := bytes.Index(page[lo:], []byte(dataClose))
	if j < 0 {
		return 0, 0, errors.New("embedded report data is not terminated: the file is truncated")
	}
	return lo, lo + j, nil
}

func cmdVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "config file to recompute with (default: the config text embedded in the report, reading the input locations it names)")
	logLevel := new(string)
	logLevelFlag(fs, logLevel, "warn")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: parity verify REPORT.html [--config FILE]\n\nRe-reads the input objects named in the report, recomputes every window of its history into\na temporary folder, regenerates the report as `parity report` would (with the report's own\ngenerated-at time) and compares it with the file byte for byte, naming every figure,\ninput object and piece of visible text that differs. Exit 0 when all match, 1 when anything\ndiffers, 2 on usage errors.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	// The report may come before, between or after the flags.
	pos, err := parseArgs(fs, args)
	if err != nil {
		return helpOrUsage(err)
	}
	if len(pos) != 1 {
		return usageError(stderr, "parity verify: want one REPORT.html, got %d argument(s)", len(pos))
	}
	path := pos[0]
	page, err := os.ReadFile(path)
	if err != nil {
		return fail(stderr, err)
	}
	d, err := extractData(page)
	if err != nil {
		return fail(stderr, fmt.Errorf("%s: %w", path, err))
	}
	var diffs []html.Diff
	// The config text must be the one the report's hash names.
	if h := config.HashBytes([]byte(d.Lineage.Config)); h != d.Lineage.ConfigHash {
		diffs = append(diffs, html.Diff{Name: "config text embedded in the report (lineage.config)", Report: "config_hash sha256 " + d.Lineage.ConfigHash, Recomputed: "sha256 " + h + " of the embedded text"})
	}
	var cfg *config.Config
	if *cfgPath != "" {
		var code int
		if cfg, code = loadConfig(*cfgPath, stderr); cfg == nil {
			return code
		}
		if cfg.Hash != d.Lineage.ConfigHash {
			diffs = append(diffs, html.Diff{Name: "config " + *cfgPath, Report: "sha256 " + d.Lineage.ConfigHash, Recomputed: "sha256 " + cfg.Hash})
		}
	} else {
		cfg, err = config.Parse(d.Lineage.ConfigPath, []byte(d.Lineage.Config))
		if err != nil {
			return fail(stderr, fmt.Errorf("config embedded in %s: %w", path, err))
		}
		// Relative locations were resolved against the config's folder
		// when the report was made; the report records the result.
		cfg.Source.Logs, cfg.Source.Labels = d.Lineage.Logs, d.Lineage.Labels
	}
	if cfg.Feature(d.Feature) == nil {
		return fail(stderr, fmt.Errorf("the config has no feature %q", d.Feature))
	}
	tmp, err := os.MkdirTemp("", "parity-verify-*")
	if err != nil {
		return fail(stderr, err)
	}
	defer os.RemoveAll(tmp)
	cfg.Output = tmp
	windows := reportHistoryWindows(d, cfg.Window.D())
	last := windows[len(windows)-1].End
	fmt.Fprintf(stdout, "verify %s: %s, %d window(s) %s to %s; recomputing %d window(s) of history from %d input object(s)\n",
		path, d.Feature, len(d.Windows), d.From.Format("2006-01-02"), d.To.Format("2006-01-02"), len(windows), len(d.Lineage.Inputs))
	r, err := jobs.Open(ctx, cfg)
	if err != nil {
		return fail(stderr, err)
	}
	// Every feature, as `parity run` evaluates them: the input objects'
	// rows used and the manifests count the rows of all of them.
	o := jobs.Options{Now: func() time.Time { return last.Add(time.Hour) }, Log: newLogger(stderr, *logLevel)}
	notes, err := copyReconciliation(ctx, cfg, d.Lineage.Output, r.Out)
	if err != nil {
		return fail(stderr, err)
	}
	if _, err := r.Evaluate(ctx, windows, o); err != nil {
		return fail(stderr, fmt.Errorf("recompute: %w", err))
	}
	// Build the report the way `parity report` does, at the report's own
	// generated-at time and with its parity version.
	rd, err := html.Build(ctx, cfg, r.Out, d.Feature, d.From, d.To, html.Options{Now: d.GeneratedAt, Version: d.Lineage.ParityVersion})
	if err != nil {
		return fail(stderr, fmt.Errorf("recompute: %w", err))
	}
	alignNotes, taken := alignRecomputed(d, rd, cfg, *cfgPath != "")
	notes = append(notes, alignNotes...)
	cmp := html.Compare(d, rd)
	touched := cmp.MetadataChanged
	if len(touched) > 0 {
		// Content not compared: the regenerated report names the ETags
		// (and manifest hashes) the report recorded, and the figures
		// recomputed from the current content decide.
		alignMetadata(d, rd, touched)
		taken = append(taken, "ETags of those objects")
		cmp = html.Compare(d, rd)
	}
	diffs = append(diffs, cmp.Diffs...)
	scoreDiffs, scoreNote, err := storedScoreDiffs(ctx, cfg, d, r.Out)
	if err != nil {
		return fail(stderr, err)
	}
	diffs = append(diffs, scoreDiffs...)
	if scoreNote != "" {
		notes = append(notes, scoreNote)
	}
	missing, err := missingInputs(ctx, cfg, cmp.NotReread)
	if err != nil {
		return fail(stderr, err)
	}
	for _, loc := range missing {
		diffs = append(diffs, html.Diff{Name: "input object " + loc + " is missing", Input: true, Report: "present", Recomputed: "absent"})
	}
	if len(cmp.NotReread) > len(missing) {
		// The report lists them as read by its runs (a run's manifest
		// covers all its windows); so does the regenerated one.
		keep := map[string]bool{}
		for _, loc := range cmp.NotReread {
			keep[loc] = true
		}
		for _, loc := range missing {
			keep[loc] = false
		}
		for _, in := range d.Lineage.Inputs {
			if keep[in.Location] {
				rd.Lineage.Inputs = append(rd.Lineage.Inputs, in)
			}
		}
		sort.Slice(rd.Lineage.Inputs, func(i, j int) bool {
			a, b := rd.Lineage.Inputs[i], rd.Lineage.Inputs[j]
			if a.Location != b.Location {
				return a.Location < b.Location
			}
			return a.ETag < b.ETag
		})
		taken = append(taken, "entries of the objects not re-read")
	}
	var regen bytes.Buffer
	if err := html.Render(&regen, rd); err != nil {
		return fail(stderr, fmt.Errorf("regenerate: %w", err))
	}
	identical := bytes.Equal(page, regen.Bytes())
	if !identical {
		diffs = append(diffs, pageDiffs(page, regen.Bytes(), d)...)
	}
	// Inputs and the report's text first: with many figures moved, the
	// list is cut, and they say why.
	sort.SliceStable(diffs, func(i, j int) bool { return diffRank(diffs[i]) < diffRank(diffs[j]) })
	const show = 200
	for i, df := range diffs {
		if i == show {
			fmt.Fprintf(stdout, "... and %d more\n", len(diffs)-show)
			break
		}
		fmt.Fprintf(stdout, "DIFFERS %s\n", df)
	}
	for _, loc := range touched {
		fmt.Fprintf(stdout, "notice: input object %s: metadata changed (modification time/inode), content not compared; figures recomputed from the current content\n", loc)
	}
	for _, n := range notes {
		fmt.Fprintf(stdout, "note: %s\n", n)
	}
	if len(cmp.NotReread) > len(missing) {
		fmt.Fprintf(stdout, "note: %d input object(s) of the report hold no row of the recomputed windows and were not re-read\n", len(cmp.NotReread)-len(missing))
	}
	if len(diffs) > 0 {
		if v := version(); v != d.Lineage.ParityVersion {
			fmt.Fprintf(stdout, "note: the report was rendered by parity %s and this is parity %s: wording or layout that changed between them also differs\n", d.Lineage.ParityVersion, v)
		}
		fmt.Fprintf(stdout, "verify: FAILED: %d difference(s) in %d figures, input objects and the report's text\n", len(diffs), cmp.Figures)
		return ExitFailure
	}
	inputs := "every input object is unchanged"
	if len(touched) > 0 {
		inputs = fmt.Sprintf("every input object has its recorded size and rows (%d with changed metadata, see the notices)", len(touched))
	}
	if identical {
		with := ""
		if len(taken) > 0 {
			with = " given its own " + strings.Join(taken, ", ")
		}
		fmt.Fprintf(stdout, "verify: OK: the report is byte-identical to one regenerated from its inputs%s; all %d figures match and %s\n", with, cmp.Figures, inputs)
	} else {
		fmt.Fprintf(stdout, "verify: OK: all %d figures match and %s; the text matches a regenerated report, and %d floating-point figure(s) of the embedded data differ only in their last digits (within a relative 1e-9: sums added in another order by another number of scan workers)\n", cmp.Figures, inputs, cmp.Tolerated)
	}
	return ExitOK
}

// alignRecomputed gives the recomputed data the values a verification
// cannot reproduce by design and does not judge, says which of them
// differed (notes) and names those that did (taken): the output location
// (the recomputation wrote to a temporary folder); the audit log's
// override entries (recorded decisions, not computed); each window's
// manifest hash (the hash of the window's manifest, which a sharded or
// limited run or an older parity wrote otherwise than one recomputing
// run does: verification compares the input objects one by one
// instead); the parity version that computed each
// window; and, with --config or an embedded config text that does not
// match its hash (both already reported once), the config path, text
// and hash.
func alignRecomputed(d, rd *html.Data, cfg *config.Config, ownConfig bool) (notes, taken []string) {
	rd.Lineage.Output = d.Lineage.Output
	if len(d.OverrideLog) > 0 || len(rd.OverrideLog) > 0 {
		notes = append(notes, fmt.Sprintf("the report's %d override entries of the audit log are recorded decisions and are shown as recorded, not recomputed", len(d.OverrideLog)))
		rd.OverrideLog = d.OverrideLog
		taken = append(taken, "override entries")
	}
	if ownConfig {
		rd.Lineage.ConfigPath = d.Lineage.ConfigPath
	}
	if cfg.Hash != d.Lineage.ConfigHash {
		rd.Lineage.ConfigPath, rd.Lineage.Config, rd.Lineage.ConfigHash = d.Lineage.ConfigPath, d.Lineage.Config, d.Lineage.ConfigHash
		for i := range rd.Windows {
			if rd.Windows[i].ConfigHash == cfg.Hash {
				rd.Windows[i].ConfigHash = d.Lineage.ConfigHash
			}
		}
	}
	byStart := map[int64]*html.Window{}
	for i := range d.Windows {
		byStart[d.Windows[i].Window.Start.Unix()] = &d.Windows[i]
	}
	manifests, versions := 0, 0
	for i := range rd.Windows {
		w := byStart[rd.Windows[i].Window.Start.Unix()]
		if w == nil {
			continue
		}
		if w.ManifestHash != rd.Windows[i].ManifestHash {
			manifests++
			rd.Windows[i].ManifestHash = w.ManifestHash
		}
		if w.ParityVersion != rd.Windows[i].ParityVersion {
			versions++
			rd.Windows[i].ParityVersion = w.ParityVersion
		}
	}
	if manifests > 0 {
		notes = append(notes, fmt.Sprintf("%d window(s) record a manifest hash other than the recomputation's (a merged sharded run's manifest counts every shard's reads, a run limited to some features counted only their rows, and earlier parity builds stored a run's whole manifest for each of its windows): the input objects are compared one by one instead", manifests))
		taken = append(taken, "manifest hashes")
	}
	if versions > 0 {
		notes = append(notes, fmt.Sprintf("%d window(s) of the report were computed by another parity version than this recomputation (%s); their figures are compared", versions, jobs.Version))
		taken = append(taken, "per-window parity versions")
	}
	if n, ok := alignReconciliation(d, rd); ok {
		notes = append(notes, n)
		taken = append(taken, "reconciliation item")
	}
	return notes, taken
}

// alignReconciliation gives the recomputed decommission checklist the
// report's reconciliation item when they differ: that item comes from
// the reconciliation results stored beside the outputs (reconcile/<name>/
// latest.json), which every later `parity reconcile` run replaces, not
// from the report's inputs, so a report made before a reconciliation run
// could never verify after it. The note says so, with both values.
func alignReconciliation(d, rd *html.Data) (string, bool) {
	for i := range rd.Verdict.Decommission {
		c := &rd.Verdict.Decommission[i]
		if !strings.HasPrefix(c.Item, "reconciliation") {
			continue
		}
		for _, dc := range d.Verdict.Decommission {
			if dc.Item != c.Item || dc == *c {
				continue
			}
			note := fmt.Sprintf("the decommission item %q is taken from the report (%q): the current reconciliation results give %q, and they change with every reconciliation run, so they are not the report's evidence", c.Item, dc.Evidence, c.Evidence)
			*c = dc
			ready := true
			for _, x := range rd.Verdict.Decommission {
				ready = ready && x.Met
			}
			rd.Verdict.DecommissionReady = ready
			return note, true
		}
	}
	return "", false
}

// copyReconciliation copies the stored reconciliation results
// (reconcile/<name>/latest.json) of the report's output into the
// recomputation's: the decommission checklist's reconciliation item
// comes from them, not from the logs. They are the output's current
// results: when a reconciliation run since the report changed the item,
// the report's is taken (alignReconciliation).
func copyReconciliation(ctx context.Context, cfg *config.Config, from string, to storage.Store) ([]string, error) {
	if from == "" {
		return nil, nil
	}
	src, err := storage.Open(ctx, from, storage.Options{S3Endpoint: cfg.S3.Endpoint, S3Region: cfg.S3.Region, S3PathStyle: cfg.S3.PathStyle})
	if err != nil {
		return []string{fmt.Sprintf("the report's output %s cannot be opened (%v): its reconciliation results are not used", from, err)}, nil
	}
	objs, err := src.List(ctx, "reconcile/")
	if err != nil {
		if errors.Is(err, storage.ErrNotExist) {
			return nil, nil
		}
		return []string{fmt.Sprintf("the report's output %s cannot be listed (%v): its reconciliation results are not used", from, err)}, nil
	}
	n := 0
	for _, o := range objs {
		if path.Base(o.Key) != "latest.json" {
			continue
		}
		b, _, err := src.Get(ctx, o.Key)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", from, o.Key, err)
		}
		if _, err := to.Put(ctx, o.Key, b); err != nil {
			return nil, err
		}
		n++
	}
	if n == 0 {
		return nil, nil
	}
	return []string{fmt.Sprintf("the decommission checklist's reconciliation item is recomputed from the %d current reconciliation result(s) in %s/reconcile/", n, from)}, nil
}

// alignMetadata gives the recomputed data the report's ETags of the local
// objects whose metadata alone changed.
func alignMetadata(d, rd *html.Data, changed []string) {
	etag := map[string]string{}
	for _, in := range d.Lineage.Inputs {
		etag[in.Location] = in.ETag
	}
	for _, loc := range changed {
		for i := range rd.Lineage.Inputs {
			if rd.Lineage.Inputs[i].Location == loc {
				rd.Lineage.Inputs[i].ETag = etag[loc]
			}
		}
	}
}

// missingInputs are the report's input objects the recomputation did not
// read that no longer exist.
func missingInputs(ctx context.Context, cfg *config.Config, locs []string) ([]string, error) {
	var missing []string
	for _, loc := range locs {
		dir, base := path.Split(loc)
		st, err := storage.Open(ctx, dir, storage.Options{S3Endpoint: cfg.S3.Endpoint, S3Region: cfg.S3.Region, S3PathStyle: cfg.S3.PathStyle})
		if err != nil {
			return nil, fmt.Errorf("input object %s: %w", loc, err)
		}
		objs, err := st.List(ctx, base)
		if err != nil && !errors.Is(err, storage.ErrNotExist) {
			return nil, fmt.Errorf("input object %s: %w", loc, err)
		}
		found := false
		for _, o := range objs {
			found = found || o.Key == base
		}
		if !found {
			missing = append(missing, loc)
		}
	}
	return missing, nil
}

// pageDiffs explains why a report is not byte-identical to the
// regenerated one, apart from the figures Compare names: its visible
// text (everything outside the embedded data) differs, or its embedded
// data are not what parity writes for the data they decode to (hand
// edits that decode the same: an added field, other spacing).
func pageDiffs(page, regen []byte, d *html.Data) []html.Diff {
	var out []html.Diff
	lo, hi, err := dataSpan(page)
	rlo, rhi, rerr := dataSpan(regen)
	if err != nil || rerr != nil {
		return []html.Diff{{Name: "the report's text", Report: fmt.Sprintf("%d bytes", len(page)), Recomputed: fmt.Sprintf("%d bytes", len(regen))}}
	}
	if i, ok := firstDiff(page[:lo], regen[:rlo]); ok {
		out = append(out, textDiff(page, regen, i, i))
	} else if i, ok := firstDiff(page[hi:], regen[rhi:]); ok {
		out = append(out, textDiff(page, regen, hi+i, rhi+i))
	}
	var own bytes.Buffer
	if err := html.Render(&own, d); err == nil {
		olo, ohi, err := dataSpan(own.Bytes())
		if err == nil {
			if i, ok := firstDiff(page[lo:hi], own.Bytes()[olo:ohi]); ok {
				out = append(out, html.Diff{Name: fmt.Sprintf("the report's embedded data are not as parity writes them (edited?) from byte %d", lo+i),
					Report: html.Around(string(page[lo:hi]), i, 40), Recomputed: html.Around(string(own.Bytes()[olo:ohi]), i, 40)})
			}
		}
	}
	return out
}

// diffRank orders the differences: config and input objects, then the
// report's text, then figures.
func diffRank(df html.Diff) int {
	switch {
	case df.Input || strings.HasPrefix(df.Name, "config"):
		return 0
	case strings.HasPrefix(df.Name, "the report's"):
		return 1
	}
	return 2
}

func textDiff(page, regen []byte, i, j int) html.Diff {
	return html.Diff{Name: fmt.Sprintf("the report's visible text differs from a regenerated report at byte %d", i),
		Report: html.Around(string(page), i, 60), Recomputed: html.Around(string(regen), j, 60)}
}

// firstDiff is the first byte where a and b differ; ok is false when they
// are equal.
func firstDiff(a, b []byte) (int, bool) {
	if bytes.Equal(a, b) {
		return 0, false
	}
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i, true
}

// reportHistoryWindows are the stored windows the report's figures depend on:
// every window of its history (the drift baseline and the streaks), as
// recorded, or a contiguous run when an older report lacks the list.
func reportHistoryWindows(d *html.Data, length time.Duration) []eval.Window {
	var ws []eval.Window
	for _, s := range d.Lineage.History {
		ws = append(ws, eval.Window{Start: s.UTC(), End: s.UTC().Add(length)})
	}
	if len(ws) == 0 {
		ws = eval.WindowsBetween(d.Lineage.EvaluatedFrom.Start, d.Windows[len(d.Windows)-1].Window.End, length)
	}
	return ws
}
