package datasets

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/parity-eval/parity/storage"
)

// ScanSpec says what to read from a dataset.
type ScanSpec struct {
	// Columns is the projection; Batch.Cols follows its order. Dotted
	// names ("meta.model_version") address leaves of struct columns.
	Columns []ColumnSpec
	// TimeColumn, with From and/or To set, skips row groups whose column
	// statistics show no value in [From, To). Rows are not filtered: a
	// row group that overlaps the window is read whole.
	TimeColumn string
	From, To   time.Time
	// Workers is the number of row groups decoded in parallel; 0 means
	// GOMAXPROCS.
	Workers int
	// ShardIndex/ShardCount select a deterministic 1/N of the work: the
	// (file, row group) units left after statistics pruning, numbered in
	// file-key order, go to shard unit%ShardCount. ShardCount 0 or 1
	// means everything.
	ShardIndex, ShardCount int
	// ReadBufferSize is the size of parquet-go's read buffer per column
	// chunk; default 1 MiB (larger buffers measured more kernel time in
	// pread on local files). On remote stores each projected column chunk
	// is fetched whole (one ranged GET, all of a row group's in parallel)
	// and this buffer only reads pages from memory.
	ReadBufferSize int
	// ReuseBuffers lets each worker recycle the slices of the columns it
	// decoded (Codes, Float, Int, Bool, Null and Dict's backing array) for
	// its next row group, instead of allocating them per row group: those
	// allocations were most of a full evaluation's garbage. The Batch and
	// its columns' slices are then valid only during fn; the scan
	// overwrites them afterwards. The strings in Dict are never
	// overwritten (they stay valid, like any Go string), only the array
	// holding them, except in columns asking for RecycleStrings.
	ReuseBuffers bool
}

// poisonEnv, set to 1, has a scan overwrite the recycled string bytes of
// RecycleStrings columns with poisonByte once each callback returns, so
// that a consumer keeping such a string past its batch reads garbage at
// once (and a test comparing outputs fails) instead of, now and then, a
// later row group's value. Read once per Scan.
const poisonEnv = "PARITY_POISON_RECYCLED"

// poisonByte is what poisoned bytes are overwritten with: not ASCII, so
// poisoned JSON is no longer the fast path's and ids compare unequal.
const poisonByte = 0xA5

const defaultReadBufferSize = 1 << 20

// tailSize is how much of a file's end one read fetches when opening it:
// the footer of a typical log file (a few hundred columns × row groups)
// fits, so opening costs one ranged GET instead of three.
const tailSize = 64 << 10

// colPlan is how one projected column is read from one file.
type colPlan struct {
	leaf *leaf // nil: an Optional column absent from this file
	conv conv
}

// pfile is one opened Parquet file.
type pfile struct {
	obj    storage.Object
	r      storage.Reader
	ra     io.ReaderAt // r, counted, with the footer cached
	remote bool        // fetch each row group's column chunks concurrently
	count  *countingReader
	f      *parquet.File
	leaves []leaf
	cols   []colPlan

	refs     atomic.Int64 // units still to decode; the last one closes r
	rowsRead atomic.Int64
	closed   atomic.Bool
}

func (p *pfile) close() {
	if p.closed.CompareAndSwap(false, true) {
		_ = p.r.Close()
	}
}

// release is called when one unit of p is done.
func (p *pfile) release() {
	if p.refs.Add(-1) == 0 {
		p.close()
	}
}

