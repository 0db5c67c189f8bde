package storagetest_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parity-eval/parity/storage"
	"github.com/parity-eval/parity/storage/file"
)

// stagingStore is a real local-folder store whose staging takes a random
// time (so stages finish out of order) and can fail for one key, and
// which records the order objects are committed in.
type stagingStore struct {
	*file.Store
	failKey string

	mu        sync.Mutex
	r         *rand.Rand
	committed []string
}

func (s *stagingStore) Stage(ctx context.Context, key string, data []byte) (storage.Staged, error) {
	s.mu.Lock()
	d := time.Duration(s.r.IntN(3000)) * time.Microsecond
	s.mu.Unlock()
	time.Sleep(d)
	if key == s.failKey {
		return nil, errors.New("disk full (injected)")
	}
	st, err := s.Store.Stage(ctx, key, data)
	if err != nil {
		return nil, err
	}
	return &recordedStage{Staged: st, s: s, key: key}, nil
}

type recordedStage struct {
	storage.Staged
	s   *stagingStore
	key string
}

func (r *recordedStage) Commit(ctx context.Context) (storage.Object, error) {
	r.s.mu.Lock()
	r.s.committed = append(r.s.committed, r.key)
	r.s.mu.Unlock()
	return r.Staged.Commit(ctx)
}

func newStagingStore(t *testing.T, failKey string) (*stagingStore, string) {
	dir := t.TempDir()
	fst, err := file.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &stagingStore{Store: fst, failKey: failKey, r: rand.New(rand.NewPCG(1, 2))}, dir
}

