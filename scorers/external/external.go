// Package external runs scorers written in any language as subprocesses
// that speak Arrow IPC (`type: external` in config).
//
// # Protocol
//
// parity starts `command` (argv, no shell) and writes one Arrow IPC
// stream to its stdin: the schema once, then one record batch per batch
// of rows to score, then the end-of-stream marker when it has no more
// work. The input columns are the scorer's `legacy`, `ai` and `label`
// columns (strings) and those listed in params.columns, in that order,
// all nullable; the schema metadata carries parity.scorer (the metric
// name) and parity.kind, and each record batch's custom metadata
// parity.batch, its number in the stream (1, 2, ...).
//
// For every input batch the program writes, on its stdout, one record
// batch of float64 columns with exactly as many rows — `value` for the
// kinds agreement, rate and score; `legacy` and `ai` for paired_score,
// paired_correct and per_system — as one Arrow IPC stream (schema before
// the first batch). Null means "not applicable to this row". It must
// answer each batch before reading the next one, and exit 0 at the end of
// its input. stderr is free for logs (its tail is quoted in errors).
//
// Because the program answers batch by batch, memory stays bounded on
// both sides whatever the window's size.
//
// # Processes
//
// One long-lived process serves one scan worker at a time: a worker
// takes an idle process (or starts one), sends a batch, reads the answer
// and puts the process back, so a run starts at most --workers processes
// and a Python interpreter pays its start-up once, not once per batch.
// A process idle for IdleTimeout has its stdin closed (end of stream)
// and exits.
//
// # Failures
//
// A crash, a non-zero exit, an answer with the wrong schema, the wrong
// number of rows or non-finite or (for pass/fail kinds) non-0/1 values,
// and no answer within `timeout` (per batch) are errors naming the scorer.
// The process is killed and discarded. External scorers are
// scorers.Isolated: eval marks the metric "error" for the window (never
// "pass") and every other scorer and feature carries on. After a timeout
// the scorer is disabled for the rest of the run, so a hung program costs
// one timeout, not one per batch.
//
// # Answers parity did not ask for
//
// An answer carries nothing but its rows, and parity reads the next
// message on stdout as the answer to the batch it has just sent. A
// program that writes an extra answer (a batch written twice) would have
// that stale answer taken for the next batch's, and every answer after
// it shifted by one, onto other classes and windows (the process serves
// several workers in turn). So an answer is only taken when nothing
// else was written:
//
//   - parity sends each batch with its number in the stream as the record
//     batch's custom metadata parity.batch; an answer that carries
//     parity.batch must carry that number. Echoing it is optional, so
//     scorers written before it existed keep working, and exact: an extra
//     answer is refused wherever it lands, however late it was written.
//   - after reading an answer, and again just before sending the next
//     batch (when a late extra answer has had the longest to arrive),
//     nothing may be waiting unread on stdout: the program answers a batch
//     and then waits for the next one, so any byte there is output it was
//     not asked for.
//   - when the input ends, the answer stream must end too: an
//     end-of-stream marker or EOF, nothing after the last answer.
//     Answers are counted exactly here: an extra answer that arrived
//     after both checks and was taken for the next batch's answer left
//     the stream one answer ahead, and that is found at a later batch or
//     at this end.
//
// Such a program wrote "an answer batch it was not asked for": the batch
// in hand is an error and the scorer is disabled for the rest of the run,
// as after a timeout, and more: answers read from it before may belong
// to other batches. Close reports it for that reason, so a caller that
// closes its scorers after a scan can mark every window of the scan.
// Parity sends a batch only after reading the previous answer, so a
// program cannot answer ahead; one that holds its answer back
// (unflushed output) gets no next batch and times out.
package external

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers"
)

func init() { scorers.Register("external", New) }

// IdleTimeout is how long an idle scorer process is kept for the next
// batch before it is told to finish.
var IdleTimeout = 10 * time.Second

