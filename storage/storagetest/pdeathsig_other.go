//go:build !linux

package storagetest

import "os/exec"

// setPdeathsig is Linux-only; elsewhere t.Cleanup alone stops the server.
func setPdeathsig(*exec.Cmd) {}
