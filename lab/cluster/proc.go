package cluster

import (
	"os/exec"
	"syscall"
)

// ownGroup makes cmd the leader of a process group of its own and has a
// cancelled context kill the whole group, not only cmd: ssh starts
// children of its own (a ProxyCommand from the ssh config), which would
// otherwise outlive the ssh, and podlab.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
