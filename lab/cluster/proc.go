package cluster

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// ownGroup makes cmd the leader of a process group of its own and has a
// cancelled context kill the whole group, not only cmd: ssh starts
// children of its own (a ProxyCommand from the ssh config), which would
// otherwise outlive the ssh, and podlab.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if errors.Is(err, syscall.ESRCH) {
			// All of it already ended: not a failure of the command.
			return os.ErrProcessDone
		}
		return err
	}
}
