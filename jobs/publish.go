package jobs

// This file writes what the systems that move traffic read, after the
// verdicts replay and before verdicts/latest.json (so latest stays the
// last write of a run): the flagd flag-definitions file, the Prometheus
// metrics, and the audit log. It also loads the overrides file the
// replay applies. docs/routers.md documents every output.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/reports"
	"github.com/parity-eval/parity/reports/audit"
	"github.com/parity-eval/parity/reports/flagd"
	"github.com/parity-eval/parity/reports/promtext"
	"github.com/parity-eval/parity/storage"
)

// Keys of the published outputs, relative to the output location.
const (
	KeyFlagd     = "flags/flagd.json"
	KeyMetrics   = "metrics/parity.prom"
	KeyOverrides = "overrides.yaml"
)

// publish writes the flagd file, the metrics (textfile in the output, an
// optional local textfile, an optional Pushgateway push) and the audit
// entries of every verdicts document this run wrote, in that order.
// Each object is put atomically; a failure stops the run before
// latest.json, so the rerun republishes everything. A failed push is
// only a warning: monitoring must not block the verdict.
func (r *Runner) publish(ctx context.Context, last *reports.Verdicts, o Options, res *Result) error {
	pub := r.Cfg.Publish
	data, err := flagd.Generate(last, flagd.Options{FlagPrefix: pub.FlagPrefix})
	if err != nil {
		return err
	}
	if _, err := r.Out.Put(ctx, KeyFlagd, data); err != nil {
		return fmt.Errorf("write %s/%s: %w", r.Out.URI(), KeyFlagd, err)
	}
	res.Outputs = append(res.Outputs, KeyFlagd)

	reg, err := promtext.Registry(last, o.Now())
	if err != nil {
		return err
	}
	text, err := promtext.Text(reg)
	if err != nil {
		return err
	}
	if _, err := r.Out.Put(ctx, KeyMetrics, text); err != nil {
		return fmt.Errorf("write %s/%s: %w", r.Out.URI(), KeyMetrics, err)
	}
	res.Outputs = append(res.Outputs, KeyMetrics)
	if tf := pub.Textfile; tf != "" {
		if !filepath.IsAbs(tf) && r.Cfg.Path != "" {
			tf = filepath.Join(filepath.Dir(r.Cfg.Path), tf) // like every location in the config
		}
		// client_golang writes a temporary file and renames it, so
		// node_exporter never reads half a file.
		if err := prometheus.WriteToTextfile(tf, reg); err != nil {
			return fmt.Errorf("publish.textfile %s: %w", pub.Textfile, err)
		}
	}
	if pub.Pushgateway != "" {
		job := pub.PushJob
		if job == "" {
			job = "parity"
		}
		if err := promtext.Push(ctx, pub.Pushgateway, job, r.Out.URI(), reg, nil); err != nil {
			o.Log.Warn("metrics push failed; the textfile is written", "err", err)
		}
	}

	// One audit object per verdicts document written by this run, built
	// from the document as stored (read back). Each is written once every
	// write before it is visible (a conditional write flushes the ordered
	// store), but the audit objects need no order among themselves (each
	// is created once, under its own window's key, and latest.json comes
	// after all of them), so they are written a few at a time: on a local
	// folder each waits on two fsyncs, on S3 on a round trip.
	var written []string
	for _, key := range res.Outputs {
		if strings.HasPrefix(key, "verdicts/window=") {
			written = append(written, key)
		}
	}
	keys := runAhead(len(written), max(4, o.Workers), func(i int) (string, error) {
		key := written[i]
		raw, _, err := r.Out.Get(ctx, key)
		if err != nil {
			return "", fmt.Errorf("audit: read back %s/%s: %w", r.Out.URI(), key, err)
		}
		doc, err := reports.DecodeVerdicts(raw)
		if err != nil {
			return "", fmt.Errorf("audit: %s/%s: %w", r.Out.URI(), key, err)
		}
		return audit.Write(ctx, r.Out, doc.Window.Key(), doc.Run.ID, audit.Entries(doc, o.Now()))
	})
	defer keys.stop()
	var first error
	for i := range written {
		ak, err := keys.get(i)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		if ak != "" {
			res.Outputs = append(res.Outputs, ak)
		}
	}
	return first
}

