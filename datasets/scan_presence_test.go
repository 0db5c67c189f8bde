package datasets

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/parity-eval/parity/datasets/parquettest"
)

// presenceRow has string columns in every layout a PresenceOnly column
// may arrive in: distinct values (PLAIN, and DELTA_LENGTH_BYTE_ARRAY),
// few values with empties and nulls (dictionary), a dictionary that falls
// back to PLAIN mid-chunk, and a UUID (FIXED_LEN_BYTE_ARRAY).
type presenceRow struct {
	Hash  string   `parquet:"hash,plain"`
	Delta string   `parquet:"delta,delta"`
	Opt   *string  `parquet:"opt,optional,dict"`
	Mixed *string  `parquet:"mixed,optional,dict"`
	UUID  [16]byte `parquet:"u,uuid"`
	Full  string   `parquet:"full"` // required, never empty: known from its statistics
}

// TestScanPresenceOnly scans each string column twice, as values and as
// PresenceOnly codes, and requires the codes to say exactly which rows
// hold a non-empty value, with the same null flags, over several row
// groups, both data page versions and dictionary-to-PLAIN fallbacks.
func TestScanPresenceOnly(t *testing.T) {
	const n = 5000
	rows := make([]presenceRow, n)
	few := []string{"", "a", "bb", "ccc"}
	for i := range rows {
		r := presenceRow{Hash: fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15), Delta: fmt.Sprintf("d%d", i)}
		if i%7 == 0 {
			r.Hash = ""
		}
		if i%11 == 3 {
			r.Delta = ""
		}
		if i%5 != 0 {
			v := few[i%len(few)]
			r.Opt = &v
		}
		if i%3 != 0 {
			v := few[i%len(few)]
			if i > n/3 {
				v = fmt.Sprintf("m-%d", i) // too many values: the dictionary gives way to PLAIN
				if i%13 == 0 {
					v = ""
				}
			}
			r.Mixed = &v
		}
		r.UUID[0], r.UUID[1] = byte(i), byte(i>>8)
		r.Full = fmt.Sprintf("f%d", i%17)
		rows[i] = r
	}
	names := []string{"hash", "delta", "opt", "mixed", "u", "full"}
	for _, version := range []int{1, 2} {
		t.Run(fmt.Sprintf("v%d", version), func(t *testing.T) {
			s, dir := store(t)
			p := filepath.Join(dir, "logs", "part-0.parquet")
			parquettest.WriteGo(t, p, rows, parquet.MaxRowsPerRowGroup(1500), parquet.PageBufferSize(4096),
				parquet.DataPageVersion(version), parquet.DictionaryMaxBytes(2000))
			if encs := chunkEncodings(t, p, "mixed"); !mixesDictAndPlain(encs[0]) {
				t.Fatalf("fixture: want the first mixed chunk to mix dictionary and PLAIN pages, got %v", encs)
			}
			d := &Dataset{Store: s, Prefix: "logs", Name: "logs"}
			files := listFiles(t, d)
			var full, pres ScanSpec
			for _, name := range names {
				full.Columns = append(full.Columns, ColumnSpec{Name: name, Kind: KindString})
				pres.Columns = append(pres.Columns, ColumnSpec{Name: name, Kind: KindString, PresenceOnly: true})
			}
			vals, mv := scanAll(t, d, files, full)
			codes, mp := scanAll(t, d, files, pres)
			for _, name := range names {
				v, c := vals.col(t, name), codes.col(t, name)
				var present int
				for i := range n {
					if v.IsNull(i) != c.IsNull(i) {
						t.Fatalf("%s row %d: null %v, want %v", name, i, c.IsNull(i), v.IsNull(i))
					}
					if v.IsNull(i) {
						continue
					}
					want := PresenceDict[0]
					if v.Dict[i] != "" {
						want = PresenceDict[1]
						present++
					}
					if c.Dict[i] != want {
						t.Fatalf("%s row %d (value %q): presence %q, want %q", name, i, v.Dict[i], c.Dict[i], want)
					}
				}
				switch {
				case (name == "u" || name == "full") && present != n: // never empty
					t.Fatalf("%s: %d of %d rows present", name, present, n)
				case name != "u" && name != "full" && (present == 0 || present == n):
					t.Fatalf("%s: %d of %d rows present: the fixture proves little", name, present, n)
				}
			}
			// The required columns that are never empty (u, full) are
			// answered from the footer: their chunks are not read.
			if mp.Files[0].BytesRead >= mv.Files[0].BytesRead {
				t.Errorf("presence scan read %d bytes, full scan %d: chunks known from statistics were read", mp.Files[0].BytesRead, mv.Files[0].BytesRead)
			}
		})
	}
}

// TestPresentByStatistics: only a required column's footer can prove
// every value present, and only its min_value (not the deprecated min)
// or a fixed length can prove none empty.
func TestPresentByStatistics(t *testing.T) {
	str := &format.SchemaElement{Type: thrift.New(format.ByteArray)}
	fixed := &format.SchemaElement{Type: thrift.New(format.FixedLenByteArray), TypeLength: thrift.New(int32(16))}
	for _, c := range []struct {
		name string
		l    leaf
		md   format.ColumnMetaData
		want bool
	}{
		{"required, min_value non-empty", leaf{elem: str}, format.ColumnMetaData{NumValues: 9, Statistics: format.Statistics{MinValue: []byte("a")}}, true},
		{"required, min_value empty", leaf{elem: str}, format.ColumnMetaData{NumValues: 9, Statistics: format.Statistics{MinValue: []byte{}}}, false},
		{"required, only the deprecated min", leaf{elem: str}, format.ColumnMetaData{NumValues: 9, Statistics: format.Statistics{Min: []byte("a")}}, false},
		{"required, no statistics", leaf{elem: str}, format.ColumnMetaData{NumValues: 9}, false},
		{"optional, min_value non-empty", leaf{elem: str, maxDef: 1}, format.ColumnMetaData{NumValues: 9, Statistics: format.Statistics{MinValue: []byte("a")}}, false},
		{"required, fixed length 16", leaf{elem: fixed}, format.ColumnMetaData{NumValues: 9}, true},
		{"optional, fixed length 16", leaf{elem: fixed, maxDef: 1}, format.ColumnMetaData{NumValues: 9}, false},
	} {
		if got := presentByStatistics(&c.l, &c.md); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
