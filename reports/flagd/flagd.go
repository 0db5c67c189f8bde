// Package flagd renders a verdicts document as an OpenFeature flagd
// flag-definitions file, so a router that already evaluates flags with
// flagd (or any OpenFeature provider reading flagd's format) moves traffic
// as parity decides, with no person in the loop.
//
// One flag per feature, keyed by the feature name (with an optional
// prefix), with the string variants "ai" and "legacy":
//
//   - legacy when the verdict is rollback, an override forces legacy, or
//     the traffic step is 0%: no targeting, defaultVariant "legacy";
//   - otherwise requests whose context.input_class is on the feature's
//     allow-list (ai_allowed_classes) get a sticky `fractional` split of
//     the current traffic step (ai : legacy), every other class (and a
//     request without input_class) gets legacy;
//   - every flag with targeting is guarded by the verdict's valid_until:
//     flagd injects the evaluation time as $flagd.timestamp (Unix seconds)
//     into every evaluation context, and the targeting answers legacy from
//     valid_until on (and when the timestamp is missing), so a stale flag
//     file routes nothing to the AI, in flagd itself, even if parity stops
//     running. Each flag also carries valid_until in its metadata.
package flagd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/reports"
)

// Schema is the flagd flag-definitions schema the file declares.
const Schema = "https://flagd.dev/schema/v0/flags.json"

// Variants of every flag.
const (
	VariantAI     = "ai"
	VariantLegacy = "legacy"
)

// ContextClass is the evaluation-context attribute the targeting reads
// for the request's input class.
const ContextClass = "input_class"

// weightScale turns a percentage into integer fractional weights: flagd
// requires integer weights, and steps such as 0.5% must survive, so
// weights are in hundredths of a percent (basis points of the total).
const weightScale = 100

// Options shape the generated file.
type Options struct {
	// FlagPrefix is prepended to each feature name to form the flag key
	// (e.g. "parity."); empty keeps the feature name.
	FlagPrefix string
	// FlagSetID names the flag set in the file's metadata (default "parity").
	FlagSetID string
}

// File is a flagd flag-definitions document.
type File struct {
	Schema   string          `json:"$schema"`
	Flags    map[string]Flag `json:"flags"`
	Metadata map[string]any  `json:"metadata"`
}

// Flag is one flag definition.
type Flag struct {
	State          string            `json:"state"`
	Variants       map[string]string `json:"variants"`
	DefaultVariant string            `json:"defaultVariant"`
	Targeting      map[string]any    `json:"targeting,omitempty"`
	Metadata       map[string]any    `json:"metadata"`
}

// Build renders the flags for every feature of a verdicts document.
func Build(doc *reports.Verdicts, o Options) (*File, error) {
	if doc == nil {
		return nil, fmt.Errorf("flagd: no verdicts document")
	}
	if o.FlagSetID == "" {
		o.FlagSetID = "parity"
	}
	f := &File{Schema: Schema, Flags: map[string]Flag{}, Metadata: map[string]any{
		"flagSetId":     o.FlagSetID,
		"generated_by":  "parity",
		"generated_at":  doc.GeneratedAt.UTC().Format(time.RFC3339),
		"valid_until":   doc.ValidUntil.UTC().Format(time.RFC3339),
		"window_start":  doc.Window.Start.UTC().Format(time.RFC3339),
		"window_end":    doc.Window.End.UTC().Format(time.RFC3339),
		"run_id":        doc.Run.ID,
		"config_hash":   doc.Run.ConfigHash,
		"freshness_doc": "each flag's targeting answers legacy from its metadata.valid_until on ($flagd.timestamp)",
	}}
	names := make([]string, 0, len(doc.Features))
	for n := range doc.Features {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fd := doc.Features[n]
		if fd == nil {
			return nil, fmt.Errorf("flagd: feature %q has no verdict", n)
		}
		pct := fd.Traffic.Percent
		if math.IsNaN(pct) || pct < 0 || pct > 100 {
			return nil, fmt.Errorf("flagd: feature %q: traffic.percent %g out of range (want 0..100)", n, pct)
		}
		fl := Flag{
			State:          "ENABLED",
			Variants:       map[string]string{VariantAI: VariantAI, VariantLegacy: VariantLegacy},
			DefaultVariant: VariantLegacy,
			Metadata: map[string]any{
				"verdict":         fd.Verdict,
				"valid_until":     fd.ValidUntil.UTC().Format(time.RFC3339),
				"traffic_percent": pct,
				"window_end":      fd.Window.End.UTC().Format(time.RFC3339),
			},
		}
		legacy, why := LegacyOnly(&fd.FeatureVerdict)
		if ov := fd.Override; ov != nil && (ov.ForceLegacy || ov.Freeze) {
			fl.Metadata["override"] = overrideKind(ov)
			fl.Metadata["override_by"] = ov.By
			fl.Metadata["override_reason"] = ov.Reason
		}
		allowed := append([]string(nil), fd.AIAllowedClasses...)
		sort.Strings(allowed)
		if !legacy && len(allowed) == 0 {
			legacy, why = true, "no input class is on the AI allow-list"
		}
		if !legacy && fd.ValidUntil.IsZero() {
			legacy, why = true, "verdict has no valid_until"
		}
		if legacy {
			fl.Metadata["legacy_reason"] = why
		} else {
			fl.Targeting = targeting(pct, allowed, fd.ValidUntil)
			// Metadata values must be scalars (flagd schema), so the list
			// is joined.
			fl.Metadata["ai_allowed_classes"] = joinComma(allowed)
		}
		f.Flags[o.FlagPrefix+n] = fl
	}
	return f, nil
}

