// Command parity-bench measures parity's full evaluation against DuckDB's
// aggregate-only query on the same generated shadow log, and checks that
// both compute the same per feature × class × window figures.
//
//	parity-bench -rows 10000000 -parity ../bin/parity
//
// It generates the log (bench/gen) into -dir unless a log of that size is
// already there, then runs, -repeat times each and in turn:
//
//   - the real parity binary: `parity backfill` over every day, i.e. the
//     full evaluation (every built-in scorer, statistical tests, verdicts,
//     scores and reports written), as a child process;
//   - DuckDB (duckdb-go, same number of threads) running the query of
//     bench.Full (every count, sum, extreme and category count of
//     parity's aggregates), as a child process too (this binary
//     re-executed), so each side's peak RSS is its own (getrusage of the
//     child: VmHWM at exit);
//   - DuckDB running the query of bench.Narrow, the 13 figures earlier
//     versions of this benchmark compared, for that ratio too.
//
// It prints rows/s and peak RSS of each, the ratios of parity's times to
// DuckDB's (best runs, measured in this one invocation) and exits 1 if
// any figure of either query differs from parity's.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/parity-eval/parity/bench"
	"github.com/parity-eval/parity/bench/gen"
	"github.com/parity-eval/parity/datasets/synth"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "duckdb-child" {
		os.Exit(duckChild(os.Args[2:]))
	}
	dir := flag.String("dir", filepath.Join(os.TempDir(), "parity-bench"), "working folder: log under DIR/<rows>/logs, parity's outputs under DIR/<rows>/out")
	rows := flag.Int64("rows", 10_000_000, "rows in the generated log (50000000 for the large variant)")
	days := flag.Int("days", 10, "daily partitions (windows) the rows are spread over")
	rowGroup := flag.Int("row-group", 128<<10, "rows per Parquet row group")
	parityBin := flag.String("parity", "", "parity binary (default: build ../cmd/parity into DIR)")
	threads := flag.Int("threads", runtime.NumCPU(), "DuckDB threads (parity uses GOMAXPROCS workers)")
	repeat := flag.Int("repeat", 3, "runs of each; the best wall time counts, the highest RSS counts")
	regen := flag.Bool("regen", false, "regenerate the log even if it exists")
	memLimit := flag.String("gomemlimit", "", "GOMEMLIMIT for the parity child (e.g. 128MiB; default: unset, so the binary's own soft limit applies)")
	prof := flag.Bool("profile", false, "instead of comparing, evaluate the existing log in-process with CPU and heap profiles")
	flag.Parse()

	work := filepath.Join(*dir, strconv.FormatInt(*rows, 10))
	if *prof {
		if err := profile(work, *days, synth.DefaultStart); err != nil {
			fmt.Fprintln(os.Stderr, "parity-bench:", err)
			os.Exit(1)
		}
		return
	}
	if *memLimit != "" {
		parityEnv = append(parityEnv, "GOMEMLIMIT="+*memLimit)
	}
	if err := run(work, *rows, *days, *rowGroup, *parityBin, *threads, *repeat, *regen); err != nil {
		fmt.Fprintln(os.Stderr, "parity-bench:", err)
		os.Exit(1)
	}
}

