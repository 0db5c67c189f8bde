package scorers

import (
	"math"
	"strings"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
)

// NoAnswer stands for a missing prediction (the system errored or logged
// null) in classification keys: a wrong answer that is no category.
const NoAnswer = "(none)"

// ClassificationKey joins a row's true label and both systems'
// predictions for a Classification scorer's Out.Cat; SplitClassificationKey
// undoes it. NUL cannot occur in a category, so the key is unambiguous.
func ClassificationKey(label, legacy, ai string) string {
	return label + "\x00" + legacy + "\x00" + ai
}

// SplitClassificationKey returns the label and predictions of a key made
// by ClassificationKey.
func SplitClassificationKey(k string) (label, legacy, ai string, ok bool) {
	p := strings.Split(k, "\x00")
	if len(p) != 3 {
		return "", "", "", false
	}
	return p[0], p[1], p[2], true
}

// FieldQuality scores one labelled categorical decision field for the
// quality-beyond-accuracy metrics (per-category precision / recall / F1,
// calibration of the AI's confidence, confidence thresholds): Kind
// Classification. Categories are compared with the field's comparator;
// case_insensitive fields are folded so the confusion matrix has one
// row per category.
type FieldQuality struct {
	*FieldAgreement
	LabelCol string
	ConfCol  string
}

// Name is "quality.<field>".
func (s *FieldQuality) Name() string { return "quality." + s.Field }

// Kind is Classification.
func (s *FieldQuality) Kind() Kind { return Classification }

// Needs the field's columns, the label (optional: it may come from the
// labels dataset) and the AI confidence (optional: calibration and
// thresholds are then skipped).
func (s *FieldQuality) Needs() []Need {
	return append(s.FieldAgreement.Needs(),
		Need{Column: s.LabelCol, Kind: datasets.KindString, Optional: true},
		Need{Column: s.ConfCol, Kind: datasets.KindFloat64, Optional: true})
}

func (s *FieldQuality) norm(v string) string {
	if s.Comparator.Kind == "case_insensitive" {
		return strings.ToLower(strings.TrimSpace(v))
	}
	return v
}

// Score fills Cat, Legacy, AI and Value for labelled rows.
func (s *FieldQuality) Score(in *Input, out *Out) error {
	l, a, conf := in.Col(s.LegacyCol), in.Col(s.AICol), in.Col(s.ConfCol)
	pred := func(c *datasets.Column, i int) string {
		if c == nil || c.IsNull(i) {
			return NoAnswer
		}
		return s.norm(cellString(c, i))
	}
	for i := 0; i < in.Rows; i++ {
		lab, ok := in.Label(s.LabelCol, i)
		if !ok {
			continue
		}
		lp, ap := pred(l, i), pred(a, i)
		out.Cat[i] = ClassificationKey(s.norm(lab), lp, ap)
		out.Legacy[i] = b2f(lp != NoAnswer && s.Comparator.EqualStrings(lp, s.norm(lab)))
		out.AI[i] = b2f(ap != NoAnswer && s.Comparator.EqualStrings(ap, s.norm(lab)))
		if conf != nil && !conf.IsNull(i) && !math.IsNaN(conf.Float[i]) && !math.IsInf(conf.Float[i], 0) {
			out.Value[i] = conf.Float[i]
		}
	}
	return nil
}

// IsClassificationField reports whether a field gets a FieldQuality
// scorer: labelled, compared as categories (exact or case_insensitive)
// on a plain string column.
func IsClassificationField(fd *config.Field) bool {
	return fd.Label != "-" && (fd.Comparator == "exact" || fd.Comparator == "case_insensitive") && FieldKind(fd) == datasets.KindString
}

// DriftColumn is one configured input drift column: `name` is numeric
// (read as float64; integer columns widen), `name:category` categorical.
type DriftColumn struct {
	Column      string
	Categorical bool
}

// ParseDriftColumn splits a features[].drift_columns entry.
func ParseDriftColumn(s string) DriftColumn {
	if c, ok := strings.CutSuffix(s, ":category"); ok {
		return DriftColumn{Column: c, Categorical: true}
	}
	return DriftColumn{Column: strings.TrimSuffix(s, ":numeric")}
}

// QualityScorers are the built-in scorers of issue 12 for a feature: a
// FieldQuality per classification field and an "input.<column>" scorer
// per drift column (NumericValue or CategoryValue; optional, so a
// column missing from older files yields no drift figures rather than a
// failed run).
func QualityScorers(f *config.Feature, cols *config.Columns) []Scorer {
	var out []Scorer
	for i := range f.Fields {
		fd := &f.Fields[i]
		if IsClassificationField(fd) {
			out = append(out, &FieldQuality{FieldAgreement: NewFieldAgreement(fd), LabelCol: fd.Label, ConfCol: cols.AIConfidence})
		}
	}
	for _, d := range f.DriftColumns {
		dc := ParseDriftColumn(d)
		if dc.Categorical {
			out = append(out, &CategoryValue{Metric: "input." + dc.Column, Column: dc.Column, Optional: true})
		} else {
			out = append(out, &NumericValue{Metric: "input." + dc.Column, Column: dc.Column, Optional: true})
		}
	}
	return out
}
