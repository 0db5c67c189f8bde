// Package testtmp gives a test binary one temporary folder for all its
// temporary files and removes it when the tests end.
//
// Datasets and binaries that a test binary builds once and shares
// (sync.OnceValues) outlive every test, so t.TempDir cannot hold them,
// and a folder made with os.MkdirTemp is left behind unless someone
// removes it: repeated `make test` runs used to leave gigabytes in /tmp.
package testtmp

import (
	"fmt"
	"os"
	"testing"
)

// Run points TMPDIR (which os.TempDir, os.MkdirTemp, t.TempDir and the
// go tool's builds read) at a fresh folder, runs the tests and removes
// the folder. A TestMain calls os.Exit(testtmp.Run(m)).
func Run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "parity-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "testtmp:", err)
		return 2
	}
	old, had := os.LookupEnv("TMPDIR")
	os.Setenv("TMPDIR", dir)
	code := m.Run()
	if had {
		os.Setenv("TMPDIR", old)
	} else {
		os.Unsetenv("TMPDIR")
	}
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, "testtmp:", err)
	}
	return code
}
