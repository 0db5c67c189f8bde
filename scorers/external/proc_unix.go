//go:build unix

package external

import (
	"os"
	"os/exec"
	"syscall"
)

// ownProcessGroup starts the scorer in a process group of its own, so
// that killing it (a timeout, a hung scorer) also ends the processes it
// started: a wrapper script, `uv run`, Python multiprocessing. Killing
// only the direct child left a grandchild holding stdout, and parity
// waited for it well past the timeout.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills the scorer's process group, or the process alone when
// the group is already gone.
func killGroup(cmd *exec.Cmd) error {
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err == nil {
		return nil
	}
	return cmd.Process.Kill()
}

// unread reports whether bytes are waiting on f, a pipe parity reads,
// without waiting for any. It may consume one: callers discard the
// process when there was one. os.Pipe's files are non-blocking (they
// are in the runtime poller), so the read returns at once.
func unread(f *os.File) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false // closed: the next read reports why
	}
	var n int
	_ = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _ = syscall.Read(int(fd), b[:])
		return true // one attempt: EAGAIN means nothing is there
	})
	return n > 0
}
