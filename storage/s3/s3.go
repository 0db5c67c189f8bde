// Package s3 is the S3 backend of storage.Store: a bucket and key prefix
// (s3://bucket/prefix) on AWS S3 or any S3-compatible server, over
// aws-sdk-go-v2.
//
// It keeps the storage contract with S3's own primitives, so no extra
// coordination service is needed:
//   - Put is a single PutObject, which S3 makes visible atomically.
//   - PutIfAbsent / PutIfMatch / DeleteIfMatch are S3 conditional requests
//     (If-None-Match: * and If-Match: etag); 412 maps to
//     storage.ErrPrecondition.
//   - Open returns a Reader whose every ReadAt is one ranged GET pinned to
//     the ETag seen at Open (If-Match), so a Parquet reader never mixes two
//     versions of a file that is replaced while it reads.
//
// Transient failures (503 SlowDown, 5xx, connection resets, 409
// ConditionalRequestConflict) are retried with jittered exponential backoff
// by the SDK's standard retryer. The SDK retries only until the response
// headers arrive, so body reads (Get, ReadAt) check the byte count they
// received and retry the whole request themselves when a body is cut short.
//
// Errors name the operation and s3://bucket/key and never contain
// credentials: messages are scrubbed of the access key, secret and session
// token the client signed with.
//
// Importing the package registers the "s3" scheme with storage.Register.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/parity-eval/parity/storage"
)

func init() {
	storage.Register("s3", func(ctx context.Context, u *url.URL, o storage.Options) (storage.Store, error) {
		if u.Host == "" {
			return nil, fmt.Errorf("s3 location %q: no bucket (want s3://bucket/prefix)", u.Redacted())
		}
		return New(ctx, Config{
			Bucket:    u.Host,
			Prefix:    strings.TrimPrefix(u.Path, "/"),
			Endpoint:  o.S3Endpoint,
			Region:    o.S3Region,
			PathStyle: o.S3PathStyle,
		})
	})
}

// Defaults for Config. Batch jobs prefer patience to fast failure: a run
// that dies on the fourth SlowDown costs far more than a few seconds of
// backoff.
const (
	DefaultMaxAttempts = 8
	DefaultMaxBackoff  = 10 * time.Second
	// DefaultAttemptTimeout is generous: a Parquet column chunk of tens of
	// MiB over a slow link still fits.
	DefaultAttemptTimeout = 2 * time.Minute
)

// Config selects a bucket and prefix and, optionally, overrides the
// standard AWS configuration chain.
type Config struct {
	Bucket string
	// Prefix is the key prefix the store is rooted at ("logs/2026"); a
	// trailing "/" is implied.
	Prefix string

	// Endpoint, e.g. "http://127.0.0.1:7070". Empty: AWS_ENDPOINT_URL_S3,
	// AWS_ENDPOINT_URL, the profile, or AWS itself.
	Endpoint string
	// Region. Empty: AWS_REGION / AWS_DEFAULT_REGION / the profile; when
	// still empty and Endpoint is set, "us-east-1" (third-party servers
	// accept any region but SigV4 needs one).
	Region string
	// PathStyle addresses buckets as endpoint/bucket/key rather than
	// bucket.endpoint/key. It is forced on for endpoints whose host is an
	// IP address or "localhost", where virtual hosts cannot resolve.
	PathStyle bool

	// Credentials replaces the standard chain (env, shared profile, IRSA
	// web identity, ECS/EKS container, EC2 IMDS). Tests use static ones.
	Credentials aws.CredentialsProvider
	// MaxAttempts per request, first try included. Zero: AWS_MAX_ATTEMPTS
	// or the profile's max_attempts, else DefaultMaxAttempts.
	MaxAttempts int
	// MaxBackoff caps the delay between attempts (default DefaultMaxBackoff).
	MaxBackoff time.Duration
	// AttemptTimeout bounds one GET attempt including its body (default
	// DefaultAttemptTimeout); a stalled connection is abandoned and the
	// request retried.
	AttemptTimeout time.Duration
	// HTTPClient replaces the SDK's default HTTP client.
	HTTPClient *http.Client
}

// Stats are cumulative request counters, for the run manifest and
// benchmarks. RangeGETs and BytesFetched count successful ranged reads
// (Reader.ReadAt); Gets counts whole-object GET attempts; BodyRetries
// counts body-level retries made by this package (the SDK's own retries,
// before response headers, are not counted).
type Stats struct {
	RangeGETs    int64 `json:"range_gets"`
	BytesFetched int64 `json:"bytes_fetched"`
	Gets         int64 `json:"gets"`
	Puts         int64 `json:"puts"`
	Lists        int64 `json:"lists"`
	BodyRetries  int64 `json:"body_retries"`
}

