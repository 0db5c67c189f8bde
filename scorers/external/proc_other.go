//go:build !unix

package external

import (
	"os"
	"os/exec"
)

// ownProcessGroup: process groups are a Unix notion; elsewhere the
// scorer is killed alone (and Cmd.WaitDelay bounds the wait on its
// pipes).
func ownProcessGroup(*exec.Cmd) {}

func killGroup(cmd *exec.Cmd) error { return cmd.Process.Kill() }

// unread: an anonymous pipe cannot be polled without PeekNamedPipe;
// the parity.batch echo and the end-of-stream check still apply.
func unread(*os.File) bool { return false }
