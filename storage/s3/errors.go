package s3

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/parity-eval/parity/storage"
)

// Error is a failed S3 operation. Its message names the operation and the
// s3://bucket/key and is scrubbed of the credentials the client used; the
// S3 error code and HTTP status are kept for callers that branch on them.
//
// It unwraps to storage.ErrNotExist or storage.ErrPrecondition when one
// applies, and to the SDK error (whose own text is not scrubbed; log this
// Error, not what it wraps).
type Error struct {
	Op       string // "get", "put if absent", ...
	Location string // s3://bucket/key
	Code     string // S3 error code ("NoSuchKey", "SlowDown"), if the server sent one
	Status   int    // HTTP status, 0 when no response arrived
	msg      string
	kind     error
	cause    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("s3 %s %s: %s", e.Op, e.Location, e.msg)
}

// Unwrap returns the storage sentinel (if any) and the cause.
func (e *Error) Unwrap() []error {
	if e.kind != nil {
		return []error{e.kind, e.cause}
	}
	return []error{e.cause}
}

// wrap turns an SDK error into an *Error naming loc.
func (s *Store) wrap(op, loc string, err error) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	e := &Error{Op: op, Location: loc, cause: err}
	var api smithy.APIError
	if errors.As(err, &api) {
		e.Code = api.ErrorCode()
	}
	var hs interface{ HTTPStatusCode() int }
	if errors.As(err, &hs) {
		e.Status = hs.HTTPStatusCode()
	}
	switch {
	case e.Status == 412 || e.Code == "PreconditionFailed":
		e.kind = storage.ErrPrecondition
	case e.Code == "NoSuchBucket":
		// A missing bucket is a configuration error, not a missing key:
		// readers must not take it for "no data yet".
	case e.Code == "NoSuchKey" || e.Code == "NotFound" || e.Status == 404 && e.Code == "":
		// Only a missing key: a 404 with another code (versitygw answers
		// an unknown access key with 404 XAdminUserNotFound) is a failure,
		// never "no such object" (an absent overrides file means none).
		e.kind = storage.ErrNotExist
	}
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		e.msg = err.Error()
	case e.kind == storage.ErrNotExist:
		e.msg = "object does not exist"
	case e.kind == storage.ErrPrecondition:
		e.msg = "precondition failed (the object's ETag is not the one required)"
	default:
		e.msg = err.Error()
		if e.Code == "NoSuchBucket" {
			e.msg = fmt.Sprintf("bucket %q does not exist (%s)", s.bucket, e.msg)
		}
	}
	e.msg = s.secrets.scrub(e.msg)
	return e
}

// secrets remembers every credential the client has signed with, so error
// text can be scrubbed of them whatever the server echoes back.
type secrets struct {
	mu   sync.Mutex
	vals map[string]struct{}
}

func (s *secrets) add(vs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vals == nil {
		s.vals = map[string]struct{}{}
	}
	for _, v := range vs {
		if len(v) >= 4 { // shorter strings would redact innocent text
			s.vals[v] = struct{}{}
		}
	}
}

func (s *secrets) scrub(msg string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for v := range s.vals {
		msg = strings.ReplaceAll(msg, v, "[REDACTED]")
	}
	return msg
}

// recordingProvider passes credentials through, noting them in secrets.
type recordingProvider struct {
	inner   aws.CredentialsProvider
	secrets *secrets
}

func (p *recordingProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := p.inner.Retrieve(ctx)
	if err == nil {
		p.secrets.add(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
	}
	return c, err
}
