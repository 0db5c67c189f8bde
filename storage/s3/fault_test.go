package s3_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parity-eval/parity/storage"
	s3store "github.com/parity-eval/parity/storage/s3"
	"github.com/parity-eval/parity/storage/storagetest"
)

// faultStore is a store whose requests go through a FaultProxy.
func faultStore(t *testing.T) (*s3store.Store, *storagetest.FaultProxy, storagetest.S3Server) {
	t.Helper()
	srv := storagetest.StartS3(t)
	p := storagetest.NewFaultProxy(t, srv.Endpoint)
	return newStore(t, srv, p.URL()), p, srv
}

// assertClean checks an error names the object and leaks no credentials.
func assertClean(t *testing.T, err error, srv storagetest.S3Server, s *s3store.Store, key string) {
	t.Helper()
	msg := err.Error()
	if want := "s3://" + s.Bucket() + "/root/sub/" + key; !strings.Contains(msg, want) {
		t.Errorf("error %q does not name %s", msg, want)
	}
	for _, secret := range []string{srv.AccessKey, srv.SecretKey} {
		if strings.Contains(msg, secret) {
			t.Errorf("error %q contains a credential", msg)
		}
	}
}

func TestTransientFaultsAreRetried(t *testing.T) {
	ctx := context.Background()
	s, p, _ := faultStore(t)
	data := make([]byte, 64<<10)
	_, _ = rand.Read(data)

	p.Inject(storagetest.Match{Method: "PUT", KeySuffix: "/obj"}, storagetest.SlowDown, storagetest.InternalError, storagetest.ConnReset)
	if _, err := s.Put(ctx, "obj", data); err != nil {
		t.Fatalf("Put through SlowDown, 500 and a reset: %v", err)
	}
	if n := p.Count(storagetest.Match{Method: "PUT", KeySuffix: "/obj"}); n != 4 {
		t.Fatalf("PUT attempts = %d, want 4 (3 faults + 1 success)", n)
	}

	p.Inject(storagetest.Match{Method: "GET", KeySuffix: "/obj"}, storagetest.ConnReset, storagetest.TruncatedBody)
	got, _, err := s.Get(ctx, "obj")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get through a reset and a truncated body: %d bytes, %v", len(got), err)
	}

	r, err := s.OpenReader(ctx, "obj")
	if err != nil {
		t.Fatal(err)
	}
	before := s.Stats().BodyRetries
	p.Inject(storagetest.Match{Method: "GET", Ranged: true}, storagetest.TruncatedBody, storagetest.SlowDown, storagetest.TruncatedBody)
	buf := make([]byte, 10000)
	if n, err := r.ReadAt(buf, 5000); err != nil || n != len(buf) || !bytes.Equal(buf, data[5000:15000]) {
		t.Fatalf("ReadAt through truncations and SlowDown = %d, %v", n, err)
	}
	if d := s.Stats().BodyRetries - before; d != 2 {
		t.Fatalf("body retries = %d, want 2 (one per truncated body)", d)
	}
	if gets, bytes := r.Stats(); gets != 1 || bytes != int64(len(buf)) {
		t.Fatalf("reader stats = %d GETs, %d bytes; want 1 successful GET of %d bytes", gets, bytes, len(buf))
	}

	// 409 ConditionalRequestConflict is retried; the retry then decides.
	p.Inject(storagetest.Match{Method: "PUT", KeySuffix: "/cond"}, storagetest.ConditionConflict)
	if _, err := s.PutIfAbsent(ctx, "cond", []byte("x")); err != nil {
		t.Fatalf("PutIfAbsent through a 409: %v", err)
	}
	p.Inject(storagetest.Match{Method: "PUT", KeySuffix: "/cond"}, storagetest.ConditionConflict)
	if _, err := s.PutIfAbsent(ctx, "cond", []byte("y")); !errors.Is(err, storage.ErrPrecondition) {
		t.Fatalf("second PutIfAbsent through a 409: err = %v, want ErrPrecondition", err)
	}

	// A slow response is waited for.
	p.Inject(storagetest.Match{Method: "HEAD"}, storagetest.Slow(300*time.Millisecond))
	start := time.Now()
	if _, err := s.Open(ctx, "obj"); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 300*time.Millisecond {
		t.Fatalf("Open took %v, so the delay was not injected", el)
	}
}

