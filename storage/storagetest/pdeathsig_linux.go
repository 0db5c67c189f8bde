package storagetest

import (
	"os/exec"
	"syscall"
)

// setPdeathsig asks Linux to SIGKILL the server if the test binary dies
// without running its cleanups (panic, -timeout, kill), so no orphan
// server keeps a port and a data folder.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