func run(work string, rows int64, days, rowGroup int, parityBin string, threads, repeat int, regen bool) error {
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	stamp := filepath.Join(work, "logs", "_GENERATED")
	want := fmt.Sprintf("rows=%d days=%d row_group=%d", rows, days, rowGroup)
	if b, err := os.ReadFile(stamp); regen || err != nil || string(b) != want {
		t0 := time.Now()
		if _, err := gen.Generate(work, gen.Options{Rows: rows, Days: days, RowGroup: rowGroup}); err != nil {
			return err
		}
		if err := os.WriteFile(stamp, []byte(want), 0o644); err != nil {
			return err
		}
		fmt.Printf("generated %d rows in %.1fs (%s)\n", rows, time.Since(t0).Seconds(), want)
	}
	size, err := duSize(filepath.Join(work, "logs"))
	if err != nil {
		return err
	}
	cfg, err := bench.WriteConfig(work)
	if err != nil {
		return err
	}
	if parityBin == "" {
		parityBin = filepath.Join(work, "parity")
		b := exec.Command("go", "build", "-o", parityBin, "./cmd/parity")
		b.Dir = ".."
		b.Env = append(os.Environ(), "CGO_ENABLED=0")
		b.Stdout, b.Stderr = os.Stderr, os.Stderr
		if err := b.Run(); err != nil {
			return fmt.Errorf("building parity: %w", err)
		}
	}
	from := synth.DefaultStart
	to := from.AddDate(0, 0, days)

	var pBest, pCPU time.Duration
	var pRSS int64
	sets := []*duckRuns{{set: bench.Full}, {set: bench.Narrow}}
	for i := 0; i < repeat; i++ {
		out := filepath.Join(work, "out")
		if err := os.RemoveAll(out); err != nil {
			return err
		}
		var stderr bytes.Buffer
		wall, cpu, rss, err := child(nil, &stderr, parityEnv, parityBin, "backfill", "--config", cfg, "--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339), "--log-level", "warn")
		if err != nil {
			return fmt.Errorf("parity backfill: %w\n%s", err, stderr.Bytes())
		}
		pBest, pCPU, pRSS = best(pBest, wall), best(pCPU, cpu), max(pRSS, rss)
		self, err := os.Executable()
		if err != nil {
			return err
		}
		for _, d := range sets {
			var stdout bytes.Buffer
			stderr.Reset()
			wall, cpu, rss, err := child(&stdout, &stderr, nil, self, "duckdb-child", "-set", d.set.Name, "-dir", work, "-threads", strconv.Itoa(threads), "-from", strconv.FormatInt(from.Unix(), 10), "-to", strconv.FormatInt(to.Unix(), 10))
			if err != nil {
				return fmt.Errorf("duckdb (%s): %w\n%s", d.set.Name, err, stderr.Bytes())
			}
			d.wall, d.cpu, d.rss = best(d.wall, wall), best(d.cpu, cpu), max(d.rss, rss)
			d.groups = nil
			if err := json.Unmarshal(stdout.Bytes(), &d.groups); err != nil {
				return fmt.Errorf("duckdb child output: %w", err)
			}
		}
	}
	pGroups, err := bench.ParityGroups(filepath.Join(work, "out"))
	if err != nil {
		return err
	}
	var diffs []string
	for _, d := range sets {
		for _, x := range bench.Compare(d.set, pGroups, d.groups) {
			diffs = append(diffs, d.set.Name+" query: "+x)
		}
	}

	mib := func(kb int64) float64 { return float64(kb) / 1024 }
	rate := func(d time.Duration) float64 { return float64(rows) / d.Seconds() }
	fmt.Printf("log: %d rows, %d days, %d rows/row group, %.0f MiB Parquet (snappy), %d CPUs\n", rows, days, rowGroup, float64(size)/(1<<20), runtime.NumCPU())
	fmt.Printf("%-52s %8s %12s %8s %12s\n", "", "wall s", "rows/s", "CPU s", "peak RSS MiB")
	label := "parity backfill (full evaluation, written)"
	if len(parityEnv) > 0 {
		label = "parity backfill, " + strings.Join(parityEnv, " ")
	}
	fmt.Printf("%-52s %8.2f %12.0f %8.2f %12.1f\n", label, pBest.Seconds(), rate(pBest), pCPU.Seconds(), mib(pRSS))
	for _, d := range sets {
		fmt.Printf("%-52s %8.2f %12.0f %8.2f %12.1f\n", fmt.Sprintf("DuckDB, %s query: %d figures (%d threads)", d.set.Name, d.set.Len(), threads), d.wall.Seconds(), rate(d.wall), d.cpu.Seconds(), mib(d.rss))
	}
	for _, d := range sets {
		fmt.Printf("ratio parity/DuckDB %s query: wall %.2f, CPU %.2f\n", d.set.Name, pBest.Seconds()/d.wall.Seconds(), pCPU.Seconds()/d.cpu.Seconds())
	}
	fmt.Printf("(best of %d runs each, this invocation; CPU time is the steadier figure on a shared machine; the full query computes every figure parity's aggregates and DuckDB share)\n", repeat)
	if len(diffs) > 0 {
		for i, d := range diffs {
			if i == 20 {
				fmt.Printf("... and %d more\n", len(diffs)-20)
				break
			}
			fmt.Println("MISMATCH", d)
		}
		return fmt.Errorf("%d differences between parity and DuckDB", len(diffs))
	}
	fmt.Printf("check: %d groups; %d figures per group equal (counts and category counts exactly, sums and extremes within 1e-9 relative)\n", len(pGroups), bench.Full.Len())
	return nil
}

// duckRuns is the best of the runs of one DuckDB query.
type duckRuns struct {
	set       bench.Set
	wall, cpu time.Duration
	rss       int64
	groups    []bench.Group
}

// parityEnv is added to the parity child's environment.
var parityEnv []string

func best(cur, d time.Duration) time.Duration {
	if cur == 0 || d < cur {
		return d
	}
	return cur
}

// child runs a command and returns its wall time, CPU time (user +
// system) and peak RSS in KiB (ru_maxrss of the child, which Linux
// reports in KiB).
func child(stdout, stderr *bytes.Buffer, env []string, name string, args ...string) (wall, cpu time.Duration, rss int64, err error) {
	c := exec.Command(name, args...)
	c.Env = append(os.Environ(), env...)
	if stdout != nil {
		c.Stdout = stdout
	}
	c.Stderr = stderr
	start := time.Now()
	if err := c.Run(); err != nil {
		return 0, 0, 0, err
	}
	wall = time.Since(start)
	ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return wall, 0, 0, nil
	}
	cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return wall, cpu, ru.Maxrss, nil
}

// duckChild is the DuckDB side, run as a child so its RSS is measured
// alone: it prints the groups as JSON.
func duckChild(args []string) int {
	fs := flag.NewFlagSet("duckdb-child", flag.ExitOnError)
	dir := fs.String("dir", "", "")
	setName := fs.String("set", "full", "")
	threads := fs.Int("threads", 2, "")
	from := fs.Int64("from", 0, "")
	to := fs.Int64("to", 0, "")
	fs.Parse(args)
	set := bench.Full
	if *setName == bench.Narrow.Name {
		set = bench.Narrow
	}
	groups, _, err := bench.DuckDB(context.Background(), set, *dir, *threads, time.Unix(*from, 0), time.Unix(*to, 0), 24*time.Hour)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(groups); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func duSize(dir string) (int64, error) {
	var n int64
	err := filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return err
	})
	return n, err
}