// ReadLatest reads verdicts/latest.json from an output store.
func ReadLatest(ctx context.Context, st storage.Store) (*reports.Verdicts, []byte, error) {
	data, _, err := st.Get(ctx, KeyLatest)
	if err != nil {
		return nil, nil, err // Get's errors name the object
	}
	doc, err := reports.DecodeVerdicts(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s/%s: not a verdicts document: %w", st.URI(), KeyLatest, err)
	}
	return doc, data, nil
}

// OverrideFile is the overrides file: per feature, a human decision that
// wins over any computed verdict. YAML or JSON:
//
//	overrides:
//	  refund_approval:
//	    force_legacy: true          # kill switch: all traffic to legacy
//	    by: alice@example.com
//	    reason: "INC-4411 wrong refunds for EUR"
//	    at: 2026-11-21T09:30:00Z
//	    expires: 2026-11-28T00:00:00Z   # optional
type OverrideFile struct {
	Overrides map[string]FileOverride `yaml:"overrides"`
}

// FileOverride is one feature's entry.
type FileOverride struct {
	ForceLegacy bool   `yaml:"force_legacy"`
	Freeze      bool   `yaml:"freeze"`
	By          string `yaml:"by"`
	Reason      string `yaml:"reason"`
	At          string `yaml:"at"`
	Expires     string `yaml:"expires"`

	at, expires time.Time
}

// Overrides are the overrides in force for one run: the file's (when
// any) merged with the config's.
type Overrides struct {
	// Source is where the file was read ("" when there was none).
	Source string
	File   map[string]FileOverride
	now    time.Time
}

