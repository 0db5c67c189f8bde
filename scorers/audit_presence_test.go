package scorers_test

import (
	"math/rand"
	"slices"
	"testing"

	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers"
)

// TestAuditCompleteOnPresenceCodes: AuditComplete asks for its columns
// PresenceOnly, so eval may hand it datasets.PresenceDict codes instead
// of the values; its output must be the same either way, on random
// columns with nulls and empty values.
func TestAuditCompleteOnPresenceCodes(t *testing.T) {
	if needs := (&scorers.AuditComplete{Columns: []string{"a", "b"}}).Needs(); !needs[0].PresenceOnly || !needs[1].PresenceOnly {
		t.Fatalf("AuditComplete.Needs = %+v, want PresenceOnly", needs)
	}
	r := rand.New(rand.NewSource(9))
	const rows = 400
	vals := []string{"", "x", "hash-1", "hash-2"}
	for trial := range 20 {
		full := &datasets.Batch{Rows: rows}
		pres := &datasets.Batch{Rows: rows}
		var names []string
		for k := range 3 {
			name := string(rune('a' + k))
			names = append(names, name)
			col := make([]*string, rows)
			for i := range col {
				if r.Intn(10) > trial%4 {
					v := vals[r.Intn(len(vals))]
					if trial%5 == 0 && v == "" {
						v = "y" // some trials without empty values
					}
					col[i] = &v
				}
			}
			f := strCol(name, col, trial%2 == 0)
			p := &datasets.Column{Name: name, Kind: datasets.KindString, Null: slices.Clone(f.Null), Dict: datasets.PresenceDict[:], Codes: make([]int32, rows)}
			for i := range rows {
				if !f.IsNull(i) && f.Dict[f.Codes[i]] != "" {
					p.Codes[i] = 1
				}
			}
			full.Cols, pres.Cols = append(full.Cols, f), append(pres.Cols, p)
		}
		score := func(b *datasets.Batch) []float64 {
			out := &scorers.Out{}
			out.Reset(rows)
			if err := (&scorers.AuditComplete{Columns: names}).Score(&scorers.Input{Rows: rows, Batch: b}, out); err != nil {
				t.Fatal(err)
			}
			return slices.Clone(out.Value[:rows])
		}
		want, got := score(full), score(pres)
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d: on presence codes %v\nwant %v", trial, got, want)
		}
		if !slices.Contains(want, 1) || !slices.Contains(want, 0) {
			t.Fatalf("trial %d: all rows alike (%v): the fixture proves little", trial, want)
		}
	}
}