// kinds are the params.kind values and the output columns each needs.
var kinds = map[string]scorers.Kind{
	"score": scorers.Score, "agreement": scorers.Agreement, "rate": scorers.Rate,
	"paired_score": scorers.PairedScore, "paired_correct": scorers.PairedCorrect, "per_system": scorers.PerSystem,
}

var colKinds = map[string]datasets.Kind{
	"string": datasets.KindString, "double": datasets.KindFloat64, "int64": datasets.KindInt64,
	"bool": datasets.KindBool, "timestamp": datasets.KindTimestamp,
}

// Scorer is a configured external scorer.
type Scorer struct {
	name    string
	kind    scorers.Kind
	needs   []scorers.Need
	label   string // column read through Input.Label (labels dataset first)
	argv    []string
	timeout time.Duration
	schema  *arrow.Schema
	outCols []string

	mu      sync.Mutex
	idle    []*proc
	broken  error // set after a timeout or an unasked answer: later batches fail fast
	unasked error // the first answer not asked for: earlier answers are suspect too
	started atomic.Int64
}

// thresholded is a score-kind external scorer with a pass threshold.
type thresholded struct {
	*Scorer
	threshold, minPassRate float64
}

func (s *thresholded) Threshold() (float64, float64) { return s.threshold, s.minPassRate }

// New builds an external scorer from its definition. It starts nothing:
// processes start on the first batch, so config validation can build it.
func New(def config.ScorerDef, _ *config.Feature) (scorers.Scorer, error) {
	p := scorers.NewParams(def)
	if len(def.Command) == 0 || strings.TrimSpace(def.Command[0]) == "" {
		p.Fail("command", "required: the program and its arguments, e.g. [python3, score.py]")
	}
	if def.Timeout < 0 {
		p.Fail("timeout", "must be positive")
	}
	kindName := p.OneOf("kind", "score", "agreement", "rate", "paired_score", "paired_correct", "per_system")
	s := &Scorer{name: def.Name, kind: kinds[kindName], argv: def.Command, timeout: def.Timeout.D(), label: def.Label}
	if s.timeout <= 0 {
		s.timeout = 5 * time.Minute
	}
	add := func(col string, k datasets.Kind, optional bool) {
		for _, n := range s.needs {
			if n.Column == col {
				return
			}
		}
		s.needs = append(s.needs, scorers.Need{Column: col, Kind: k, Optional: optional})
	}
	if def.Legacy != "" {
		add(def.Legacy, datasets.KindString, false)
	}
	if def.AI != "" {
		add(def.AI, datasets.KindString, false)
	}
	if def.Label != "" {
		add(def.Label, datasets.KindString, true)
	}
	if cols := p.String("columns", ""); cols != "" {
		for _, c := range strings.Split(cols, ",") {
			name, kn, _ := strings.Cut(strings.TrimSpace(c), ":")
			k := datasets.KindString
			if kn != "" {
				var ok bool
				if k, ok = colKinds[kn]; !ok {
					p.Fail("params.columns", "column %q: kind %q: want string, double, int64, bool or timestamp", name, kn)
				}
			}
			if name == "" {
				p.Fail("params.columns", "empty column name in %q (want e.g. \"input_tokens:int64, ai_confidence:double\")", cols)
				continue
			}
			add(name, k, false)
		}
	}
	if len(s.needs) == 0 {
		p.Fail("ai", "an external scorer needs input: set legacy, ai, label or params.columns")
	}
	switch s.kind {
	case scorers.Score:
		if def.Threshold != 0 && def.MinPassRate == 0 && def.Threshold < 0 {
			p.Fail("threshold", "must be >= 0")
		}
		if def.MinPassRate > 0 && def.Threshold == 0 {
			p.Fail("threshold", "required with min_pass_rate for kind score: the per-row value a row needs to pass")
		}
	default:
		if def.Threshold != 0 {
			p.Fail("threshold", "only kind score has a per-row threshold")
		}
	}
	if err := p.Done(); err != nil {
		return nil, err
	}
	fields := make([]arrow.Field, len(s.needs))
	for i, n := range s.needs {
		fields[i] = arrow.Field{Name: n.Column, Type: arrowType(n.Kind), Nullable: true}
	}
	meta := arrow.NewMetadata([]string{"parity.scorer", "parity.kind"}, []string{s.name, kindName})
	s.schema = arrow.NewSchema(fields, &meta)
	switch s.kind {
	case scorers.Score, scorers.Agreement, scorers.Rate:
		s.outCols = []string{"value"}
	default:
		s.outCols = []string{"legacy", "ai"}
	}
	if s.kind == scorers.Score && def.Threshold > 0 {
		return &thresholded{Scorer: s, threshold: def.Threshold, minPassRate: def.MinPassRate}, nil
	}
	return s, nil
}

