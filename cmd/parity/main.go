// Command parity evaluates an AI system against the legacy system it runs
// beside, from shadow logs in Parquet, and writes scores, verdicts and
// reports. One file per subcommand; this file holds the dispatcher, the
// exit codes and the shared flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/storage"

	_ "github.com/parity-eval/parity/storage/file" // local folders
	_ "github.com/parity-eval/parity/storage/s3"   // s3:// locations

	// Scorers added in Go (scorers/contrib) and `type: external`.
	_ "github.com/parity-eval/parity/scorers/contrib"
)

// Exit codes, documented in --help and README.
const (
	ExitOK       = 0 // success
	ExitFailure  = 1 // runtime failure (I/O, bad data, lock held); nothing was written
	ExitUsage    = 2 // usage or configuration error; nothing was read or written
	ExitRollback = 3 // --exit-code-on: completed, and a verdict is rollback (run, merge) or a reconciliation alerted
	ExitStale    = 4 // `parity verdicts --check`: a verdict is past valid_until
)

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

const exitHelp = `Exit codes:
  0  success
  1  runtime failure (unreadable or bad data, storage error, lock held by another run);
     nothing partial is written
  2  usage or configuration error (named with file:line: key); nothing is read or written
  3  only with --exit-code-on: run/backfill/merge --exit-code-on rollback, the run completed and
     a feature's verdict in force after it (latest.json, the newest window's) is rollback;
     reconcile --exit-code-on alert, the (last) run raised an alert
  4  parity verdicts --check: a verdict is at or past its valid_until (stale: treat as legacy only)

Errors: on a terminal, lines of text. Otherwise (cron, Kubernetes) stderr is JSON lines, logs
and errors alike: the error that ends a command is a record at level ERROR with the same text as
msg, its exit_code, and file, line and key for a configuration problem. validate's list of
problems and the usage printed for a mistyped flag stay text.
`

const envHelp = `Environment:
  GOMEMLIMIT          soft heap limit; unset, run, backfill, merge and schedule use 120MiB,
                      raised for the duration of a scan of S3 logs by two row groups' columns
                      per worker (logged), so peak memory stays flat however long the log
  GOMAXPROCS          scan workers (default: all cores)
  AWS_*               S3 credentials, region and endpoint (AWS_ENDPOINT_URL_S3): the standard
                      AWS chain (env, profile, web identity, instance metadata); the config's
                      s3: section can set the endpoint and region
  JOB_COMPLETION_INDEX  run --shard env/N: the shard index (a Kubernetes Indexed Job sets it)
`

func usage(w io.Writer) {
	fmt.Fprintf(w, "parity: evaluate an AI system against the legacy system it shadows.\n\nUsage: parity <command> [flags]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'parity <command> --help' for a command's flags.\n\n%s\n%s", exitHelp, envHelp)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(Main(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Main runs the CLI; tests call it in-process as well as building the binary.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	if args[0] == "--version" || args[0] == "version" {
		fmt.Fprintln(stdout, "parity", version())
		return ExitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "parity: unknown command %q\n\n", args[0])
		usage(stderr)
		return ExitUsage
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

// logLevelFlag defines --log-level on fs with default def, refusing an
// unknown level when flags are parsed (a usage error, exit 2) rather
// than logging at info as if it had been understood.
func logLevelFlag(fs *flag.FlagSet, p *string, def string) {
	*p = def
	fs.Func("log-level", "`level`: debug, info, warn or error (default "+def+")", func(s string) error {
		switch strings.ToLower(s) {
		case "debug", "info", "warn", "error":
			*p = s
			return nil
		}
		return errors.New("want debug, info, warn or error")
	})
}

// newLogger returns a slog logger: JSON when stderr is not a terminal
// (cron, Kubernetes), text on a terminal.
func newLogger(w io.Writer, level string) *slog.Logger {
	lv := slog.LevelInfo
	switch strings.ToLower(level) {
	case "debug":
		lv = slog.LevelDebug
	case "warn":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: lv}
	var l *slog.Logger
	if isTerminalWriter(w) {
		l = slog.New(slog.NewTextHandler(w, opts))
	} else {
		l = slog.New(slog.NewJSONHandler(w, opts))
	}
	// Packages without a logger of their own (storage/file's sweep of
	// stale temporary files) log through the default: in the same form.
	slog.SetDefault(l)
	return l
}

// isTerminalWriter: w is a terminal, where a person reads text; a pipe,
// file or buffer gets JSON records.
func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// loadConfig loads and validates the config, reporting each problem as
// file:line: key: message (see fatal).
func loadConfig(path string, stderr io.Writer) (*config.Config, int) {
	if path == "" {
		return nil, usageError(stderr, "parity: --config is required")
	}
	cfg, err := config.Load(path)
	if err != nil {
		var es config.Errors
		if !errors.As(err, &es) {
			return nil, fatal(stderr, ExitUsage, err.Error())
		}
		for _, e := range es {
			fatal(stderr, ExitUsage, e.Error(), configAttrs(e)...)
		}
		return nil, ExitUsage
	}
	return cfg, ExitOK
}

// fail reports a runtime failure: exit 1.
func fail(stderr io.Writer, err error) int {
	var attrs []any
	if e := (*config.Error)(nil); errors.As(err, &e) {
		attrs = configAttrs(e)
	}
	if errors.Is(err, storage.ErrLocked) {
		// Lets an alert tell a run that found the output busy (routine
		// under a scheduler; the message names the holder) from a fault.
		attrs = append(attrs, "locked", true)
	}
	return fatal(stderr, ExitFailure, "parity: "+err.Error(), attrs...)
}

// usageError reports a usage error found once the flags parsed: exit 2.
func usageError(stderr io.Writer, format string, args ...any) int {
	return fatal(stderr, ExitUsage, fmt.Sprintf(format, args...))
}

// fatal writes msg, the line saying why the command stops, and returns
// code. On a terminal it is that line of text. Otherwise (cron,
// Kubernetes) it is a JSON record at level ERROR, as the logs are, with
// exit_code and attrs: a collector that parses stderr as JSON lines
// would drop or mangle a text line, and it is the one that says why the
// job failed.
func fatal(stderr io.Writer, code int, msg string, attrs ...any) int {
	if isTerminalWriter(stderr) {
		fmt.Fprintln(stderr, msg)
		return code
	}
	slog.New(slog.NewJSONHandler(stderr, nil)).Error(msg, append(attrs, "exit_code", code)...)
	return code
}

// configAttrs are a config error's fields, for its log record.
func configAttrs(e *config.Error) []any {
	attrs := []any{"file", e.File}
	if e.Line > 0 {
		attrs = append(attrs, "line", e.Line)
	}
	return append(attrs, "key", e.Key)
}
