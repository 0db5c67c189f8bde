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
// Each answer echoes its batch's parity.batch metadata, so parity can
// tell an answer to an earlier batch from the one it waits for.
//
// The flags --crash-after, --sleep, --wrong-schema, --short, --twice,
// --late, --extra-at-end and --no-echo make it misbehave on purpose, to
// show (and test) how parity contains a broken scorer.
package main

import (
	"bufio"
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

// options are the command's flags.
type options struct {
	legacy, ai  string
	crashAfter  int
	sleep, late time.Duration
	wrongSchema bool
	short       bool
	lengths     bool
	twice       bool
	extraAtEnd  bool
	noEcho      bool
}

func main() {
	var o options
	flag.StringVar(&o.legacy, "legacy", "legacy", "input column with legacy's text")
	flag.StringVar(&o.ai, "ai", "ai", "input column with the AI's text")
	flag.IntVar(&o.crashAfter, "crash-after", -1, "exit with status 3 on receiving batch number N+1 (after answering N)")
	flag.DurationVar(&o.sleep, "sleep", 0, "sleep this long before answering each batch")
	flag.BoolVar(&o.wrongSchema, "wrong-schema", false, "answer with a column named score instead of value")
	flag.BoolVar(&o.short, "short", false, "answer one row fewer than asked")
	flag.BoolVar(&o.lengths, "lengths", false, "answer columns legacy and ai with each text's length (for kind per_system)")
	flag.BoolVar(&o.twice, "twice", false, "write every answer twice: the second copy is an answer parity did not ask for")
	flag.DurationVar(&o.late, "late", 0, "with --twice, write the second copy this long after the first (else both go out in one write)")
	flag.BoolVar(&o.extraAtEnd, "extra-at-end", false, "write the last answer once more after the input has ended")
	flag.BoolVar(&o.noEcho, "no-echo", false, "do not echo parity.batch (as scorers written before it existed)")
	flag.Parse()
	if err := run(os.Stdin, os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "example scorer:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer, o options) error {
	r, err := ipc.NewReader(in)
	if err != nil {
		return fmt.Errorf("reading the input schema: %w", err)
	}
	defer r.Release()
	li, ai := r.Schema().FieldIndices(o.legacy), r.Schema().FieldIndices(o.ai)
	if len(li) != 1 || len(ai) != 1 {
		return fmt.Errorf("input has no columns %q and %q (schema: %s)", o.legacy, o.ai, r.Schema())
	}
	name := "value"
	if o.wrongSchema {
		name = "score"
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: name, Type: arrow.PrimitiveTypes.Float64, Nullable: true}}, nil)
	if o.lengths {
		schema = arrow.NewSchema([]arrow.Field{{Name: "legacy", Type: arrow.PrimitiveTypes.Float64, Nullable: true}, {Name: "ai", Type: arrow.PrimitiveTypes.Float64, Nullable: true}}, nil)
	}
	// The answer stream's schema goes out with the first answer. Each
	// answer is flushed before this program blocks reading the next
	// batch, in one write (both copies with --twice) as Python's buffered
	// stdout flushed once per batch does for answers that fit its buffer.
	buf := bufio.NewWriterSize(out, 1<<20)
	w := ipc.NewWriter(buf, ipc.WithSchema(schema))
	send := func(rec arrow.RecordBatch) error {
		if err := w.Write(rec); err != nil {
			return fmt.Errorf("writing the answer: %w", err)
		}
		return nil
	}
	var last arrow.RecordBatch
	defer func() {
		if last != nil {
			last.Release()
		}
	}()
	batches := 0
	for r.Next() {
		if batches == o.crashAfter {
			fmt.Fprintf(os.Stderr, "example scorer: crashing on purpose at batch %d\n", batches+1)
			os.Exit(3)
		}
		batches++
		time.Sleep(o.sleep)
		rec := r.RecordBatch()
		l, a := rec.Column(li[0]).(*array.String), rec.Column(ai[0]).(*array.String)
		n := int(rec.NumRows())
		if o.short {
			n--
		}
		var cols []arrow.Array
		if o.lengths {
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
		res := array.NewRecordBatchWithMetadata(schema, cols, int64(n), echo(rec, o.noEcho))
		for _, c := range cols {
			c.Release()
		}
		if last != nil {
			last.Release()
		}
		last = res
		if err := send(res); err != nil {
			return err
		}
		if o.twice {
			if o.late > 0 {
				if err := buf.Flush(); err != nil {
					return err
				}
				time.Sleep(o.late)
			}
			if err := send(res); err != nil {
				return err
			}
		}
		if err := buf.Flush(); err != nil {
			return err
		}
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("reading the input: %w", err)
	}
	if o.extraAtEnd && last != nil {
		if err := send(last); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	return buf.Flush()
}

// echo is the metadata of the answer to rec: rec's parity.batch, the
// batch's number in this stream, which parity checks on the answer.
func echo(rec arrow.RecordBatch, off bool) arrow.Metadata {
	if m, ok := rec.(arrow.RecordBatchWithMetadata); ok && !off {
		if v, ok := m.Metadata().GetValue("parity.batch"); ok {
			return arrow.NewMetadata([]string{"parity.batch"}, []string{v})
		}
	}
	return arrow.Metadata{}
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
