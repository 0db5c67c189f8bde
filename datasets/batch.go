// Package datasets reads shadow logs, labels and other inputs from Parquet
// datasets (a folder or S3 prefix of Parquet files, Hive-partitioned or
// flat) into typed column batches. It prunes by partition and by row-group
// statistics, decodes only the projected columns, and records every object
// it read in a Manifest so a run can be audited and reproduced.
//
// This is the first stage of parity's one-way flow:
// datasets -> scorers -> eval -> reports.
package datasets

import (
	"fmt"
	"time"
)

// Kind is the logical type of a column as parity sees it. Physical Parquet
// types map onto these: every integer width to Int64, FLOAT and DOUBLE to
// Float64, BYTE_ARRAY/STRING/ENUM/JSON to String, BOOLEAN to Bool, and
// every timestamp encoding (INT64 millis/micros/nanos, INT96) to Timestamp.
type Kind uint8

const (
	KindString Kind = iota + 1
	KindFloat64
	KindInt64
	KindBool
	KindTimestamp
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindFloat64:
		return "double"
	case KindInt64:
		return "int64"
	case KindBool:
		return "bool"
	case KindTimestamp:
		return "timestamp"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Column is one decoded column chunk slice. Exactly one of the value slices
// is set, according to Kind, and has Len() entries. Null[i] is true when
// row i is null (its value slot holds the zero value); Null is nil when the
// column has no nulls in this batch.
//
// Strings are dictionary-encoded: the value of row i is Dict[Codes[i]]. A
// Parquet dictionary page maps straight onto this; PLAIN pages get codes
// too, so scorers see one representation whatever the writer did
// (Arrow/Spark writers switch mid-chunk). PLAIN values that are mostly
// distinct (request ids, JSON documents) are not deduplicated, since
// looking for repeats that are not there was a quarter of a full
// evaluation's CPU: such a column sets DictRepeats.
type Column struct {
	Name  string
	Kind  Kind
	Null  []bool
	Dict  []string  // KindString
	Codes []int32   // KindString
	Float []float64 // KindFloat64
	Int   []int64   // KindInt64; KindTimestamp as Unix nanoseconds, UTC
	Bool  []bool    // KindBool

	// DictRepeats reports that Dict may hold the same string under
	// several codes (PLAIN pages are not deduplicated); equal codes imply
	// equal strings but not the converse. When false (the zero value, so
	// hand-built columns keep the old contract), Dict's entries are
	// distinct and code equality is string equality; a Parquet dictionary
	// page is trusted to be distinct, as writers emit it. Code that groups
	// or deduplicates rows by code must compare the strings when it is set.
	DictRepeats bool

	// NoEmpty reports that no Dict entry is the empty string, as the
	// decoder saw while building Dict, so a check for empty values (the
	// audit's) need not read the strings. False (the zero value) means
	// unknown.
	NoEmpty bool
}

// Len is the number of rows in the column.
func (c *Column) Len() int {
	switch c.Kind {
	case KindString:
		return len(c.Codes)
	case KindFloat64:
		return len(c.Float)
	case KindInt64, KindTimestamp:
		return len(c.Int)
	case KindBool:
		return len(c.Bool)
	}
	return 0
}

// IsNull reports whether row i is null.
func (c *Column) IsNull(i int) bool { return c.Null != nil && c.Null[i] }

// Str returns row i of a string column ("" when null).
func (c *Column) Str(i int) string {
	if c.IsNull(i) {
		return ""
	}
	return c.Dict[c.Codes[i]]
}

// Time returns row i of a timestamp column.
func (c *Column) Time(i int) time.Time { return time.Unix(0, c.Int[i]).UTC() }

// Batch is a set of equally long columns: the projected columns of one row
// group (or part of one) of one file.
type Batch struct {
	File     string // key of the file within its dataset
	RowGroup int    // row-group index within the file
	Offset   int64  // row offset of the first row within the file
	Rows     int
	Cols     []*Column // in the order of ScanSpec.Columns; nil when an Optional column is absent from the file
}

// Col returns the column with the given name, or nil when it was not
// projected or is absent from this file.
func (b *Batch) Col(name string) *Column {
	for _, c := range b.Cols {
		if c != nil && c.Name == name {
			return c
		}
	}
	return nil
}

// ColumnSpec asks for one column.
type ColumnSpec struct {
	Name string
	Kind Kind
	// Optional columns may be missing from a file (Batch.Cols holds nil);
	// a missing required column is an error before any row is read.
	Optional bool
	// PresenceOnly (string columns) asks only whether each value is
	// present and non-empty, as an audit-completeness check does: the
	// column comes back with Dict PresenceDict, code 0 for an empty value
	// and 1 for any other (nulls flagged in Null as always), and no value
	// is copied out of its page. A unique hash per row is otherwise a
	// string allocated and copied per row only to be tested for "".
	PresenceOnly bool
	// RecycleStrings, honoured only with ScanSpec.ReuseBuffers, lets the
	// worker recycle the bytes of the strings that PLAIN pages of mostly
	// distinct values put in Dict (Column.DictRepeats: request ids, JSON
	// documents), as it recycles the column's slices: those strings are
	// then valid only during the scan's callback, and their bytes are
	// overwritten by a later row group. Ask for it only for a column
	// whose readers keep no string of it, nor any substring, past the
	// callback (copy what must outlive it, e.g. with strings.Clone).
	// Those page copies were most of a full evaluation's allocation.
	RecycleStrings bool
}

// PresenceDict is the Dict of a PresenceOnly column: code 0 is an empty
// value, code 1 a non-empty one.
var PresenceDict = [2]string{"", "present"}

// FileInfo records one object a scan read, for the run's input manifest.
type FileInfo struct {
	Location  string    `json:"location"` // full URI of the object
	Key       string    `json:"key"`
	Size      int64     `json:"size"`
	ETag      string    `json:"etag"`
	ModTime   time.Time `json:"mod_time"`
	RowGroups int       `json:"row_groups"`
	// RowGroupsRead counts row groups left after statistics pruning.
	RowGroupsRead int   `json:"row_groups_read"`
	Rows          int64 `json:"rows"`      // rows in the file
	RowsRead      int64 `json:"rows_read"` // rows decoded
	// RowsUsed is filled in by the caller (eval): rows inside the window
	// that contributed to scores.
	RowsUsed int64 `json:"rows_used"`
	// BytesRead counts bytes fetched from storage for this file.
	BytesRead int64 `json:"bytes_read"`
	// Role is RoleLabels for a labels file, empty for a log file.
	Role string `json:"role,omitempty"`
}

// RoleLabels is FileInfo.Role of a labels file: its RowsUsed counts the
// labels joined to a request of the manifest's window.
const RoleLabels = "labels"

// Manifest lists the objects behind a run's outputs: a window's
// manifest (Window set) lists the objects with rows in that window, a
// run's every object it read.
type Manifest struct {
	// Window is the evaluation window of a window's manifest.
	Window *TimeRange `json:"window,omitempty"`
	Files  []FileInfo `json:"files"`
	// Dropped counts rows read but not used, by reason, filled in by the
	// evaluation: in a window's manifest, that window's rows dropped for
	// a missing (null_request_id) or repeated (duplicate_request_id)
	// request id; in a run's, every reason.
	Dropped map[string]int64 `json:"dropped,omitempty"`
	// RunDropped, in a window's manifest, counts the run's rows that
	// belong to no evaluated window or feature (outside_window,
	// other_feature, null_timestamp, null_feature) and its labels joined
	// to no request (labels_unmatched): a run over several windows
	// repeats them in each.
	RunDropped map[string]int64 `json:"run_dropped,omitempty"`
	// Labels is the number of labelled requests the run loaded.
	Labels int64 `json:"labels,omitempty"`
	// ShardPlan, in a shard's manifest, identifies the inputs its run
	// split between shards (every object of its time range, with its
	// ETag and size, and the range): shards split the same units only
	// if they share it, so a merge refuses shards whose plans differ.
	ShardPlan string `json:"shard_plan,omitempty"`
}

// TimeRange is a half-open interval [Start, End).
type TimeRange struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}
