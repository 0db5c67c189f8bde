// Package storage is the seam between parity and the places bytes live: a
// local folder or an S3 bucket. Every reader (datasets) and every writer
// (reports, jobs) goes through Store, so each backend is one small package
// (storage/file, storage/s3) and the rest of parity never knows which it has.
//
// The contract every backend keeps:
//   - Put is atomic: a reader sees the old object or the new one, never a part.
//   - PutIfAbsent / PutIfMatch / DeleteIfMatch are conditional (compare-and-swap
//     on the ETag); they return ErrPrecondition when the condition fails. The
//     run lock (Lock) is built on them, once, for every backend.
//   - Keys are slash-separated and relative to the store's root; they never
//     start with "/" and never contain "..".
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// ErrNotExist is returned (wrapped) when a key does not exist.
var ErrNotExist = errors.New("object does not exist")

// ErrPrecondition is returned (wrapped) when a conditional write or delete
// finds the object not in the state the caller required.
var ErrPrecondition = errors.New("precondition failed")

// Object describes one stored object.
type Object struct {
	Key     string    `json:"key"`
	Size    int64     `json:"size"`
	ETag    string    `json:"etag"`
	ModTime time.Time `json:"mod_time"`
}

// Reader is random access to one object, as Parquet readers need it.
type Reader interface {
	io.ReaderAt
	io.Closer
	Size() int64
	Object() Object
}

// Store is one storage location (a folder, a bucket prefix).
type Store interface {
	// URI is the location the store is rooted at, e.g. "/data/logs" or
	// "s3://bucket/logs". Never contains credentials.
	URI() string
	// List returns every object whose key starts with prefix, recursively,
	// sorted by key.
	List(ctx context.Context, prefix string) ([]Object, error)
	// ListLevel returns dir's immediate "sub-folders" (keys ending in
	// "/") and the objects directly in it (not below a sub-folder), each
	// sorted. It lets readers prune Hive partitions without listing every
	// object under them, and still see a file beside the partitions.
	ListLevel(ctx context.Context, dir string) (dirs []string, objs []Object, err error)
	// Open opens an object for random access.
	Open(ctx context.Context, key string) (Reader, error)
	// Get reads a whole (small) object. Its errors name the object
	// (path or s3:// location), so callers need not add it.
	Get(ctx context.Context, key string) ([]byte, Object, error)
	// Put writes an object atomically, replacing any previous version.
	Put(ctx context.Context, key string, data []byte) (Object, error)
	// PutIfAbsent writes only when key does not exist (else ErrPrecondition).
	PutIfAbsent(ctx context.Context, key string, data []byte) (Object, error)
	// PutIfMatch replaces key only when its current ETag is etag (else ErrPrecondition).
	PutIfMatch(ctx context.Context, key string, data []byte, etag string) (Object, error)
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// DeleteIfMatch removes key only when its current ETag is etag.
	DeleteIfMatch(ctx context.Context, key string, etag string) error
}

// Opener builds a Store for a location URI of one scheme.
type Opener func(ctx context.Context, uri *url.URL, opts Options) (Store, error)

// Options are backend settings that do not belong in a URI.
type Options struct {
	// S3 settings; empty values fall back to the standard AWS chain
	// (AWS_REGION, AWS_ENDPOINT_URL_S3, profile, IRSA, IMDS ...).
	S3Endpoint  string
	S3Region    string
	S3PathStyle bool
}

var (
	openersMu sync.Mutex
	openers   = map[string]Opener{}
)

// Register makes a backend available for a URI scheme ("file", "s3").
// Backends call it from init; the binary imports them for effect.
func Register(scheme string, o Opener) {
	openersMu.Lock()
	defer openersMu.Unlock()
	openers[scheme] = o
}

// Open returns the store for a location: a local path, file://path or
// s3://bucket/prefix.
func Open(ctx context.Context, location string, opts Options) (Store, error) {
	if location == "" {
		return nil, errors.New("storage: empty location")
	}
	u, err := url.Parse(location)
	scheme := "file"
	if err == nil && len(u.Scheme) > 1 { // one letter is a Windows drive, not a scheme
		scheme = u.Scheme
	} else {
		u = &url.URL{Scheme: "file", Path: location}
	}
	openersMu.Lock()
	o, ok := openers[scheme]
	openersMu.Unlock()
	if !ok {
		return nil, fmt.Errorf("storage: location %q: unsupported scheme %q (want a local path, file:// or s3://)", location, scheme)
	}
	return o(ctx, u, opts)
}

// CleanKey validates a key and returns it in canonical form. It refuses
// absolute keys and "..", so no configuration can make parity write
// outside its output location.
func CleanKey(key string) (string, error) {
	if key == "" {
		return "", errors.New("storage: empty key")
	}
	if strings.HasPrefix(key, "/") {
		return "", fmt.Errorf("storage: key %q is absolute (want a key relative to the store)", key)
	}
	for _, part := range strings.Split(key, "/") {
		if part == ".." {
			return "", fmt.Errorf("storage: key %q leaves the store (contains \"..\")", key)
		}
	}
	dir := strings.HasSuffix(key, "/")
	c := path.Clean(key)
	if dir && c != "." {
		c += "/"
	}
	return c, nil
}

// SortObjects sorts objects by key.
func SortObjects(objs []Object) {
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key < objs[j].Key })
}
