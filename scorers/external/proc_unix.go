//go:build unix

package external

import (
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