func arrowType(k datasets.Kind) arrow.DataType {
	switch k {
	case datasets.KindFloat64:
		return arrow.PrimitiveTypes.Float64
	case datasets.KindInt64:
		return arrow.PrimitiveTypes.Int64
	case datasets.KindBool:
		return arrow.FixedWidthTypes.Boolean
	case datasets.KindTimestamp:
		return &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}
	}
	return arrow.BinaryTypes.String
}

func (s *Scorer) Name() string          { return s.name }
func (s *Scorer) Kind() scorers.Kind    { return s.kind }
func (s *Scorer) Needs() []scorers.Need { return s.needs }

// Isolated marks external scorers' failures as their own metric's error.
func (s *Scorer) Isolated() {}

// Processes is how many processes the scorer has started so far.
func (s *Scorer) Processes() int64 { return s.started.Load() }

// Schema is the input schema sent to the program.
func (s *Scorer) Schema() *arrow.Schema { return s.schema }

func (s *Scorer) errorf(format string, a ...any) error {
	return fmt.Errorf("external scorer %q: %s", s.name, fmt.Sprintf(format, a...))
}

// Score sends the batch to a process and copies its answer into out.
func (s *Scorer) Score(in *scorers.Input, out *scorers.Out) error {
	s.mu.Lock()
	broken := s.broken
	s.mu.Unlock()
	if broken != nil {
		return s.errorf("disabled for the rest of this run after an earlier error (%v)", broken)
	}
	for _, n := range s.needs {
		if c := in.Col(n.Column); c != nil && c.Kind != n.Kind {
			// The scan delivers a column once, as the first scorer asked.
			return s.errorf("column %q arrives as %s (another scorer reads it so), this scorer asks for %s: declare it as %s in params.columns", n.Column, c.Kind, n.Kind, c.Kind)
		}
	}
	rec := s.record(in)
	defer rec.Release()
	p, err := s.get()
	if err != nil {
		return err
	}
	res, err := p.roundTrip(rec, s.timeout)
	if err != nil {
		p.kill()
		if u := (*unaskedError)(nil); errors.As(err, &u) {
			return s.unaskedAnswer(u)
		}
		if errors.Is(err, errTimeout) {
			err = s.errorf("no answer within %s for a batch of %d rows (process killed; the scorer is disabled for the rest of the run)", s.timeout, in.Rows)
			s.mu.Lock()
			s.broken = err
			s.mu.Unlock()
			return err
		}
		return s.errorf("%v before answering a batch of %d rows%s", p.exitReason(err), in.Rows, p.stderrTail())
	}
	if err := s.copyOut(res, in.Rows, out); err != nil {
		p.kill()
		return err
	}
	s.put(p)
	return nil
}