type counters struct {
	rangeGETs, bytesFetched, gets, puts, lists, bodyRetries atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		RangeGETs:    c.rangeGETs.Load(),
		BytesFetched: c.bytesFetched.Load(),
		Gets:         c.gets.Load(),
		Puts:         c.puts.Load(),
		Lists:        c.lists.Load(),
		BodyRetries:  c.bodyRetries.Load(),
	}
}

// Store is a bucket prefix. It is safe for concurrent use.
type Store struct {
	client      *awss3.Client
	bucket      string
	prefix      string // "" or ends in "/"
	maxAttempts int
	attemptTO   time.Duration
	backoff     retry.BackoffDelayer
	secrets     *secrets
	stats       counters
}

var _ storage.Store = (*Store)(nil)

// New builds a Store. It does not contact S3: a wrong bucket or missing
// credentials surface on the first request, with the bucket named.
func New(ctx context.Context, c Config) (*Store, error) {
	if c.Bucket == "" {
		return nil, errors.New("s3 store: empty bucket name")
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = DefaultAttemptTimeout
	}
	var loadOpts []func(*config.LoadOptions) error
	if c.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(c.Region))
	}
	if c.Credentials != nil {
		loadOpts = append(loadOpts, config.WithCredentialsProvider(c.Credentials))
	}
	if c.HTTPClient != nil {
		loadOpts = append(loadOpts, config.WithHTTPClient(c.HTTPClient))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("s3 store s3://%s: load AWS configuration: %w", c.Bucket, err)
	}
	if c.MaxAttempts == 0 && cfg.RetryMaxAttempts > 0 {
		c.MaxAttempts = cfg.RetryMaxAttempts // AWS_MAX_ATTEMPTS / profile max_attempts
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	// The retryer below carries MaxAttempts; a second limit from the
	// environment would silently wrap it.
	cfg.RetryMaxAttempts = 0
	endpoint := c.Endpoint
	if endpoint == "" && cfg.BaseEndpoint != nil {
		endpoint = *cfg.BaseEndpoint // AWS_ENDPOINT_URL / profile endpoint_url
	}
	if cfg.Region == "" {
		if endpoint == "" && !envHasS3Endpoint() {
			return nil, fmt.Errorf("s3 store s3://%s: no AWS region configured (set AWS_REGION or the S3 region option)", c.Bucket)
		}
		cfg.Region = "us-east-1"
	}
	// Third-party servers (versitygw, MinIO, Ceph, R2 ...) do not all
	// implement the CRC trailers the SDK sends by default since 2025.
	cfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	cfg.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired

	sec := &secrets{}
	if cfg.Credentials != nil {
		cfg.Credentials = &recordingProvider{inner: cfg.Credentials, secrets: sec}
	}
	backoff := retry.NewExponentialJitterBackoff(c.MaxBackoff)
	retryer := retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = c.MaxAttempts
		o.MaxBackoff = c.MaxBackoff
		o.Backoff = backoff
		// The default client-wide retry quota fails every request once
		// a burst of throttling has drained it; a batch job would rather
		// keep backing off per request.
		o.RateLimiter = ratelimit.None
		// 409 ConditionalRequestConflict: a concurrent conditional write
		// on the same key was in flight; S3 asks the client to retry,
		// after which it gets 412 or succeeds.
		o.Retryables = append(o.Retryables, retry.RetryableErrorCode{
			Codes: map[string]struct{}{"ConditionalRequestConflict": {}},
		})
	})
	cfg.Retryer = func() aws.Retryer { return retryer }

	pathStyle := c.PathStyle || hostNeedsPathStyle(endpoint)
	client := awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
		if !o.UsePathStyle {
			o.UsePathStyle = pathStyle || (o.BaseEndpoint != nil && hostNeedsPathStyle(*o.BaseEndpoint))
		}
	})
	prefix := strings.Trim(c.Prefix, "/")
	if prefix != "" {
		p, err := storage.CleanKey(prefix)
		if err != nil {
			return nil, fmt.Errorf("s3 store s3://%s: prefix: %w", c.Bucket, err)
		}
		prefix = strings.TrimPrefix(p+"/", "./") // "." is the bucket root
	}
	return &Store{
		client:      client,
		bucket:      c.Bucket,
		prefix:      prefix,
		maxAttempts: c.MaxAttempts,
		attemptTO:   c.AttemptTimeout,
		backoff:     backoff,
		secrets:     sec,
	}, nil
}

