package synth

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/parquet-go/parquet-go"
)

// Options controls the size and randomness of the generated data. Zero
// fields take their defaults.
type Options struct {
	Seed  int64     // default 1
	Start time.Time // first day (UTC midnight); default 2026-10-01
	Days  int       // default 35
	Scale float64   // rows multiplier; default 1 -> ~330k log rows (legal_notice stays 3-8/day)
}

// DefaultStart is the first day when Options.Start is zero.
var DefaultStart = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

func (o Options) withDefaults() Options {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	o.Start = o.Start.UTC().Truncate(24 * time.Hour)
	if o.Days <= 0 {
		o.Days = 35
	}
	if o.Scale <= 0 {
		o.Scale = 1
	}
	return o
}

// Day returns the UTC midnight of 1-based scenario day n (day 1 = Start).
func (o Options) Day(n int) time.Time {
	return o.withDefaults().Start.AddDate(0, 0, n-1)
}

// LogRow is one shadow-log row: one request, with what legacy and the AI
// produced for it. Optional columns are null for features they do not
// belong to and when that side errored; for these non-pointer optional
// fields parquet-go writes the zero value ("" or 0) as null, which the
// generator relies on (ai_confidence is never exactly 0 otherwise).
type LogRow struct {
	RequestID       string    `parquet:"request_id"`
	TS              time.Time `parquet:"ts,timestamp(microsecond)"`
	Feature         string    `parquet:"feature,dict"`
	InputClass      string    `parquet:"input_class,dict"`
	LegacyCategory  string    `parquet:"legacy_category,optional,dict"`
	AICategory      string    `parquet:"ai_category,optional,dict"`
	LegacyOutput    string    `parquet:"legacy_output,optional"`
	AIOutput        string    `parquet:"ai_output,optional"`
	LegacyReply     string    `parquet:"legacy_reply,optional"`
	AIReply         string    `parquet:"ai_reply,optional"`
	AIConfidence    float64   `parquet:"ai_confidence,optional"`
	AIModelVersion  string    `parquet:"ai_model_version,dict"`
	InputHash       string    `parquet:"input_hash"`
	InputTokens     int64     `parquet:"input_tokens"`
	LegacyLatencyMS float64   `parquet:"legacy_latency_ms"`
	AILatencyMS     float64   `parquet:"ai_latency_ms"`
	LegacyError     bool      `parquet:"legacy_error"`
	AIError         bool      `parquet:"ai_error"`
	LegacyCost      float64   `parquet:"legacy_cost"`
	AICost          float64   `parquet:"ai_cost"`
	ServedBy        string    `parquet:"served_by,dict"`
	LabelCategory   string    `parquet:"label_category,optional,dict"`
}

// LabelRow is one ground-truth label, partitioned by the day it arrived.
type LabelRow struct {
	RequestID     string    `parquet:"request_id"`
	LabelCategory string    `parquet:"label_category,dict"`
	LabelledAt    time.Time `parquet:"labelled_at,timestamp(microsecond)"`
}

// Summary describes what Generate wrote and the truth behind it.
type Summary struct {
	LogRows, LabelRows, Files int
	// Start is the first day; End is the exclusive end (midnight after the
	// last day). Labels that would arrive at or after End are not written.
	Start, End time.Time
	Features   []FeatureTruth
	Events     []Event
	Recon      ReconTruth
}

// FeatureTruth is the generator's truth for one feature.
type FeatureTruth struct {
	Name       string
	Kind       string   // KindClassification, KindExtraction or KindGeneration
	Categories []string // classification only
	// Expect is the verdict the scenario is built to produce:
	// "graduate", "hold" or "rollback".
	Expect  string
	Notes   []string
	Classes []ClassTruth
}

// Class returns the named class, or nil.
func (f *FeatureTruth) Class(name string) *ClassTruth {
	for i := range f.Classes {
		if f.Classes[i].Name == name {
			return &f.Classes[i]
		}
	}
	return nil
}

// ClassTruth holds one input class's truth per phase: a phase is a run of
// days over which the generator's rates do not change.
type ClassTruth struct {
	Name   string
	Phases []PhaseTruth
}

// PhaseTruth gives the probabilities the generator drew from over the days
// [From, To) and what it actually drew (Observed).
type PhaseTruth struct {
	From, To     time.Time
	ModelVersion string
	// RowsPerDay is the expected number of rows on a weekday (weekends are
	// lower for all features but refund_approval).
	RowsPerDay float64
	// Agreement is P(AI output agrees with legacy's | neither errored):
	// equal category (classification), amount within 0.01 (extraction), or
	// the expected token F1 (generation, see TokenF1).
	Agreement float64
	// LegacyAccuracy and AIAccuracy are P(correct | no error) against the
	// label; classification only (0 otherwise).
	LegacyAccuracy, AIAccuracy float64
	// Categories gives per-truth-category recall (classification only).
	Categories                   []CategoryTruth
	LegacyErrorRate, AIErrorRate float64
	// Expect is the per-window outcome the scenario is built to produce:
	// "pass", "fail" or "insufficient_data".
	Expect   string
	Observed Counts
}

// CategoryTruth is the share of one truth category and each side's recall
// on it.
type CategoryTruth struct {
	Name                          string
	Share, LegacyRecall, AIRecall float64
}