// countingReader counts the bytes fetched from storage for the manifest.
type countingReader struct {
	r io.ReaderAt
	n atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// tailReader serves reads that fall inside the file's last bytes from one
// buffer fetched up front. parquet-go's OptimisticRead does the same but
// fetches ReadBufferSize bytes (1 MiB here), too much for a footer; this
// is the small hand-written equivalent. The buffer is immutable once
// built, so concurrent ReadAt from several workers is safe.
type tailReader struct {
	r    io.ReaderAt
	off  int64
	tail []byte
}

func (t *tailReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= t.off && off+int64(len(p)) <= t.off+int64(len(t.tail)) {
		return copy(p, t.tail[off-t.off:]), nil
	}
	return t.r.ReadAt(p, off)
}

// openParquet opens key's footer through the store. Errors name the key.
func (d *Dataset) openParquet(ctx context.Context, obj storage.Object, spec *ScanSpec) (pf *pfile, err error) {
	key := obj.Key
	r, err := d.Store.Open(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	defer func() {
		if err != nil {
			_ = r.Close()
		}
	}()
	// Record the version actually opened; an object replaced since it was
	// listed would make the manifest lie about what was read.
	if cur := r.Object(); cur.ETag != "" {
		if obj.ETag != "" && cur.ETag != obj.ETag {
			return nil, fmt.Errorf("%s: changed since it was listed (etag %s, now %s)", key, obj.ETag, cur.ETag)
		}
		obj.Size, obj.ETag, obj.ModTime = cur.Size, cur.ETag, cur.ModTime
	}
	size := r.Size()
	cr := &countingReader{r: r}
	if size < 12 {
		return nil, fmt.Errorf("%s: not a Parquet file (%d bytes, too small for PAR1 header and footer)", key, size)
	}
	n := min(size, tailSize)
	tail := make([]byte, n)
	if _, err := cr.ReadAt(tail, size-n); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: reading footer: %w", key, err)
	}
	if string(tail[n-4:]) != "PAR1" {
		return nil, fmt.Errorf("%s: not a Parquet file or truncated (no PAR1 magic at the end; was it still being written?)", key)
	}
	if fl := int64(binary.LittleEndian.Uint32(tail[n-8:])); fl+12 > size {
		return nil, fmt.Errorf("%s: corrupt Parquet footer (footer length %d exceeds file size %d)", key, fl, size)
	}
	bufSize := spec.ReadBufferSize
	if bufSize <= 0 {
		bufSize = defaultReadBufferSize
	}
	var f *parquet.File
	var ra io.ReaderAt
	func() {
		// parquet-go panics on some malformed footers (e.g. a DECIMAL
		// without a length); a bad file must be an error naming it.
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("corrupt Parquet footer (decoder panicked: %v)", p)
			}
		}()
		ra = &tailReader{r: cr, off: size - n, tail: tail}
		f, err = parquet.OpenFile(ra, size,
			parquet.ReadBufferSize(bufSize),
			parquet.SkipPageIndex(true),    // pruning uses row-group statistics only
			parquet.SkipBloomFilters(true), // never used; saves a read per column
			parquet.SkipMagicBytes(true),   // the footer magic was checked above; saves a GET
		)
	}()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	leaves, err := leavesOf(f.Metadata())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	for i, rg := range f.Metadata().RowGroups {
		if len(rg.Columns) != len(leaves) {
			return nil, fmt.Errorf("%s: row group %d: corrupt footer: %d column chunks for %d schema leaves", key, i, len(rg.Columns), len(leaves))
		}
	}
	// A store whose URI has a scheme (s3://) is remote; local ones are paths.
	remote := strings.Contains(d.Store.URI(), "://")
	return &pfile{obj: obj, r: r, ra: ra, remote: remote, count: cr, f: f, leaves: leaves}, nil
}

// resolve maps the projection onto the file's leaves.
func (p *pfile) resolve(spec *ScanSpec) error {
	p.cols = make([]colPlan, len(spec.Columns))
	for i, cs := range spec.Columns {
		l := findLeaf(p.leaves, cs.Name)
		if l == nil {
			if cs.Optional {
				continue
			}
			return fmt.Errorf("%s: column %q: not found (want %s); file has columns: %s", p.obj.Key, cs.Name, cs.Kind, leafNames(p.leaves))
		}
		cv, err := plan(l, cs.Kind)
		if err != nil {
			return fmt.Errorf("%s: column %q: %w", p.obj.Key, cs.Name, err)
		}
		cv.presence = cs.PresenceOnly && cs.Kind == KindString
		p.cols[i] = colPlan{leaf: l, conv: cv}
	}
	if spec.TimeColumn != "" {
		l := findLeaf(p.leaves, spec.TimeColumn)
		if l == nil {
			if !timeColumnOptional(spec) {
				return fmt.Errorf("%s: time column %q: not found (want timestamp); file has columns: %s", p.obj.Key, spec.TimeColumn, leafNames(p.leaves))
			}
		} else if _, err := plan(l, KindTimestamp); err != nil {
			return fmt.Errorf("%s: time column %q: %w", p.obj.Key, spec.TimeColumn, err)
		}
	}
	return nil
}

