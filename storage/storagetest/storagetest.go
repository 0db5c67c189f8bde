// Package storagetest holds what every storage backend is tested with:
//   - Run, the conformance suite for the storage.Store contract, so the
//     file and S3 backends are held to the same behaviour;
//   - StartS3, a real S3-compatible server (versitygw) for integration
//     tests;
//   - FaultProxy, an HTTP proxy that injects S3 failures (503 SlowDown,
//     500, connection resets, delays, truncated bodies) between a client
//     and that server.
package storagetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parity-eval/parity/storage"
)

// Run checks the storage.Store contract. newStore must return an empty
// store that no other test uses.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store)
	}{
		{"URI", testURI},
		{"PutGet", testPutGet},
		{"Missing", testMissing},
		{"BadKeys", testBadKeys},
		{"Replace", testReplace},
		{"Empty", testEmpty},
		{"ListOrderAndPrefix", testList},
		{"ListLevel", testListLevel},
		{"RangedReads", testRangedReads},
		{"ConcurrentReadAt", testConcurrentReadAt},
		{"AtomicPut", testAtomicPut},
		{"PutIfAbsent", testPutIfAbsent},
		{"PutIfMatch", testPutIfMatch},
		{"DeleteIfMatch", testDeleteIfMatch},
		{"Delete", testDelete},
		{"PutIfAbsentRace", testPutIfAbsentRace},
		{"PutIfMatchRace", testPutIfMatchRace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func mustPut(t *testing.T, s storage.Store, key string, data []byte) storage.Object {
	t.Helper()
	o, err := s.Put(ctx(t), key, data)
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return o
}

func mustGet(t *testing.T, s storage.Store, key string) ([]byte, storage.Object) {
	t.Helper()
	b, o, err := s.Get(ctx(t), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return b, o
}

func testURI(t *testing.T, s storage.Store) {
	if s.URI() == "" {
		t.Fatal("URI() is empty")
	}
}

func testPutGet(t *testing.T, s storage.Store) {
	data := []byte("hello, parity\n")
	o := mustPut(t, s, "a/b/c.txt", data)
	if o.Key != "a/b/c.txt" || o.Size != int64(len(data)) || o.ETag == "" {
		t.Fatalf("Put returned %+v, want key a/b/c.txt, size %d and an ETag", o, len(data))
	}
	got, g := mustGet(t, s, "a/b/c.txt")
	if !bytes.Equal(got, data) {
		t.Fatalf("Get = %q, want %q", got, data)
	}
	if g.ETag != o.ETag || g.Size != o.Size || g.Key != o.Key {
		t.Fatalf("Get object %+v disagrees with Put's %+v", g, o)
	}
	if g.ModTime.IsZero() {
		t.Fatal("Get: zero ModTime")
	}
}

func testMissing(t *testing.T, s storage.Store) {
	c := ctx(t)
	if _, _, err := s.Get(c, "no/such/key"); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("Get(missing) err = %v, want ErrNotExist", err)
	} else if !strings.Contains(err.Error(), "no/such/key") {
		t.Fatalf("Get(missing) err = %q does not name the object", err)
	}
	if _, err := s.Open(c, "no/such/key"); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("Open(missing) err = %v, want ErrNotExist", err)
	}
	if l, err := s.List(c, "no/such/"); err != nil || len(l) != 0 {
		t.Fatalf("List(missing prefix) = %v, %v; want nothing, nil", l, err)
	}
	if d, l, err := s.ListLevel(c, "no/such"); err != nil || len(d) != 0 || len(l) != 0 {
		t.Fatalf("ListLevel(missing) = %v, %v, %v; want nothing, nil", d, l, err)
	}
}

func testBadKeys(t *testing.T, s storage.Store) {
	c := ctx(t)
	for _, k := range []string{"", "/abs", "../up", "a/../../up"} {
		if _, err := s.Put(c, k, []byte("x")); err == nil {
			t.Errorf("Put(%q) succeeded, want an error", k)
		}
		if _, _, err := s.Get(c, k); err == nil || errors.Is(err, storage.ErrNotExist) {
			t.Errorf("Get(%q) err = %v, want a key error", k, err)
		}
	}
}

func testReplace(t *testing.T, s storage.Store) {
	o1 := mustPut(t, s, "k", []byte("version one"))
	o2 := mustPut(t, s, "k", []byte("version two, longer"))
	if o1.ETag == o2.ETag {
		t.Fatalf("ETag unchanged (%s) after replacing with different content", o1.ETag)
	}
	got, g := mustGet(t, s, "k")
	if string(got) != "version two, longer" || g.ETag != o2.ETag {
		t.Fatalf("Get after replace = %q (etag %s), want version two (etag %s)", got, g.ETag, o2.ETag)
	}
}

func testEmpty(t *testing.T, s storage.Store) {
	mustPut(t, s, "empty", nil)
	got, o := mustGet(t, s, "empty")
	if len(got) != 0 || o.Size != 0 {
		t.Fatalf("Get(empty) = %d bytes, size %d; want 0", len(got), o.Size)
	}
	r, err := s.Open(ctx(t), "empty")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Size() != 0 {
		t.Fatalf("Size() = %d, want 0", r.Size())
	}
	if n, err := r.ReadAt(make([]byte, 1), 0); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt on empty = %d, %v; want 0, io.EOF", n, err)
	}
}

