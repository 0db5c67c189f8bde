package s3_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

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

// TestStandardChain opens s3://bucket/prefix with no options: endpoint
// (AWS_ENDPOINT_URL_S3), credentials and region come from the environment,
// and path style is chosen because the endpoint is an IP address.
func TestStandardChain(t *testing.T) {
	srv := storagetest.StartS3(t)
	bucket := srv.NewBucket(t)
	t.Setenv("AWS_ENDPOINT_URL_S3", srv.Endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	ctx := context.Background()
	st, err := storage.Open(ctx, "s3://"+bucket+"/env/prefix", storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatalf("Put via the standard chain: %v", err)
	}
	out, err := srv.Client().GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("env/prefix/k")})
	if err != nil {
		t.Fatalf("object not at env/prefix/k in %s: %v", bucket, err)
	}
	out.Body.Close()
	// Objects outside the prefix are invisible to the store.
	if _, err := srv.Client().PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("env/other"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	l, err := st.List(ctx, "")
	if err != nil || len(l) != 1 || l[0].Key != "k" {
		t.Fatalf("List = %v, %v; want just k", l, err)
	}
}

// TestReaderPinnedToVersion: a Reader never mixes two versions of an
// object; once the object is replaced, ReadAt fails with ErrPrecondition.
func TestReaderPinnedToVersion(t *testing.T) {
	srv := storagetest.StartS3(t)
	s := newStore(t, srv, srv.Endpoint)
	ctx := context.Background()
	if _, err := s.Put(ctx, "p.parquet", []byte(strings.Repeat("a", 1000))); err != nil {
		t.Fatal(err)
	}
	r, err := s.Open(ctx, "p.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadAt(make([]byte, 10), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "p.parquet", []byte(strings.Repeat("b", 1000))); err != nil {
		t.Fatal(err)
	}
	_, err = r.ReadAt(make([]byte, 10), 500)
	if !errors.Is(err, storage.ErrPrecondition) || !strings.Contains(err.Error(), "replaced") {
		t.Fatalf("ReadAt after replacement err = %v, want ErrPrecondition saying the object was replaced", err)
	}
}
