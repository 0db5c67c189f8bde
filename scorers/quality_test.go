package scorers

import (
	"math"
	"testing"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
)

func strCol(name string, vals ...string) *datasets.Column {
	c := &datasets.Column{Name: name, Kind: datasets.KindString, Null: make([]bool, len(vals))}
	idx := map[string]int32{}
	for i, v := range vals {
		if v == "<null>" {
			c.Null[i] = true
			c.Codes = append(c.Codes, 0)
			continue
		}
		code, ok := idx[v]
		if !ok {
			code = int32(len(c.Dict))
			c.Dict = append(c.Dict, v)
			idx[v] = code
		}
		c.Codes = append(c.Codes, code)
	}
	if len(c.Dict) == 0 {
		c.Dict = []string{""}
	}
	return c
}

// TestFieldQuality: labelled rows get the key, correctness and
// confidence; unlabelled rows stay empty; a null prediction is
// NoAnswer and wrong; case_insensitive fields fold case.
func TestFieldQuality(t *testing.T) {
	fd := &config.Field{Name: "category", Legacy: "l", AI: "a", Label: "label_category", Comparator: "case_insensitive"}
	s := QualityScorers(&config.Feature{Fields: []config.Field{*fd}, DriftColumns: []string{"tokens", "lang:category"}}, &config.Columns{AIConfidence: "conf"})
	if len(s) != 3 || s[0].Kind() != Classification || s[0].Name() != "quality.category" || s[1].Kind() != Score || s[2].Kind() != Category || s[2].Name() != "input.lang" {
		t.Fatalf("scorers %v", s)
	}
	conf := &datasets.Column{Name: "conf", Kind: datasets.KindFloat64, Float: []float64{0.9, 0.4, math.NaN(), 0.7}, Null: []bool{false, false, false, true}}
	b := &datasets.Batch{Rows: 4, Cols: []*datasets.Column{
		strCol("l", "Billing", "sales", "fraud", "x"),
		strCol("a", "billing", "<null>", "Fraud", "x"),
		strCol("label_category", "billing", "SALES", "fraud", "<null>"),
		conf,
	}}
	out := NewOut(4)
	if err := s[0].Score(&Input{Rows: 4, Batch: b}, out); err != nil {
		t.Fatal(err)
	}
	want := []string{ClassificationKey("billing", "billing", "billing"), ClassificationKey("sales", "sales", NoAnswer), ClassificationKey("fraud", "fraud", "fraud"), ""}
	for i, w := range want {
		if out.Cat[i] != w {
			t.Errorf("row %d: key %q, want %q", i, out.Cat[i], w)
		}
	}
	if out.Legacy[1] != 1 || out.AI[1] != 0 || out.AI[0] != 1 || out.Value[0] != 0.9 || !math.IsNaN(out.Value[2]) || !math.IsNaN(out.AI[3]) {
		t.Errorf("legacy %v ai %v conf %v", out.Legacy, out.AI, out.Value)
	}
	l, lp, ap, ok := SplitClassificationKey(out.Cat[1])
	if !ok || l != "sales" || lp != "sales" || ap != NoAnswer {
		t.Errorf("split %q %q %q %v", l, lp, ap, ok)
	}
	if IsClassificationField(&config.Field{Label: "-", Comparator: "exact"}) || IsClassificationField(&config.Field{Label: "x", Comparator: "numeric"}) {
		t.Error("unlabelled or numeric fields are not classification fields")
	}
	if d := ParseDriftColumn("n:numeric"); d.Column != "n" || d.Categorical {
		t.Errorf("%+v", d)
	}
}
