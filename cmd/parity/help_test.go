package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// TestHelpDocumentsCommandsExitCodesAndEnvironment: `parity --help` lists
// every command, every exit code and every environment variable parity
// reads, and the README's command-line section has the same variables.
func TestHelpDocumentsCommandsExitCodesAndEnvironment(t *testing.T) {
	var out bytes.Buffer
	if code := Main(context.Background(), []string{"--help"}, &out, &out); code != ExitOK {
		t.Fatalf("--help: exit %d", code)
	}
	help := out.String()
	for name := range commands {
		if !strings.Contains(help, "\n  "+name+" ") {
			t.Errorf("--help does not list command %q", name)
		}
	}
	for _, code := range []string{"0", "1", "2", "3", "4"} {
		if !strings.Contains(help, "\n  "+code+"  ") {
			t.Errorf("--help does not list exit code %s", code)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{"GOMEMLIMIT", "GOMAXPROCS", "AWS_ENDPOINT_URL_S3", "JOB_COMPLETION_INDEX"} {
		if !strings.Contains(help, env) {
			t.Errorf("--help does not document %s", env)
		}
		if !strings.Contains(string(readme), "`"+env+"`") {
			t.Errorf("README does not document %s", env)
		}
	}
}

// TestHelpFlagPlaceholders: each flag line of every command's --help is
// "-name [placeholder]". A backquoted phrase in a flag's usage names its
// argument (flag.UnquoteUsage), so "partial aggregates for `parity
// merge`" made run --help read "-shard parity merge".
func TestHelpFlagPlaceholders(t *testing.T) {
	for name := range commands {
		var out bytes.Buffer
		if code := Main(context.Background(), []string{name, "--help"}, &out, &out); code != ExitOK {
			t.Errorf("%s --help: exit %d", name, code)
			continue
		}
		for l := range strings.Lines(out.String()) {
			if f := strings.Fields(l); strings.HasPrefix(l, "  -") && len(f) > 2 {
				t.Errorf("%s --help: flag line %q: want -name and at most one placeholder word", name, strings.TrimSpace(l))
			}
		}
	}
}
