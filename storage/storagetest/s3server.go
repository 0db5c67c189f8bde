package storagetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// EnvEndpoint names the variable that points the integration tests at an
// already running S3-compatible server (scripts/s3server.sh start prints
// it, with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION).
const EnvEndpoint = "PARITY_TEST_S3_ENDPOINT"

// VersitygwPath is where scripts/install-tools.sh puts the test server,
// relative to the module root.
const VersitygwPath = ".tools/bin/versitygw"

// S3Server is an S3-compatible endpoint for tests and the credentials it
// accepts.
type S3Server struct {
	Endpoint  string // http://127.0.0.1:PORT
	Region    string
	AccessKey string
	SecretKey string
}

// Credentials returns a static provider for the server's keys.
func (s S3Server) Credentials() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, "")
}

// Client returns a plain SDK client for the server (bucket set-up, direct
// checks behind a store's back).
func (s S3Server) Client() *awss3.Client {
	return awss3.New(awss3.Options{
		Region:                     s.Region,
		BaseEndpoint:               aws.String(s.Endpoint),
		UsePathStyle:               true,
		Credentials:                s.Credentials(),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// NewBucket creates a bucket with a unique name, so tests never see each
// other's objects, even on a shared server.
func (s S3Server) NewBucket(t testing.TB) string {
	t.Helper()
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	name := "parity-test-" + hex.EncodeToString(rnd[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client().CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s at %s: %v", name, s.Endpoint, err)
	}
	return name
}

// StartS3 returns an S3-compatible server for an integration test.
//
// With PARITY_TEST_S3_ENDPOINT set it uses that server and the AWS_* keys
// from the environment (CI or `eval "$(scripts/s3server.sh start)"`).
// Otherwise it starts .tools/bin/versitygw (found by walking up to the
// module root) as a real subprocess on a free 127.0.0.1 port, with its data
// in t.TempDir(), and stops it when the test ends. versitygw is ready in
// ~0.1 s, so one server per test costs little and buys isolation: no state
// or process outlives the test, even when the test binary is killed (the
// child gets SIGKILL when its parent dies, on Linux).
//
// When neither is available the test is skipped with instructions, or
// fails when CI=true so CI cannot silently stop testing S3.
func StartS3(t testing.TB) S3Server {
	t.Helper()
	if ep := os.Getenv(EnvEndpoint); ep != "" {
		srv := S3Server{
			Endpoint:  ep,
			Region:    envOr("AWS_REGION", "us-east-1"),
			AccessKey: os.Getenv("AWS_ACCESS_KEY_ID"),
			SecretKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
		}
		if srv.AccessKey == "" || srv.SecretKey == "" {
			t.Fatalf("%s is set but AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not (use the lines scripts/s3server.sh start prints)", EnvEndpoint)
		}
		return srv
	}
	bin, err := findTool(VersitygwPath)
	if err != nil {
		missingTool(t, fmt.Sprintf("no S3 test server: %v; run `make tools` (scripts/install-tools.sh) or set %s", err, EnvEndpoint))
	}
	var lastErr error
	// A free port can be taken between our probe and versitygw's bind;
	// try a few.
	for range 5 {
		srv, err := startVersitygw(t, bin)
		if err == nil {
			return srv
		}
		lastErr = err
	}
	t.Fatalf("start %s: %v", bin, lastErr)
	return S3Server{}
}

// missingTool skips, or fails under CI=true.
func missingTool(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// findTool looks for rel under the module root (the nearest folder above
// the working directory holding go.mod); go test runs in the package dir.
func findTool(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, rel)
			if fi, err := os.Stat(p); err != nil || fi.IsDir() {
				return "", fmt.Errorf("%s not found", p)
			}
			return p, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("module root (go.mod) not found above the working directory")
		}
		dir = up
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startVersitygw(t testing.TB, bin string) (S3Server, error) {
	port, err := freePort()
	if err != nil {
		return S3Server{}, err
	}
	data := filepath.Join(t.TempDir(), "s3data")
	if err := os.MkdirAll(data, 0o750); err != nil {
		return S3Server{}, err
	}
	// Random keys, so a test that looks for credentials in error text
	// cannot match them by accident.
	var ak, sk [10]byte
	_, _ = rand.Read(ak[:])
	_, _ = rand.Read(sk[:])
	srv := S3Server{
		Endpoint:  fmt.Sprintf("http://127.0.0.1:%d", port),
		Region:    "us-east-1",
		AccessKey: "AKPT" + strings.ToUpper(hex.EncodeToString(ak[:])),
		SecretKey: hex.EncodeToString(sk[:]),
	}
	cmd := exec.Command(bin, "--port", fmt.Sprintf("127.0.0.1:%d", port), "--quiet", "posix", data)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+srv.AccessKey, "ROOT_SECRET_KEY="+srv.SecretKey)
	var logBuf strings.Builder
	cmd.Stdout = &lockedWriter{w: &logBuf}
	cmd.Stderr = cmd.Stdout
	setPdeathsig(cmd)
	if err := cmd.Start(); err != nil {
		return S3Server{}, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-exited:
			return S3Server{}, fmt.Errorf("versitygw exited before it was ready (%v): %s", err, cmd.Stdout.(*lockedWriter).String())
		default:
		}
		if ready(srv.Endpoint) {
			t.Cleanup(stop)
			return srv, nil
		}
		if time.Now().After(deadline) {
			stop()
			return S3Server{}, fmt.Errorf("versitygw not ready on %s after 15s: %s", srv.Endpoint, cmd.Stdout.(*lockedWriter).String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ready reports whether an HTTP server answers at endpoint (unsigned
// requests get 403 from versitygw, which is an answer).
func ready(endpoint string) bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(endpoint + "/")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}