// LegacyOnly says whether a verdict sends every request to legacy, and why.
func LegacyOnly(v *eval.FeatureVerdict) (bool, string) {
	switch {
	case v.Override != nil && v.Override.ForceLegacy:
		return true, fmt.Sprintf("override force_legacy by %s: %s", v.Override.By, v.Override.Reason)
	case v.Verdict == eval.VerdictRollback:
		return true, "verdict rollback"
	case v.Traffic.Percent <= 0:
		return true, "traffic step 0%"
	}
	return false, ""
}

func overrideKind(ov *eval.Override) string {
	if ov.ForceLegacy {
		return "force_legacy"
	}
	return "freeze"
}

// ContextTimestamp is the evaluation-context attribute flagd fills with
// the evaluation time in Unix seconds (flagd, flagd-core and the in-process
// providers inject it into every evaluation; a caller cannot set it).
const ContextTimestamp = "$flagd.timestamp"

// targeting is JsonLogic: before valid_until, allowed classes get the
// fractional split (or plain "ai" at 100%); everything else, and every
// request from valid_until on, "legacy".
func targeting(pct float64, allowed []string, validUntil time.Time) map[string]any {
	var ai any = VariantAI
	if pct < 100 {
		w := int(math.Round(pct * weightScale))
		// The bucket key is the flag key plus the targeting key (flagd's
		// documented form), so one request id is sticky per feature and
		// independent across features.
		ai = map[string]any{"fractional": []any{
			map[string]any{"cat": []any{map[string]any{"var": "$flagd.flagKey"}, map[string]any{"var": "targetingKey"}}},
			[]any{VariantAI, w},
			[]any{VariantLegacy, 100*weightScale - w},
		}}
	}
	list := make([]any, len(allowed))
	for i, c := range allowed {
		list[i] = c
	}
	route := map[string]any{"if": []any{
		map[string]any{"in": []any{map[string]any{"var": ContextClass}, list}},
		ai,
		VariantLegacy,
	}}
	return map[string]any{"if": []any{freshGuard(validUntil), route, VariantLegacy}}
}

// freshGuard is true while flagd's evaluation time is before valid_until:
// 0 < $flagd.timestamp < valid_until (Unix seconds). At valid_until the
// verdict is stale, so the comparison is strict. A sub-second valid_until
// is rounded down, so the guard never outlives it. The "> 0" half makes a
// missing timestamp (an engine that does not inject it: null) legacy
// rather than "before any date". Only binary comparisons and "and", which
// every JsonLogic implementation of flagd's providers supports.
func freshGuard(validUntil time.Time) map[string]any {
	ts := map[string]any{"var": ContextTimestamp}
	return map[string]any{"and": []any{
		map[string]any{">": []any{ts, 0}},
		map[string]any{"<": []any{ts, validUntil.Unix()}},
	}}
}

func joinComma(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(x)
	}
	return b.String()
}

// Encode renders the file as indented JSON (keys sorted, so a rerun on
// the same verdicts yields the same bytes and flagd's ETag change
// detection sees no change).
func (f *File) Encode() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("flagd: encode: %w", err)
	}
	return b.Bytes(), nil
}

// Generate builds and encodes the file in one step.
func Generate(doc *reports.Verdicts, o Options) ([]byte, error) {
	f, err := Build(doc, o)
	if err != nil {
		return nil, err
	}
	return f.Encode()
}
