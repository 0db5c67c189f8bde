// Package bench compares parity's evaluation with DuckDB on the same
// generated shadow logs and checks DuckDB-written Parquet files read
// correctly. It is a separate Go module so that DuckDB (cgo) never enters
// the main module's build: `go test ./...` at the root skips it.
package bench

import _ "github.com/duckdb/duckdb-go/v2"
