package main

import (
	"os"
	"testing"

	"github.com/parity-eval/parity/internal/testtmp"
)

// TestMain makes every run in these tests, in process or a started
// binary, check that the verdicts it builds from its in-memory
// evaluations are those of the stored evaluations (jobs/run.go,
// checkFresh), and overwrite recycled string bytes after each batch, so
// a string kept past its batch would change the outputs compared
// (datasets.ColumnSpec.RecycleStrings). The binaries and datasets the
// tests build once go in a temporary folder removed at the end (testtmp).
func TestMain(m *testing.M) {
	os.Setenv("PARITY_CHECK_FRESH_EVALUATIONS", "1")
	os.Setenv("PARITY_POISON_RECYCLED", "1")
	os.Exit(testtmp.Run(m))
}
