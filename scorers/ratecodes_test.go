package scorers_test

import (
	"math"
	"math/rand"
	"slices"
	"testing"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers"
)

// TestRateCodesMatchScore holds every built-in count scorer's RateCodes
// (what eval counts for built-ins) to its Score (the contract): code 0
// where Score writes 0, 1 where it writes 1, 2 or 3 where it writes NaN,
// on random columns with and without nulls, empty strings, NaN and ±Inf
// values, and with the columns absent.
func TestRateCodesMatchScore(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	num := &config.Field{Name: "amount", Legacy: "l_num", AI: "a_num", Comparator: "numeric", AbsTolerance: 0.5}
	exact := &config.Field{Name: "cat", Legacy: "l_cat", AI: "a_cat", Comparator: "exact"}
	ci := &config.Field{Name: "ci", Legacy: "l_ci", AI: "a_ci", Comparator: "case_insensitive"}
	fa, fb, fc := scorers.NewFieldAgreement(num), scorers.NewFieldAgreement(exact), scorers.NewFieldAgreement(ci)
	cases := []scorers.Scorer{
		fa, fb, fc,
		&scorers.CriticalAgreement{},
		&scorers.CriticalAgreement{Fields: []*scorers.FieldAgreement{fb}},
		&scorers.CriticalAgreement{Fields: []*scorers.FieldAgreement{fa, fb}},
		&scorers.CriticalAgreement{Fields: []*scorers.FieldAgreement{fa, fb, fc}},
		&scorers.BoolRate{Metric: "err", Column: "err"},
		&scorers.BoolRate{Metric: "err_null", Column: "err_null"},
		&scorers.BoolRate{Metric: "absent", Column: "absent"},
		&scorers.ValueRate{Metric: "share", Column: "served_by", Value: "ai"},
		&scorers.ValueRate{Metric: "share_null", Column: "served_null", Value: "ai"},
		&scorers.ValueRate{Metric: "absent", Column: "absent", Value: "ai"},
		&scorers.AuditComplete{Columns: []string{"served_by", "served_null", "conf"}},
		&scorers.AuditComplete{Columns: []string{"served_by", "absent"}},
		// A column the decoder marked NoEmpty is not read for empty
		// strings; with nulls, and beside one that is.
		&scorers.AuditComplete{Columns: []string{"full", "conf"}},
		&scorers.AuditComplete{Columns: []string{"full", "served_null"}},
		// A confidence excused where the AI errored (a flag with nulls too).
		&scorers.AuditComplete{Columns: []string{"full", "conf"}, NoneOnError: "conf", ErrorColumn: "err"},
		&scorers.AuditComplete{Columns: []string{"served_by", "conf"}, NoneOnError: "conf", ErrorColumn: "err_null"},
		&scorers.OverBound{Metric: "over", Column: "lat", Bound: 500},
		&scorers.OverBound{Metric: "over_null", Column: "lat_null", Bound: 500},
		&scorers.OverBound{Metric: "absent", Column: "absent", Bound: 500},
	}
	for _, n := range []int{1, 7, 1000} {
		pick := func(vals ...string) []*string {
			out := make([]*string, n)
			for i := range out {
				if v := vals[r.Intn(len(vals))]; v != "<null>" {
					out[i] = &v
				}
			}
			return out
		}
		floats := func(nulls bool) *datasets.Column {
			c := &datasets.Column{Kind: datasets.KindFloat64, Float: make([]float64, n)}
			if nulls {
				c.Null = make([]bool, n)
			}
			for i := range c.Float {
				switch r.Intn(10) {
				case 0:
					c.Float[i] = math.NaN()
				case 1:
					c.Float[i] = math.Inf(2*r.Intn(2) - 1)
				case 2:
					c.Float[i] = 500
				default:
					c.Float[i] = r.Float64() * 1000
				}
				if nulls && r.Intn(4) == 0 {
					c.Null[i] = true
				}
			}
			return c
		}
		bools := func(nulls bool) *datasets.Column {
			c := &datasets.Column{Kind: datasets.KindBool, Bool: make([]bool, n)}
			if nulls {
				c.Null = make([]bool, n)
			}
			for i := range c.Bool {
				c.Bool[i] = r.Intn(2) == 0
				if nulls && r.Intn(4) == 0 {
					c.Null[i] = true
				}
			}
			return c
		}
		named := func(name string, c *datasets.Column) *datasets.Column { c.Name = name; return c }
		noEmpty := func(c *datasets.Column) *datasets.Column {
			if slices.Contains(c.Dict, "") {
				t.Fatalf("%s: Dict %q holds an empty string: NoEmpty would be wrong", c.Name, c.Dict)
			}
			c.NoEmpty = true
			return c
		}
		served := strCol("served_by", pick("ai", "AI", "legacy", ""), false)
		served.Null = nil // a column without nulls
		b := &datasets.Batch{Rows: n, Cols: []*datasets.Column{
			strCol("l_num", pick("<null>", "12.5", "12.9", "13.5", "x", "NaN"), false),
			strCol("a_num", pick("<null>", "12.5", "12.9", "13.5", "x", "NaN"), true),
			strCol("l_cat", pick("<null>", "a", "b", "c"), false),
			strCol("a_cat", pick("<null>", "a", "b", "c"), false),
			strCol("l_ci", pick("<null>", "Acme", "ACME", "bolt"), true),
			strCol("a_ci", pick("<null>", "acme", "Bolt"), true),
			served,
			strCol("served_null", pick("<null>", "ai", "legacy", ""), false),
			noEmpty(strCol("full", pick("<null>", "req-1", "req-2", "req-3"), true)),
			named("err", bools(false)),
			named("err_null", bools(true)),
			named("lat", floats(false)),
			named("lat_null", floats(true)),
			named("conf", floats(true)),
		}}
		for _, s := range cases {
			rc, ok := s.(scorers.RateCoder)
			if !ok {
				t.Fatalf("%s (%T) is not a RateCoder", s.Name(), s)
			}
			in := &scorers.Input{Rows: n, Batch: b}
			out := scorers.NewOut(n)
			if err := s.Score(in, out); err != nil {
				t.Fatal(err)
			}
			buf := make([]uint8, n+3)
			for i := range buf {
				buf[i] = 0xa5 // not a code: every row must be written
			}
			// A fresh Input: the codes of FieldAgreement are shared
			// within one, and RateCodes must not rely on Score's.
			codes := rc.RateCodes(&scorers.Input{Rows: n, Batch: b}, buf)
			if len(codes) != n {
				t.Fatalf("%s: %d codes for %d rows", s.Name(), len(codes), n)
			}
			var seen [3]int // rows of Value 0, 1, NaN
			for i, c := range codes {
				want := out.Value[i]
				var got float64
				switch c {
				case 0, 1:
					got = float64(c)
					seen[c]++
				case 2, 3:
					got = math.NaN()
					seen[2]++
				default:
					t.Fatalf("%s row %d: code %d", s.Name(), i, c)
				}
				if got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
					t.Fatalf("%s (n=%d) row %d: code %d, Score wrote %v", s.Name(), n, i, c, want)
				}
			}
			if distinct := b2i(seen[0] > 0) + b2i(seen[1] > 0) + b2i(seen[2] > 0); n == 1000 && allPresent(b, s) && distinct < 2 {
				t.Errorf("%s: outcomes %v over %d rows: the case proves little", s.Name(), seen, n)
			}
		}
	}
}

