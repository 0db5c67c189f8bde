package scorers

import (
	"fmt"
	"math"
)

// Out receives per-row scores; slices are pre-sized to Input.Rows and
// filled with NaN ("" for Cat) before Score is called.
//
// Category and Classification scorers write one string per row into Cat,
// or, in the coded form, call UseCodes and write per-row codes into a
// per-batch key dictionary: row i's category is Keys[Code[i]], none when
// Code[i] < 0 or the key is "". The coded form is for values that come
// from a dictionary (a dictionary-encoded column, or a few combinations
// of them): the scorer builds no string per row and eval counts codes,
// folding them into its string-keyed counts once per batch per key. A
// scorer uses one form per batch; Keys == nil means Cat.
type Out struct {
	Value, Legacy, AI []float64
	Cat               []string
	Code              []int32
	Keys              []string

	// filled[b] is how many leading rows of buffer b (outValue..outCat)
	// are known to hold NaN / "" already, so Reset need not write them;
	// 0 when unknown. reset[b] is what it will be again if the scorer
	// now running leaves b alone (see Untouched).
	filled, reset [numOutputs]int
}

// Out's buffers, as indexes of Out.filled.
const (
	outValue = iota
	outLegacy
	outAI
	outCat
	numOutputs
)

// outputsOf is the set of buffers (bit b for buffer b) a scorer of kind
// k writes its result to: the ones eval reads for k.
func outputsOf(k Kind) uint8 {
	switch k {
	case Agreement, Rate, Score:
		return 1 << outValue
	case PairedCorrect, PairedScore, PerSystem:
		return 1<<outLegacy | 1<<outAI
	case Category:
		return 1 << outCat
	}
	return 1<<numOutputs - 1 // Classification writes all; an unknown kind may
}

// UseCodes switches o to the coded form for this batch, with keys as the
// dictionary (the scorer may append to o.Keys afterwards; keys may be a
// column's Dict, which eval only reads), and returns Code: n entries,
// each -1 (no category) for the scorer to fill.
func (o *Out) UseCodes(n int, keys []string) []int32 {
	if keys == nil {
		keys = []string{}
	}
	o.Keys = keys
	if cap(o.Code) < n {
		o.Code = make([]int32, n)
	}
	o.Code = o.Code[:n]
	fillCopies(o.Code, -1)
	return o.Code
}

// Category returns row i's category in whichever form the scorer wrote
// it ("" for none).
func (o *Out) Category(i int) string {
	if o.Keys == nil {
		return o.Cat[i]
	}
	if c := o.Code[i]; c >= 0 && int(c) < len(o.Keys) {
		return o.Keys[c]
	}
	return ""
}

// CheckCategories reports category output of a scorer of kind k over n
// rows that eval would not count as the scorer meant: in the coded form,
// Code not of n rows, a code beyond Keys or Cat written too; for
// Classification, a category ClassificationKey did not make. The scorer
// test kit runs it on every Score.
func (o *Out) CheckCategories(k Kind, n int) error {
	if k != Category && k != Classification {
		return nil
	}
	if o.Keys != nil {
		if len(o.Code) != n {
			return fmt.Errorf("coded output: %d codes for %d rows", len(o.Code), n)
		}
		for i, c := range o.Code {
			if int(c) >= len(o.Keys) {
				return fmt.Errorf("coded output: row %d has code %d, beyond the %d keys", i, c, len(o.Keys))
			}
		}
		for i, c := range o.Cat {
			if c != "" {
				return fmt.Errorf("coded output: row %d also has Cat %q (use one form per batch)", i, c)
			}
		}
	}
	for i := 0; i < n; i++ {
		c := o.Category(i)
		if k == Classification && c != "" {
			if _, _, _, ok := SplitClassificationKey(c); !ok {
				return fmt.Errorf("row %d: %q is not a ClassificationKey", i, c)
			}
		}
	}
	return nil
}

// NewOut allocates an Out for n rows, filled with NaN / "".
func NewOut(n int) *Out {
	o := &Out{Value: make([]float64, n), Legacy: make([]float64, n), AI: make([]float64, n), Cat: make([]string, n)}
	o.Reset(n)
	return o
}

// Reset refills o for n rows, reusing its slices: every buffer NaN (""
// for Cat), as Score expects. Rows known to be filled already (after
// Untouched) are not written again: a scorer writes one or two of the
// four buffers, and refilling all four per scorer per batch had cost
// about as much as the scorers' own work.
func (o *Out) Reset(n int) {
	o.Value = refill(o.Value, n, &o.filled[outValue], &o.reset[outValue], fillNaN)
	o.Legacy = refill(o.Legacy, n, &o.filled[outLegacy], &o.reset[outLegacy], fillNaN)
	o.AI = refill(o.AI, n, &o.filled[outAI], &o.reset[outAI], fillNaN)
	o.Cat = refill(o.Cat, n, &o.filled[outCat], &o.reset[outCat], clearStrings)
	o.Keys = nil // back to the Cat form until the scorer calls UseCodes
}

