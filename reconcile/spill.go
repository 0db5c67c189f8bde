package reconcile

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/cespare/xxhash/v2"
)

const (
	sideLegacy = 0
	sideNew    = 1
)

var sideNames = [2]string{"legacy", "new"}

// Fan-out of the key-hash partitioning. The first level splits 256 ways,
// so one spill pass suffices while the data (with per-record overhead)
// are up to 256 × memory_limit_mb; a partition that is still too large is
// split again 16 ways with the next hash bits.
const (
	fanout0 = 256
	bits0   = 8
	fanoutN = 16
	bitsN   = 4
	// chunkSize is the write unit of a spill file: a partition's records
	// are buffered up to this size and appended to its side's file as one
	// chunk. With 256 partitions the buffers cost 4 MiB per side.
	chunkSize = 16 << 10
)

// chunk is one run of a partition's records in a spill file.
type chunk struct {
	off int64
	n   int
}

// partitioner holds the records of both sides, split into partitions by
// key hash: in memory while the records fit in limit bytes, otherwise in
// one spill file per side. A spill file interleaves chunks of every
// partition and an in-memory index lists each partition's chunks, so a
// level costs two files whatever its fan-out (creating files is the slow
// part of spilling on overlay and network file systems).
type partitioner struct {
	limit  int64
	fanout int
	shift  uint // partition = (xxhash(key) >> shift) & (fanout-1)
	depth  int
	tmp    string // parent folder for spill folders
	dir    string // this partitioner's spill folder, once spilled

	mu      sync.Mutex
	used    int64 // bytes charged against limit while in memory
	spilled bool
	mem     [2][][]byte // in memory: the partitions; spilled: pending chunks
	recs    [2][]int64
	bytes   [2][]int64
	chunks  [2][][]chunk
	file    [2]*os.File
	off     [2]int64
	written int64 // bytes written to spill files (this level)
}

func newPartitioner(limit int64, fanout int, shift uint, depth int, tmp string) *partitioner {
	p := &partitioner{limit: limit, fanout: fanout, shift: shift, depth: depth, tmp: tmp}
	for s := range 2 {
		p.mem[s] = make([][]byte, fanout)
		p.recs[s] = make([]int64, fanout)
		p.bytes[s] = make([]int64, fanout)
		p.chunks[s] = make([][]chunk, fanout)
	}
	return p
}

// part is the partition of a key hash at this level.
func (p *partitioner) part(h uint64) int { return int((h >> p.shift) & uint64(p.fanout-1)) }

// add appends encoded records (several, already length-prefixed) of one
// side to partition i.
func (p *partitioner) add(side, i int, data []byte, nrec int64) error {
	if len(data) == 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.recs[side][i] += nrec
	p.bytes[side][i] += int64(len(data))
	if !p.spilled {
		// Charge what the buffers really take: append grows a buffer's
		// capacity ahead of its length (one partition's growth past
		// the limit is at most a 256th of the data).
		if p.used+int64(len(data))+nrec*recOverhead <= p.limit {
			old := cap(p.mem[side][i])
			p.mem[side][i] = append(p.mem[side][i], data...)
			p.used += int64(cap(p.mem[side][i])-old) + nrec*recOverhead
			return nil
		}
		if err := p.spill(); err != nil {
			return err
		}
	}
	p.mem[side][i] = append(p.mem[side][i], data...)
	if len(p.mem[side][i]) >= chunkSize {
		return p.flush(side, i)
	}
	return nil
}

// spill switches to files: every in-memory partition becomes pending
// chunks, flushed now.
func (p *partitioner) spill() error {
	dir, err := os.MkdirTemp(p.tmp, fmt.Sprintf("spill-d%d-*", p.depth))
	if err != nil {
		return fmt.Errorf("reconcile: spill folder: %w", err)
	}
	p.dir, p.spilled = dir, true
	for s := range 2 {
		for i := range p.mem[s] {
			if err := p.flush(s, i); err != nil {
				return err
			}
		}
	}
	p.used = 0
	return nil
}

func (p *partitioner) path(side int) string {
	return filepath.Join(p.dir, sideNames[side]+".rec")
}