// TestBuiltinCountScorersAreRateCoders: eval counts every built-in
// Agreement and Rate scorer from its codes; one without RateCodes would
// silently take the slower float path.
func TestBuiltinCountScorersAreRateCoders(t *testing.T) {
	f := &config.Feature{Name: "f", Fields: []config.Field{
		{Name: "cat", Legacy: "l", AI: "a", Label: "label", Critical: true, Comparator: "exact"},
	}}
	for _, s := range scorers.Builtins(f, &config.Columns{}) {
		if k := s.Kind(); k == scorers.Agreement || k == scorers.Rate {
			if _, ok := s.(scorers.RateCoder); !ok {
				t.Errorf("%s (%T) has no RateCodes", s.Name(), s)
			}
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// allPresent: every column s needs is in b (some cases have one absent,
// and then a constant outcome).
func allPresent(b *datasets.Batch, s scorers.Scorer) bool {
	for _, need := range s.Needs() {
		if b.Col(need.Column) == nil {
			return false
		}
	}
	return len(s.Needs()) > 0
}

// BenchmarkAuditNoEmpty: the audit's completeness codes over a batch's
// request ids (a DictRepeats column, one Dict entry per row, as PLAIN
// pages decode) without and with the decoder's NoEmpty mark.
func BenchmarkAuditNoEmpty(b *testing.B) {
	const n = 43 << 10
	ids := make([]*string, n)
	for i := range ids {
		s := "req-" + string(rune('a'+i%26)) + "-" + string(rune('a'+i/26%26))
		ids[i] = &s
	}
	for _, mark := range []bool{false, true} {
		c := strCol("request_id", ids, true)
		c.Null = nil
		c.NoEmpty = mark
		in := &scorers.Input{Rows: n, Batch: &datasets.Batch{Rows: n, Cols: []*datasets.Column{c}}}
		s := &scorers.AuditComplete{Columns: []string{"request_id"}}
		buf := make([]uint8, n)
		name := "unmarked"
		if mark {
			name = "NoEmpty"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				s.RateCodes(in, buf)
			}
		})
	}
}
