package s3

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/parity-eval/parity/storage"
)

// TestErrorScrubsCredentials: whatever a server or the SDK puts in an
// error's text, the keys the client signed with are redacted.
func TestErrorScrubsCredentials(t *testing.T) {
	const ak, sk, tok = "AKIAEXAMPLEKEY123456", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "session-token-abcdef"
	s, err := New(context.Background(), Config{
		Bucket: "b", Endpoint: "http://127.0.0.1:1", Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(ak, sk, tok),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.Options().Credentials.Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	cause := errors.New("server said: bad key " + ak + " secret " + sk + " token " + tok)
	msg := s.wrap("get", "s3://b/k", cause).Error()
	for _, secret := range []string{ak, sk, tok} {
		if strings.Contains(msg, secret) {
			t.Fatalf("error %q contains a credential", msg)
		}
	}
	if !strings.Contains(msg, "s3://b/k") || !strings.Contains(msg, "[REDACTED]") {
		t.Fatalf("error %q should name s3://b/k and show the redaction", msg)
	}
}

func TestURIAndKeys(t *testing.T) {
	for _, c := range []struct{ prefix, uri string }{{"", "s3://b"}, {"logs", "s3://b/logs"}, {"/logs/2026/", "s3://b/logs/2026"}, {"a/./b", "s3://b/a/b"}, {".", "s3://b"}} {
		s, err := New(context.Background(), Config{Bucket: "b", Prefix: c.prefix, Endpoint: "http://127.0.0.1:1"})
		if err != nil {
			t.Fatal(err)
		}
		if s.URI() != c.uri {
			t.Errorf("prefix %q: URI() = %q, want %q", c.prefix, s.URI(), c.uri)
		}
	}
	if _, err := New(context.Background(), Config{Bucket: "b", Prefix: "a/../..", Endpoint: "http://127.0.0.1:1"}); err == nil {
		t.Error("a prefix with .. was accepted")
	}
	st, err := storage.Open(context.Background(), "s3://bucket/some/prefix", storage.Options{S3Endpoint: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if st.URI() != "s3://bucket/some/prefix" {
		t.Errorf("storage.Open(s3://bucket/some/prefix).URI() = %q", st.URI())
	}
	if _, err := storage.Open(context.Background(), "s3:///nobucket", storage.Options{}); err == nil {
		t.Error("s3:// without a bucket was accepted")
	}
}

func TestPathStyleForIPs(t *testing.T) {
	for ep, want := range map[string]bool{
		"http://127.0.0.1:7070": true, "http://localhost:9000": true, "http://[::1]:9000": true,
		"https://s3.eu-west-1.amazonaws.com": false, "": false,
	} {
		if got := hostNeedsPathStyle(ep); got != want {
			t.Errorf("hostNeedsPathStyle(%q) = %v, want %v", ep, got, want)
		}
	}
}
