package bench

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2" // also registers the "duckdb" database/sql driver
)

// Group is the figures of one feature × class × window that both parity
// and DuckDB compute (figures.go lists them), so the benchmark can check
// they agree: counts exactly, sums to 1e-9 relative, category counts
// exactly.
type Group struct {
	Feature string `json:"feature"`
	Class   string `json:"class"`
	Window  int64  `json:"window"` // Unix seconds

	Rows   int64                       `json:"rows"`
	Counts map[string]int64            `json:"counts"`
	Sums   map[string]float64          `json:"sums"` // absent: nothing to aggregate
	Cats   map[string]map[string]int64 `json:"cats"` // absent or empty: none
}

// Key identifies a group.
func (g *Group) Key() string { return fmt.Sprintf("%s|%s|%d", g.Feature, g.Class, g.Window) }

// query is DuckDB's aggregate-only equivalent of parity's per-group
// figures: parity's grouping rules (class "" or null is "(none)",
// windows aligned to the epoch), its row rules (a row needs a feature
// and a request id, and a timestamp in range), and each figure's own
// null rules (figures.go). For the full set each invoice document is
// parsed once, into a struct of its three paths (from_json, which
// measured faster than json_extract of a path list).
//
// Arguments: %[1]s the Parquet glob, %[2]d the window in µs, %[3]d in
// seconds, %[4]d and %[5]d the range in Unix seconds, %[6]s the parsed
// documents (or nothing), %[7]s the figures.
const query = `
WITH t AS (
  SELECT *,
         coalesce(nullif(input_class, ''), '(none)') AS class,
         (epoch_us(ts) // %[2]d) * %[3]d AS win%[6]s
  FROM read_parquet('%[1]s', hive_partitioning = false)
  WHERE ts >= to_timestamp(%[4]d) AND ts < to_timestamp(%[5]d)
    AND feature IS NOT NULL AND request_id IS NOT NULL AND request_id <> ''
)
SELECT feature, class, win,
%[7]s
FROM t
GROUP BY feature, class, win
ORDER BY feature, class, win
`

const parsedDocuments = `,
         from_json(legacy_output, '{"amount": "DOUBLE", "currency": "VARCHAR", "vendor": "VARCHAR"}') AS lj,
         from_json(ai_output, '{"amount": "DOUBLE", "currency": "VARCHAR", "vendor": "VARCHAR"}') AS aj`

// Query is the set's SQL over the Parquet files of glob.
func (s Set) Query(glob string, window time.Duration, from, to time.Time) string {
	docs := ""
	if s.json {
		docs = parsedDocuments
	}
	return fmt.Sprintf(query, strings.ReplaceAll(glob, "'", "''"), window.Microseconds(), int64(window.Seconds()), from.Unix(), to.Unix(), docs, s.figureList())
}

// figureList is the SELECT list of the figures, in the order DuckDB
// scans them: counts, sums, category counts.
func (s Set) figureList() string {
	var exprs []string
	for _, f := range s.counts {
		exprs = append(exprs, f.sql)
	}
	for _, f := range s.sums {
		exprs = append(exprs, f.sql)
	}
	for _, f := range s.cats {
		exprs = append(exprs, f.sql)
	}
	return "       " + strings.Join(exprs, ",\n       ")
}

// DuckDB runs the set's Query over dir/logs with the given number of
// threads and returns the groups and how long the query took (connection
// set-up excluded).
func DuckDB(ctx context.Context, set Set, dir string, threads int, from, to time.Time, window time.Duration) ([]Group, time.Duration, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // SET applies to one connection
	if _, err := db.ExecContext(ctx, fmt.Sprintf("SET threads = %d", threads)); err != nil {
		return nil, 0, err
	}
	glob := filepath.Join(dir, "logs", "*", "*.parquet")
	q := set.Query(glob, window, from, to)
	start := time.Now()
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, 0, fmt.Errorf("duckdb: %w", err)
	}
	defer rows.Close()
	var out []Group
	nc, ns := len(set.counts), len(set.sums)
	for rows.Next() {
		g := Group{Counts: map[string]int64{}, Sums: map[string]float64{}, Cats: map[string]map[string]int64{}}
		counts := make([]int64, nc)
		sums := make([]sql.NullFloat64, ns)
		cats := make([]any, len(set.cats))
		dst := []any{&g.Feature, &g.Class, &g.Window}
		for i := range counts {
			dst = append(dst, &counts[i])
		}
		for i := range sums {
			dst = append(dst, &sums[i])
		}
		for i := range cats {
			dst = append(dst, &cats[i])
		}
		if err := rows.Scan(dst...); err != nil {
			return nil, 0, fmt.Errorf("duckdb: %w", err)
		}
		for i, f := range set.counts {
			g.Counts[f.name] = counts[i]
		}
		g.Rows = g.Counts["rows"]
		for i, f := range set.sums {
			if sums[i].Valid {
				g.Sums[f.name] = sums[i].Float64
			}
		}
		for i, f := range set.cats {
			m, err := histogram(cats[i])
			if err != nil {
				return nil, 0, fmt.Errorf("duckdb: %s: %w", f.name, err)
			}
			if len(m) > 0 {
				g.Cats[f.name] = m
			}
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("duckdb: %w", err)
	}
	return out, time.Since(start), nil
}

// histogram converts a scanned histogram() (a duckdb.OrderedMap, or nil
// for NULL) to category counts.
func histogram(v any) (map[string]int64, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(duckdb.OrderedMap)
	if !ok {
		return nil, fmt.Errorf("histogram scanned as %T", v)
	}
	keys, counts := m.Keys(), m.Values()
	out := make(map[string]int64, len(keys))
	for i, k := range keys {
		ks, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("histogram key %v is %T", k, k)
		}
		switch n := counts[i].(type) {
		case uint64:
			out[ks] = int64(n)
		case int64:
			out[ks] = n
		default:
			return nil, fmt.Errorf("histogram count %v is %T", n, n)
		}
	}
	return out, nil
}
