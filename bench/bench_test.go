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
	d, _, err := DuckDB(ctx, dir, 2, from, to, cfg.Window.D())
	if err != nil {
		t.Fatal(err)
	}
	// 3 features x 4-5 classes x 3 days.
	if len(p) != 3*(5+4+4) {
		t.Fatalf("parity has %d groups, want %d", len(p), 3*(5+4+4))
	}
	var rows int64
	for _, g := range p {
		rows += g.Rows
	}
	if rows != 30000 {
		t.Fatalf("parity scored %d rows, want 30000", rows)
	}
	if diffs := Compare(p, d); len(diffs) > 0 {
		t.Fatalf("parity and DuckDB differ:\n%s", strings.Join(diffs, "\n"))
	}
	d[0].AgreeK++
	d[1].AILatSum *= 1 + 1e-6
	if diffs := Compare(p, d); len(diffs) != 2 {
		t.Fatalf("Compare found %d differences after changing two figures: %v", len(diffs), diffs)
	}
}