// flush appends partition i's pending records to its side's file as one chunk.
func (p *partitioner) flush(side, i int) error {
	data := p.mem[side][i]
	if len(data) == 0 {
		return nil
	}
	f := p.file[side]
	if f == nil {
		var err error
		if f, err = os.OpenFile(p.path(side), os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o600); err != nil {
			return fmt.Errorf("reconcile: spill file: %w", err)
		}
		p.file[side] = f
	}
	if _, err := f.WriteAt(data, p.off[side]); err != nil {
		return fmt.Errorf("reconcile: write spill file %s: %w", p.path(side), err)
	}
	p.chunks[side][i] = append(p.chunks[side][i], chunk{off: p.off[side], n: len(data)})
	p.off[side] += int64(len(data))
	p.written += int64(len(data))
	p.mem[side][i] = data[:0]
	return nil
}

// closeSide flushes one side's pending chunks (after its scan) and frees
// their buffers.
func (p *partitioner) closeSide(side int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.spilled {
		return nil
	}
	for i := range p.mem[side] {
		if err := p.flush(side, i); err != nil {
			return err
		}
		p.mem[side][i] = nil
	}
	return nil
}

// close closes the spill files and removes the spill folder.
func (p *partitioner) close() {
	for s := range 2 {
		if p.file[s] != nil {
			p.file[s].Close()
			p.file[s] = nil
		}
	}
	if p.dir != "" {
		os.RemoveAll(p.dir)
	}
}

// cost is what joining partition i in memory costs against the limit.
func (p *partitioner) cost(i int) int64 {
	return p.bytes[0][i] + p.bytes[1][i] + (p.recs[0][i]+p.recs[1][i])*recOverhead
}

// load returns one side of partition i (and forgets the in-memory copy).
func (p *partitioner) load(side, i int) ([]byte, error) {
	if !p.spilled {
		b := p.mem[side][i]
		p.mem[side][i] = nil
		return b, nil
	}
	b := make([]byte, 0, p.bytes[side][i])
	for _, c := range p.chunks[side][i] {
		n := len(b)
		b = b[:n+c.n]
		if _, err := p.file[side].ReadAt(b[n:], c.off); err != nil {
			return nil, fmt.Errorf("reconcile: read spill file %s: %w", p.path(side), err)
		}
	}
	p.chunks[side][i] = nil
	return b, nil
}

// split re-partitions partition i of a spilled partitioner with the next
// hash bits into a child that spills straight away, one chunk at a time.
func (p *partitioner) split(i int) (*partitioner, error) {
	c := newPartitioner(0, fanoutN, p.shift+uint(bitsOf(p.fanout)), p.depth+1, p.tmp)
	var buf []byte
	for side := range 2 {
		for _, ch := range p.chunks[side][i] {
			if cap(buf) < ch.n {
				buf = make([]byte, ch.n)
			}
			buf = buf[:ch.n]
			if _, err := p.file[side].ReadAt(buf, ch.off); err != nil {
				c.close()
				return nil, fmt.Errorf("reconcile: read spill file %s: %w", p.path(side), err)
			}
			for rest := buf; len(rest) > 0; {
				body, next, err := nextRecord(rest)
				if err == nil {
					var key []byte
					if key, err = keyOf(body); err == nil {
						// the whole record, length prefix included
						err = c.add(side, c.part(xxhash.Sum64(key)), rest[:len(rest)-len(next)], 1)
					}
				}
				if err != nil {
					c.close()
					return nil, fmt.Errorf("reconcile: split spill file %s: %w", p.path(side), err)
				}
				rest = next
			}
		}
		p.chunks[side][i] = nil
		if err := c.closeSide(side); err != nil {
			c.close()
			return nil, err
		}
	}
	c.limit = p.limit
	return c, nil
}

func bitsOf(fanout int) int {
	b := 0
	for 1<<b < fanout {
		b++
	}
	return b
}

// canSplit reports whether there are hash bits left for another level.
func (p *partitioner) canSplit() bool { return p.shift+uint(bitsOf(p.fanout))+bitsN <= 64 }
