package bench

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" database/sql driver
)

// Group is the figures of one feature × class × window that both parity
// and DuckDB compute, so the benchmark can check they agree exactly.
type Group struct {
	Feature string `json:"feature"`
	Class   string `json:"class"`
	Window  int64  `json:"window"` // Unix seconds

	Rows int64 `json:"rows"`
	// Agreement on legacy_category/ai_category: N rows where at least one
	// side answered, K where both answered the same.
	AgreeN, AgreeK int64
	// Error rates: N non-null flags, K true ones.
	LegacyErrN, LegacyErrK int64
	AIErrN, AIErrK         int64
	// Latencies: count and sum of finite values.
	LegacyLatN, AILatN     int64
	LegacyLatSum, AILatSum float64
	// Share served by the AI.
	ShareN, ShareK int64
}

// Key identifies a group.
func (g *Group) Key() string { return fmt.Sprintf("%s|%s|%d", g.Feature, g.Class, g.Window) }

// Query is DuckDB's aggregate-only equivalent of parity's per-group
// counts (agreement only for the features of AgreementMetric, the ones
// whose field is legacy_category/ai_category): parity's grouping rules (class "" or null is "(none)", windows
// aligned to the epoch) and its null rules (a metric skips rows where
// it has nothing to compare; NaN and ±Inf latencies are not values).
const Query = `
SELECT feature,
       coalesce(nullif(input_class, ''), '(none)') AS class,
       (epoch_us(ts) // %[2]d) * %[3]d AS win,
       count(*) AS n,
       count(*) FILTER (WHERE feature IN ('ticket_routing', 'refund_approval') AND (legacy_category IS NOT NULL OR ai_category IS NOT NULL)),
       count(*) FILTER (WHERE feature IN ('ticket_routing', 'refund_approval') AND legacy_category = ai_category),
       count(legacy_error), count(*) FILTER (WHERE legacy_error),
       count(ai_error), count(*) FILTER (WHERE ai_error),
       count(*) FILTER (WHERE isfinite(legacy_latency_ms)),
       coalesce(sum(legacy_latency_ms) FILTER (WHERE isfinite(legacy_latency_ms)), 0),
       count(*) FILTER (WHERE isfinite(ai_latency_ms)),
       coalesce(sum(ai_latency_ms) FILTER (WHERE isfinite(ai_latency_ms)), 0),
       count(served_by), count(*) FILTER (WHERE lower(served_by) = 'ai')
FROM read_parquet('%[1]s', hive_partitioning = false)
WHERE ts >= to_timestamp(%[4]d) AND ts < to_timestamp(%[5]d)
  AND feature IS NOT NULL AND request_id IS NOT NULL AND request_id <> ''
GROUP BY ALL
ORDER BY ALL
`

// DuckDB runs Query over dir/logs with the given number of threads and
// returns the groups and how long the query took (connection set-up
// excluded).
func DuckDB(ctx context.Context, dir string, threads int, from, to time.Time, window time.Duration) ([]Group, time.Duration, error) {
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
	q := fmt.Sprintf(Query, strings.ReplaceAll(glob, "'", "''"), window.Microseconds(), int64(window.Seconds()), from.Unix(), to.Unix())
	start := time.Now()
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, 0, fmt.Errorf("duckdb: %w", err)
	}
	defer rows.Close()
	var out []Group
	for rows.Next() {
		var g Group
		if err := rows.Scan(&g.Feature, &g.Class, &g.Window, &g.Rows, &g.AgreeN, &g.AgreeK,
			&g.LegacyErrN, &g.LegacyErrK, &g.AIErrN, &g.AIErrK,
			&g.LegacyLatN, &g.LegacyLatSum, &g.AILatN, &g.AILatSum, &g.ShareN, &g.ShareK); err != nil {
			return nil, 0, fmt.Errorf("duckdb: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("duckdb: %w", err)
	}
	return out, time.Since(start), nil
}