// ParseOverrides parses and validates an overrides file against the
// configured features. Errors name the file, line and key.
func ParseOverrides(name string, data []byte, cfg *config.Config) (map[string]FileOverride, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var f OverrideFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) { // an empty file means no overrides
		return nil, fmt.Errorf("%s: %s (want overrides: {FEATURE: {force_legacy|freeze, by, reason, at, expires}})", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	lines := map[string]int{}
	if len(root.Content) > 0 && root.Content[0].Kind == yaml.MappingNode {
		m := root.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == "overrides" && m.Content[i+1].Kind == yaml.MappingNode {
				o := m.Content[i+1]
				for j := 0; j+1 < len(o.Content); j += 2 {
					n := o.Content[j].Value
					lines[n] = o.Content[j].Line
					// Each key of the entry, so an error points at its own line.
					if e := o.Content[j+1]; e.Kind == yaml.MappingNode {
						for k := 0; k+1 < len(e.Content); k += 2 {
							lines[n+"."+e.Content[k].Value] = e.Content[k].Line
						}
					}
				}
			}
		}
	}
	var errs []error
	names := make([]string, 0, len(f.Overrides))
	for n := range f.Overrides {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ov := f.Overrides[n]
		bad := func(key, format string, a ...any) {
			line, ok := lines[n+key]
			if !ok {
				line = lines[n]
			}
			errs = append(errs, fmt.Errorf("%s:%d: overrides.%s%s: %s", name, line, n, key, fmt.Sprintf(format, a...)))
		}
		if cfg.Feature(n) == nil {
			var known []string
			for _, cf := range cfg.Features {
				known = append(known, cf.Name)
			}
			bad("", "unknown feature (configured: %s)", strings.Join(known, ", "))
		}
		switch {
		case ov.ForceLegacy && ov.Freeze:
			bad("", "give force_legacy or freeze, not both")
		case !ov.ForceLegacy && !ov.Freeze:
			bad("", "set force_legacy: true (kill switch) or freeze: true; delete the entry to lift an override")
		}
		if strings.TrimSpace(ov.By) == "" {
			bad(".by", "required: who decided")
		}
		if strings.TrimSpace(ov.Reason) == "" {
			bad(".reason", "required: why (an incident or ticket)")
		}
		t, err := time.Parse(time.RFC3339, ov.At)
		if err != nil {
			bad(".at", "%q: required, an RFC 3339 time such as 2026-11-21T09:30:00Z", ov.At)
		}
		ov.at = t
		if ov.Expires != "" {
			e, err := time.Parse(time.RFC3339, ov.Expires)
			switch {
			case err != nil:
				bad(".expires", "%q: want an RFC 3339 time such as 2026-11-28T00:00:00Z", ov.Expires)
			case !e.After(t):
				bad(".expires", "%s is not after at %s", ov.Expires, ov.At)
			}
			ov.expires = e
		}
		f.Overrides[n] = ov
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f.Overrides, nil
}

// LoadOverrides reads the overrides file: publish.overrides when set
// (which must exist), else overrides.yaml in the output location (a
// missing one means no overrides). now decides which entries are in
// force (at <= now < expires).
func (r *Runner) LoadOverrides(ctx context.Context, now time.Time, log *slog.Logger) (*Overrides, error) {
	if log == nil {
		log = slog.Default()
	}
	ovs := &Overrides{now: now}
	st, key, must := r.Out, KeyOverrides, false
	if p := r.Cfg.Publish.Overrides; p != "" {
		must = true
		loc := p
		if !strings.Contains(p, "://") && !filepath.IsAbs(p) && r.Cfg.Path != "" {
			loc = filepath.Join(filepath.Dir(r.Cfg.Path), p)
		}
		dir, base := splitLocation(loc)
		s, err := storage.Open(ctx, dir, storage.Options{S3Endpoint: r.Cfg.S3.Endpoint, S3Region: r.Cfg.S3.Region, S3PathStyle: r.Cfg.S3.PathStyle})
		if err != nil {
			return nil, fmt.Errorf("publish.overrides %s: %w", p, err)
		}
		st, key = s, base
	}
	data, _, err := st.Get(ctx, key)
	if errors.Is(err, storage.ErrNotExist) && !must {
		return ovs, nil
	}
	if err != nil {
		return nil, fmt.Errorf("overrides file %s/%s: %w", st.URI(), key, err)
	}
	ovs.Source = st.URI() + "/" + key
	file, err := ParseOverrides(ovs.Source, data, r.Cfg)
	if err != nil {
		return nil, err
	}
	ovs.File = file
	for n, ov := range file {
		if !ovs.active(ov) {
			log.Info("override not in force", "feature", n, "at", ov.At, "expires", ov.Expires, "file", ovs.Source)
		}
	}
	return ovs, nil
}

func splitLocation(loc string) (dir, base string) {
	i := strings.LastIndex(loc, "/")
	if i < 0 {
		return ".", loc
	}
	return loc[:i], loc[i+1:]
}

// overlaps: the window's validity [end, end+freshness) meets the entry's
// [at, expires).
func (o *Overrides) overlaps(ov FileOverride, w eval.Window, fresh time.Duration) bool {
	return w.End.Add(fresh).After(ov.at) && (ov.expires.IsZero() || w.End.Before(ov.expires))
}

func (o *Overrides) active(ov FileOverride) bool {
	return !o.now.Before(ov.at) && (ov.expires.IsZero() || o.now.Before(ov.expires))
}

// Of is the override for a feature's verdict of window w: the file's
// entry in force, the config's (policy.force_legacy / policy.freeze), or
// both merged. A kill switch from either source wins; the override
// records who, why, when and every source.
//
// A file entry applies to the newest window, and to an older window only
// when that window's verdict was still valid while the entry was in
// force: a replayed backfill does not stamp today's kill switch on
// verdicts that expired before it was set.
func (o *Overrides) Of(f *config.Feature, w eval.Window, newest bool) *eval.Override {
	cfgOv := overrideOf(f)
	var fileOv *eval.Override
	if o != nil {
		if ov, ok := o.File[f.Name]; ok && o.active(ov) && (newest || o.overlaps(ov, w, f.Policy.Freshness.D())) {
			src := "file " + o.Source
			if ov.Expires != "" {
				src += " (expires " + ov.Expires + ")"
			}
			fileOv = &eval.Override{ForceLegacy: ov.ForceLegacy, Freeze: ov.Freeze, By: ov.By, Reason: ov.Reason, At: ov.At, Source: src}
		}
	}
	switch {
	case fileOv == nil:
		return cfgOv
	case cfgOv == nil:
		return fileOv
	}
	// Both: the stronger action leads; both are recorded.
	lead, other := fileOv, cfgOv
	if cfgOv.ForceLegacy && !fileOv.ForceLegacy {
		lead, other = cfgOv, fileOv
	}
	return &eval.Override{
		ForceLegacy: fileOv.ForceLegacy || cfgOv.ForceLegacy,
		Freeze:      !(fileOv.ForceLegacy || cfgOv.ForceLegacy),
		By:          lead.By + "; " + other.By,
		Reason:      lead.Reason + "; " + other.Reason,
		At:          lead.At,
		Source:      lead.Source + "; " + other.Source,
	}
}
