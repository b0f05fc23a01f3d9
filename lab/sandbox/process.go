package sandbox

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// cmdlineMatches reports whether pid is alive and runs exactly cmdline.
func cmdlineMatches(pid int, cmdline []string) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(b) == 0 {
		return false // gone, or a zombie
	}
	got := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
	return slices.Equal(got, cmdline)
}

// stopProcess kills a recorded process, only if its pid still runs the
// recorded command line.
func stopProcess(o Options, p Process) error {
	pid := p.Pid
	if pid == 0 && p.PidFile != "" {
		// Killed between starting it and recording the pid: the pid file
		// knows.
		if b, err := o.readSandboxFile(p.PidFile, 64); err == nil {
			fmt.Sscan(string(b), &pid)
		}
	}
	return stopCmdline(pid, p.Cmdline, fmt.Sprintf("bird on %s (pid %d)", p.Node, pid))
}

// stopCmdline ends pid (what names it in errors) with SIGTERM, then
// SIGKILL, only while it runs exactly cmdline.
func stopCmdline(pid int, cmdline []string, what string) error {
	if pid <= 0 {
		return nil
	}
	// A pidfd is opened before the command line is checked: should the
	// process end and its pid be reused in between, the signal goes to
	// the pidfd's ended process (ESRCH), never to the newcomer.
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil // gone
	}
	if err != nil {
		return fmt.Errorf("stop %s: %w", what, err)
	}
	defer unix.Close(fd)
	if !cmdlineMatches(pid, cmdline) {
		return nil
	}
	if err := unix.PidfdSendSignal(fd, unix.SIGTERM, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("stop %s: %w", what, err)
	}
	for _, sig := range []unix.Signal{0, unix.SIGKILL} {
		if sig != 0 {
			unix.PidfdSendSignal(fd, sig, nil, 0)
		}
		for range 100 {
			if !cmdlineMatches(pid, cmdline) {
				return nil
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return fmt.Errorf("%s did not stop", what)
}
