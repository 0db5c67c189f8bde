// Command example is a minimal external scorer: it reads parity's Arrow
// IPC stream on stdin and answers each batch on stdout with one float64
// column "value": the length ratio of the AI's text to legacy's
// (shorter / longer, in characters; 1 when both are empty, null when
// either is null). It is the runnable twin of the Python example in
// docs/scorers.md and what the external-scorer tests run.
//
//	type: external
//	command: [./example, --legacy, legacy_reply, --ai, ai_reply]
//
// With --lengths it answers kind per_system instead: columns legacy and
// ai with each system's text length.
//
// The flags --crash-after, --sleep, --wrong-schema and --short make it
// misbehave on purpose, to show (and test) how parity contains a broken
// scorer.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func main() {
	legacy := flag.String("legacy", "legacy", "input column with legacy's text")
	ai := flag.String("ai", "ai", "input column with the AI's text")
	crashAfter := flag.Int("crash-after", -1, "exit with status 3 on receiving batch number N+1 (after answering N)")
	sleep := flag.Duration("sleep", 0, "sleep this long before answering each batch")
	wrongSchema := flag.Bool("wrong-schema", false, "answer with a column named score instead of value")
	short := flag.Bool("short", false, "answer one row fewer than asked")
	lengths := flag.Bool("lengths", false, "answer columns legacy and ai with each text's length (for kind per_system)")
	flag.Parse()
	if err := run(os.Stdin, os.Stdout, *legacy, *ai, *crashAfter, *sleep, *wrongSchema, *short, *lengths); err != nil {
		fmt.Fprintln(os.Stderr, "example scorer:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer, legacyCol, aiCol string, crashAfter int, sleep time.Duration, wrongSchema, short, lengths bool) error {
	r, err := ipc.NewReader(in)
	if err != nil {
		return fmt.Errorf("reading the input schema: %w", err)
	}
	defer r.Release()
	li, ai := r.Schema().FieldIndices(legacyCol), r.Schema().FieldIndices(aiCol)
	if len(li) != 1 || len(ai) != 1 {
		return fmt.Errorf("input has no columns %q and %q (schema: %s)", legacyCol, aiCol, r.Schema())
	}
	name := "value"
	if wrongSchema {
		name = "score"
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: name, Type: arrow.PrimitiveTypes.Float64, Nullable: true}}, nil)
	if lengths {
		schema = arrow.NewSchema([]arrow.Field{{Name: "legacy", Type: arrow.PrimitiveTypes.Float64, Nullable: true}, {Name: "ai", Type: arrow.PrimitiveTypes.Float64, Nullable: true}}, nil)
	}
	// The answer stream's schema goes out with the first answer; every
	// Write reaches stdout at once (os.Stdout is unbuffered), so parity
	// gets each answer before this program blocks reading the next batch.
	w := ipc.NewWriter(out, ipc.WithSchema(schema))
	batches := 0
	for r.Next() {
		if batches == crashAfter {
			fmt.Fprintf(os.Stderr, "example scorer: crashing on purpose at batch %d\n", batches+1)
			os.Exit(3)
		}
		batches++
		time.Sleep(sleep)
		rec := r.RecordBatch()
		l, a := rec.Column(li[0]).(*array.String), rec.Column(ai[0]).(*array.String)
		n := int(rec.NumRows())
		if short {
			n--
		}
		var cols []arrow.Array
		if lengths {
			cols = []arrow.Array{textLengths(l, n), textLengths(a, n)}
		} else {
			b := array.NewFloat64Builder(memory.DefaultAllocator)
			for i := 0; i < n; i++ {
				if l.IsNull(i) || a.IsNull(i) {
					b.AppendNull()
					continue
				}
				b.Append(lengthRatio(l.Value(i), a.Value(i)))
			}
			cols = []arrow.Array{b.NewArray()}
			b.Release()
		}
		res := array.NewRecordBatch(schema, cols, int64(n))
		err := w.Write(res)
		res.Release()
		for _, c := range cols {
			c.Release()
		}
		if err != nil {
			return fmt.Errorf("writing the answer: %w", err)
		}
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("reading the input: %w", err)
	}
	return w.Close()
}

// textLengths is each text's length in characters (null stays null).
func textLengths(c *array.String, n int) arrow.Array {
	b := array.NewFloat64Builder(memory.DefaultAllocator)
	defer b.Release()
	for i := 0; i < n; i++ {
		if c.IsNull(i) {
			b.AppendNull()
		} else {
			b.Append(float64(utf8.RuneCountInString(c.Value(i))))
		}
	}
	return b.NewArray()
}

// lengthRatio is shorter / longer length in characters (1 for two empty
// texts): a crude "did the AI answer at the same length" score.
func lengthRatio(x, y string) float64 {
	a, b := utf8.RuneCountInString(x), utf8.RuneCountInString(y)
	if a == 0 && b == 0 {
		return 1
	}
	return float64(min(a, b)) / float64(max(a, b))
}
