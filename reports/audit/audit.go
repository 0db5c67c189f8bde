// Package audit keeps the append-only log of every verdict and override
// parity publishes: what was decided, when, why, and from which input
// (manifest hash) and configuration (config hash).
//
// Object stores have no append, so the log is one immutable object per
// run and window, written with PutIfAbsent; nothing is ever overwritten:
//
//	audit/window=<window key>/run=<run id>.jsonl
//
// Each line is one Entry (JSON). Run ids start with the run's UTC time, so
// listing audit/ sorted by key and concatenating the objects reads the log
// window by window, oldest run first; Read does exactly that.
package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/reports"
	"github.com/parity-eval/parity/storage"
)

// Prefix of every audit object.
const Prefix = "audit/"

// Entry kinds.
const (
	KindVerdict  = "verdict"
	KindOverride = "override"
)

// Entry is one audit record.
type Entry struct {
	Kind    string `json:"kind"`
	Feature string `json:"feature"`
	// Window the verdict is about.
	Window eval.Window `json:"window"`
	// RecordedAt is when the run wrote the entry.
	RecordedAt time.Time `json:"recorded_at"`
	// What: the verdict, traffic and validity, or the override.
	Verdict        string         `json:"verdict,omitempty"`
	TrafficPercent float64        `json:"traffic_percent"`
	ValidUntil     time.Time      `json:"valid_until"`
	Override       *eval.Override `json:"override,omitempty"`
	// Why.
	Reasons []string `json:"reasons"`
	// From what.
	RunID         string `json:"run_id"`
	ConfigHash    string `json:"config_hash"`
	ManifestHash  string `json:"manifest_hash"`
	ParityVersion string `json:"parity_version"`
}

// Entries lists a verdicts document's audit entries: one verdict entry per
// feature, plus one override entry per feature an override applies to.
func Entries(doc *reports.Verdicts, recorded time.Time) []Entry {
	names := make([]string, 0, len(doc.Features))
	for n := range doc.Features {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []Entry
	for _, n := range names {
		fd := doc.Features[n]
		base := Entry{Feature: n, Window: doc.Window, RecordedAt: recorded.UTC(), TrafficPercent: fd.Traffic.Percent, ValidUntil: fd.ValidUntil,
			RunID: doc.Run.ID, ConfigHash: doc.Run.ConfigHash, ManifestHash: doc.Run.ManifestHash, ParityVersion: doc.Run.ParityVersion}
		v := base
		v.Kind, v.Verdict, v.Override = KindVerdict, fd.Verdict, fd.Override
		v.Reasons = append([]string{}, fd.Reasons...)
		out = append(out, v)
		if ov := fd.Override; ov != nil && (ov.ForceLegacy || ov.Freeze) {
			o := base
			o.Kind, o.Override, o.Verdict = KindOverride, ov, fd.Verdict
			o.Reasons = []string{fmt.Sprintf("%s by %s at %s (%s): %s", kind(ov), ov.By, ov.At, ov.Source, ov.Reason)}
			out = append(out, o)
		}
	}
	return out
}

func kind(ov *eval.Override) string {
	if ov.ForceLegacy {
		return "force_legacy"
	}
	return "freeze"
}

// Key is the audit object of one run and window.
func Key(window, runID string) string {
	return fmt.Sprintf("%swindow=%s/run=%s.jsonl", Prefix, window, runID)
}

// Write stores entries as a new immutable object. When the key is taken
// by different content (the same run id twice, e.g. a fixed clock), it
// takes the next free suffix (-2, -3, ...) rather than overwrite: the log
// only grows. Identical content under the same run id is already recorded
// and is not written twice. It returns the key holding the entries.
func Write(ctx context.Context, st storage.Store, window, runID string, entries []Entry) (string, error) {
	if len(entries) == 0 {
		return "", nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for i := range entries {
		if err := enc.Encode(&entries[i]); err != nil {
			return "", fmt.Errorf("audit: encode: %w", err)
		}
	}
	id := runID
	for i := 2; i < 1000; i++ {
		key := Key(window, id)
		_, err := st.PutIfAbsent(ctx, key, b.Bytes())
		if err == nil {
			return key, nil
		}
		if !errors.Is(err, storage.ErrPrecondition) {
			return "", fmt.Errorf("audit: write %s/%s: %w", st.URI(), key, err)
		}
		// The same bytes under the same run id are the same event (a
		// retried write, or a replay with a fixed clock in one process):
		// already recorded, nothing to add.
		if old, _, err := st.Get(ctx, key); err == nil && bytes.Equal(old, b.Bytes()) {
			return key, nil
		}
		id = fmt.Sprintf("%s-%d", runID, i)
	}
	return "", fmt.Errorf("audit: %s/%s: too many objects for run %s", st.URI(), Key(window, runID), runID)
}

// Read returns the whole log in order (by key: window, then run), or only
// the entries of one feature when feature is not empty.
func Read(ctx context.Context, st storage.Store, feature string) ([]Entry, error) {
	objs, err := st.List(ctx, Prefix)
	if err != nil {
		return nil, fmt.Errorf("audit: list %s/%s: %w", st.URI(), Prefix, err)
	}
	storage.SortObjects(objs)
	var out []Entry
	for _, o := range objs {
		if !strings.HasSuffix(o.Key, ".jsonl") {
			continue
		}
		data, _, err := st.Get(ctx, o.Key)
		if err != nil {
			return nil, fmt.Errorf("audit: read %s/%s: %w", st.URI(), o.Key, err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		line := 0
		for sc.Scan() {
			line++
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			var e Entry
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				return nil, fmt.Errorf("audit: %s/%s:%d: not an audit entry: %w", st.URI(), o.Key, line, err)
			}
			if feature == "" || e.Feature == feature {
				out = append(out, e)
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("audit: read %s/%s: %w", st.URI(), o.Key, err)
		}
	}
	return out, nil
}
