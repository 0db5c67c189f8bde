// Package scorers turns rows of a shadow log into per-row scores: does the
// AI agree with legacy on a field, is each system right against the label,
// how slow, how costly, how similar two generated texts are. A Scorer says
// which columns it needs and what kind of score it emits; the eval package
// aggregates each kind with the statistics that fit it (paired tests when
// both systems are scored on the same rows). Built-in, declarative
// (config-only) and external (Arrow IPC subprocess) scorers all implement
// the same interface.
package scorers

import (
	"fmt"
	"sort"
	"sync"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
)

// Kind says what a scorer's per-row output means, and so how eval
// aggregates it and which tests apply.
type Kind int

const (
	// Agreement: Out.Value[i] is 1 when AI and legacy agree on row i, 0
	// when they diverge, NaN when not applicable. Aggregated as a
	// proportion; tested against a divergence tolerance.
	Agreement Kind = iota + 1
	// PairedCorrect: Out.Legacy[i] and Out.AI[i] are 1/0 (right/wrong
	// against ground truth) on the same rows, NaN where unlabelled.
	// Aggregated as a paired 2×2 table; McNemar and non-inferiority.
	PairedCorrect
	// Rate: Out.Value[i] is 1/0 for an event (an error, AI served);
	// aggregated as a proportion.
	Rate
	// Score: Out.Value[i] is a continuous per-row score (e.g. text
	// similarity of AI to legacy). Aggregated as a distribution; when the
	// scorer has a pass threshold, rows with Value >= threshold pass and
	// the pass rate is tested too.
	Score
	// PairedScore: Out.Legacy[i] and Out.AI[i] are continuous scores of
	// both systems on the same rows (e.g. an upstream quality score).
	// Wilcoxon signed-rank on the differences, Hodges–Lehmann shift.
	PairedScore
	// PerSystem: Out.Legacy[i] and Out.AI[i] are continuous measurements
	// taken independently per system (latency, cost); either may be NaN.
	// Distributions per system, quantiles, Mann–Whitney.
	PerSystem
	// Category: Out.Cat[i] is a category (model version, AI output class),
	// "" when not applicable; or, in the coded form (Out.UseCodes),
	// Out.Keys[Out.Code[i]]. Aggregated as counts; chi-square/PSI drift.
	Category
	// Classification: one labelled categorical decision per row for
	// per-category quality, calibration and confidence thresholds.
	// Out.Cat[i] is ClassificationKey(label, legacy, ai) ("" when
	// unlabelled), or in the coded form Out.Keys[Out.Code[i]] is;
	// Out.Legacy[i]/Out.AI[i] are 1/0 correctness and
	// Out.Value[i] the AI's confidence (NaN when not logged). Aggregated
	// as confusion counts per system, a paired 2×2 per true category and
	// confidence bins (eval.QualityAcc).
	Classification
)

func (k Kind) String() string {
	switch k {
	case Agreement:
		return "agreement"
	case PairedCorrect:
		return "paired_correct"
	case Rate:
		return "rate"
	case Score:
		return "score"
	case PairedScore:
		return "paired_score"
	case PerSystem:
		return "per_system"
	case Category:
		return "category"
	case Classification:
		return "classification"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Need is a column a scorer reads.
type Need struct {
	Column   string
	Kind     datasets.Kind
	Optional bool // the scorer copes with its absence (emits NaN)
	// PresenceOnly: the scorer reads only whether each value is null or
	// (strings) empty, not the value. When every reader of the column
	// says so, eval has a string column decoded as datasets.PresenceDict
	// codes ("" or "present") without copying the values
	// (datasets.ColumnSpec.PresenceOnly), and gives a column of another
	// kind with its null flags only (no Float, Int or Bool values) when
	// it copies a feature's rows.
	PresenceOnly bool
}

// Input is the rows of one feature in one batch. Columns are looked up by
// the names the scorer asked for in Needs. Its column slices are valid
// only during Score: eval reuses them for the next batch.
type Input struct {
	Rows  int
	Batch *datasets.Batch
	// Labels holds ground truth joined from the labels dataset, by label
	// column name; nil entries mean no label for that row.
	Labels map[string][]*string
	// JSON, when set, is what derived the batch's JSON field columns
	// (eval sets it): numeric comparisons read the numbers it parsed
	// while scanning the documents.
	JSON *JSONFields

	nums   map[*datasets.Column]*numDict // parsed numeric columns, see numbers
	agreed map[agreeKey][]uint8          // fields' agreement codes, see FieldAgreement.codes
}

// Col returns a needed column (nil when optional and absent).
func (in *Input) Col(name string) *datasets.Column { return in.Batch.Col(name) }

// Label returns the label of row i in column name, from the labels
// dataset when joined, else from the log column of that name. It looks
// the column up on every call: a scorer reading every row resolves it
// once with LabelColumn.
func (in *Input) Label(name string, i int) (string, bool) {
	return in.LabelColumn(name).At(i)
}

// LabelColumn is one label column of one batch, resolved once
// (Input.LabelColumn): a row's label is the labels dataset's when it has
// one, else the log column's.
type LabelColumn struct {
	Joined []*string        // from the labels dataset, per row (nil entry: none); nil when not joined
	Col    *datasets.Column // the log column of that name; nil when absent
}

// LabelColumn resolves the label column name for this batch.
func (in *Input) LabelColumn(name string) LabelColumn {
	return LabelColumn{Joined: in.Labels[name], Col: in.Batch.Col(name)}
}

// At returns the label of row i, as Input.Label does.
func (l LabelColumn) At(i int) (string, bool) {
	if l.Joined != nil && l.Joined[i] != nil {
		return *l.Joined[i], true
	}
	if l.Col != nil && !l.Col.IsNull(i) {
		return l.Col.Str(i), true
	}
	return "", false
}

// Scorer scores rows. Implementations must be safe for concurrent use by
// several goroutines (eval scores batches in parallel).
type Scorer interface {
	// Name is the metric name in scores and verdicts ("agreement.category").
	Name() string
	Kind() Kind
	Needs() []Need
	Score(in *Input, out *Out) error
}

// Thresholded is implemented by Score-kind scorers with a pass threshold.
type Thresholded interface {
	// Threshold is the per-row pass threshold; MinPassRate the criterion
	// on the share of passing rows (0 = report only).
	Threshold() (threshold, minPassRate float64)
}

// Isolated is implemented by scorers whose failure must not fail the
// run: configured and external scorers. When Score returns an error, eval
// marks that scorer's metric "error" for the affected groups (never
// "pass") and carries on with the other scorers and features.
type Isolated interface {
	Isolated()
}

// Factory builds a declarative scorer from its config.
type Factory func(def config.ScorerDef, f *config.Feature) (Scorer, error)

var (
	regMu    sync.Mutex
	registry = map[string]Factory{}
)

// Register adds a scorer type usable as `type:` in config. Call from init.
func Register(typ string, f Factory) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[typ]; dup {
		panic("scorers: duplicate type " + typ)
	}
	registry[typ] = f
	config.ScorerTypes[typ] = true
}

// Types lists registered scorer types.
func Types() []string {
	regMu.Lock()
	defer regMu.Unlock()
	out := make([]string, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// New builds a configured scorer.
func New(def config.ScorerDef, f *config.Feature) (Scorer, error) {
	regMu.Lock()
	fac, ok := registry[def.Type]
	regMu.Unlock()
	if !ok {
		return nil, fmt.Errorf("scorer %q: unknown type %q (want one of %v)", def.Name, def.Type, Types())
	}
	return fac(def, f)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