func envHasS3Endpoint() bool {
	for _, k := range []string{"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"} {
		if v, ok := os.LookupEnv(k); ok && v != "" {
			return true
		}
	}
	return false
}

// hostNeedsPathStyle reports whether endpoint's host cannot take a bucket
// sub-domain (IP literals, localhost).
func hostNeedsPathStyle(endpoint string) bool {
	if endpoint == "" {
		return false
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	h := u.Hostname()
	return h == "localhost" || net.ParseIP(h) != nil
}

// URI implements storage.Store.
func (s *Store) URI() string {
	if s.prefix == "" {
		return "s3://" + s.bucket
	}
	return "s3://" + s.bucket + "/" + strings.TrimSuffix(s.prefix, "/")
}

// Bucket is the bucket the store lives in.
func (s *Store) Bucket() string { return s.bucket }

// Client is the underlying SDK client, for operations the Store does not
// wrap (bucket creation in tests, multipart uploads).
func (s *Store) Client() *awss3.Client { return s.client }

// Stats returns the store's cumulative request counters.
func (s *Store) Stats() Stats { return s.stats.snapshot() }

// fullKey validates key and prefixes it with the store's root.
func (s *Store) fullKey(key string) (string, error) {
	k, err := storage.CleanKey(key)
	if err != nil {
		return "", fmt.Errorf("%s: %w", s.URI(), err)
	}
	return s.prefix + k, nil
}

func (s *Store) loc(fullKey string) string { return "s3://" + s.bucket + "/" + fullKey }

// List implements storage.Store.
func (s *Store) List(ctx context.Context, prefix string) ([]storage.Object, error) {
	if strings.HasPrefix(prefix, "/") || strings.Contains("/"+prefix+"/", "/../") {
		return nil, fmt.Errorf("list %s: bad prefix %q (want a relative prefix without \"..\")", s.URI(), prefix)
	}
	full := s.prefix + prefix
	p := awss3.NewListObjectsV2Paginator(s.client, &awss3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(full),
	})
	var out []storage.Object
	for p.HasMorePages() {
		s.stats.lists.Add(1)
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s.wrap("list", s.loc(full)+"*", err)
		}
		for _, o := range page.Contents {
			if obj, ok := s.listed(o); ok {
				out = append(out, obj)
			}
		}
	}
	// S3 already lists in UTF-8 byte order, which is Go's string order;
	// sorting again keeps the contract for servers that do not.
	storage.SortObjects(out)
	return out, nil
}

// listed is a listing entry as an object, or false for a folder marker
// (a zero-byte "a/b/" object made by consoles: not an object in parity's
// model) or a key outside the store's prefix.
func (s *Store) listed(o types.Object) (storage.Object, bool) {
	k := aws.ToString(o.Key)
	if strings.HasSuffix(k, "/") || !strings.HasPrefix(k, s.prefix) {
		return storage.Object{}, false
	}
	return storage.Object{
		Key:     strings.TrimPrefix(k, s.prefix),
		Size:    aws.ToInt64(o.Size),
		ETag:    aws.ToString(o.ETag),
		ModTime: aws.ToTime(o.LastModified).UTC(),
	}, true
}

// ListLevel implements storage.Store with a "/" delimiter, so a partition
// level costs one request however many objects lie beneath it: the
// common prefixes are its sub-folders, the contents its own objects.
func (s *Store) ListLevel(ctx context.Context, dir string) ([]string, []storage.Object, error) {
	rel := ""
	if dir != "" {
		k, err := storage.CleanKey(dir)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", s.URI(), err)
		}
		if k != "." {
			rel = strings.TrimSuffix(k, "/") + "/"
		}
	}
	full := s.prefix + rel
	p := awss3.NewListObjectsV2Paginator(s.client, &awss3.ListObjectsV2Input{
		Bucket:    aws.String(s.bucket),
		Prefix:    aws.String(full),
		Delimiter: aws.String("/"),
	})
	var dirs []string
	var objs []storage.Object
	for p.HasMorePages() {
		s.stats.lists.Add(1)
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, s.wrap("list folders", s.loc(full), err)
		}
		for _, cp := range page.CommonPrefixes {
			k := aws.ToString(cp.Prefix)
			if strings.HasPrefix(k, s.prefix) && len(k) > len(full) {
				dirs = append(dirs, strings.TrimPrefix(k, s.prefix))
			}
		}
		for _, o := range page.Contents {
			if obj, ok := s.listed(o); ok {
				objs = append(objs, obj)
			}
		}
	}
	slices.Sort(dirs)
	storage.SortObjects(objs)
	return dirs, objs, nil
}

