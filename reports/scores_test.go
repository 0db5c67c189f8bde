package reports

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parity-eval/parity/eval"
)

// scoreRowsSimple is ScoreRows as first written, a Num allocation per
// figure: the reference its slab form must equal.
func scoreRowsSimple(fws []*eval.FeatureWindow, runID, configHash string) []ScoreRow {
	var out []ScoreRow
	for _, fw := range fws {
		for _, c := range fw.Classes {
			for _, m := range c.Metrics {
				out = append(out, ScoreRow{
					Feature: fw.Feature, InputClass: c.Class,
					WindowStart: fw.Window.Start.UTC(), WindowEnd: fw.Window.End.UTC(),
					Metric: m.Name, Value: Num(m.Value), CILow: Num(m.CILow), CIHigh: Num(m.CIHigh), CILevel: Num(m.CILevel),
					CIMethod: m.CIMethod, Test: m.Test, Statistic: Num(m.Statistic), PValue: Num(m.P), PAdjusted: Num(m.PAdjusted),
					N: m.N, NNeeded: m.NNeeded, Threshold: Num(m.Threshold), Status: m.Status, Criterion: m.Criterion,
					Reason: m.Reason, Warnings: strings.Join(m.Warnings, "; "), RunID: runID, ConfigHash: configHash,
				})
			}
		}
	}
	return out
}

// randomFeatureWindows: features with classes with metrics whose figures
// are finite, NaN, ±Inf, zero and negative zero, some classes and
// features without metrics, a window in a zone other than UTC.
func randomFeatureWindows(r *rand.Rand) []*eval.FeatureWindow {
	fig := func() float64 {
		switch r.IntN(7) {
		case 0:
			return math.NaN()
		case 1:
			return math.Inf(1 - 2*r.IntN(2))
		case 2:
			return 0
		case 3:
			return math.Copysign(0, -1)
		default:
			return r.NormFloat64()
		}
	}
	zone := time.FixedZone("X", 3600*(r.IntN(5)-2))
	var fws []*eval.FeatureWindow
	for f := range r.IntN(4) {
		start := time.Date(2026, 10, 1+r.IntN(20), 0, 0, 0, 0, zone)
		fw := &eval.FeatureWindow{Feature: fmt.Sprint("f", f), Window: eval.Window{Start: start, End: start.Add(24 * time.Hour)}}
		for c := range r.IntN(5) {
			cr := &eval.ClassResult{Class: fmt.Sprint("c", c)}
			for m := range r.IntN(30) {
				var warn []string
				for w := range r.IntN(3) {
					warn = append(warn, fmt.Sprint("warning ", w))
				}
				cr.Metrics = append(cr.Metrics, &eval.Metric{Name: fmt.Sprint("m", m), Value: fig(), CILow: fig(), CIHigh: fig(), CILevel: fig(),
					CIMethod: "wilson", Test: "t", Statistic: fig(), P: fig(), PAdjusted: fig(), N: r.Int64N(1000), NNeeded: r.Int64N(3),
					Threshold: fig(), Status: "pass", Criterion: r.IntN(2) == 0, Reason: "r", Warnings: warn})
			}
			fw.Classes = append(fw.Classes, cr)
		}
		fws = append(fws, fw)
	}
	return fws
}

// TestScoreRowsMatchesSimple: ScoreRows (one slab for every figure) gives
// the rows of the form with one allocation per figure, figure for figure
// (nil where not finite), and the scores file they encode to is the same.
func TestScoreRowsMatchesSimple(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 300 {
		fws := randomFeatureWindows(r)
		got, want := ScoreRows(fws, "run", "hash"), scoreRowsSimple(fws, "run", "hash")
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d: ScoreRows differs from the simple form\n got %+v\nwant %+v", i, got, want)
		}
		if i%30 != 0 {
			continue
		}
		a, err := EncodeScores(got)
		if err != nil {
			t.Fatal(err)
		}
		b, err := EncodeScores(want)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("case %d: encoded scores differ", i)
		}
	}
}