func timeColumnOptional(spec *ScanSpec) bool {
	for _, c := range spec.Columns {
		if c.Name == spec.TimeColumn {
			return c.Optional
		}
	}
	return false
}

// keepRowGroup reports whether row group rg can hold a TimeColumn value in
// [From, To), from the column chunk's min/max statistics. Without usable
// statistics the row group is kept.
func (p *pfile) keepRowGroup(rg int, spec *ScanSpec) bool {
	if spec.TimeColumn == "" || (spec.From.IsZero() && spec.To.IsZero()) {
		return true
	}
	l := findLeaf(p.leaves, spec.TimeColumn)
	if l == nil {
		return true
	}
	cv, err := plan(l, KindTimestamp)
	if err != nil || cv.int96 { // INT96 has no defined sort order, so its statistics are not trusted
		return true
	}
	st := &p.f.Metadata().RowGroups[rg].Columns[l.index].MetaData.Statistics
	lo, ok1 := statNanos(st.MinValue, &cv)
	hi, ok2 := statNanos(st.MaxValue, &cv)
	if !ok1 || !ok2 {
		return true
	}
	if !spec.To.IsZero() && lo >= spec.To.UnixNano() {
		return false
	}
	if !spec.From.IsZero() && hi < spec.From.UnixNano() {
		return false
	}
	return true
}

func statNanos(b []byte, cv *conv) (int64, bool) {
	switch {
	case cv.phys == format.Int64 && len(b) == 8:
		return cv.toNanos(int64(binary.LittleEndian.Uint64(b))), true
	case cv.phys == format.Int32 && cv.date && len(b) == 4:
		return dateNanos(int32(binary.LittleEndian.Uint32(b))), true
	}
	return 0, false
}

// forEachFooter opens every file's footer, up to par at a time, and calls
// fn for each in file order; fn owns the file it is given. It stops at the
// first error. Files are opened with ctx itself (not a derived context)
// because a remote reader may keep using it after fn returns.
func (d *Dataset) forEachFooter(ctx context.Context, files []storage.Object, spec *ScanSpec, par int, fn func(i int, p *pfile) error) error {
	type result struct {
		p        *pfile
		err      error
		launched bool
	}
	res := make([]chan result, len(files))
	for i := range res {
		res[i] = make(chan result, 1)
	}
	stop := make(chan struct{})
	var stopOnce sync.Once
	halt := func() { stopOnce.Do(func() { close(stop) }) }
	defer halt()
	sem := make(chan struct{}, par)
	go func() {
		for i := range files {
			select {
			case sem <- struct{}{}:
			case <-stop:
				for j := i; j < len(files); j++ {
					res[j] <- result{err: errStopped}
				}
				return
			}
			go func() {
				p, err := d.openParquet(ctx, files[i], spec)
				res[i] <- result{p, err, true}
			}()
		}
	}()
	var first error
	for i := range files {
		r := <-res[i]
		if first == nil && r.err == nil {
			r.err = fn(i, r.p)
			r.p = nil // fn owns it now
		}
		if r.p != nil {
			r.p.close()
		}
		if first == nil && r.err != nil {
			first = r.err
			halt()
		}
		if r.launched {
			<-sem
		}
	}
	return first
}

var errStopped = errors.New("stopped")

// Check opens every file's footer (only) and verifies each required column
// exists with a type that converts to its ColumnSpec.Kind, and that
// TimeColumn (when set) is a timestamp. Errors name the file, the column,
// what was expected and what the file has. It reads no rows, so a bad
// configuration fails before anything is written.
func (d *Dataset) Check(ctx context.Context, files []storage.Object, spec ScanSpec) error {
	_, err := d.Inspect(ctx, files, spec)
	return err
}

