package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/parity-eval/parity/datasets/parquettest"
)

// openPTY opens a pseudo-terminal: parity writing to tty takes it for a
// terminal, as it would a person's.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	var n uint32
	var unlock int32
	for _, c := range []struct {
		req uintptr
		arg unsafe.Pointer
	}{{syscall.TIOCGPTN, unsafe.Pointer(&n)}, {syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)}} {
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), c.req, uintptr(c.arg)); errno != 0 {
			t.Skipf("no pseudo-terminal: %v", errno)
		}
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	return m, s
}

// mainOnTerminal runs Main with stderr a terminal and returns what it
// wrote there.
func mainOnTerminal(t *testing.T, args ...string) (int, string) {
	t.Helper()
	master, tty := openPTY(t)
	out := make(chan string)
	go func() {
		b, _ := io.ReadAll(master) // until the terminal closes (EIO)
		out <- strings.ReplaceAll(string(b), "\r\n", "\n")
	}()
	code := Main(context.Background(), args, io.Discard, tty)
	tty.Close()
	return code, <-out
}

// TestErrorsOnTerminalAreText: on a terminal, the line saying why parity
// stops is the plain text it has always been, not a record.
func TestErrorsOnTerminalAreText(t *testing.T) {
	b := newBad(t)
	parquettest.WriteGo(t, b.file("part-0.parquet"), goodRows("x", 50))
	if err := os.WriteFile(b.file("part-1.parquet"), []byte("not parquet"), 0o600); err != nil {
		t.Fatal(err)
	}
	window := []string{"--window", "2026-10-01/2026-10-02", "--now", "2026-10-03T00:00:00Z", "--log-level", "error"}
	code, text := mainOnTerminal(t, append([]string{"run", "--config", b.cfg}, window...)...)
	if code != ExitFailure || !strings.HasPrefix(text, "parity: dataset logs: dt=2026-10-01/part-1.parquet: ") || strings.Count(text, "\n") != 1 {
		t.Errorf("not Parquet: exit %d: %q", code, text)
	}
	code, text = mainOnTerminal(t, "run", "--config", b.cfg, "--window", "yesterday")
	if code != ExitUsage || !strings.HasPrefix(text, "parity run: --window: ") || strings.Count(text, "\n") != 1 {
		t.Errorf("bad --window: exit %d: %q", code, text)
	}
	bad := strings.Replace(badConfig, "max_p95_latency_ms: 1000", "max_p95_latency_ms: -1", 1)
	if err := os.WriteFile(b.cfg, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	code, text = mainOnTerminal(t, append([]string{"run", "--config", b.cfg}, window...)...)
	if code != ExitUsage || !strings.HasPrefix(text, b.cfg+":13: features[0].criteria.max_p95_latency_ms: ") || strings.Count(text, "\n") != 1 {
		t.Errorf("bad config: exit %d: %q", code, text)
	}
}