// record converts the needed columns of the batch into an Arrow record.
func (s *Scorer) record(in *scorers.Input) arrow.RecordBatch {
	mem := memory.DefaultAllocator
	cols := make([]arrow.Array, len(s.needs))
	for j, n := range s.needs {
		c := in.Col(n.Column)
		null := func(i int) bool { return c == nil || c.IsNull(i) }
		switch n.Kind {
		case datasets.KindString:
			b := array.NewStringBuilder(mem)
			for i := 0; i < in.Rows; i++ {
				if n.Column == s.label {
					// Labels come from the labels dataset first, then the log.
					if v, ok := in.Label(n.Column, i); ok {
						b.Append(v)
					} else {
						b.AppendNull()
					}
					continue
				}
				if null(i) {
					b.AppendNull()
				} else {
					b.Append(c.Dict[c.Codes[i]])
				}
			}
			cols[j] = b.NewArray()
			b.Release()
		case datasets.KindFloat64:
			b := array.NewFloat64Builder(mem)
			for i := 0; i < in.Rows; i++ {
				if null(i) {
					b.AppendNull()
				} else {
					b.Append(c.Float[i])
				}
			}
			cols[j] = b.NewArray()
			b.Release()
		case datasets.KindInt64, datasets.KindTimestamp:
			var b interface {
				array.Builder
			}
			if n.Kind == datasets.KindInt64 {
				ib := array.NewInt64Builder(mem)
				for i := 0; i < in.Rows; i++ {
					if null(i) {
						ib.AppendNull()
					} else {
						ib.Append(c.Int[i])
					}
				}
				b = ib
			} else {
				tb := array.NewTimestampBuilder(mem, arrowType(n.Kind).(*arrow.TimestampType))
				for i := 0; i < in.Rows; i++ {
					if null(i) {
						tb.AppendNull()
					} else {
						tb.Append(arrow.Timestamp(c.Int[i]))
					}
				}
				b = tb
			}
			cols[j] = b.NewArray()
			b.Release()
		case datasets.KindBool:
			b := array.NewBooleanBuilder(mem)
			for i := 0; i < in.Rows; i++ {
				if null(i) {
					b.AppendNull()
				} else {
					b.Append(c.Bool[i])
				}
			}
			cols[j] = b.NewArray()
			b.Release()
		}
	}
	rec := array.NewRecordBatch(s.schema, cols, int64(in.Rows))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// copyOut validates the answer and copies it into out.
func (s *Scorer) copyOut(res arrow.RecordBatch, rows int, out *scorers.Out) error {
	if int(res.NumRows()) != rows {
		return s.errorf("answered %d rows for a batch of %d (one output row per input row, in order)", res.NumRows(), rows)
	}
	sch := res.Schema()
	for _, name := range s.outCols {
		idx := sch.FieldIndices(name)
		if len(idx) != 1 {
			return s.errorf("output has no float64 column %q (kind %s wants %s; got schema %s)", name, s.kind, strings.Join(s.outCols, " and "), describe(sch))
		}
		col, ok := res.Column(idx[0]).(*array.Float64)
		if !ok {
			return s.errorf("output column %q is %s, want float64", name, res.Column(idx[0]).DataType())
		}
		dst := out.Value
		switch name {
		case "legacy":
			dst = out.Legacy
		case "ai":
			dst = out.AI
		}
		binary := s.kind == scorers.Agreement || s.kind == scorers.Rate || s.kind == scorers.PairedCorrect
		for i := 0; i < rows; i++ {
			if col.IsNull(i) {
				dst[i] = math.NaN()
				continue
			}
			v := col.Value(i)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return s.errorf("output %s[%d] is %v: values must be finite (null for not applicable)", name, i, v)
			}
			if binary && v != 0 && v != 1 {
				return s.errorf("output %s[%d] is %v: kind %s wants 1 or 0 per row", name, i, v, s.kind)
			}
			dst[i] = v
		}
	}
	return nil
}

// unaskedError is output the program wrote without being asked for it.
type unaskedError struct{ what string }

func (e *unaskedError) Error() string { return e.what }

// unaskedAnswer disables the scorer: a program that wrote one answer
// too many may have done so before, unseen, and its later answers
// cannot be trusted to belong to their batches either.
func (s *Scorer) unaskedAnswer(u *unaskedError) error {
	err := s.errorf("wrote an answer batch it was not asked for (%v); process killed, and the scorer is disabled for the rest of the run: answers read from it may belong to other batches (one answer per batch; logs go to stderr)", u)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broken = err
	if s.unasked == nil {
		s.unasked = err
	}
	return err
}