// Footprint is what a scan of some files will hold beyond its decoded
// row groups, from their footers.
type Footprint struct {
	// FetchBytes is the compressed size of the largest row group's
	// projected column chunks that a scan fetches from a remote store, 0
	// on a local one: each worker holds two fetch buffers of this size
	// (the row group it decodes and the next one, prefetched).
	FetchBytes int64
}

// Inspect is Check, also returning the scan's Footprint.
func (d *Dataset) Inspect(ctx context.Context, files []storage.Object, spec ScanSpec) (Footprint, error) {
	par := max(16, workers(&spec)) // footer reads are latency-bound on S3
	var bad []error
	var fp Footprint
	copyOf := map[[sha256.Size]byte]string{} // footer fingerprint → first file's key
	err := d.forEachFooter(ctx, files, &spec, par, func(i int, p *pfile) error {
		defer p.close()
		fpr := footerFingerprint(p)
		if first, ok := copyOf[fpr]; ok {
			bad = append(bad, fmt.Errorf("%s is a copy of %s (same size and Parquet footer: the same row groups, sizes and statistics): its rows would be counted twice (duplicate request ids are found within a row group only); remove one of them", p.obj.Key, first))
		} else {
			copyOf[fpr] = p.obj.Key
		}
		if err := p.resolve(&spec); err != nil {
			bad = append(bad, err)
		} else if p.remote {
			fp.FetchBytes = max(fp.FetchBytes, p.largestFetch())
		}
		return ctx.Err()
	})
	if err != nil {
		if ctx.Err() != nil {
			return fp, d.wrap(err)
		}
		// A file that cannot be opened comes after every file in bad.
		bad = append(bad, err)
	}
	switch len(bad) {
	case 0:
		return fp, nil
	case 1:
		return fp, d.wrap(bad[0])
	}
	return fp, d.wrap(fmt.Errorf("%w (and %d more files with errors)", bad[0], len(bad)-1))
}