// ResetBuiltin is Reset before the built-in scorer s, refilling only
// what s relies on: the buffers of its kind's outputs (outputsOf) that
// it does not itself write on every row. The buffers it overwrites are
// only sized, and the others, which it leaves alone (a test in eval
// holds every built-in to its kind's outputs) and eval does not read
// for its kind, are left as they are, their refill put off until a
// scorer needs them. eval calls it only for parity's own built-in
// scorers: a configured, external or contrib scorer gets Reset, every
// buffer filled, as docs/scorers.md promises, even when its type
// embeds a built-in one.
func (o *Out) ResetBuiltin(s Scorer, n int) {
	var over uint8
	if ow, ok := s.(overwriter); ok {
		over = ow.overwrites()
	}
	read := outputsOf(s.Kind())
	mode := func(b int) fillMode {
		switch {
		case over&(1<<b) != 0:
			return overwriteRows
		case read&(1<<b) == 0:
			return leaveRows
		}
		return fillRows
	}
	o.Value = refillAs(mode(outValue), o.Value, n, &o.filled[outValue], &o.reset[outValue], fillNaN)
	o.Legacy = refillAs(mode(outLegacy), o.Legacy, n, &o.filled[outLegacy], &o.reset[outLegacy], fillNaN)
	o.AI = refillAs(mode(outAI), o.AI, n, &o.filled[outAI], &o.reset[outAI], fillNaN)
	o.Cat = refillAs(mode(outCat), o.Cat, n, &o.filled[outCat], &o.reset[outCat], clearStrings)
	o.Keys = nil
}

// overwriter is implemented by built-in scorers that write every row of
// some of their float outputs in every Score, NaN included: overwrites
// is that set, as bits of Out's buffers (outValue..outAI). A test holds
// each to it.
type overwriter interface{ overwrites() uint8 }

// fillMode is what ResetBuiltin does with one buffer.
type fillMode uint8

const (
	fillRows      fillMode = iota // refilled, as by Reset
	overwriteRows                 // sized only: the scorer writes every row
	leaveRows                     // sized only: the scorer neither reads nor writes it
)

// refillAs is refill in mode m (see fillMode). A buffer left alone keeps
// its count of filled rows, which Untouched restores after the scorer.
func refillAs[T any](m fillMode, s []T, n int, filled, reset *int, fill func([]T)) []T {
	if m == fillRows {
		return refill(s, n, filled, reset, fill)
	}
	if cap(s) < n {
		s, *filled = make([]T, n), 0
	}
	*reset, *filled = *filled, 0
	if m == overwriteRows {
		*reset = 0
	}
	return s[:n]
}

// Untouched records that the scorer that ran since the last Reset wrote
// only the buffers of its kind k (outputsOf; not Cat if it used the
// coded form), so the next Reset refills only those. eval calls it for its built-in scorers, which a test holds
// to this; any other scorer may write any buffer, and then every buffer
// is refilled, as the contract for Score (docs/scorers.md) requires.
func (o *Out) Untouched(k Kind) {
	w := outputsOf(k)
	if o.Keys != nil {
		// The coded form: Cat stays empty (CheckCategories).
		w &^= 1 << outCat
	}
	for b := range numOutputs {
		if w&(1<<b) == 0 {
			o.filled[b] = o.reset[b]
		}
	}
}

// refill sizes s to n rows with fill applied to every row, writing only
// rows from *filled on (the rows before are filled already), and sets
// *filled to 0 (the scorer may write any row) and *reset to the rows
// that stay filled if it does not.
func refill[T any](s []T, n int, filled, reset *int, fill func([]T)) []T {
	if cap(s) < n {
		s, *filled = make([]T, n), 0
	}
	if *filled < n {
		fill(s[*filled:n])
		*filled = n
	}
	*reset, *filled = *filled, 0
	return s[:n]
}

// clearStrings sets every element of s to "" (clear is a built-in, not
// a function value).
func clearStrings(s []string) { clear(s) }

// fillNaN sets every element of s to NaN.
func fillNaN(s []float64) { fillCopies(s, math.NaN()) }

// fillCopies sets every element of s to v by copy doubling: copy moves
// many bytes per instruction where an element loop stores one element,
// ~4x faster on a batch (Reset runs per scorer per batch, UseCodes per
// coded scorer per batch). Hand-written: the standard library has no
// fill.
func fillCopies[T any](s []T, v T) {
	if len(s) == 0 {
		return
	}
	s[0] = v
	for i := 1; i < len(s); i *= 2 {
		copy(s[i:], s[:i])
	}
}
