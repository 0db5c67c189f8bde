package s3_test

import (
	"context"
	"testing"
	"time"

	"github.com/parity-eval/parity/storage"
	s3store "github.com/parity-eval/parity/storage/s3"
	"github.com/parity-eval/parity/storage/storagetest"
)

// newStore returns a store rooted at a prefix of a fresh bucket, so the
// suite also proves the prefix is added and stripped everywhere.
func newStore(t testing.TB, srv storagetest.S3Server, endpoint string) *s3store.Store {
	t.Helper()
	s, err := s3store.New(context.Background(), s3store.Config{
		Bucket:      srv.NewBucket(t),
		Prefix:      "root/sub",
		Endpoint:    endpoint,
		Region:      srv.Region,
		Credentials: srv.Credentials(),
		MaxBackoff:  20 * time.Millisecond, // keep retry tests fast
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	srv := storagetest.StartS3(t)
	storagetest.Run(t, func(t *testing.T) storage.Store { return newStore(t, srv, srv.Endpoint) })
}