func testList(t *testing.T, s storage.Store) {
	keys := []string{"b", "a/2", "a/b/3", "ab", "a/1", "a/b/c/4", "c/dt=2026-01-02/x", "c/dt=2026-01-01/x"}
	want := map[string]int{}
	for i, k := range keys {
		mustPut(t, s, k, make([]byte, i+1))
		want[k] = i + 1
	}
	check := func(prefix string, wantKeys ...string) {
		t.Helper()
		got, err := s.List(ctx(t), prefix)
		if err != nil {
			t.Fatalf("List(%q): %v", prefix, err)
		}
		var gotKeys []string
		for _, o := range got {
			gotKeys = append(gotKeys, o.Key)
			if o.Size != int64(want[o.Key]) || o.ETag == "" {
				t.Errorf("List(%q): %s has size %d etag %q, want size %d and an etag", prefix, o.Key, o.Size, o.ETag, want[o.Key])
			}
		}
		if !slices.Equal(gotKeys, wantKeys) {
			t.Fatalf("List(%q) = %q, want %q", prefix, gotKeys, wantKeys)
		}
	}
	check("", "a/1", "a/2", "a/b/3", "a/b/c/4", "ab", "b", "c/dt=2026-01-01/x", "c/dt=2026-01-02/x")
	check("a/", "a/1", "a/2", "a/b/3", "a/b/c/4")
	check("a", "a/1", "a/2", "a/b/3", "a/b/c/4", "ab") // a string prefix, not a folder
	check("a/b/", "a/b/3", "a/b/c/4")
	check("c/dt=2026-01-02", "c/dt=2026-01-02/x")
	check("zzz")
}

// testListLevel: a level's sub-folders and the objects directly in it.
func testListLevel(t *testing.T, s storage.Store) {
	for _, k := range []string{"top.txt", "a/1", "a/b/2", "a/c/3", "a/c/d/4", "dt=2026-01-02/x", "dt=2026-01-01/x"} {
		mustPut(t, s, k, []byte(k))
	}
	level := func(dir string, wantDirs, wantObjs []string) {
		t.Helper()
		dirs, objs, err := s.ListLevel(ctx(t), dir)
		if err != nil {
			t.Fatalf("ListLevel(%q): %v", dir, err)
		}
		var keys []string
		for _, o := range objs {
			keys = append(keys, o.Key)
			if o.Size != int64(len(o.Key)) || o.ETag == "" {
				t.Errorf("ListLevel(%q): %s has size %d ETag %q, want %d and an ETag", dir, o.Key, o.Size, o.ETag, len(o.Key))
			}
		}
		if !slices.Equal(dirs, wantDirs) || !slices.Equal(keys, wantObjs) {
			t.Fatalf("ListLevel(%q) = %q, %q; want %q, %q", dir, dirs, keys, wantDirs, wantObjs)
		}
	}
	level("", []string{"a/", "dt=2026-01-01/", "dt=2026-01-02/"}, []string{"top.txt"})
	level("a", []string{"a/b/", "a/c/"}, []string{"a/1"})
	level("a/", []string{"a/b/", "a/c/"}, []string{"a/1"})
	level("a/c", []string{"a/c/d/"}, []string{"a/c/3"})
	level("a/b/", nil, []string{"a/b/2"})
	level("no/such", nil, nil)
}

