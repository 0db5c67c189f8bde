package eval

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/storage"
)

// Labels is ground truth from a separate labels dataset, joined to the
// logs on the request id. Labels arrive days after the logs, so the whole
// labels dataset is read (it is far smaller than the logs: one short row
// per labelled request) and held in memory for the join; the logs are
// streamed past it.
type Labels struct {
	cols   []string
	colIdx map[string]int
	index  map[string]int32
	values [][]*string // per column, per label row
	// matched is, per label row, the start (Unix seconds) of the window
	// of the first request it was joined to, or unmatched.
	matched []atomic.Int64
	src     []int32 // per label row: the index in Manifest.Files of the file it came from
	// Duplicates counts labels for a request that already had one; the
	// later file (by key order) wins.
	Duplicates int64
	Manifest   datasets.Manifest
}

// Has reports whether the labels dataset provides column name.
func (l *Labels) Has(name string) bool {
	if l == nil {
		return false
	}
	_, ok := l.colIdx[name]
	return ok
}

// Len is the number of labelled requests.
func (l *Labels) Len() int { return len(l.index) }

// LoadLabels reads key and the wanted label columns (those present) from
// the labels dataset.
func LoadLabels(ctx context.Context, ds *datasets.Dataset, key string, want []string) (*Labels, error) {
	files, err := ds.Files(ctx, timeZero, timeZero)
	if err != nil {
		return nil, err
	}
	l := &Labels{colIdx: map[string]int{}, index: map[string]int32{}}
	spec := datasets.ScanSpec{Columns: []datasets.ColumnSpec{{Name: key, Kind: datasets.KindString}}, Workers: 1}
	for _, w := range want {
		if _, dup := l.colIdx[w]; dup || w == key {
			continue
		}
		l.colIdx[w] = len(l.cols)
		l.cols = append(l.cols, w)
		spec.Columns = append(spec.Columns, datasets.ColumnSpec{Name: w, Kind: datasets.KindString, Optional: true})
	}
	l.values = make([][]*string, len(l.cols))
	if len(files) == 0 {
		return l, nil
	}
	if err := ds.Check(ctx, files, spec); err != nil {
		return nil, err
	}
	var mu sync.Mutex
	present := map[string]bool{}
	fileIdx := map[string]int32{}
	for i, f := range files {
		fileIdx[f.Key] = int32(i)
	}
	m, err := ds.Scan(ctx, files, spec, func(_ int, b *datasets.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		fi := fileIdx[b.File]
		kc := b.Col(key)
		for i := 0; i < b.Rows; i++ {
			if kc.IsNull(i) {
				continue
			}
			id := kc.Dict[kc.Codes[i]]
			row, seen := l.index[id]
			if seen {
				l.Duplicates++
			} else {
				row = int32(len(l.index))
				l.index[id] = row
				for c := range l.values {
					l.values[c] = append(l.values[c], nil)
				}
				l.src = append(l.src, 0)
			}
			l.src[row] = fi // the later file's label is the one used
			for c, name := range l.cols {
				col := b.Col(name)
				if col == nil || col.IsNull(i) {
					continue
				}
				present[name] = true
				v := col.Dict[col.Codes[i]]
				l.values[c][row] = &v
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	for i := range m.Files {
		m.Files[i].Role = datasets.RoleLabels
	}
	l.Manifest = m
	l.matched = make([]atomic.Int64, len(l.index))
	for i := range l.matched {
		l.matched[i].Store(unmatched)
	}
	// Drop columns no file has, so the log column of that name is used.
	for _, name := range l.cols {
		if !present[name] {
			delete(l.colIdx, name)
		}
	}
	return l, nil
}

// Files is the number of labels files read.
func (l *Labels) Files() int { return len(l.Manifest.Files) }

// Absent lists the wanted label columns that no labels file has (their
// values come from the log's columns of the same name, if any).
func (l *Labels) Absent() []string {
	var out []string
	for _, name := range l.cols {
		if _, ok := l.colIdx[name]; !ok {
			out = append(out, name)
		}
	}
	return out
}

var timeZero = storage.Object{}.ModTime

// unmatched marks a label joined to no request yet.
const unmatched = math.MinInt64

// Join returns, per label column, the label of each row of ids (nil when
// unlabelled), marking those labels as matched in the window of their
// row (window(i): its start, Unix seconds).
func (l *Labels) Join(ids *datasets.Column, window func(i int) int64) map[string][]*string {
	out := map[string][]*string{}
	if ids == nil {
		return out
	}
	rows := make([]int32, ids.Len())
	for i := range rows {
		rows[i] = -1
		if ids.IsNull(i) {
			continue
		}
		if r, ok := l.index[ids.Dict[ids.Codes[i]]]; ok {
			rows[i] = r
			if l.matched[r].Load() == unmatched {
				l.matched[r].CompareAndSwap(unmatched, window(i))
			}
		}
	}
	for name, c := range l.colIdx {
		vals := make([]*string, len(rows))
		for i, r := range rows {
			if r >= 0 {
				vals[i] = l.values[c][r]
			}
		}
		out[name] = vals
	}
	return out
}

// Unmatched counts labels not joined to any evaluated request.
func (l *Labels) Unmatched() int64 {
	var n int64
	for i := range l.matched {
		if l.matched[i].Load() == unmatched {
			n++
		}
	}
	return n
}

// Uses is, after the scan, the labels joined in each window by labels
// file: window start (Unix seconds) → file key → labels joined there.
func (l *Labels) Uses() map[int64]map[string]int64 {
	out := map[int64]map[string]int64{}
	if l == nil {
		return out
	}
	for i := range l.matched {
		w := l.matched[i].Load()
		if w == unmatched {
			continue
		}
		m := out[w]
		if m == nil {
			m = map[string]int64{}
			out[w] = m
		}
		m[l.Manifest.Files[l.src[i]].Key]++
	}
	return out
}
