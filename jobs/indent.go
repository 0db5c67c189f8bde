package jobs

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
)

// marshalIndent is json.MarshalIndent(v, "", "  "), byte for byte, done
// faster in two ways. A document that appends its own compact encoding
// (jsonAppender: the evaluation and aggregates, ~1 MB of JSON per window)
// skips encoding/json, which scanned every metric's and sketch's
// MarshalJSON output again to validate it. Then indenting: encoding/json
// runs its validating scanner over the compact encoding one byte at a
// time (this pass had been ~13% of the CPU samples of a 1M-row, 10-day
// backfill); compact JSON that is known valid only needs its strings and
// structural bytes found.
//
// Hand-written: no library reproduces encoding/json's layout exactly
// (TestMarshalIndentMatchesEncodingJSON holds it to json.MarshalIndent,
// and the AppendJSON methods have differential tests of their own).
func marshalIndent(v any) ([]byte, error) {
	var compact []byte
	var err error
	if a, ok := v.(jsonAppender); ok {
		// The compact encoding is only read by the indenting below, so
		// its buffer is reused (a pool, since windows are encoded on
		// several goroutines): appending a document of a few hundred KiB
		// to a nil slice had allocated and copied about twice its size
		// as it grew, a sixth of the bytes a small backfill allocated.
		bp := compactBufs.Get().(*[]byte)
		defer func() {
			*bp = compact[:0]
			compactBufs.Put(bp)
		}()
		compact, err = a.AppendJSON((*bp)[:0])
	} else {
		compact, err = json.Marshal(v)
	}
	if err != nil {
		return nil, err
	}
	// Indenting parity's nested documents about triples their size;
	// growing the output by doubling had cost more than indenting.
	out, ok := indentCompact(make([]byte, 0, 3*len(compact)), compact)
	if !ok {
		// Not the compact JSON expected (cannot happen for Marshal's
		// output): let encoding/json indent it, or say what is wrong.
		var buf bytes.Buffer
		if err := json.Indent(&buf, compact, "", "  "); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	return out, nil
}

// compactBufs holds marshalIndent's compact-encoding buffers (*[]byte).
var compactBufs = sync.Pool{New: func() any { return new([]byte) }}

// jsonAppender is a document that appends its json.Marshal encoding
// itself, byte for byte, skipping encoding/json's reflection and its
// re-validation of MarshalJSON output (jobs.Evaluation, eval.AggregatesFile).
type jsonAppender interface {
	AppendJSON(b []byte) ([]byte, error)
}

// indentCompact appends src, a compact JSON text, to dst as json.Indent
// with prefix "" and indent "  " lays it out: a newline and two spaces
// per level after an opening bracket and after a comma, ": " after a key,
// and "{}" / "[]" for empty ones. ok is false when src has an unclosed
// string or brackets that do not balance.
//
// Strings, numbers and literals are not copied token by token: the bytes
// between two structural bytes outside strings go to dst in one copy,
// and strings (mostly short keys and names) are skipped by a byte loop,
// not a call per string.
func indentCompact(dst, src []byte) (_ []byte, ok bool) {
	depth := 0
	// newline and 2·depth spaces, sliced from one buffer per call.
	breaks := indentBreaks
	run := 0 // src[run:i] is still to be copied
	for i := 0; i < len(src); {
		c := src[i]
		if !structural[c] {
			i++
			continue
		}
		if c == '"' {
			// Skip to the closing quote; a backslash escapes the next
			// byte, so an escaped quote does not end the string.
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(src) {
				return dst, false
			}
			i = j + 1
			continue
		}
		dst = append(dst, src[run:i]...)
		switch c {
		case '{', '[':
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				dst = append(dst, c, src[i+1])
				i += 2
				run = i
				continue
			}
			depth++
			if 1+2*depth > len(breaks) {
				breaks = growBreaks(depth)
			}
			dst = append(dst, c)
			dst = append(dst, breaks[:1+2*depth]...)
		case '}', ']':
			if depth == 0 {
				return dst, false
			}
			depth--
			dst = append(dst, breaks[:1+2*depth]...)
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			dst = append(dst, breaks[:1+2*depth]...)
		case ':':
			dst = append(dst, c, ' ')
		}
		i++
		run = i
	}
	dst = append(dst, src[run:]...)
	return dst, depth == 0
}

// indentBreaks is a newline and the indent of up to 32 levels; deeper
// documents get a longer copy (growBreaks).
var indentBreaks = []byte("\n" + strings.Repeat(" ", 64))

// growBreaks returns a newline and at least 2·depth spaces.
func growBreaks(depth int) []byte {
	return []byte("\n" + strings.Repeat(" ", 2*depth+64))
}

// structural marks the bytes indentCompact acts on.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true, ',': true, ':': true}