func describe(s *arrow.Schema) string {
	var parts []string
	for _, f := range s.Fields() {
		parts = append(parts, f.Name+" "+f.Type.String())
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// get takes an idle process or starts one.
func (s *Scorer) get() (*proc, error) {
	s.mu.Lock()
	if n := len(s.idle); n > 0 {
		p := s.idle[n-1]
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		p.timer.Stop()
		return p, nil
	}
	s.mu.Unlock()
	p, err := start(s.argv, s.schema)
	if err != nil {
		return nil, s.errorf("%v", err)
	}
	s.started.Add(1)
	return p, nil
}

// put returns a healthy process to the pool; after IdleTimeout unused
// it is told to finish.
func (s *Scorer) put(p *proc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idle = append(s.idle, p)
	p.timer = time.AfterFunc(IdleTimeout, func() {
		s.mu.Lock()
		for i, q := range s.idle {
			if q == p {
				s.idle = append(s.idle[:i], s.idle[i+1:]...)
				s.mu.Unlock()
				_ = s.retire(p) // an unasked answer disables the scorer; Close reports it
				return
			}
		}
		s.mu.Unlock() // taken again meanwhile
	})
}

// Close ends every idle process (end of stream, then wait) and reports
// an answer any process wrote without being asked, now or earlier in the
// run: answers read from that program may belong to other batches, in
// any window. Processes end on their own after IdleTimeout; Close is for
// callers that know the run is over.
func (s *Scorer) Close() error {
	s.mu.Lock()
	idle := s.idle
	s.idle = nil
	s.mu.Unlock()
	var errs []error
	for _, p := range idle {
		p.timer.Stop()
		if err := s.retire(p); err != nil {
			errs = append(errs, err)
		}
	}
	s.mu.Lock()
	unasked := s.unasked
	s.mu.Unlock()
	if unasked != nil && !slices.Contains(errs, unasked) {
		errs = append([]error{unasked}, errs...)
	}
	return errors.Join(errs...)
}

// Unasked is the error of an answer batch the scorer was not asked for,
// found at any time in the run (nil if none): every answer read from it
// may have been taken for another batch's, in any window.
func (s *Scorer) Unasked() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unasked
}

// retire ends an idle process and checks the end of its answer stream.
func (s *Scorer) retire(p *proc) error {
	err := p.finish()
	if u := (*unaskedError)(nil); errors.As(err, &u) {
		return s.unaskedAnswer(u)
	}
	if err != nil {
		return s.errorf("%v%s", err, p.stderrTail())
	}
	return nil
}

var errTimeout = errors.New("timeout")

// proc is one running scorer process.
type proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *os.File // our own pipe: see start
	w      *ipc.Writer
	r      *ipc.Reader
	stderr *tail
	done   chan struct{} // closed when the process has exited
	err    error         // Wait's error, valid after done
	timer  *time.Timer
	sent   int // batches sent: the number of the last one
}

func start(argv []string, schema *arrow.Schema) (*proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	ownProcessGroup(cmd)
	// A process that left the group (setsid) could still hold stderr
	// open after the scorer is killed: Wait gives up on it after this.
	cmd.WaitDelay = 2 * time.Second
	p := &proc{cmd: cmd, stderr: &tail{max: 4096}, done: make(chan struct{})}
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	// A pipe of our own for stdout, not StdoutPipe: Wait closes
	// StdoutPipe's reader as soon as the process exits, which could race
	// with reading its last answer.
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = pw
	cmd.Stderr = p.stderr
	err = cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		p.stdin.Close()
		return nil, fmt.Errorf("cannot start %q: %w", strings.Join(argv, " "), err)
	}
	p.stdout = pr
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	p.w = ipc.NewWriter(p.stdin, ipc.WithSchema(schema))
	return p, nil
}