// Get implements storage.Store. A body cut short is retried.
func (s *Store) Get(ctx context.Context, key string) ([]byte, storage.Object, error) {
	full, err := s.fullKey(key)
	if err != nil {
		return nil, storage.Object{}, err
	}
	var data []byte
	var obj storage.Object
	err = s.getWithRetries(ctx, &awss3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(full)},
		func(out *awss3.GetObjectOutput) error {
			s.stats.gets.Add(1)
			want := int64(-1) // unknown length (chunked): read to EOF
			if out.ContentLength != nil {
				want = *out.ContentLength
			}
			b, err := readBody(out.Body, want)
			if err != nil {
				return err
			}
			data = b
			obj = storage.Object{Key: key, Size: int64(len(b)), ETag: aws.ToString(out.ETag), ModTime: aws.ToTime(out.LastModified).UTC()}
			return nil
		})
	if err != nil {
		return nil, storage.Object{}, s.wrap("get", s.loc(full), err)
	}
	return data, obj, nil
}

// getWithRetries makes one GetObject and hands the response to read, again
// until read succeeds. The SDK retries failures up to the response
// headers; this loop covers the body: a connection reset or closed
// mid-body, a short body, or a body that stalls past AttemptTimeout.
// Errors from GetObject itself (404, 412, exhausted SDK retries) return at
// once.
func (s *Store) getWithRetries(ctx context.Context, in *awss3.GetObjectInput, read func(*awss3.GetObjectOutput) error) error {
	var lastErr error
	for attempt := 1; attempt <= s.maxAttempts; attempt++ {
		if attempt > 1 {
			s.stats.bodyRetries.Add(1)
			if err := s.sleep(ctx, attempt-1, lastErr); err != nil {
				return fmt.Errorf("%w (while retrying after: %v)", err, lastErr)
			}
		}
		actx, cancel := context.WithTimeout(ctx, s.attemptTO)
		out, err := s.client.GetObject(actx, in)
		if err != nil {
			cancel()
			if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				lastErr = fmt.Errorf("no response within %v", s.attemptTO)
				continue
			}
			return err
		}
		err = read(out)
		// Judged before cancel, which would make every failure look
		// like a stall.
		stalled := errors.Is(actx.Err(), context.DeadlineExceeded)
		out.Body.Close()
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (reading body: %v)", ctx.Err(), err)
		}
		if stalled {
			err = fmt.Errorf("body stalled past %v: %w", s.attemptTO, err)
		}
		lastErr = err
	}
	return fmt.Errorf("body failed after %d attempts: %w", s.maxAttempts, lastErr)
}

// readBody reads and closes body, requiring exactly want bytes when want
// >= 0 (Go's HTTP client reports io.ErrUnexpectedEOF when a connection
// closes before Content-Length bytes; the length check also catches a
// server that lies about it).
func readBody(body io.Reader, want int64) ([]byte, error) {
	if want < 0 {
		return io.ReadAll(body)
	}
	buf := make([]byte, want)
	n, err := io.ReadFull(body, buf)
	if err != nil {
		return nil, fmt.Errorf("body truncated: got %d of %d bytes: %w", n, want, err)
	}
	return buf, nil
}