// Counts are what the generator actually drew in a phase. Compared rows
// are those where neither side errored; Agree, LegacyCorrect, AICorrect
// and SumOverlap are over Compared rows, LegacyCorrect and AICorrect
// against the truth whether or not its label was published. Agree means
// equal categories (classification), amounts within 0.01 (extraction) or
// TokenF1 >= 0.5 (generation).
type Counts struct {
	Rows, LegacyErrors, AIErrors, Compared, Agree int
	LegacyCorrect, AICorrect                      int
	// Labelled counts rows whose label was published (inline or in the
	// labels dataset before End); LabelledCompared those of them compared.
	Labelled, LabelledCompared int
	// SumOverlap is the sum of TokenF1(legacy_reply, ai_reply) (generation).
	SumOverlap float64
}

func (c *Counts) add(o Counts) {
	c.Rows += o.Rows
	c.LegacyErrors += o.LegacyErrors
	c.AIErrors += o.AIErrors
	c.Compared += o.Compared
	c.Agree += o.Agree
	c.LegacyCorrect += o.LegacyCorrect
	c.AICorrect += o.AICorrect
	c.Labelled += o.Labelled
	c.LabelledCompared += o.LabelledCompared
	c.SumOverlap += o.SumOverlap
}

// Event is a scenario change an evaluation should notice.
type Event struct {
	Kind    string // model_version, quality_drop, input_drift, confidence_drift, cost_spike, canary_share, late_labels
	Feature string
	Class   string // "" = every class
	// From, To bound the affected days [From, To).
	From, To time.Time
	Detail   string
}

// Generate writes the synthetic dataset under dir:
//
//	dir/logs/dt=YYYY-MM-DD/part-00000.parquet    shadow logs by request day
//	dir/labels/dt=YYYY-MM-DD/part-00000.parquet  labels by arrival day
//	dir/recon/{legacy,new}/run=NN/part-00000.parquet
//
// Generate owns dir/logs, dir/labels and dir/recon: it removes them first
// so stale partitions of an earlier, larger run cannot leak into this one.
// Each file is written to a dot-prefixed temp file and renamed into place,
// so an interrupted run never leaves a partial Parquet file under its
// final name.
func Generate(dir string, o Options) (Summary, error) {
	o = o.withDefaults()
	for _, sub := range []string{"logs", "labels", "recon"} {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			return Summary{}, err
		}
	}
	plan, err := newPlan(o)
	if err != nil {
		return Summary{}, err
	}

	// Days are independent random streams, so they run in parallel; results
	// are merged in day order afterwards, which keeps the output
	// independent of scheduling.
	results := make([]*dayResult, o.Days)
	errs := make([]error, o.Days)
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				results[d], errs[d] = plan.day(dir, d+1)
			}
		}()
	}
	for d := 0; d < o.Days; d++ {
		work <- d
	}
	close(work)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return Summary{}, err
		}
	}

	s := Summary{Start: o.Start, End: o.Start.AddDate(0, 0, o.Days)}
	labelsByDay := make([][]LabelRow, o.Days)
	for _, r := range results {
		s.LogRows += r.rows
		s.Files++
		for _, l := range r.labels {
			d := dayIndex(o.Start, l.LabelledAt)
			labelsByDay[d] = append(labelsByDay[d], l)
		}
	}
	for d, ls := range labelsByDay {
		if len(ls) == 0 {
			continue
		}
		sort.Slice(ls, func(i, j int) bool {
			if !ls[i].LabelledAt.Equal(ls[j].LabelledAt) {
				return ls[i].LabelledAt.Before(ls[j].LabelledAt)
			}
			return ls[i].RequestID < ls[j].RequestID
		})
		p := filepath.Join(dir, "labels", "dt="+o.Start.AddDate(0, 0, d).Format("2006-01-02"), "part-00000.parquet")
		if err := writeParquet(p, ls); err != nil {
			return Summary{}, err
		}
		s.LabelRows += len(ls)
		s.Files++
	}
	s.Features = plan.truth(results)
	s.Events = plan.events()
	rt, files, err := generateRecon(filepath.Join(dir, "recon"), o)
	if err != nil {
		return Summary{}, err
	}
	s.Recon = rt
	s.Files += files
	return s, nil
}

func dayIndex(start, t time.Time) int { return int(t.Sub(start) / (24 * time.Hour)) }

// stream returns the random stream for one (feature, class, day) cell. The
// cell key is hashed instead of drawn from a shared generator so that
// adding a class or a day leaves every other cell's data unchanged.
func stream(seed int64, key string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(key))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}

// writeParquet writes rows to path atomically: temp file in the same
// directory (dot-prefixed so dataset listings skip it), then rename. There
// is no fsync: the rename protects readers from a killed generator, and
// data that can be regenerated bit for bit does not need to survive a
// power cut (fsync made the test suite 2x slower).
func writeParquet[T any](path string, rows []T) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	w := parquet.NewGenericWriter[T](f,
		parquet.Compression(&parquet.Snappy),
		parquet.MaxRowsPerRowGroup(rowsPerRowGroup),
		parquet.CreatedBy("parity-synth", "1", ""),
	)
	if _, err = w.Write(rows); err != nil {
		return fmt.Errorf("synth: write %s: %w", path, err)
	}
	if err = w.Close(); err != nil {
		return fmt.Errorf("synth: close %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// clamp01 keeps a probability-like value inside [lo, hi].
func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }
