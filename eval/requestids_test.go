package eval_test

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/datasets/parquettest"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/storage/file"
)

const dupConfig = `version: 1
source: {logs: logs}
output: out
window: 24h
features:
  - name: f
    fields:
      - {name: category, label: "-", critical: true}
`

// The same log in three request-id encodings: PLAIN (parquet-go's default
// for strings; the decoder gives every row its own code), dictionary, and
// dictionary falling back to PLAIN mid-chunk.
type dupRowPlain struct {
	RequestID  string    `parquet:"request_id"`
	TS         time.Time `parquet:"ts,timestamp(microsecond)"`
	Feature    string    `parquet:"feature,dict"`
	InputClass string    `parquet:"input_class,dict"`
	Legacy     string    `parquet:"legacy_category,dict"`
	AI         string    `parquet:"ai_category,dict"`
}

type dupRowDict struct {
	RequestID  string    `parquet:"request_id,dict"`
	TS         time.Time `parquet:"ts,timestamp(microsecond)"`
	Feature    string    `parquet:"feature,dict"`
	InputClass string    `parquet:"input_class,dict"`
	Legacy     string    `parquet:"legacy_category,dict"`
	AI         string    `parquet:"ai_category,dict"`
}

// TestDuplicateRequestIDsEveryEncoding checks that a retried write (same
// request id, later row of the same row group, different answer) is
// dropped and counted as duplicate_request_id whatever the encoding of
// the request-id column, including PLAIN pages, where equal ids have
// distinct codes, and a chunk whose first copy of an id is in the
// dictionary and whose retry is in a PLAIN page after the fallback.
func TestDuplicateRequestIDsEveryEncoding(t *testing.T) {
	const n, dups = 1000, 150
	day := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var rows, orig []dupRowPlain
	for i := range n {
		r := dupRowPlain{RequestID: fmt.Sprintf("req-%05d", i), TS: day.Add(time.Duration(i) * time.Second),
			Feature: "f", InputClass: "x", Legacy: "a", AI: "a"}
		orig = append(orig, r)
		rows = append(rows, r)
		// Retries of earlier ids, up to the whole chunk earlier: other
		// pages, and in the fallback file the other side of the switch
		// from dictionary to PLAIN.
		if i%6 == 5 && len(rows)-len(orig) < dups {
			r := orig[(i*37)%(i+1)]
			r.AI = "b" // a retry must not count: its disagreement would show
			rows = append(rows, r)
		}
	}
	if len(rows) != n+dups {
		t.Fatalf("fixture: %d rows, want %d", len(rows), n+dups)
	}
	// A second row group repeating the first one's ids: duplicates are
	// looked for within a row group only, so these rows are used.
	rows = append(rows, rows[:n+dups]...)
	perRG := parquet.MaxRowsPerRowGroup(n + dups)
	small := parquet.PageBufferSize(1024)

	cfg, err := config.Parse("parity.yaml", []byte(dupConfig))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		write   func(path string)
		repeats bool // the decoded request-id column has DictRepeats set
	}{
		{"plain", func(p string) { parquettest.WriteGo(t, p, rows, perRG, small) }, true},
		{"dictionary", func(p string) { parquettest.WriteGo(t, p, asDict(rows), perRG, small) }, false},
		{"dictionary-then-plain", func(p string) {
			parquettest.WriteGo(t, p, asDict(rows), perRG, small, parquet.DictionaryMaxBytes(2000))
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.write(filepath.Join(dir, "part-0.parquet"))
			st, err := file.New(dir)
			if err != nil {
				t.Fatal(err)
			}
			d := &datasets.Dataset{Store: st}
			files, err := d.Files(context.Background(), time.Time{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			eng, err := eval.NewEngine(cfg, nil, eval.WindowsBetween(day, day.AddDate(0, 0, 1), 24*time.Hour), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			ws := eng.NewWorkers(1, []string{files[0].Key})
			var mu sync.Mutex
			batches := 0
			_, err = d.Scan(context.Background(), files, datasets.ScanSpec{Columns: eng.Projection(), Workers: 1}, func(wi int, b *datasets.Batch) error {
				mu.Lock()
				defer mu.Unlock()
				batches++
				if rid := b.Col("request_id"); rid.DictRepeats != tc.repeats {
					return fmt.Errorf("request_id column: DictRepeats = %v, want %v (the test would not cover that path)", rid.DictRepeats, tc.repeats)
				}
				return ws.Batch(wi, b)
			})
			if err != nil {
				t.Fatal(err)
			}
			if batches != 2 {
				t.Fatalf("%d batches, want 2 row groups", batches)
			}
			res := ws.Result()
			if got := res.Dropped["duplicate_request_id"]; got != 2*dups {
				t.Errorf("duplicate_request_id = %d, want %d", got, 2*dups)
			}
			g := res.Groups[eval.GroupKey{Feature: "f", Class: "x", Window: day.Unix()}]
			if g == nil {
				t.Fatalf("no group; groups: %v", res.Groups)
			}
			if g.Rows != 2*n {
				t.Errorf("group rows = %d, want %d", g.Rows, 2*n)
			}
			if a := g.Metrics["agreement.category"]; a == nil || a.N != 2*n || a.K != 2*n {
				t.Errorf("agreement = %+v, want %d of %d (a retry was scored)", a, 2*n, 2*n)
			}
			if u := ws.Uses()[day.Unix()][files[0].Key]; u != (eval.FileUse{Used: 2 * n, DuplicateRequestID: 2 * dups}) {
				t.Errorf("the window's use of the file: %+v, want %d used, %d duplicates", u, 2*n, 2*dups)
			}

			// In 5-minute windows, each window's rows used and duplicates
			// are those of its timestamps (a retry carries its request's).
			cfg5, err := config.Parse("parity.yaml", []byte(strings.Replace(dupConfig, "window: 24h", "window: 5m", 1)))
			if err != nil {
				t.Fatal(err)
			}
			eng5, err := eval.NewEngine(cfg5, nil, eval.WindowsBetween(day, day.Add(time.Hour), 5*time.Minute), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			ws5 := eng5.NewWorkers(1, []string{files[0].Key})
			if _, err := d.Scan(context.Background(), files, datasets.ScanSpec{Columns: eng5.Projection(), Workers: 1}, func(wi int, b *datasets.Batch) error {
				mu.Lock()
				defer mu.Unlock()
				return ws5.Batch(wi, b)
			}); err != nil {
				t.Fatal(err)
			}
			want := map[int64]eval.FileUse{}
			for rg := range 2 {
				seen := map[string]bool{}
				for _, r := range rows[rg*(n+dups) : (rg+1)*(n+dups)] {
					w := r.TS.Truncate(5 * time.Minute).Unix()
					u := want[w]
					if seen[r.RequestID] {
						u.DuplicateRequestID++
					} else {
						u.Used++
					}
					seen[r.RequestID] = true
					want[w] = u
				}
			}
			got := map[int64]eval.FileUse{}
			for w, m := range ws5.Uses() {
				got[w] = m[files[0].Key]
			}
			if len(want) < 3 || !maps.Equal(got, want) {
				t.Errorf("uses by 5-minute window %v, want %v", got, want)
			}
		})
	}
}

func asDict(rows []dupRowPlain) []dupRowDict {
	out := make([]dupRowDict, len(rows))
	for i, r := range rows {
		out[i] = dupRowDict(r)
	}
	return out
}