// sleep waits the retry backoff for attempt, or until ctx ends.
func (s *Store) sleep(ctx context.Context, attempt int, err error) error {
	d, berr := s.backoff.BackoffDelay(attempt, err)
	if berr != nil {
		d = time.Second
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (s *Store) put(ctx context.Context, op, key string, data []byte, in *awss3.PutObjectInput) (storage.Object, error) {
	full, err := s.fullKey(key)
	if err != nil {
		return storage.Object{}, err
	}
	in.Bucket = aws.String(s.bucket)
	in.Key = aws.String(full)
	// bytes.Reader is seekable, so the retryer can rewind it.
	in.Body = bytes.NewReader(data)
	in.ContentLength = aws.Int64(int64(len(data)))
	s.stats.puts.Add(1)
	out, err := s.client.PutObject(ctx, in)
	if err != nil {
		return storage.Object{}, s.wrap(op, s.loc(full), err)
	}
	// PutObject does not return Last-Modified; the local clock is close
	// enough for the manifest, and List/Get report the server's.
	return storage.Object{Key: key, Size: int64(len(data)), ETag: aws.ToString(out.ETag), ModTime: time.Now().UTC()}, nil
}

// Put implements storage.Store. S3 makes a PutObject visible atomically.
func (s *Store) Put(ctx context.Context, key string, data []byte) (storage.Object, error) {
	return s.put(ctx, "put", key, data, &awss3.PutObjectInput{})
}

// PutIfAbsent implements storage.Store with If-None-Match: *.
func (s *Store) PutIfAbsent(ctx context.Context, key string, data []byte) (storage.Object, error) {
	return s.put(ctx, "put if absent", key, data, &awss3.PutObjectInput{IfNoneMatch: aws.String("*")})
}

// PutIfMatch implements storage.Store with If-Match: etag. A missing key
// fails with storage.ErrPrecondition (as well as storage.ErrNotExist), as in
// the file backend.
func (s *Store) PutIfMatch(ctx context.Context, key string, data []byte, etag string) (storage.Object, error) {
	if etag == "" {
		return storage.Object{}, fmt.Errorf("put if match %s/%s: empty etag: %w", s.URI(), key, storage.ErrPrecondition)
	}
	o, err := s.put(ctx, "put if match "+etag, key, data, &awss3.PutObjectInput{IfMatch: aws.String(etag)})
	return o, conditionalNotExist(err)
}

// Delete implements storage.Store (S3 deletes of missing keys succeed).
func (s *Store) Delete(ctx context.Context, key string) error {
	full, err := s.fullKey(key)
	if err != nil {
		return err
	}
	_, err = s.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(full)})
	if err != nil {
		err = s.wrap("delete", s.loc(full), err)
		if errors.Is(err, storage.ErrNotExist) {
			return nil
		}
		return err
	}
	return nil
}

// DeleteIfMatch implements storage.Store with DeleteObject If-Match.
func (s *Store) DeleteIfMatch(ctx context.Context, key string, etag string) error {
	full, err := s.fullKey(key)
	if err != nil {
		return err
	}
	if etag == "" {
		return fmt.Errorf("delete if match %s: empty etag: %w", s.loc(full), storage.ErrPrecondition)
	}
	// Servers disagree on a conditional delete of a missing key (versitygw
	// answers 204), so look first: a key that is gone fails the
	// precondition here as in the file backend. If it vanishes between the
	// HEAD and the DELETE, the delete may report success, which leaves the
	// caller's goal (the object it named is gone) met.
	if _, err := s.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(full)}); err != nil {
		return conditionalNotExist(s.wrap("delete if match "+etag, s.loc(full), err))
	}
	_, err = s.client.DeleteObject(ctx, &awss3.DeleteObjectInput{
		Bucket:  aws.String(s.bucket),
		Key:     aws.String(full),
		IfMatch: aws.String(etag),
	})
	if err != nil {
		return conditionalNotExist(s.wrap("delete if match "+etag, s.loc(full), err))
	}
	return nil
}

// conditionalNotExist makes "the object is missing" also a precondition
// failure for If-Match operations, which is what callers test for.
func conditionalNotExist(err error) error {
	var e *Error
	if errors.As(err, &e) && errors.Is(err, storage.ErrNotExist) && !errors.Is(err, storage.ErrPrecondition) {
		e.kind = errors.Join(storage.ErrNotExist, storage.ErrPrecondition)
	}
	return err
}

// Open implements storage.Store: one HEAD for size and ETag, then one
// ranged GET per ReadAt.
func (s *Store) Open(ctx context.Context, key string) (storage.Reader, error) {
	return s.OpenReader(ctx, key)
}

// OpenReader is Open returning the concrete *Reader (for its Stats).
// ReadAt has no context parameter, so the Reader's requests use ctx:
// cancelling it aborts reads in flight and fails later ones.
func (s *Store) OpenReader(ctx context.Context, key string) (*Reader, error) {
	full, err := s.fullKey(key)
	if err != nil {
		return nil, err
	}
	h, err := s.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(full)})
	if err != nil {
		return nil, s.wrap("open", s.loc(full), err)
	}
	r := &Reader{
		s:    s,
		ctx:  ctx,
		full: full,
		obj: storage.Object{
			Key:     key,
			Size:    aws.ToInt64(h.ContentLength),
			ETag:    aws.ToString(h.ETag),
			ModTime: aws.ToTime(h.LastModified).UTC(),
		},
	}
	r.sr = io.NewSectionReader(r, 0, r.obj.Size)
	return r, nil
}

