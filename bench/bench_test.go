package bench

import (
	"context"
	"strings"
	"testing"

	"github.com/parity-eval/parity/bench/gen"
	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets/synth"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/jobs"
	_ "github.com/parity-eval/parity/storage/file" // local folders
)

// TestParityMatchesDuckDB is `make bench-duckdb` in small: generate a
// log, evaluate it with parity (jobs API, as the binary does) and with
// DuckDB's query, and require every figure to agree. It also checks that
// Compare reports a difference when there is one, so agreement is not
// vacuous.
func TestParityMatchesDuckDB(t *testing.T) {
	dir := t.TempDir()
	const days = 3
	if _, err := gen.Generate(dir, gen.Options{Rows: 30000, Days: days, RowGroup: 4096, FileRows: 7000}); err != nil {
		t.Fatal(err)
	}
	path, err := WriteConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := jobs.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	from := synth.DefaultStart
	to := from.AddDate(0, 0, days)
	if _, err := r.Evaluate(ctx, eval.WindowsBetween(from, to, cfg.Window.D()), jobs.Options{}); err != nil {
		t.Fatal(err)
	}
	p, err := ParityGroups(cfg.Output)
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := DuckDB(ctx, Full, dir, 2, from, to, cfg.Window.D())
	if err != nil {
		t.Fatal(err)
	}
	// 3 features x 4-5 classes x 3 days.
	if len(p) != 3*(5+4+4) {
		t.Fatalf("parity has %d groups, want %d", len(p), 3*(5+4+4))
	}
	var rows int64
	for _, g := range p {
		rows += g.Counts["rows"]
	}
	if rows != 30000 {
		t.Fatalf("parity scored %d rows, want 30000", rows)
	}
	if diffs := Compare(Full, p, d); len(diffs) > 0 {
		t.Fatalf("parity and DuckDB differ:\n%s", strings.Join(diffs, "\n"))
	}
	// The narrow set of earlier versions agrees too, figure for figure.
	dn, _, err := DuckDB(ctx, Narrow, dir, 2, from, to, cfg.Window.D())
	if err != nil {
		t.Fatal(err)
	}
	if Narrow.Len() != 13 || len(dn) != len(p) || len(dn[0].Counts)+len(dn[0].Sums) != 13 {
		t.Fatalf("narrow set: %d figures, %d groups, %d figures in a group", Narrow.Len(), len(dn), len(dn[0].Counts)+len(dn[0].Sums))
	}
	if diffs := Compare(Narrow, p, dn); len(diffs) > 0 {
		t.Fatalf("parity and DuckDB's narrow query differ:\n%s", strings.Join(diffs, "\n"))
	}
	// Every figure is compared: change one of each kind in one group
	// (a count, a sum, a category count) and each must show.
	var inv *Group
	for i := range d {
		if d[i].Feature == "invoice_extraction" {
			inv = &d[i]
			break
		}
	}
	inv.Counts["agreement.amount k"]++
	inv.Sums["cost.ai sum"] *= 1 + 1e-6
	inv.Cats["output.vendor"]["Globex"]++
	if diffs := Compare(Full, p, d); len(diffs) != 3 {
		t.Fatalf("Compare found %d differences after changing three figures: %v", len(diffs), diffs)
	}
	// And none is vacuous: each figure is non-zero somewhere on parity's side.
	for _, f := range countFigures {
		if !someGroup(p, func(g Group) bool { return g.Counts[f.name] != 0 }) {
			t.Errorf("count %q is 0 in every group", f.name)
		}
	}
	for _, f := range sumFigures {
		if !someGroup(p, func(g Group) bool { return g.Sums[f.name] != 0 }) {
			t.Errorf("sum %q is 0 or absent in every group", f.name)
		}
	}
	for _, f := range catFigures {
		if !someGroup(p, func(g Group) bool { return len(g.Cats[f.name]) > 0 }) {
			t.Errorf("category counts %q are empty in every group", f.name)
		}
	}
}

func someGroup(gs []Group, ok func(Group) bool) bool {
	for _, g := range gs {
		if ok(g) {
			return true
		}
	}
	return false
}
