package scorers_test

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/parity-eval/parity/scorers"
	"github.com/parity-eval/parity/scorers/scorertest"
)

// replyRows makes n pairs of ~60-word replies sharing most words, with
// each distinct text appearing once (no dictionary reuse to lean on).
func replyRows(n int) []scorertest.Row {
	r := rand.New(rand.NewSource(1))
	words := strings.Fields("thank you for contacting us about your order we have issued a refund to the original payment method please allow three to five business days for it to appear on your statement if you have any further questions reply to this email and our team will help")
	text := func() string {
		out := make([]string, 60)
		for i := range out {
			out[i] = words[r.Intn(len(words))]
		}
		return strings.Join(out, " ")
	}
	rows := make([]scorertest.Row, n)
	for i := range rows {
		rows[i] = scorertest.Row{"l": text(), "a": text() + fmt.Sprint(i)}
	}
	return rows
}

// Per-batch cost of the text similarity scorers on 1000 rows of ~60-word
// (~330-character) replies: the figures quoted in docs/scorers.md.
func BenchmarkTextScorers(b *testing.B) {
	rows := replyRows(1000)
	for _, typ := range []string{"token_f1", "edit_similarity", "normalized_equal", "jaccard"} {
		b.Run(typ, func(b *testing.B) {
			kit, err := scorertest.Load(fmt.Sprintf("name: s\ntype: %s\nlegacy: l\nai: a", typ))
			if err != nil {
				b.Fatal(err)
			}
			in, err := scorertest.Input(kit.Scorer.Needs(), rows)
			if err != nil {
				b.Fatal(err)
			}
			out := scorers.NewOut(len(rows))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				out.Reset(len(rows))
				if err := kit.Scorer.Score(in, out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(rows)), "ns/row")
		})
	}
}
