// Package file is the local-filesystem backend of storage.Store: a folder
// on disk, with the same atomicity and conditional-write contract as S3 so
// that tests, the demo and single-machine deployments behave like
// production.
package file

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/parity-eval/parity/storage"
)

func init() {
	storage.Register("file", func(_ context.Context, u *url.URL, _ storage.Options) (storage.Store, error) {
		p := u.Path
		if u.Host != "" && u.Host != "localhost" {
			p = u.Host + "/" + u.Path // file://relative/dir
		}
		return New(p)
	})
}

// tmpPrefix marks files being written; List never returns them, and the
// first write into a folder removes a killed writer's leftovers
// (sweepTemp).
const tmpPrefix = ".parity-tmp-"

// staleTmpAge is how long a temp file must have gone unwritten before a
// sweep removes it. A temp file lives from its first byte to its rename:
// seconds, minutes at most, even for the largest objects written here (a
// log file copied by parity cp: one write at disk speed, one fsync), and
// a staged one waits only for the few objects ahead of it. Age alone can tell a dead
// writer's file from a live one's on any process or host sharing the
// folder (parallel shards, two outputs under one parent); a pid and host
// in the name could not: parity is pid 1 in every container, and a
// pod's host name is never seen again. Were a live writer ever this
// slow, its rename would fail and its run stop with nothing partial.
const staleTmpAge = time.Hour

// File and folder modes: outputs can hold evaluation evidence, so they are
// not world-readable.
const (
	fileMode = 0o640
	dirMode  = 0o750
)

// Store is a folder on disk.
type Store struct {
	root  string
	swept sync.Map // folders swept of stale temp files (sweepTemp)
}

// New returns a store rooted at dir (created lazily on first write).
func New(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("file store %q: %w", dir, err)
	}
	return &Store{root: abs}, nil
}

// URI implements storage.Store.
func (s *Store) URI() string { return s.root }

// Root is the absolute folder of the store.
func (s *Store) Root() string { return s.root }

func (s *Store) path(key string) (string, error) {
	k, err := storage.CleanKey(key)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.root, filepath.FromSlash(k)), nil
}

func etagOf(fi fs.FileInfo) string {
	var ino uint64
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		ino = st.Ino
	}
	return fmt.Sprintf("%x-%x-%x", fi.Size(), fi.ModTime().UnixNano(), ino)
}

func (s *Store) object(key string, fi fs.FileInfo) storage.Object {
	return storage.Object{Key: key, Size: fi.Size(), ETag: etagOf(fi), ModTime: fi.ModTime().UTC()}
}

// List implements storage.Store.
func (s *Store) List(ctx context.Context, prefix string) ([]storage.Object, error) {
	var out []storage.Object
	dir := s.root
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		p, err := s.path(prefix[:i+1])
		if err != nil {
			return nil, err
		}
		dir = p
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), tmpPrefix) || strings.HasSuffix(d.Name(), ".parity-cas") {
			return nil
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		out = append(out, s.object(key, fi))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s/%s: %w", s.root, prefix, err)
	}
	storage.SortObjects(out)
	return out, nil
}

// ListLevel implements storage.Store.
func (s *Store) ListLevel(ctx context.Context, dir string) ([]string, []storage.Object, error) {
	p := s.root
	if dir != "" {
		var err error
		if p, err = s.path(dir); err != nil {
			return nil, nil, err
		}
	}
	ents, err := os.ReadDir(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("list %s: %w", p, err)
	}
	base := strings.TrimSuffix(dir, "/") + strings.Repeat("/", min(1, len(dir)))
	var dirs []string
	var objs []storage.Object
	for _, e := range ents {
		switch {
		case e.IsDir():
			dirs = append(dirs, base+e.Name()+"/")
		case strings.HasPrefix(e.Name(), tmpPrefix) || strings.HasSuffix(e.Name(), ".parity-cas"):
		default:
			fi, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, nil, fmt.Errorf("list %s: %w", p, err)
			}
			objs = append(objs, s.object(base+e.Name(), fi))
		}
	}
	storage.SortObjects(objs)
	return dirs, objs, nil
}

type reader struct {
	*os.File
	obj storage.Object
}

func (r *reader) Size() int64            { return r.obj.Size }
func (r *reader) Object() storage.Object { return r.obj }

// Open implements storage.Store.
func (s *Store) Open(_ context.Context, key string) (storage.Reader, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, wrapNotExist(p, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &reader{File: f, obj: s.object(key, fi)}, nil
}

// Get implements storage.Store.
func (s *Store) Get(_ context.Context, key string) ([]byte, storage.Object, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, storage.Object{}, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, storage.Object{}, wrapNotExist(p, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, storage.Object{}, err
	}
	data := make([]byte, fi.Size())
	if _, err := f.ReadAt(data, 0); err != nil && fi.Size() > 0 {
		return nil, storage.Object{}, fmt.Errorf("read %s: %w", p, err)
	}
	return data, s.object(key, fi), nil
}

func wrapNotExist(p string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", p, storage.ErrNotExist)
	}
	return err
}