// roundTrip sends one batch and reads one answer within timeout.
func (p *proc) roundTrip(rec arrow.RecordBatch, timeout time.Duration) (arrow.RecordBatch, error) {
	p.sent++
	n := strconv.Itoa(p.sent)
	// Checked at the last moment, after the process sat in the pool: an
	// extra answer written after the last one has had the longest to
	// arrive.
	if p.sent > 1 && unread(p.stdout) {
		return nil, &unaskedError{"output was waiting on its stdout before batch " + n + " was sent"}
	}
	rec = array.NewRecordBatchWithMetadata(rec.Schema(), rec.Columns(), rec.NumRows(), arrow.NewMetadata([]string{"parity.batch"}, []string{n}))
	type result struct {
		rec arrow.RecordBatch
		err error
	}
	ch := make(chan result, 1)
	go func() {
		err := p.w.Write(rec)
		rec.Release()
		if err != nil {
			ch <- result{err: fmt.Errorf("writing the batch: %w", err)}
			return
		}
		if p.r == nil {
			// The program writes its schema with its first answer.
			r, err := ipc.NewReader(p.stdout)
			if err != nil {
				ch <- result{err: fmt.Errorf("reading the answer's schema: %w", err)}
				return
			}
			p.r = r
		}
		if !p.r.Next() {
			err := p.r.Err()
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			ch <- result{err: fmt.Errorf("reading the answer: %w", err)}
			return
		}
		res := p.r.RecordBatch()
		if m, ok := res.(arrow.RecordBatchWithMetadata); ok {
			if got, ok := m.Metadata().GetValue("parity.batch"); ok && got != n {
				ch <- result{err: &unaskedError{fmt.Sprintf("it answered batch %s when batch %s was asked (parity.batch)", got, n)}}
				return
			}
		}
		// Output after the answer, before the next batch is sent: an
		// extra answer, caught while the answer it may have displaced
		// is still in hand.
		if unread(p.stdout) {
			ch <- result{err: &unaskedError{"more output followed its answer to batch " + n}}
			return
		}
		ch <- result{rec: res}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.rec, r.err
	case <-t.C:
		return nil, errTimeout
	}
}

// exitReason explains a failed round trip: the exit status when the
// process has died (it usually has: a closed pipe means it exited),
// else the I/O error.
func (p *proc) exitReason(ioErr error) string {
	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
		return ioErr.Error()
	}
	if p.err != nil {
		return fmt.Sprintf("process failed (%v)", p.err)
	}
	return fmt.Sprintf("process exited (status 0) (%v)", ioErr)
}

func (p *proc) stderrTail() string {
	if s := strings.TrimSpace(p.stderr.String()); s != "" {
		return "; stderr: " + s
	}
	return ""
}

// kill ends the process at once.
func (p *proc) kill() {
	_ = killGroup(p.cmd)
	<-p.done
	p.stdout.Close()
}

// finish closes the stream (end of input), checks that the answers end
// there too and waits for a clean exit, killing the process when it does
// not exit within 5 s.
func (p *proc) finish() error {
	_ = p.w.Close()
	_ = p.stdin.Close()
	drained := make(chan error, 1)
	go func() { drained <- p.drain() }()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	var err error
	select {
	case err = <-drained:
		if err != nil {
			p.kill()
			break
		}
		select {
		case <-p.done:
		case <-deadline.C:
			p.kill()
		}
	case <-deadline.C:
		p.kill() // closes stdout: drain returns
		<-drained
	}
	if p.r != nil {
		p.r.Release()
	}
	p.stdout.Close()
	if err != nil {
		return err
	}
	return p.err
}

// drain reads what the process writes once its input has ended: after
// its last answer, an end-of-stream marker or EOF and nothing more.
func (p *proc) drain() error {
	if p.r == nil {
		return nil // never answered (pooled processes all have)
	}
	if p.r.Next() {
		return &unaskedError{"an answer batch after its input ended"}
	}
	if err := p.r.Err(); err != nil {
		return fmt.Errorf("reading the end of its answer stream: %w", err)
	}
	if n, _ := io.Copy(io.Discard, p.stdout); n > 0 {
		return &unaskedError{fmt.Sprintf("%d bytes after the end of its answer stream", n)}
	}
	return nil
}

// tail keeps the last max bytes written (a process's stderr).
type tail struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(b)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
