// Package gen writes large synthetic shadow logs fast, for benchmarks.
//
// datasets/synth models a realistic scenario (drift, late labels, model
// changes) but generates ~30k rows/s, too slow for 10M-50M rows. This
// generator writes the same schema (synth.LogRow, so the demo's column
// names and types) with simple per-feature distributions at ~1M rows/s
// per core. Every day is split into files of at most FileRows rows, each
// generated from its own seeded stream, so the output is deterministic
// whatever the number of parallel workers.
package gen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/parity-eval/parity/datasets/synth"
)

// Options sizes the generated log.
type Options struct {
	Rows        int64     // total rows (default 10M)
	Days        int       // daily partitions (default 10); rows are spread evenly
	Start       time.Time // first day (default synth.DefaultStart)
	RowGroup    int       // rows per row group (default 128Ki)
	FileRows    int       // rows per file at most (default 1M)
	Seed        uint64    // default 1
	Compression string    // snappy (default), zstd or none
}

func (o *Options) defaults() {
	if o.Rows <= 0 {
		o.Rows = 10_000_000
	}
	if o.Days <= 0 {
		o.Days = 10
	}
	if o.Start.IsZero() {
		o.Start = synth.DefaultStart
	}
	if o.RowGroup <= 0 {
		o.RowGroup = 128 << 10
	}
	if o.FileRows <= 0 {
		o.FileRows = 1 << 20
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
}

// feature is one generated feature: its share of rows, classes and
// categories. invoice_extraction writes JSON outputs instead of
// categories.
type feature struct {
	name    string
	share   float64
	classes []string
	cats    []string // nil: JSON outputs
	agree   float64  // probability that the AI agrees with legacy
}

var features = []feature{
	{"ticket_routing", 0.5, []string{"email", "chat", "phone_transcript", "web_form", "spanish"}, []string{"billing", "technical", "account", "sales", "fraud"}, 0.97},
	{"refund_approval", 0.3, []string{"standard", "high_value", "repeat_customer", "international"}, []string{"approve", "deny"}, 0.985},
	{"invoice_extraction", 0.2, []string{"digital", "scanned", "handwritten", "email_body"}, nil, 0.96},
}

var currencies = []string{"EUR", "USD", "GBP", "CHF"}
var vendors = []string{"Acme GmbH", "Globex", "Initech", "Umbrella", "Stark Industries", "Wayne Enterprises"}

// file is one output file's slice of the log.
type file struct {
	day, part int
	rows      int
}

// Generate writes dir/logs/dt=YYYY-MM-DD/part-NNNNN.parquet and returns
// the number of rows written. It removes dir/logs first.
func Generate(dir string, o Options) (int64, error) {
	o.defaults()
	logs := filepath.Join(dir, "logs")
	if err := os.RemoveAll(logs); err != nil {
		return 0, err
	}
	var files []file
	for d := 0; d < o.Days; d++ {
		n := int(o.Rows / int64(o.Days))
		if int64(d) < o.Rows%int64(o.Days) {
			n++
		}
		for p := 0; n > 0; p++ {
			k := min(n, o.FileRows)
			files = append(files, file{d, p, k})
			n -= k
		}
	}
	work := make(chan file)
	errs := make(chan error, len(files))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				errs <- writeFile(logs, f, &o)
			}
		}()
	}
	for _, f := range files {
		work <- f
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return o.Rows, nil
}

func writeFile(logs string, f file, o *Options) (err error) {
	day := o.Start.AddDate(0, 0, f.day)
	path := filepath.Join(logs, "dt="+day.Format("2006-01-02"), fmt.Sprintf("part-%05d.parquet", f.part))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(tmp)
		}
	}()
	var codec parquet.WriterOption = parquet.Compression(&parquet.Snappy)
	switch o.Compression {
	case "zstd":
		codec = parquet.Compression(&parquet.Zstd)
	case "none":
		codec = parquet.Compression(&parquet.Uncompressed)
	}
	w := parquet.NewGenericWriter[synth.LogRow](out, codec, parquet.MaxRowsPerRowGroup(int64(o.RowGroup)), parquet.CreatedBy("parity-bench", "1", ""))
	r := rand.New(rand.NewPCG(o.Seed, uint64(f.day)<<20|uint64(f.part)))
	buf := make([]synth.LogRow, 0, 4096)
	for i := 0; i < f.rows; i++ {
		buf = append(buf, row(r, day, f, i))
		if len(buf) == cap(buf) || i == f.rows-1 {
			if _, err = w.Write(buf); err != nil {
				return fmt.Errorf("gen: write %s: %w", path, err)
			}
			buf = buf[:0]
		}
	}
	if err = w.Close(); err != nil {
		return fmt.Errorf("gen: close %s: %w", path, err)
	}
	if err = out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func other(r *rand.Rand, xs []string, not string) string {
	for {
		if x := pick(r, xs); x != not {
			return x
		}
	}
}