// Reader is random access to one S3 object version. ReadAt is safe for
// concurrent use (parquet-go reads column chunks in parallel).
type Reader struct {
	s    *Store
	ctx  context.Context // Open's: cancelling it aborts reads, as for an http.Request
	full string
	obj  storage.Object
	sr   *io.SectionReader // Read/Seek for readers that want io.ReadSeeker (arrow-go)

	gets, bytes atomic.Int64
}

var _ storage.Reader = (*Reader)(nil)

// Size implements storage.Reader.
func (r *Reader) Size() int64 { return r.obj.Size }

// Object implements storage.Reader.
func (r *Reader) Object() storage.Object { return r.obj }

// Close implements io.Closer; a Reader holds no connection between reads.
func (r *Reader) Close() error { return nil }

// Read and Seek make the Reader an io.ReadSeeker for readers that want
// one. They share one offset and are not safe for concurrent use.
func (r *Reader) Read(p []byte) (int, error) { return r.sr.Read(p) }

// Seek implements io.Seeker.
func (r *Reader) Seek(off int64, whence int) (int64, error) { return r.sr.Seek(off, whence) }

// Stats returns the ranged GETs this Reader made and the bytes they fetched.
func (r *Reader) Stats() (gets, bytes int64) { return r.gets.Load(), r.bytes.Load() }

// ReadAt implements io.ReaderAt with one ranged GET (If-Match the ETag seen
// at Open). A body cut short is retried with backoff; if the object has
// been replaced since Open, the error wraps storage.ErrPrecondition.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read %s: negative offset %d", r.s.loc(r.full), off)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if off >= r.obj.Size {
		return 0, io.EOF
	}
	n := int64(len(p))
	var eof error
	if off+n > r.obj.Size {
		n = r.obj.Size - off
		eof = io.EOF
	}
	rng := fmt.Sprintf("bytes=%d-%d", off, off+n-1)
	var got int
	err := r.s.getWithRetries(r.ctx, &awss3.GetObjectInput{
		Bucket:  aws.String(r.s.bucket),
		Key:     aws.String(r.full),
		Range:   aws.String(rng),
		IfMatch: aws.String(r.obj.ETag),
	}, func(out *awss3.GetObjectOutput) (err error) {
		got, err = readRange(out, off, p[:n])
		return err
	})
	if err != nil {
		err = r.s.wrap("read "+rng+" of", r.s.loc(r.full), err)
		if errors.Is(err, storage.ErrPrecondition) {
			err = fmt.Errorf("%w (object replaced since it was opened with etag %s)", err, r.obj.ETag)
		}
		return 0, err
	}
	r.gets.Add(1)
	r.bytes.Add(int64(got))
	r.s.stats.rangeGETs.Add(1)
	r.s.stats.bytesFetched.Add(int64(got))
	return got, eof
}

// readRange fills p from a ranged GET response, checking that the server
// honoured the range (a server that ignores Range sends the whole object
// with 200) and that the body was not cut short.
func readRange(out *awss3.GetObjectOutput, off int64, p []byte) (int, error) {
	if cr := aws.ToString(out.ContentRange); cr != "" {
		start, ok := contentRangeStart(cr)
		if !ok || start != off {
			return 0, fmt.Errorf("server answered range starting at %d with Content-Range %q", off, cr)
		}
	} else if off != 0 || aws.ToInt64(out.ContentLength) != int64(len(p)) {
		return 0, fmt.Errorf("server ignored the Range header (no Content-Range, %d bytes)", aws.ToInt64(out.ContentLength))
	}
	n, err := io.ReadFull(out.Body, p)
	if err != nil {
		return n, fmt.Errorf("body truncated: got %d of %d bytes: %w", n, len(p), err)
	}
	return n, nil
}

// contentRangeStart parses the first byte of "bytes a-b/size".
func contentRangeStart(cr string) (int64, bool) {
	cr = strings.TrimPrefix(cr, "bytes ")
	i := strings.IndexByte(cr, '-')
	if i < 0 {
		return 0, false
	}
	v, err := strconv.ParseInt(cr[:i], 10, 64)
	return v, err == nil
}