// writeTemp writes data to a fresh temp file beside p and syncs it,
// sweeping the folder first if this Store has not written to it yet.
func (s *Store) writeTemp(p string, data []byte) (string, error) {
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return "", err
	}
	if _, done := s.swept.LoadOrStore(dir, true); !done {
		sweepTemp(dir, time.Now())
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(dir, tmpPrefix+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// sweepTemp removes the temp files in dir unwritten for staleTmpAge:
// left by a writer killed mid-write (SIGKILL, OOM, a lost node), they
// would otherwise stay forever and pile up with every retry. Best effort:
// a folder that cannot be read is left as it is, and the write goes on.
func sweepTemp(dir string, now time.Time) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if e.IsDir() || !strings.HasPrefix(e.Name(), tmpPrefix) {
			continue
		}
		fi, err := e.Info()
		if err != nil || now.Sub(fi.ModTime()) < staleTmpAge {
			continue
		}
		p := filepath.Join(dir, e.Name())
		switch err := os.Remove(p); {
		case err == nil:
			slog.Info("removed a temporary file left by a writer killed mid-write", "path", p, "modified", fi.ModTime().UTC().Format(time.RFC3339))
		case !errors.Is(err, fs.ErrNotExist): // else another process swept it first
			slog.Warn("removing a stale temporary file", "path", p, "err", err)
		}
	}
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

func (s *Store) stat(key, p string) (storage.Object, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return storage.Object{}, err
	}
	return s.object(key, fi), nil
}

// Put implements storage.Store: temp file, fsync, rename, fsync folder.
func (s *Store) Put(ctx context.Context, key string, data []byte) (storage.Object, error) {
	p, err := s.path(key)
	if err != nil {
		return storage.Object{}, err
	}
	tmp, err := s.writeTemp(p, data)
	if err != nil {
		return storage.Object{}, fmt.Errorf("write %s: %w", p, err)
	}
	return (&staged{s: s, key: key, p: p, tmp: tmp}).Commit(ctx)
}

// Stage implements storage.Stager: Put's temp file, written and fsynced,
// not yet renamed into place.
func (s *Store) Stage(_ context.Context, key string, data []byte) (storage.Staged, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	tmp, err := s.writeTemp(p, data)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", p, err)
	}
	return &staged{s: s, key: key, p: p, tmp: tmp}, nil
}

// staged is a temp file Stage wrote.
type staged struct {
	s           *Store
	key, p, tmp string
}

// Commit renames the temp file into place and fsyncs its folder, as Put.
func (st *staged) Commit(context.Context) (storage.Object, error) {
	if err := os.Rename(st.tmp, st.p); err != nil {
		os.Remove(st.tmp)
		return storage.Object{}, fmt.Errorf("write %s: %w", st.p, err)
	}
	syncDir(filepath.Dir(st.p))
	return st.s.stat(st.key, st.p)
}

// Discard removes the temp file.
func (st *staged) Discard() { os.Remove(st.tmp) }

// PutIfAbsent implements storage.Store with link(2), which fails when the
// target exists: the same create-once semantics as If-None-Match: *.
func (s *Store) PutIfAbsent(_ context.Context, key string, data []byte) (storage.Object, error) {
	p, err := s.path(key)
	if err != nil {
		return storage.Object{}, err
	}
	tmp, err := s.writeTemp(p, data)
	if err != nil {
		return storage.Object{}, fmt.Errorf("write %s: %w", p, err)
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, p); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return storage.Object{}, fmt.Errorf("%s exists: %w", p, storage.ErrPrecondition)
		}
		return storage.Object{}, fmt.Errorf("write %s: %w", p, err)
	}
	syncDir(filepath.Dir(p))
	return s.stat(key, p)
}

// casLock serialises conditional operations on one key across processes
// with flock(2) on a sidecar file.
func casLock(p string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(p), dirMode); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p+".parity-cas", os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// PutIfMatch implements storage.Store.
func (s *Store) PutIfMatch(_ context.Context, key string, data []byte, etag string) (storage.Object, error) {
	p, err := s.path(key)
	if err != nil {
		return storage.Object{}, err
	}
	unlock, err := casLock(p)
	if err != nil {
		return storage.Object{}, fmt.Errorf("lock %s: %w", p, err)
	}
	defer unlock()
	cur, err := s.stat(key, p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return storage.Object{}, fmt.Errorf("%s does not exist: %w", p, storage.ErrPrecondition)
		}
		return storage.Object{}, err
	}
	if cur.ETag != etag {
		return storage.Object{}, fmt.Errorf("%s changed (etag %s, want %s): %w", p, cur.ETag, etag, storage.ErrPrecondition)
	}
	tmp, err := s.writeTemp(p, data)
	if err != nil {
		return storage.Object{}, fmt.Errorf("write %s: %w", p, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return storage.Object{}, fmt.Errorf("write %s: %w", p, err)
	}
	syncDir(filepath.Dir(p))
	return s.stat(key, p)
}

// Delete implements storage.Store.
func (s *Store) Delete(_ context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", p, err)
	}
	return nil
}

// DeleteIfMatch implements storage.Store.
func (s *Store) DeleteIfMatch(_ context.Context, key string, etag string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	unlock, err := casLock(p)
	if err != nil {
		return fmt.Errorf("lock %s: %w", p, err)
	}
	defer unlock()
	cur, err := s.stat(key, p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s does not exist: %w", p, storage.ErrPrecondition)
		}
		return err
	}
	if cur.ETag != etag {
		return fmt.Errorf("%s changed (etag %s, want %s): %w", p, cur.ETag, etag, storage.ErrPrecondition)
	}
	if err := os.Remove(p); err != nil {
		return fmt.Errorf("delete %s: %w", p, err)
	}
	return nil
}