func lognormal(r *rand.Rand, median, sd float64) float64 {
	return median * math.Exp(sd*r.NormFloat64())
}

// row draws row i of file f. Rows within a file are in time order, as a
// logger writes them, so row-group time statistics are tight.
func row(r *rand.Rand, day time.Time, f file, i int) synth.LogRow {
	u := r.Float64()
	fi := 0
	for acc := features[0].share; u > acc && fi < len(features)-1; {
		fi++
		acc += features[fi].share
	}
	ft := &features[fi]
	var id []byte
	id = append(id, "req-"...)
	id = strconv.AppendInt(id, int64(f.day), 10)
	id = append(id, '-')
	id = strconv.AppendInt(id, int64(f.part), 10)
	id = append(id, '-')
	id = strconv.AppendInt(id, int64(i), 10)
	// Spread the file's rows over the day in order.
	ts := day.Add(time.Duration(float64(24*time.Hour) * (float64(i) + r.Float64()) / float64(f.rows)))
	lr := synth.LogRow{
		RequestID:       string(id),
		TS:              ts,
		Feature:         ft.name,
		InputClass:      pick(r, ft.classes),
		AIModelVersion:  "v1",
		InputHash:       strconv.FormatUint(r.Uint64(), 16),
		InputTokens:     int64(lognormal(r, 300, 0.6)),
		LegacyLatencyMS: lognormal(r, 40, 0.5),
		AILatencyMS:     lognormal(r, 600, 0.4),
		LegacyError:     r.Float64() < 0.01,
		AIError:         r.Float64() < 0.02,
		LegacyCost:      0.0002,
		AICost:          lognormal(r, 0.002, 0.3),
		ServedBy:        "legacy",
		AIConfidence:    0.5 + 0.5*r.Float64(),
	}
	if f.day >= 5 && r.Float64() < 0.3 {
		lr.AIModelVersion = "v2"
	}
	if r.Float64() < 0.1 {
		lr.ServedBy = "ai"
	}
	agree := r.Float64() < ft.agree
	if ft.cats != nil {
		truth := pick(r, ft.cats)
		lr.LegacyCategory = truth
		if r.Float64() < 0.08 {
			lr.LegacyCategory = other(r, ft.cats, truth)
		}
		lr.AICategory = lr.LegacyCategory
		if !agree {
			lr.AICategory = other(r, ft.cats, lr.LegacyCategory)
		}
		if r.Float64() < 0.4 {
			lr.LabelCategory = truth
		}
	} else {
		amount := float64(r.IntN(500_000)) / 100
		cur, ven := pick(r, currencies), pick(r, vendors)
		lr.LegacyOutput = invoiceJSON(amount, cur, ven)
		if !agree {
			amount += 1 + float64(r.IntN(100))
		}
		lr.AIOutput = invoiceJSON(amount, cur, ven)
	}
	// An erroring system logs no answer.
	if lr.LegacyError {
		lr.LegacyCategory, lr.LegacyOutput = "", ""
	}
	if lr.AIError {
		lr.AICategory, lr.AIOutput, lr.AIConfidence = "", "", 0
	}
	return lr
}

func invoiceJSON(amount float64, cur, vendor string) string {
	b := make([]byte, 0, 64)
	b = append(b, `{"amount":`...)
	b = strconv.AppendFloat(b, amount, 'f', 2, 64)
	b = append(b, `,"currency":"`...)
	b = append(b, cur...)
	b = append(b, `","vendor":"`...)
	b = append(b, vendor...)
	b = append(b, `"}`...)
	return string(b)
}