// footerFingerprint identifies a file by its size and what its footer
// says of every column chunk (sizes, offsets, value counts, statistics):
// a file uploaded twice under two names has the same fingerprint, while
// two files of different rows differ at least in a chunk's statistics
// or sizes. Only the footer is read, so the check costs nothing.
func footerFingerprint(p *pfile) [sha256.Size]byte {
	h := sha256.New()
	md := p.f.Metadata()
	fmt.Fprintf(h, "%d %d %d\n", p.obj.Size, md.NumRows, len(md.RowGroups))
	for _, rg := range md.RowGroups {
		fmt.Fprintf(h, "rg %d %d\n", rg.NumRows, rg.TotalByteSize)
		for _, c := range rg.Columns {
			m := &c.MetaData
			st := &m.Statistics
			fmt.Fprintf(h, "%q %d %d %d %d %d %q %q %q %q %d\n", m.PathInSchema, m.NumValues, m.TotalCompressedSize, m.TotalUncompressedSize,
				m.DataPageOffset, m.DictionaryPageOffset, st.MinValue, st.MaxValue, st.Min, st.Max, st.NullCount)
		}
	}
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// largestFetch is the most bytes fetch reads for one row group of p
// (resolved p.cols): the size a fetch buffer grows to.
func (p *pfile) largestFetch() int64 {
	var most int64
	for rg := range p.f.Metadata().RowGroups {
		var n int64
		for i := range p.cols {
			if _, size, ok := p.fetchRange(rg, i); ok {
				n += max(size, 0)
			}
		}
		most = max(most, n)
	}
	return most
}

func (d *Dataset) wrap(err error) error {
	if d.Name == "" {
		return err
	}
	return fmt.Errorf("dataset %s: %w", d.Name, err)
}

// WorkerCount is the number of workers Scan runs for this spec (Workers,
// or GOMAXPROCS when it is 0): callers size per-worker state with it.
func (s *ScanSpec) WorkerCount() int { return workers(s) }

func workers(spec *ScanSpec) int {
	if spec.Workers > 0 {
		return spec.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// unit is one row group of one file, the unit of parallel work.
type unit struct {
	p      *pfile
	fi     int // index into files / Manifest.Files
	rg     int
	offset int64
}

// Scan decodes the projected columns of every row group of files that
// survives statistics pruning (and belongs to this shard) and calls fn
// once per row group. fn runs on up to Workers goroutines; worker is in
// [0, Workers) and one worker's batches come one after another, so callers
// can keep per-worker state without locks. A Batch is not reused after fn
// returns, unless spec.ReuseBuffers says its slices may be. The first error (from decoding or from fn) stops the scan and is
// returned naming the file, row group and column.
//
// Values follow the Kind rules in batch.go. Within one Column, every
// distinct string has one code (Dict holds no repeats), whether the chunk
// was dictionary-encoded, PLAIN, or both, unless the column sets
// DictRepeats (PLAIN values that are mostly distinct are not
// deduplicated); the only other exception would be a writer whose
// dictionary page itself repeats a value, which no known writer does.
// Timestamps annotated isAdjustedToUTC=false (local
// wall-clock time) are read as if they were UTC. Row groups are pruned on
// TimeColumn statistics for INT64 timestamps and DATEs; INT96 columns
// have no defined sort order, so their statistics are ignored.
//
// Scan returns the manifest: one FileInfo per file, in the order of files.
// RowGroupsRead and RowsRead count what this scan (this shard) decoded;
// Size, ETag and ModTime are those of the version opened, and a file whose
// ETag changed since it was listed is an error.
//
// Memory is bounded by Workers decoded row groups (projected columns only)
// plus a few open footers, whatever the dataset size, and on a remote
// store two fetch buffers per worker, each the size of the largest row
// group's compressed projected columns (Footprint.FetchBytes). With
// ReuseBuffers, each worker's buffers are those of its largest recent row
// group; they are dropped when Scan returns.
func (d *Dataset) Scan(ctx context.Context, files []storage.Object, spec ScanSpec, fn func(worker int, b *Batch) error) (Manifest, error) {
	man := Manifest{Files: make([]FileInfo, len(files))}
	for i, o := range files {
		man.Files[i] = FileInfo{Location: location(d.Store, o.Key), Key: o.Key, Size: o.Size, ETag: o.ETag, ModTime: o.ModTime}
	}
	if spec.ShardCount < 0 || (spec.ShardCount > 1 && (spec.ShardIndex < 0 || spec.ShardIndex >= spec.ShardCount)) {
		return man, d.wrap(fmt.Errorf("shard %d of %d: want 0 <= ShardIndex < ShardCount", spec.ShardIndex, spec.ShardCount))
	}
	for _, c := range spec.Columns {
		if c.Kind < KindString || c.Kind > KindTimestamp {
			return man, d.wrap(fmt.Errorf("column %q: invalid kind %v", c.Name, c.Kind))
		}
	}
	nw := workers(&spec)
	shards := max(spec.ShardCount, 1)
	poison := os.Getenv(poisonEnv) == "1"

	// Units are numbered in key order whatever order files came in, so
	// every shard agrees on the numbering.
	order := make([]int, len(files))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(files[a].Key, files[b].Key) })
	sorted := make([]storage.Object, len(files))
	for i, j := range order {
		sorted[i] = files[j]
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// Unit k goes to worker k mod nw, not to whichever worker is free:
	// each worker then sees the same units in the same order on every
	// run, so floating-point sums accumulated per worker, and merged in
	// worker order, are bit-identical between reruns with the same number
	// of workers (a reviewer's rerun reproduces the figures exactly). Row
	// groups are of similar size, so the static split costs little.
	units := make([]chan unit, nw)
	for w := range units {
		units[w] = make(chan unit, 1)
	}
	opened := make([]*pfile, len(files))

	// Producer: opens footers ahead (bounded), prunes, shards, hands out units.
	var prodErr error
	go func() {
		defer func() {
			for _, c := range units {
				close(c)
			}
		}()
		next, sent := 0, 0
		prodErr = d.forEachFooter(ctx, sorted, &spec, max(2, nw), func(si int, p *pfile) error {
			fi := order[si]
			opened[fi] = p
			if err := p.resolve(&spec); err != nil {
				p.close()
				return err
			}
			m := &man.Files[fi]
			m.Size, m.ETag, m.ModTime = p.obj.Size, p.obj.ETag, p.obj.ModTime
			rgs := p.f.RowGroups()
			m.RowGroups = len(rgs)
			m.Rows = p.f.NumRows()
			var mine []unit
			var off int64
			for rg, g := range rgs {
				rows := g.NumRows()
				if rows > 0 && p.keepRowGroup(rg, &spec) {
					if next%shards == spec.ShardIndex%shards {
						mine = append(mine, unit{p: p, fi: fi, rg: rg, offset: off})
					}
					next++
				}
				off += rows
			}
			m.RowGroupsRead = len(mine)
			if len(mine) == 0 {
				p.close()
				return nil
			}
			p.refs.Store(int64(len(mine)))
			for i, u := range mine {
				select {
				case units[sent%nw] <- u:
					sent++
				case <-ctx.Done():
					for range mine[i:] {
						p.release()
					}
					return context.Cause(ctx)
				}
			}
			return nil
		})
		if prodErr != nil {
			cancel(prodErr)
		}
	}()

	var wg sync.WaitGroup
	for w := range nw {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var spare []colBuf // this worker's last decoded slices, one set per projected column
			if spec.ReuseBuffers {
				spare = make([]colBuf, len(spec.Columns))
				for i, c := range spec.Columns {
					spare[i].recycle = c.RecycleStrings && !c.PresenceOnly
					spare[i].poison = spare[i].recycle && poison
				}
			}
			pf := newPrefetcher(len(spec.Columns))
			for f := range pf.run(ctx, units[w]) {
				if ctx.Err() == nil {
					if err := d.runUnit(ctx, w, f, &spec, spare, fn); err != nil {
						cancel(err)
					}
				}
				f.u.p.release()
				pf.done(f)
			}
		}()
	}
	wg.Wait()

	for fi, p := range opened {
		if p != nil {
			man.Files[fi].RowsRead = p.rowsRead.Load()
			man.Files[fi].BytesRead = p.count.n.Load()
		}
	}
	if err := context.Cause(ctx); err != nil {
		if errors.Is(err, context.Canceled) && prodErr != nil {
			err = prodErr
		}
		return man, d.wrap(err)
	}
	return man, nil
}

// fetchedUnit is a unit with its column chunks fetched (remote files) or
// the error fetching them.
type fetchedUnit struct {
	u    unit
	bufs []*chunkReader // nil for a local file
	set  *chunkSet      // the buffers bufs uses, for prefetcher.done
	err  error
}

// chunkSet is one row group's fetch buffer (its projected column chunks
// one after another) and their readers, recycled from row group to row
// group: the buffer grows to the largest row group fetched
// (Footprint.FetchBytes), no further.
type chunkSet struct {
	readers []chunkReader // by projected column
	buf     []byte
}

// prefetcher hands a worker its units, fetching a remote file's next row
// group while the worker decodes and scores the current one, so a
// worker waits on the store's latency (an S3 round trip, 10-50 ms) only
// when its work on a row group takes less. At most one row group beyond
// the current is held per worker (its compressed projected columns),
// in one of two buffer sets that alternate: fresh buffers per row group
// were garbage enough to keep the collector busy under the default soft
// heap limit. Local files pass through unfetched.
type prefetcher struct {
	free chan *chunkSet
}

// newPrefetcher returns a prefetcher for a scan of cols projected columns.
func newPrefetcher(cols int) *prefetcher {
	pf := &prefetcher{free: make(chan *chunkSet, 2)}
	pf.free <- &chunkSet{readers: make([]chunkReader, cols)}
	pf.free <- &chunkSet{readers: make([]chunkReader, cols)}
	return pf
}

// run fetches and hands over units in order; the caller must drain the
// returned channel and give each unit back with done once it is
// finished with the unit's buffers.
func (pf *prefetcher) run(ctx context.Context, units <-chan unit) <-chan fetchedUnit {
	out := make(chan fetchedUnit) // unbuffered: one row group ahead, no more
	go func() {
		defer close(out)
		for u := range units {
			f := fetchedUnit{u: u}
			if u.p.remote && ctx.Err() == nil {
				f.set = <-pf.free
				f.bufs, f.err = u.p.fetch(u.rg, f.set)
			}
			out <- f
		}
	}()
	return out
}

// done returns f's buffers for the next fetch.
func (pf *prefetcher) done(f fetchedUnit) {
	if f.set != nil {
		pf.free <- f.set
	}
}

// runUnit decodes one row group and hands it to fn. spare (nil unless
// ReuseBuffers) holds the worker's buffers: column i is decoded into
// spare[i]'s slices when they are large enough, and spare[i] is left
// holding the slices column i was decoded into, for the next row group.
func (d *Dataset) runUnit(ctx context.Context, w int, fu fetchedUnit, spec *ScanSpec, spare []colBuf, fn func(int, *Batch) error) (err error) {
	u := fu.u
	p := u.p
	g := p.f.RowGroups()[u.rg]
	rows := int(g.NumRows())
	// Sizes come from the footer; check them before allocating by them, so
	// a corrupt footer is an error rather than a giant allocation.
	meta := &p.f.Metadata().RowGroups[u.rg]
	if rows <= 0 || rows > math.MaxInt32 {
		return fmt.Errorf("%s: row group %d: corrupt footer: %d rows", p.obj.Key, u.rg, rows)
	}
	for i, cp := range p.cols {
		if cp.leaf != nil && meta.Columns[cp.leaf.index].MetaData.NumValues != int64(rows) {
			return fmt.Errorf("%s: row group %d: column %q: corrupt footer: column chunk has %d values, row group %d rows",
				p.obj.Key, u.rg, spec.Columns[i].Name, meta.Columns[cp.leaf.index].MetaData.NumValues, rows)
		}
	}
	b := &Batch{File: p.obj.Key, RowGroup: u.rg, Offset: u.offset, Rows: rows, Cols: make([]*Column, len(spec.Columns))}
	chunks := g.ColumnChunks()
	bufs := fu.bufs // fetched by prefetch (remote files)
	if fu.err != nil {
		return fmt.Errorf("%s: row group %d: %w", p.obj.Key, u.rg, fu.err)
	}
	for i, cp := range p.cols {
		if cp.leaf == nil {
			continue
		}
		if err := ctx.Err(); err != nil { // a cancelled scan stops between columns
			return err
		}
		name := spec.Columns[i].Name
		if cp.conv.presence && presentByStatistics(cp.leaf, &meta.Columns[cp.leaf.index].MetaData) {
			var sp *colBuf
			if spare != nil {
				sp = &spare[i]
			}
			b.Cols[i] = allPresent(name, rows, sp)
			continue
		}
		var pages parquet.Pages
		if fc, ok := chunks[cp.leaf.index].(*parquet.FileColumnChunk); ok && bufs != nil {
			pages = fc.PagesFrom(bufs[i])
		} else {
			pages = chunks[cp.leaf.index].Pages()
		}
		var sp *colBuf
		if spare != nil {
			sp = &spare[i]
		}
		col, err := decodeSafely(pages, cp.leaf, cp.conv, name, rows, sp)
		if err != nil {
			return fmt.Errorf("%s: row group %d: column %q: %w", p.obj.Key, u.rg, name, err)
		}
		b.Cols[i] = col
	}
	p.rowsRead.Add(int64(rows))
	err = fn(w, b)
	for i := range spare {
		spare[i].release()
	}
	if err != nil {
		return fmt.Errorf("%s: row group %d: %w", p.obj.Key, u.rg, err)
	}
	return nil
}

// fetch reads the projected column chunks of row group rg, all at once,
// for remote stores: on S3 each is one ranged GET, so a row group costs one
// round trip of latency rather than one per column. They are read into
// set's buffer, one after another; each worker holds two sets (the row
// group it decodes and the prefetched one). Every range is checked
// before any read starts, so a corrupt footer leaves no read running.
// Local files skip it: parquet-go's buffered reads from the page cache
// are ~10% faster than the extra copy.
func (p *pfile) fetch(rg int, set *chunkSet) ([]*chunkReader, error) {
	out := make([]*chunkReader, len(p.cols))
	var total int64
	for i, cp := range p.cols {
		start, n, ok := p.fetchRange(rg, i)
		if !ok {
			continue
		}
		if start < 0 || n < 0 || start+n > p.f.Size() {
			return nil, fmt.Errorf("column %q: corrupt footer: column chunk at bytes %d..%d outside the file's %d bytes", cp.leaf.path, start, start+n, p.f.Size())
		}
		set.readers[i] = chunkReader{off: start, buf: set.buf[:0], fallback: p.ra} // buf set below
		out[i] = &set.readers[i]
		total += n
	}
	if int64(cap(set.buf)) < total {
		set.buf = make([]byte, total)
	}
	errs := make([]error, len(p.cols))
	var wg sync.WaitGroup
	var at int64
	for i, c := range out {
		if c == nil {
			continue
		}
		start, n, _ := p.fetchRange(rg, i)
		c.buf = set.buf[at : at+n : at+n]
		at += n
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.ra.ReadAt(c.buf, start); err != nil && !(errors.Is(err, io.EOF) && start+n == p.f.Size()) {
				errs[i] = fmt.Errorf("column %q: reading bytes %d..%d: %w", p.cols[i].leaf.path, start, start+n, err)
			}
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// fetchRange is the byte range of projected column i's chunk in row
// group rg that fetch reads, and false for a column runUnit does not
// read (absent, or present in every row by its statistics).
func (p *pfile) fetchRange(rg, i int) (start, n int64, ok bool) {
	cp := p.cols[i]
	if cp.leaf == nil {
		return 0, 0, false
	}
	md := &p.f.Metadata().RowGroups[rg].Columns[cp.leaf.index].MetaData
	if cp.conv.presence && presentByStatistics(cp.leaf, md) {
		return 0, 0, false
	}
	// The same range parquet-go's page reader reads (FilePages.init).
	start = md.DataPageOffset
	if md.DictionaryPageOffset != 0 {
		start = md.DictionaryPageOffset
	}
	return start, md.TotalCompressedSize, true
}

// chunkReader serves one prefetched column chunk to parquet-go's page
// reader; reads outside it (none are expected) go to the file.
type chunkReader struct {
	off      int64
	buf      []byte
	fallback io.ReaderAt
}

func (c *chunkReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= c.off && off+int64(len(p)) <= c.off+int64(len(c.buf)) {
		return copy(p, c.buf[off-c.off:]), nil
	}
	return c.fallback.ReadAt(p, off)
}

// presentByStatistics reports whether a PresenceOnly column chunk is
// known from the footer, without reading it, to hold a non-empty value in
// every row: the column is required (no nulls by its schema) and either
// of a fixed length above zero or with a non-empty min_value (nothing
// sorts below the empty string, and a truncated minimum is still a lower
// bound). The deprecated min field is not trusted: old writers computed
// binary statistics wrongly (PARQUET-251).
func presentByStatistics(l *leaf, md *format.ColumnMetaData) bool {
	if l.maxDef != 0 || md.NumValues <= 0 {
		return false
	}
	e := l.elem
	if e.Type.Valid && e.Type.V == format.FixedLenByteArray && e.TypeLength.Valid && e.TypeLength.V > 0 {
		return true
	}
	return len(md.Statistics.MinValue) > 0
}

// allPresent is a PresenceOnly column of rows non-empty values, in sp's
// slices when they are large enough.
func allPresent(name string, rows int, sp *colBuf) *Column {
	c := newColumn(name, KindString, rows, sp)
	c.Dict = append(c.Dict, PresenceDict[:]...)
	for i := range c.Codes {
		c.Codes[i] = 1
	}
	if sp != nil {
		sp.keep(c)
	}
	return c
}

// decodeSafely is decodeChunk with parquet-go's panics on malformed pages
// (it trusts lengths in page headers in places) turned into errors.
func decodeSafely(pages parquet.Pages, l *leaf, cv conv, name string, rows int, sp *colBuf) (col *Column, err error) {
	defer func() {
		if p := recover(); p != nil {
			col, err = nil, fmt.Errorf("%w (decoder panicked: %v)", errCorrupt, p)
		}
	}()
	return decodeChunk(pages, l, cv, name, rows, sp)
}

// location is the full URI of key in store, for the manifest.
func location(s storage.Store, key string) string {
	return strings.TrimSuffix(s.URI(), "/") + "/" + key
}
