package datasets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parity-eval/parity/storage"
)

// Dataset is a Parquet dataset: a folder (or S3 prefix) of Parquet files,
// Hive-partitioned (dt=2026-11-21/hour=06/part-0.parquet) or flat.
type Dataset struct {
	Store  storage.Store
	Prefix string // folder inside the store ("" = its root)
	Name   string // "logs", "labels": used in errors
}

// dir is the prefix as a folder key: "" or "logs/".
func (d *Dataset) dir() string {
	p := strings.Trim(d.Prefix, "/")
	if p == "" {
		return ""
	}
	return p + "/"
}

// Files lists the dataset's Parquet files, sorted by key, whose Hive
// partitions can overlap [from, to); zero times mean no bound.
//
// Partition folders dt=/date= (2006-01-02, UTC) and hour= (0-23, inside a
// dt folder) are pruned without being listed: the walk goes folder by
// folder with Store.ListLevel and only lists the objects of partitions it
// keeps. Other partition keys (model=, region=) are walked, never pruned;
// unparsable values are kept. A file beside partition folders, which no
// partition dates, is always kept. With zero from and to the whole prefix
// is listed in one call.
//
// Names starting with "." or "_" (_SUCCESS, .crc, _temporary/) are
// skipped, files and folders alike. Every other file must be Parquet: one
// without the PAR1 magic at both ends is an error naming it.
func (d *Dataset) Files(ctx context.Context, from, to time.Time) ([]storage.Object, error) {
	if d.Store == nil {
		return nil, d.wrap(errors.New("no store"))
	}
	var objs []storage.Object
	var err error
	if from.IsZero() && to.IsZero() {
		objs, err = d.Store.List(ctx, d.dir())
	} else {
		err = d.walk(ctx, d.dir(), time.Time{}, from, to, &objs)
	}
	if err != nil {
		return nil, d.wrap(fmt.Errorf("listing %s: %w", location(d.Store, d.dir()), err))
	}
	out := objs[:0]
	for _, o := range objs {
		if !hidden(strings.TrimPrefix(o.Key, d.dir())) && !strings.HasSuffix(o.Key, "/") {
			out = append(out, o)
		}
	}
	storage.SortObjects(out)
	if err := d.checkMagic(ctx, out); err != nil {
		return nil, d.wrap(err)
	}
	return out, nil
}

// Exists reports whether the dataset's location holds any object at all,
// so a caller finding no files for its time range can tell a window
// without data from a location that is wrong or not mounted (a local
// folder that does not exist and an S3 prefix without objects both list
// as empty).
func (d *Dataset) Exists(ctx context.Context) (bool, error) {
	if d.Store == nil {
		return false, d.wrap(errors.New("no store"))
	}
	dirs, objs, err := d.Store.ListLevel(ctx, d.dir())
	return len(dirs) > 0 || len(objs) > 0, d.wrapList(err)
}

func (d *Dataset) wrapList(err error) error {
	if err == nil {
		return nil
	}
	return d.wrap(fmt.Errorf("listing %s: %w", location(d.Store, d.dir()), err))
}

// hidden reports whether any element of a relative key starts with "." or
// "_", the Hadoop convention for files readers skip.
func hidden(rel string) bool {
	for _, part := range strings.Split(rel, "/") {
		if strings.HasPrefix(part, ".") || strings.HasPrefix(part, "_") {
			return true
		}
	}
	return false
}

// walk collects the objects under dir, pruning partition folders that
// cannot overlap [from, to). day is the dt= partition of an ancestor, so
// an hour= folder below it has a known hour.
func (d *Dataset) walk(ctx context.Context, dir string, day time.Time, from, to time.Time, out *[]storage.Object) error {
	all, files, err := d.Store.ListLevel(ctx, dir)
	if err != nil {
		return err
	}
	var subs []string
	for _, sub := range all {
		if !hidden(path.Base(strings.TrimSuffix(sub, "/"))) {
			subs = append(subs, sub)
		}
	}
	if len(subs) == 0 {
		// A leaf partition (perhaps with a _temporary folder beside its
		// files, which Files filters out).
		objs, err := d.Store.List(ctx, dir)
		if err != nil {
			return err
		}
		*out = append(*out, objs...)
		return nil
	}
	// Files beside partition folders (a file copied into the root of a
	// Hive-partitioned log) have no partition to prune them by: they are
	// read, and their rows' timestamps decide their windows. They used
	// to be skipped without a word.
	*out = append(*out, files...)
	for _, sub := range subs {
		name := path.Base(strings.TrimSuffix(sub, "/"))
		childDay := day
		if lo, hi, ok := partitionRange(name, day); ok {
			if (!to.IsZero() && !lo.Before(to)) || (!from.IsZero() && !hi.After(from)) {
				continue
			}
			if hi.Sub(lo) == 24*time.Hour {
				childDay = lo
			}
		}
		if err := d.walk(ctx, sub, childDay, from, to, out); err != nil {
			return err
		}
	}
	return nil
}

// partitionRange is the time range [lo, hi) a partition folder name
// covers, when it is a dt/date or (below a dt) an hour partition.
func partitionRange(name string, day time.Time) (lo, hi time.Time, ok bool) {
	k, v, found := strings.Cut(name, "=")
	if !found {
		return lo, hi, false
	}
	switch strings.ToLower(k) {
	case "dt", "date":
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return lo, hi, false
		}
		return t, t.Add(24 * time.Hour), true
	case "hour":
		h, err := strconv.Atoi(v)
		if err != nil || h < 0 || h > 23 || day.IsZero() {
			return lo, hi, false
		}
		lo = day.Add(time.Duration(h) * time.Hour)
		return lo, lo.Add(time.Hour), true
	}
	return lo, hi, false
}

// checkMagic verifies that every object starts and ends with PAR1, with a
// few objects in flight at a time.
func (d *Dataset) checkMagic(ctx context.Context, objs []storage.Object) error {
	errs := make([]error, len(objs))
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range objs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = d.magic(ctx, objs[i].Key)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// magic reads the last 4 bytes (one ranged GET on S3) and, only when they
// are not PAR1, the first 4 to tell a truncated Parquet file from
// something else.
func (d *Dataset) magic(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r, err := d.Store.Open(ctx, key)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	defer r.Close()
	read := func(b []byte, off int64) error {
		if off < 0 {
			return nil
		}
		if _, err := r.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: %w", key, err)
		}
		return nil
	}
	var head, tail [4]byte
	size := r.Size()
	if size >= 12 { // header magic + footer length + footer magic
		if err := read(tail[:], size-4); err != nil {
			return err
		}
		if string(tail[:]) == "PAR1" {
			return nil
		}
	}
	if size >= 4 {
		if err := read(head[:], 0); err != nil {
			return err
		}
	}
	if string(head[:]) != "PAR1" {
		return fmt.Errorf("%s: not a Parquet file (no PAR1 magic)", key)
	}
	return fmt.Errorf("%s: truncated Parquet file (PAR1 magic at the start but not at the end; was it still being written?)", key)
}