// tempFiles lists the temp files left under dir.
func tempFiles(t *testing.T, dir string) []string {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".parity-tmp-") {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOrderedCommitsInPutOrder: with stages finishing out of order, every
// object is committed in the order of its Put, each key holds its last
// Put's data, and a Get right after a Put (still being written) sees it.
func TestOrderedCommitsInPutOrder(t *testing.T) {
	s, dir := newStagingStore(t, "")
	o := storage.Ordered(s, 4)
	ctx := context.Background()
	var want []string
	for i := range 60 {
		key := fmt.Sprintf("w%02d/out%d.json", i/3, i%3)
		if _, err := o.Put(ctx, key, []byte(key)); err != nil {
			t.Fatal(err)
		}
		want = append(want, key)
	}
	// The same key twice in flight: the later data wins.
	for _, v := range []string{"first", "second"} {
		if _, err := o.Put(ctx, "twice", []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	want = append(want, "twice", "twice")
	if got, _, err := o.Get(ctx, "twice"); err != nil || string(got) != "second" {
		t.Fatalf("Get right after Put = %q, %v; want the second write", got, err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.committed, want) {
		t.Fatalf("committed out of order:\n got %q\nwant %q", s.committed, want)
	}
	for _, key := range want[:60] {
		if got, _, err := s.Get(ctx, key); err != nil || string(got) != key {
			t.Fatalf("%s = %q, %v", key, got, err)
		}
	}
	if tmp := tempFiles(t, dir); len(tmp) > 0 {
		t.Fatalf("temp files left: %q", tmp)
	}
	if _, err := o.Put(ctx, "late", nil); err == nil {
		t.Fatal("Put after Close succeeded")
	}
}

// TestOrderedStopsAtFailedWrite: when one write fails, the writes before
// it are visible, it and every later one are not (their staged files are
// removed), later Puts and Flush return its error, which names its key,
// and reads fail with it too.
func TestOrderedStopsAtFailedWrite(t *testing.T) {
	s, dir := newStagingStore(t, "k05")
	o := storage.Ordered(s, 4)
	ctx := context.Background()
	var putErr error
	for i := range 12 {
		if _, err := o.Put(ctx, fmt.Sprintf("k%02d", i), []byte{byte(i)}); err != nil && putErr == nil {
			putErr = err
		}
	}
	err := o.Flush()
	if err == nil || !strings.Contains(err.Error(), "k05") || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Flush = %v, want the failure of k05", err)
	}
	if putErr != nil && putErr.Error() != err.Error() {
		t.Fatalf("a later Put returned %v, want the first failure %v", putErr, err)
	}
	if _, err := o.Put(ctx, "after", nil); err == nil {
		t.Fatal("Put after a failed write succeeded")
	}
	if _, _, err := o.Get(ctx, "k00"); err == nil {
		t.Fatal("Get after a failed write succeeded")
	}
	for i := range 12 {
		_, _, gerr := s.Get(ctx, fmt.Sprintf("k%02d", i))
		if visible := gerr == nil; visible != (i < 5) {
			t.Errorf("k%02d visible = %v (%v), want %v", i, visible, gerr, i < 5)
		}
	}
	if _, _, err := s.Get(ctx, "after"); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("the Put after the failure was written: %v", err)
	}
	o.Close()
	if tmp := tempFiles(t, dir); len(tmp) > 0 {
		t.Fatalf("temp files left: %q", tmp)
	}
}

// TestOrderedWithoutStager: over a store that cannot stage (S3), Put is
// the store's own: done when it returns, with the object's ETag.
func TestOrderedWithoutStager(t *testing.T) {
	fst, err := file.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o := storage.Ordered(struct{ storage.Store }{fst}, 4) // hides Stage
	obj, err := o.Put(context.Background(), "a", []byte("x"))
	if err != nil || obj.ETag == "" {
		t.Fatalf("Put = %+v, %v; want a written object with an ETag", obj, err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkPutWindowOutputs writes ten windows' six 200 KiB outputs, each
// in its own folder, into a local folder: one Put after another, and
// through Ordered (the next files fsynced while the current one is
// renamed). Wall time: the fsyncs dominate.
func BenchmarkPutWindowOutputs(b *testing.B) {
	data := make([]byte, 200<<10)
	for _, mode := range []string{"sequential", "ordered"} {
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				fst, err := file.New(b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				var st storage.Store = fst
				o := storage.Ordered(fst, 4)
				if mode == "ordered" {
					st = o
				}
				b.StartTimer()
				for w := range 10 {
					for _, k := range []string{"aggregates", "manifests", "history", "evaluations", "scores", "verdicts"} {
						if _, err := st.Put(context.Background(), fmt.Sprintf("%s/window=%d/out", k, w), data); err != nil {
							b.Fatal(err)
						}
					}
				}
				if err := o.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// gatedStager is a real local-folder store whose staging waits for gate
// to close.
type gatedStager struct {
	*file.Store
	gate chan struct{}
}

func (g *gatedStager) Stage(ctx context.Context, key string, data []byte) (storage.Staged, error) {
	<-g.gate
	return g.Store.Stage(ctx, key, data)
}

// TestOrderedStopsWhenCancelled: writes whose context is cancelled while
// they wait (jobs: the run lock's lease lost) are not made visible, their
// staged files are removed, Flush reports the cancellation, and a Put
// with a cancelled context writes nothing and fails the writes after it.
func TestOrderedStopsWhenCancelled(t *testing.T) {
	dir := t.TempDir()
	fst, err := file.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	g := &gatedStager{Store: fst, gate: make(chan struct{})}
	o := storage.Ordered(g, 4)
	ctx, cancel := context.WithCancel(context.Background())
	for _, k := range []string{"a", "b"} {
		if _, err := o.Put(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	close(g.gate)
	if err := o.Flush(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Flush = %v, want the cancellation", err)
	}
	o.Close()
	// On a fresh store: a Put with a cancelled context writes nothing and
	// fails every later Put, even one with a live context.
	o2 := storage.Ordered(fst, 4)
	if _, err := o2.Put(ctx, "c", []byte("c")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context = %v, want the cancellation", err)
	}
	if _, err := o2.Put(context.Background(), "d", []byte("d")); err == nil {
		t.Error("a Put after a cancelled one succeeded")
	}
	if err := o2.Close(); !errors.Is(err, context.Canceled) {
		t.Errorf("Close = %v, want the cancellation", err)
	}
	for _, k := range []string{"a", "b", "c", "d"} {
		if _, _, err := fst.Get(context.Background(), k); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("%s was written after the cancellation: %v", k, err)
		}
	}
	if tmp := tempFiles(t, dir); len(tmp) > 0 {
		t.Fatalf("temp files left: %q", tmp)
	}
}