func testRangedReads(t *testing.T, s storage.Store) {
	data := randBytes(1<<20 + 17)
	o := mustPut(t, s, "blob.bin", data)
	r, err := s.Open(ctx(t), "blob.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Size() != int64(len(data)) {
		t.Fatalf("Size() = %d, want %d", r.Size(), len(data))
	}
	if ro := r.Object(); ro.ETag != o.ETag || ro.Key != "blob.bin" || ro.Size != o.Size {
		t.Fatalf("Object() = %+v, want Put's %+v", ro, o)
	}
	size := int64(len(data))
	for _, c := range []struct{ off, n int64 }{{0, 1}, {0, 4096}, {12345, 1000}, {size - 8, 8}, {1 << 19, 1 << 19}} {
		p := make([]byte, c.n)
		n, err := r.ReadAt(p, c.off)
		if err != nil || int64(n) != c.n || !bytes.Equal(p, data[c.off:c.off+c.n]) {
			t.Fatalf("ReadAt(%d bytes at %d) = %d, %v; want %d bytes of the object", c.n, c.off, n, err, c.n)
		}
	}
	// Past the end: the bytes that exist, and io.EOF.
	p := make([]byte, 100)
	n, err := r.ReadAt(p, size-10)
	if n != 10 || err != io.EOF || !bytes.Equal(p[:10], data[size-10:]) {
		t.Fatalf("ReadAt across the end = %d, %v; want 10, io.EOF", n, err)
	}
	if n, err := r.ReadAt(p, size); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt at the end = %d, %v; want 0, io.EOF", n, err)
	}
	if _, err := r.ReadAt(p, -1); err == nil {
		t.Fatal("ReadAt(-1) succeeded")
	}
	all, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil || !bytes.Equal(all, data) {
		t.Fatalf("sequential read through ReadAt: %d bytes, %v; want the whole object", len(all), err)
	}
}

func testConcurrentReadAt(t *testing.T, s storage.Store) {
	data := randBytes(256 << 10)
	mustPut(t, s, "c.bin", data)
	r, err := s.Open(ctx(t), "c.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 8 {
				off := int64((g*8 + i) * 4000)
				p := make([]byte, 4000)
				if n, err := r.ReadAt(p, off); err != nil || n != len(p) || !bytes.Equal(p, data[off:off+4000]) {
					errs <- fmt.Errorf("goroutine %d ReadAt(%d) = %d, %v", g, off, n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// testAtomicPut replaces an object over and over while readers read it:
// every read must see one whole version.
func testAtomicPut(t *testing.T, s storage.Store) {
	const size = 512 << 10
	versions := [][]byte{bytes.Repeat([]byte{'A'}, size), bytes.Repeat([]byte{'B'}, size+100)}
	mustPut(t, s, "atomic", versions[0])
	c := ctx(t)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for i := range 20 {
			if _, err := s.Put(c, "atomic", versions[i%2]); err != nil {
				t.Errorf("Put: %v", err)
				return
			}
		}
	}()
	reads := 0
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		default:
		}
		got, _, err := s.Get(c, "atomic")
		if err != nil {
			t.Fatalf("Get during replace: %v", err)
		}
		if !bytes.Equal(got, versions[0]) && !bytes.Equal(got, versions[1]) {
			t.Fatalf("Get during replace saw a torn object (%d bytes)", len(got))
		}
		reads++
	}
	wg.Wait()
	if reads == 0 {
		t.Fatal("no reads happened during the replacements")
	}
}

func testPutIfAbsent(t *testing.T, s storage.Store) {
	c := ctx(t)
	o, err := s.PutIfAbsent(c, "once", []byte("first"))
	if err != nil {
		t.Fatalf("first PutIfAbsent: %v", err)
	}
	if o.ETag == "" || o.Size != 5 {
		t.Fatalf("PutIfAbsent returned %+v", o)
	}
	if _, err := s.PutIfAbsent(c, "once", []byte("second")); !errors.Is(err, storage.ErrPrecondition) {
		t.Fatalf("second PutIfAbsent err = %v, want ErrPrecondition", err)
	}
	got, g := mustGet(t, s, "once")
	if string(got) != "first" || g.ETag != o.ETag {
		t.Fatalf("after a refused PutIfAbsent the object is %q (etag %s), want \"first\" (etag %s)", got, g.ETag, o.ETag)
	}
}

func testPutIfMatch(t *testing.T, s storage.Store) {
	c := ctx(t)
	if _, err := s.PutIfMatch(c, "cas", []byte("x"), `"0123456789abcdef0123456789abcdef"`); !errors.Is(err, storage.ErrPrecondition) {
		t.Fatalf("PutIfMatch on a missing key err = %v, want ErrPrecondition", err)
	}
	o1 := mustPut(t, s, "cas", []byte("one"))
	if _, err := s.PutIfMatch(c, "cas", []byte("bad"), `"0123456789abcdef0123456789abcdef"`); !errors.Is(err, storage.ErrPrecondition) {
		t.Fatalf("PutIfMatch with a wrong etag err = %v, want ErrPrecondition", err)
	}
	o2, err := s.PutIfMatch(c, "cas", []byte("two"), o1.ETag)
	if err != nil {
		t.Fatalf("PutIfMatch with the current etag: %v", err)
	}
	got, g := mustGet(t, s, "cas")
	if string(got) != "two" || g.ETag != o2.ETag {
		t.Fatalf("after PutIfMatch the object is %q (etag %s), want \"two\" (etag %s)", got, g.ETag, o2.ETag)
	}
	if _, err := s.PutIfMatch(c, "cas", []byte("three"), o1.ETag); !errors.Is(err, storage.ErrPrecondition) {
		t.Fatalf("PutIfMatch with a stale etag err = %v, want ErrPrecondition", err)
	}
}

func testDeleteIfMatch(t *testing.T, s storage.Store) {
	c := ctx(t)
	o := mustPut(t, s, "d", []byte("data"))
	if err := s.DeleteIfMatch(c, "d", `"0123456789abcdef0123456789abcdef"`); !errors.Is(err, storage.ErrPrecondition) {
		t.Fatalf("DeleteIfMatch with a wrong etag err = %v, want ErrPrecondition", err)
	}
	mustGet(t, s, "d") // still there
	if err := s.DeleteIfMatch(c, "d", o.ETag); err != nil {
		t.Fatalf("DeleteIfMatch with the current etag: %v", err)
	}
	if _, _, err := s.Get(c, "d"); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("Get after DeleteIfMatch err = %v, want ErrNotExist", err)
	}
	if err := s.DeleteIfMatch(c, "d", o.ETag); !errors.Is(err, storage.ErrPrecondition) {
		t.Fatalf("DeleteIfMatch on a missing key err = %v, want ErrPrecondition", err)
	}
}

