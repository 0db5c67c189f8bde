package contrib_test

import (
	"strings"
	"testing"

	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/scorers"
	"github.com/parity-eval/parity/scorers/scorertest"

	_ "github.com/parity-eval/parity/scorers/contrib"
)

const hierarchyDef = `
name: category_tree
type: hierarchy
legacy: legacy_category
ai: ai_category
threshold: 0.5
min_pass_rate: 0.9
params: {parents: "billing=money, fraud=money, technical=support, account=support"}`

func row(class, legacy, ai any) scorertest.Row {
	return scorertest.Row{"input_class": class, "legacy_category": legacy, "ai_category": ai}
}

// Rows in, per-row credit out: exact 1, sibling 0.5, anything else 0.
func TestHierarchyPerRow(t *testing.T) {
	kit := scorertest.Parse(t, hierarchyDef)
	out := kit.Score(t, []scorertest.Row{
		row("email", "billing", "billing"),   // exact
		row("email", "billing", "fraud"),     // sibling under money
		row("email", "billing", "technical"), // cousin: different parent
		row("email", "sales", "sales"),       // no parent, exact
		row("email", "sales", "billing"),     // no parent: no siblings
		row("email", "billing", nil),         // AI gave nothing
		row("email", nil, nil),               // neither: not applicable
		row("email", "a/b/c", "a/b/d"),       // path categories: siblings
		row("email", "a/b/c", "a/x/c"),       // same leaf name, other branch
	})
	scorertest.Floats(t, "credit", out.Value, []float64{1, 0.5, 0, 1, 0, 0, scorertest.NaN, 0.5, 0}, 0)
}

// The aggregates and statistics a run computes: the mean credit, and the
// pass-rate criterion that judges the class.
func TestHierarchyStatistics(t *testing.T) {
	kit := scorertest.Parse(t, hierarchyDef)
	var rows []scorertest.Row
	for i := 0; i < 200; i++ {
		// email: all exact or sibling: every row passes at 0.5.
		ai := "billing"
		if i%5 == 0 {
			ai = "fraud"
		}
		rows = append(rows, row("email", "billing", ai))
		// chat: a third of the answers go to another branch.
		ai = "technical"
		if i%3 == 0 {
			ai = "billing"
		}
		rows = append(rows, row("chat", "account", ai))
	}
	res := kit.Evaluate(t, rows)
	if a := res.Acc("email", "category_tree"); a == nil || a.N != 200 || a.K != 200 || a.Value.Sum != 160+40*0.5 {
		t.Fatalf("email aggregate %+v", a)
	}
	if m := res.Metric(t, "email", "category_tree.mean"); m.Value != 0.9 || m.N != 200 {
		t.Errorf("email mean %+v", m)
	}
	if m := res.Metric(t, "email", "category_tree.pass_rate"); m.Status != eval.StatusPass || m.Value != 1 {
		t.Errorf("email pass rate %+v", m)
	}
	chat := res.Metric(t, "chat", "category_tree.pass_rate")
	if chat.Status != eval.StatusFail || chat.Value != 1-67.0/200 {
		t.Errorf("chat pass rate %+v", chat)
	}
	if c := res.Class(t, "chat"); c.Status != eval.StatusFail || !strings.Contains(strings.Join(c.Reasons, ";"), "category_tree") {
		t.Errorf("chat class %s %v", c.Status, c.Reasons)
	}
}

// With a label both systems are scored against it: a paired score, so
// eval runs the signed-rank test on the differences.
func TestHierarchyAgainstLabel(t *testing.T) {
	kit := scorertest.Parse(t, `
name: category_tree
type: hierarchy
legacy: legacy_category
ai: ai_category
label: label_category
params: {parents: "billing=money, fraud=money"}`)
	if kit.Scorer.Kind() != scorers.PairedScore {
		t.Fatalf("kind %v", kit.Scorer.Kind())
	}
	var rows []scorertest.Row
	for i := 0; i < 60; i++ {
		r := row("email", "billing", "fraud")
		r["label_category"] = "billing"
		rows = append(rows, r)
	}
	rows = append(rows, row("email", "billing", "billing")) // unlabelled: skipped
	out := kit.Score(t, rows[58:])
	scorertest.Floats(t, "legacy", out.Legacy, []float64{1, 1, scorertest.NaN}, 0)
	scorertest.Floats(t, "ai", out.AI, []float64{0.5, 0.5, scorertest.NaN}, 0)
	res := kit.Evaluate(t, rows)
	m := res.Metric(t, "email", "category_tree.paired_shift")
	if m.N != 60 || !(m.P < 0.001) {
		t.Errorf("paired shift %+v", m)
	}
	if m := res.Metric(t, "email", "category_tree.ai.mean"); m.Value != 0.5 {
		t.Errorf("ai mean %+v", m)
	}
}

func TestHierarchyConfigErrors(t *testing.T) {
	for _, tc := range []struct{ def, want string }{
		{"name: h\ntype: hierarchy\nai: a\nlegacy: l\nparams: {parents: 'billing'}", `params.parents: "billing": want child=parent pairs`},
		{"name: h\ntype: hierarchy\nai: a", "features[0].scorers[0].legacy: required"},
		{"name: h\ntype: hierarchy\nai: a\nlegacy: l\nmin_pass_rate: 0.9", "threshold: required with min_pass_rate"},
		{"name: h\ntype: hierarchy\nai: a\nlegacy: l\nparams: {parent: x}", "params.parent: unknown parameter (type hierarchy takes parents, separator)"},
	} {
		_, err := scorertest.Load(tc.def)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant %q", tc.def, err, tc.want)
		}
	}
}
