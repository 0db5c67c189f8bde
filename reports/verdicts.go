package reports

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/parity-eval/parity/eval"
)

// SchemaVersion of the verdicts document. Bump on incompatible change.
const SchemaVersion = 1

// VerdictsSchema is the JSON Schema of the verdicts document.
//
//go:embed schema/verdicts.schema.json
var VerdictsSchema []byte

// Verdicts is the document routers and flag systems read. Consumers must
// treat a document (or feature) whose valid_until has passed as "legacy
// only": an evaluation older than its freshness is no evaluation.
type Verdicts struct {
	SchemaVersion int                    `json:"schema_version"`
	GeneratedAt   time.Time              `json:"generated_at"`
	ValidUntil    time.Time              `json:"valid_until"`
	Window        eval.Window            `json:"window"`
	Run           RunInfo                `json:"run"`
	Features      map[string]*FeatureDoc `json:"features"`
}

// RunInfo identifies the run that produced an output.
type RunInfo struct {
	ID            string `json:"id"`
	ConfigHash    string `json:"config_hash"`
	ManifestHash  string `json:"manifest_hash"`
	ParityVersion string `json:"parity_version"`
}

// FeatureDoc is one feature's verdict plus its per-class evidence.
type FeatureDoc struct {
	eval.FeatureVerdict
	Status  string               `json:"status"`
	Rows    int64                `json:"rows"`
	Classes map[string]*ClassDoc `json:"classes"`
}

// ClassDoc is one input class.
type ClassDoc struct {
	Status   string               `json:"status"`
	N        int64                `json:"n"`
	NNeeded  int64                `json:"n_needed"`
	Reasons  []string             `json:"reasons"`
	Triggers []string             `json:"triggers"`
	Metrics  map[string]MetricDoc `json:"metrics"`
	// ConfidenceThreshold is the class's confidence gate for routers
	// (eval.Gate, chosen by eval.ChooseThreshold): the AI may answer a
	// request of this class only when its ai_confidence is >= the
	// threshold; requests below stay on legacy. Absent when the feature
	// has no gate (no labelled categorical field or no confidence
	// logged); null when no threshold could be established (too few
	// labelled requests, or the AI is not non-inferior at any tested
	// threshold): then the AI is not allowed in the class. Coverage is
	// the share of labelled requests at or above the threshold.
	ConfidenceThreshold eval.OptFloat `json:"confidence_threshold,omitzero"`
	Coverage            eval.OptFloat `json:"coverage,omitzero"`
}

// MetricDoc is a metric in the verdicts document; null when absent.
type MetricDoc struct {
	Value     *float64 `json:"value"`
	CILow     *float64 `json:"ci_low"`
	CIHigh    *float64 `json:"ci_high"`
	PValue    *float64 `json:"p_value"`
	PAdjusted *float64 `json:"p_adjusted"`
	N         int64    `json:"n"`
	Threshold *float64 `json:"threshold"`
	Status    string   `json:"status"`
	Test      string   `json:"test,omitempty"`
}

// verdictMetric selects the metrics copied into the verdicts document:
// the criteria and the headline figures. Everything is in the scores.
func verdictMetric(m *eval.Metric) bool {
	return m.Criterion || strings.HasPrefix(m.Name, "agreement.") || strings.HasPrefix(m.Name, "accuracy.") && !strings.HasSuffix(m.Name, ".mcnemar") || m.Name == "latency_ms.ai.p95" || m.Name == "ai_share"
}

// BuildVerdicts assembles the document for one window.
func BuildVerdicts(w eval.Window, fws []*eval.FeatureWindow, decided map[string]eval.FeatureVerdict, run RunInfo, now time.Time) *Verdicts {
	doc := &Verdicts{SchemaVersion: SchemaVersion, GeneratedAt: now.UTC(), Window: w, Run: run, Features: map[string]*FeatureDoc{}}
	for _, fw := range fws {
		fv := decided[fw.Feature]
		fv.Alerts = append(append([]eval.Alert{}, fw.Alerts...), fv.Alerts...)
		fd := &FeatureDoc{FeatureVerdict: fv, Status: fw.Status, Rows: fw.Rows, Classes: map[string]*ClassDoc{}}
		for _, c := range fw.Classes {
			cd := &ClassDoc{Status: c.Status, N: c.N, NNeeded: c.NNeeded, Reasons: nonNil(c.Reasons), Triggers: nonNil(c.Triggers), Metrics: map[string]MetricDoc{}}
			for _, m := range c.Metrics {
				if !verdictMetric(m) {
					continue
				}
				cd.Metrics[m.Name] = MetricDoc{Value: Num(m.Value), CILow: Num(m.CILow), CIHigh: Num(m.CIHigh), PValue: Num(m.P), PAdjusted: Num(m.PAdjusted), N: m.N, Threshold: Num(m.Threshold), Status: m.Status, Test: m.Test}
			}
			if c.Gate != nil {
				cd.ConfidenceThreshold, cd.Coverage = eval.Opt(c.Gate.Threshold), eval.Opt(c.Gate.Coverage)
			}
			fd.Classes[c.Class] = cd
		}
		doc.Features[fw.Feature] = fd
		if doc.ValidUntil.IsZero() || fv.ValidUntil.Before(doc.ValidUntil) {
			doc.ValidUntil = fv.ValidUntil
		}
	}
	return doc
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Encode renders the document as indented JSON with sorted keys.
func (v *Verdicts) Encode() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// DecodeVerdicts parses a verdicts document.
func DecodeVerdicts(data []byte) (*Verdicts, error) {
	var v Verdicts
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Stale reports the features whose verdict is at or past valid_until at now:
// a consumer must treat them as legacy only.
func (v *Verdicts) Stale(now time.Time) []string {
	var out []string
	for name, f := range v.Features {
		if !now.Before(f.ValidUntil) { // stale from valid_until on, as routers check it
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
