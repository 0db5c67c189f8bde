// Command synthgen writes parity's synthetic shadow-log dataset (see
// package datasets/synth) to a folder, for demos and manual testing:
//
//	go run ./datasets/synth/cmd/synthgen -out /tmp/shadow -truth /tmp/shadow/truth.json
//
// The truth file is the generator's Summary as JSON: the true rates per
// feature, class and phase, the scenario events and the reconciliation
// differences, so a demo can print what the evaluation should find.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/parity-eval/parity/datasets/synth"
)

func main() {
	out := flag.String("out", "", "output folder (required); its logs/, labels/ and recon/ are replaced")
	seed := flag.Int64("seed", 1, "random seed")
	start := flag.String("start", synth.DefaultStart.Format("2006-01-02"), "first day (UTC)")
	days := flag.Int("days", 35, "number of daily partitions")
	scale := flag.Float64("scale", 1, "row multiplier (1 = ~330k log rows)")
	truth := flag.String("truth", "", "write the Summary as JSON to this file (\"-\" = stdout)")
	quiet := flag.Bool("q", false, "do not print the scenario description")
	flag.Parse()
	if *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	st, err := time.Parse("2006-01-02", *start)
	if err != nil {
		fmt.Fprintln(os.Stderr, "synthgen: -start:", err)
		os.Exit(2)
	}
	t0 := time.Now()
	s, err := synth.Generate(*out, synth.Options{Seed: *seed, Start: st, Days: *days, Scale: *scale})
	if err != nil {
		fmt.Fprintln(os.Stderr, "synthgen:", err)
		os.Exit(1)
	}
	if *truth != "" {
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			fmt.Fprintln(os.Stderr, "synthgen:", err)
			os.Exit(1)
		}
		b = append(b, '\n')
		if *truth == "-" {
			os.Stdout.Write(b)
		} else if err := os.WriteFile(*truth, b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "synthgen:", err)
			os.Exit(1)
		}
	}
	fmt.Fprintf(os.Stderr, "synthgen: %d log rows, %d label rows, %d files in %s (%.1fs)\n",
		s.LogRows, s.LabelRows, s.Files, *out, time.Since(t0).Seconds())
	if !*quiet {
		fmt.Fprint(os.Stderr, s.Describe())
	}
}
