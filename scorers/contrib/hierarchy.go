package contrib

import (
	"math"
	"strings"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers"
)

// Hierarchy scores a category answer with partial credit: the same
// category is fully right (1), a sibling — another category under the
// same parent — half right (0.5), anything else wrong (0). Routing a
// ticket to "billing/refunds" instead of "billing/invoices" sends it to
// the right team's neighbour desk; routing it to "sales" does not.
//
// Parents come from params.parents ("refunds=billing, invoices=billing")
// or, for categories not listed there, from a path: the part before the
// last params.separator (default "/"). Top-level categories have no
// parent and so no siblings.
//
// It compares the AI's category with legacy's (kind Score, with the
// usual threshold and min_pass_rate), or with `label:` scores both
// systems against the label (kind PairedScore, a paired test).
//
// In config:
//
//	scorers:
//	  - name: category_tree
//	    type: hierarchy
//	    legacy: legacy_category
//	    ai: ai_category
//	    threshold: 0.5          # a sibling still passes
//	    min_pass_rate: 0.9
//	    params: {parents: "billing=money, fraud=money, technical=support, account=support"}
type Hierarchy struct {
	Metric, LegacyCol, AICol, LabelCol string
	Parents                            map[string]string
	Separator                          string
	PassThreshold, MinPassRate         float64
}

func init() { scorers.Register("hierarchy", NewHierarchy) }

// NewHierarchy builds the scorer from its config definition. Every
// problem is a *scorers.ParamError naming its key, so config validation
// reports it at the right line.
func NewHierarchy(def config.ScorerDef, _ *config.Feature) (scorers.Scorer, error) {
	p := scorers.NewParams(def)
	h := &Hierarchy{Metric: def.Name, LegacyCol: def.Legacy, AICol: def.AI, LabelCol: def.Label,
		Parents: map[string]string{}, PassThreshold: def.Threshold, MinPassRate: def.MinPassRate}
	h.Separator = p.String("separator", "/")
	if parents := p.String("parents", ""); parents != "" {
		for _, pair := range strings.Split(parents, ",") {
			child, parent, ok := strings.Cut(pair, "=")
			child, parent = strings.TrimSpace(child), strings.TrimSpace(parent)
			if !ok || child == "" || parent == "" {
				p.Fail("params.parents", "%q: want child=parent pairs separated by commas", strings.TrimSpace(pair))
				continue
			}
			h.Parents[child] = parent
		}
	}
	if def.Legacy == "" {
		p.Fail("legacy", "required: the column with legacy's category")
	}
	if def.AI == "" {
		p.Fail("ai", "required: the column with the AI's category")
	}
	if def.Threshold < 0 || def.Threshold > 1 {
		p.Fail("threshold", "%g out of range: scores are 0, 0.5 or 1", def.Threshold)
	}
	if def.MinPassRate > 0 && def.Threshold == 0 {
		p.Fail("threshold", "required with min_pass_rate (0.5 lets siblings pass, 1 only exact answers)")
	}
	if err := p.Done(); err != nil {
		return nil, err
	}
	if h.PassThreshold > 0 && h.LabelCol == "" {
		return &thresholdedHierarchy{h}, nil
	}
	return h, nil
}

// parent of a category ("" for none).
func (h *Hierarchy) parent(c string) string {
	if p, ok := h.Parents[c]; ok {
		return p
	}
	if h.Separator != "" {
		if i := strings.LastIndex(c, h.Separator); i > 0 {
			return c[:i]
		}
	}
	return ""
}

// Credit is the score of answer against reference: 1, 0.5 or 0.
func (h *Hierarchy) Credit(answer, reference string) float64 {
	a, r := strings.TrimSpace(answer), strings.TrimSpace(reference)
	switch {
	case a == r:
		return 1
	case h.parent(a) != "" && h.parent(a) == h.parent(r):
		return 0.5
	}
	return 0
}

func (h *Hierarchy) Name() string { return h.Metric }

func (h *Hierarchy) Kind() scorers.Kind {
	if h.LabelCol != "" {
		return scorers.PairedScore
	}
	return scorers.Score
}

func (h *Hierarchy) Needs() []scorers.Need {
	n := []scorers.Need{{Column: h.LegacyCol, Kind: datasets.KindString}, {Column: h.AICol, Kind: datasets.KindString}}
	if h.LabelCol != "" {
		// The label may come from the labels dataset instead of the log.
		n = append(n, scorers.Need{Column: h.LabelCol, Kind: datasets.KindString, Optional: true})
	}
	return n
}

// Isolated: a configured scorer's failure is its own metric's error.
func (h *Hierarchy) Isolated() {}

// Score writes one credit per row. Rows where a side has no category
// are: not applicable when both lack one, 0 when only one does (a
// missing answer is not a near miss).
func (h *Hierarchy) Score(in *scorers.Input, out *scorers.Out) error {
	l, a := in.Col(h.LegacyCol), in.Col(h.AICol)
	credit := func(x *datasets.Column, i int, ref string) float64 {
		if x.IsNull(i) {
			return 0
		}
		return h.Credit(x.Str(i), ref)
	}
	for i := 0; i < in.Rows; i++ {
		if h.LabelCol != "" {
			ref, ok := in.Label(h.LabelCol, i)
			if !ok {
				continue
			}
			out.Legacy[i] = credit(l, i, ref)
			out.AI[i] = credit(a, i, ref)
			continue
		}
		switch {
		case l.IsNull(i) && a.IsNull(i):
			out.Value[i] = math.NaN()
		case l.IsNull(i):
			out.Value[i] = 0
		default:
			out.Value[i] = credit(a, i, l.Str(i))
		}
	}
	return nil
}

// thresholdedHierarchy adds the pass threshold eval counts passing rows
// with (only AI-against-legacy scores have one).
type thresholdedHierarchy struct{ *Hierarchy }

func (h *thresholdedHierarchy) Threshold() (float64, float64) { return h.PassThreshold, h.MinPassRate }