func TestPersistentFaultsFailClearly(t *testing.T) {
	ctx := context.Background()
	s, p, srv := faultStore(t)
	if _, err := s.Put(ctx, "obj", bytes.Repeat([]byte("x"), 4096)); err != nil {
		t.Fatal(err)
	}
	r, err := s.Open(ctx, "obj")
	if err != nil {
		t.Fatal(err)
	}

	p.Clear()
	p.Always(storagetest.Match{Method: "PUT"}, storagetest.SlowDown)
	_, err = s.Put(ctx, "obj", []byte("y"))
	var se *s3store.Error
	if !errors.As(err, &se) || se.Code != "SlowDown" || se.Status != 503 {
		t.Fatalf("Put under persistent SlowDown err = %v, want an *s3.Error with code SlowDown, status 503", err)
	}
	assertClean(t, err, srv, s, "obj")
	if n := p.Count(storagetest.Match{Method: "PUT"}); n != s3store.DefaultMaxAttempts {
		t.Fatalf("PUT attempts = %d, want %d", n, s3store.DefaultMaxAttempts)
	}
	p.Clear()

	p.Always(storagetest.Match{Method: "GET", Ranged: true}, storagetest.TruncatedBody)
	_, err = r.ReadAt(make([]byte, 1000), 100)
	if err == nil || !strings.Contains(err.Error(), "truncated") || !strings.Contains(err.Error(), "bytes=100-1099") {
		t.Fatalf("ReadAt under persistent truncation err = %v, want a truncation error naming the range", err)
	}
	assertClean(t, err, srv, s, "obj")
	p.Clear()

	p.Always(storagetest.Match{Method: "GET"}, storagetest.ConnReset)
	_, _, err = s.Get(ctx, "obj")
	if err == nil || errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("Get under persistent resets err = %v", err)
	}
	assertClean(t, err, srv, s, "obj")
	p.Clear()

	// A cancelled context stops the retries and says so.
	p.Always(storagetest.Match{Method: "GET"}, storagetest.Slow(time.Minute))
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, _, err = s.Get(cctx, "obj")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get past its deadline err = %v, want DeadlineExceeded", err)
	}
	assertClean(t, err, srv, s, "obj")
}

// TestWrongCredentialsNotLeaked proves requests are signed (versitygw
// rejects a bad signature) and that the failure does not echo the keys.
func TestWrongCredentialsNotLeaked(t *testing.T) {
	srv := storagetest.StartS3(t)
	good := newStore(t, srv, srv.Endpoint)
	bad := srv
	bad.SecretKey = "wrong-secret-key-0123456789"
	s, err := s3store.New(context.Background(), s3store.Config{
		Bucket: good.Bucket(), Prefix: "root/sub", Endpoint: srv.Endpoint, Region: srv.Region,
		Credentials: bad.Credentials(), MaxBackoff: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Put(context.Background(), "obj", []byte("x"))
	var se *s3store.Error
	if !errors.As(err, &se) || se.Status != 403 {
		t.Fatalf("Put with a wrong secret err = %v, want a 403 *s3.Error", err)
	}
	assertClean(t, err, bad, s, "obj")
}

// TestLostResponseLockStillAcquired: a PutIfAbsent whose response is lost
// is retried and refused (the first attempt had created the object); the
// lock recognises its own token and holds the lock instead of reporting
// itself as the holder that blocks it.
func TestLostResponseLockStillAcquired(t *testing.T) {
	ctx := context.Background()
	s, p, _ := faultStore(t)
	p.Inject(storagetest.Match{Method: "PUT", KeySuffix: "/run.lock"}, storagetest.LostResponse)
	l, err := storage.AcquireLock(ctx, s, "run.lock", "me", time.Minute, nil)
	if err != nil {
		t.Fatalf("AcquireLock after a lost response: %v", err)
	}
	if n := p.Count(storagetest.Match{Method: "PUT", KeySuffix: "/run.lock"}); n < 2 {
		t.Fatalf("PUT attempts = %d; the lost response was not injected", n)
	}
	p.Inject(storagetest.Match{Method: "PUT", KeySuffix: "/run.lock"}, storagetest.LostResponse)
	if err := l.Renew(ctx); err != nil {
		t.Fatalf("Renew after a lost response: %v", err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestStalledReadIsAbandoned: a ranged GET that gets no answer within
// AttemptTimeout is abandoned and retried, so one hung connection cannot
// hang a run.
func TestStalledReadIsAbandoned(t *testing.T) {
	ctx := context.Background()
	srv := storagetest.StartS3(t)
	p := storagetest.NewFaultProxy(t, srv.Endpoint)
	s, err := s3store.New(ctx, s3store.Config{
		Bucket: srv.NewBucket(t), Endpoint: p.URL(), Region: srv.Region, Credentials: srv.Credentials(),
		MaxBackoff: 20 * time.Millisecond, AttemptTimeout: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "obj", []byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	r, err := s.Open(ctx, "obj")
	if err != nil {
		t.Fatal(err)
	}
	p.Inject(storagetest.Match{Method: "GET", Ranged: true}, storagetest.Slow(time.Minute))
	start := time.Now()
	buf := make([]byte, 4)
	if n, err := r.ReadAt(buf, 3); err != nil || string(buf[:n]) != "3456" {
		t.Fatalf("ReadAt after a stalled attempt = %q, %v", buf[:n], err)
	}
	if el := time.Since(start); el < 300*time.Millisecond || el > 10*time.Second {
		t.Fatalf("ReadAt took %v; want just over the 300ms attempt timeout", el)
	}
	if n := p.Count(storagetest.Match{Method: "GET", Ranged: true}); n != 2 {
		t.Fatalf("ranged GETs = %d, want 2 (stalled + retry)", n)
	}
}