func testDelete(t *testing.T, s storage.Store) {
	c := ctx(t)
	mustPut(t, s, "x/del", []byte("data"))
	if err := s.Delete(c, "x/del"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, _, err := s.Get(c, "x/del"); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("Get after Delete err = %v, want ErrNotExist", err)
	}
	if l, _ := s.List(c, "x/"); len(l) != 0 {
		t.Fatalf("List after Delete = %v, want nothing", l)
	}
	if err := s.Delete(c, "x/del"); err != nil {
		t.Fatalf("Delete of a missing key: %v, want nil", err)
	}
}

// race runs n copies of fn at once and counts outcomes.
func race(n int, fn func(i int) error) (wins int, preconds int, others []error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := fn(i)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, storage.ErrPrecondition):
				preconds++
			default:
				others = append(others, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	return wins, preconds, others
}

func testPutIfAbsentRace(t *testing.T, s storage.Store) {
	c := ctx(t)
	var winner []byte
	var mu sync.Mutex
	const n = 16
	wins, preconds, others := race(n, func(i int) error {
		body := []byte(fmt.Sprintf("racer %d", i))
		_, err := s.PutIfAbsent(c, "race/lock", body)
		if err == nil {
			mu.Lock()
			winner = body
			mu.Unlock()
		}
		return err
	})
	if wins != 1 || preconds != n-1 || len(others) != 0 {
		t.Fatalf("%d concurrent PutIfAbsent: %d won, %d ErrPrecondition, other errors %v; want 1, %d, none", n, wins, preconds, others, n-1)
	}
	got, _ := mustGet(t, s, "race/lock")
	if !bytes.Equal(got, winner) {
		t.Fatalf("object is %q, want the winner's %q", got, winner)
	}
}

func testPutIfMatchRace(t *testing.T, s storage.Store) {
	c := ctx(t)
	o := mustPut(t, s, "race/cas", []byte("base"))
	const n = 8
	wins, preconds, others := race(n, func(i int) error {
		_, err := s.PutIfMatch(c, "race/cas", []byte(fmt.Sprintf("racer %d", i)), o.ETag)
		return err
	})
	if wins != 1 || preconds != n-1 || len(others) != 0 {
		t.Fatalf("%d concurrent PutIfMatch on one etag: %d won, %d ErrPrecondition, other errors %v; want 1, %d, none", n, wins, preconds, others, n-1)
	}
}
