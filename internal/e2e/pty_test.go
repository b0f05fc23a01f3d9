package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"podlab/internal/netnstest"
	"podlab/internal/ptytest"
)

// ptyRun is a shell running podlab on a pseudo-terminal of its own, as
// the leader of a new session whose controlling terminal it is.
type ptyRun struct {
	t      *testing.T
	master *os.File
	cmd    *exec.Cmd
	out    *ptytest.Output
	exited chan struct{}
}

func startOnPTY(t *testing.T, script string, args ...string) *ptyRun {
	t.Helper()
	return startOnPTYWith(t, podlab(t), nil, script, args...)
}

// startOnPTYWith is startOnPTY with another podlab binary and more of
// the environment.
func startOnPTYWith(t *testing.T, bin string, env []string, script string, args ...string) *ptyRun {
	t.Helper()
	master, slave := ptytest.Open(t, 80, 24)
	cmd := exec.Command("sh", append([]string{"-c", script, bin}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.Env = append(append(os.Environ(), "TERM=xterm-256color"), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	r := &ptyRun{t: t, master: master, cmd: cmd, out: ptytest.Drain(master), exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(r.exited)
	}()
	t.Cleanup(func() {
		// Whatever the test found, leave nothing of the session behind.
		for pid := range ptytest.Session(cmd.Process.Pid) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		<-r.exited
	})
	return r
}

var ansiRE = regexp.MustCompile(`\x1b(\[[0-9;:?<=>]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])`)

// waitOutput waits until podlab has drawn all of want.
func (r *ptyRun) waitOutput(d time.Duration, want ...string) {
	r.t.Helper()
	deadline := time.Now().Add(d)
	for {
		s := ansiRE.ReplaceAllString(string(r.out.Bytes()), "")
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(s, w)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("podlab did not draw %q; it wrote:\n%s", want, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// podlabPid is podlab's process: the shell itself when it execs podlab,
// else the shell's one child.
func (r *ptyRun) podlabPid() int {
	r.t.Helper()
	sh := r.cmd.Process.Pid
	for pid := range ptytest.Session(sh) {
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); filepath.Base(exe) == "podlab" {
			return pid
		}
	}
	r.t.Fatalf("no podlab process in session %d", sh)
	return 0
}

// alive reports whether pid is a process that has not exited.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && !strings.HasPrefix(strings.TrimSpace(s[i+1:]), "Z")
}

// The terminal goes away (its master side closed) under each way podlab
// is commonly started; podlab must end within 2 s and leave no process
// of its session behind.
func TestTerminalClosed(t *testing.T) {
	starts := []struct {
		name, script string
	}{
		// SIGHUP ignored and podlab the session leader: the kernel's
		// SIGHUP comes, ignored as inherited (nohup, su -c).
		{"sighup ignored", `trap '' HUP; exec "$0" "$@"`},
		// podlab under a shell that leads the session: no SIGHUP reaches
		// podlab at all; only its reads of the terminal say it is gone.
		{"no sighup", `trap '' HUP; "$0" "$@"; exit 0`},
		// The default: SIGHUP delivered.
		{"sighup delivered", `exec "$0" "$@"`},
	}
	labs := []struct {
		name string
		args func(t *testing.T) []string
		want []string
	}{
		{"recording", func(t *testing.T) []string { return []string{"--lab", "recording"} }, []string{"recording", "refreshed"}},
		{"netns", func(t *testing.T) []string {
			host, pod := netnstest.New(t, "pt"), netnstest.New(t, "pt")
			return []string{"--lab", "netns", "--host-netns", host, "--pod-netns", pod, "--refresh", "200ms"}
		}, []string{"netns", "refreshed"}},
	}
	for _, l := range labs {
		for _, s := range starts {
			t.Run(l.name+"/"+s.name, func(t *testing.T) {
				r := startOnPTY(t, s.script, l.args(t)...)
				r.waitOutput(wait, l.want...)
				pid := r.podlabPid()
				r.master.Close()
				r.waitGone(pid, 2*time.Second)
			})
		}
	}
}

// waitGone asserts that podlab ends within d of now (the terminal closed
// or a signal sent), and that no process of its session outlives it.
func (r *ptyRun) waitGone(pid int, d time.Duration) {
	r.t.Helper()
	closed := time.Now()
	for alive(pid) {
		if time.Since(closed) > d {
			r.t.Fatalf("podlab (pid %d) still runs %v later", pid, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.t.Logf("podlab was gone %v later", time.Since(closed).Round(time.Millisecond))
	select {
	case <-r.exited:
	case <-time.After(d):
		r.t.Fatalf("the shell around podlab did not end after podlab did")
	}
	if left := ptytest.Session(r.cmd.Process.Pid); len(left) > 0 {
		r.t.Errorf("processes of podlab's session outlive it: %v", left)
	}
}

// A self-paced student's last step is kept when the window closes.
func TestTerminalClosedKeepsProgress(t *testing.T) {
	prog := filepath.Join(t.TempDir(), "progress.json")
	r := startOnPTY(t, `trap '' HUP; exec "$0" "$@"`, "--lab", "recording", "--self-paced", "--progress", prog)
	r.waitOutput(wait, "recording", "refreshed", "1/22 done")
	pid := r.podlabPid()
	// Section 3, then the window closes at once.
	if _, err := r.master.Write([]byte("3")); err != nil {
		t.Fatal(err)
	}
	r.waitOutput(wait, "3/4")
	r.master.Close()
	r.waitGone(pid, 2*time.Second)
	data, err := os.ReadFile(prog)
	if err != nil {
		t.Fatalf("no progress kept: %v", err)
	}
	if !strings.Contains(string(data), `"3.1"`) {
		t.Errorf("the progress lacks step 3.1, the last one shown:\n%s", data)
	}
}

// A signal ends podlab as q does, the terminal still there: the screen is
// restored (the alternate screen left) and progress is kept. SIGHUP counts
// even when podlab was started with it ignored.
func TestSignalEnds(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT} {
		t.Run(unix.SignalName(sig), func(t *testing.T) {
			prog := filepath.Join(t.TempDir(), "progress.json")
			r := startOnPTY(t, `trap '' HUP; exec "$0" "$@"`, "--lab", "recording", "--self-paced", "--progress", prog)
			r.waitOutput(wait, "recording", "refreshed", "1/22 done")
			pid := r.podlabPid()
			if _, err := r.master.Write([]byte("4")); err != nil {
				t.Fatal(err)
			}
			r.waitOutput(wait, "4/4")
			if err := syscall.Kill(pid, sig); err != nil {
				t.Fatal(err)
			}
			r.waitGone(pid, 2*time.Second)
			// podlab has exited; what it wrote last may still be on its
			// way to the reader.
			select {
			case <-r.out.Done():
			case <-time.After(wait):
				t.Fatal("the terminal still reads something after podlab ended")
			}
			out := string(r.out.Bytes())
			if !strings.Contains(out, "\x1b[?1049l") {
				t.Errorf("podlab did not leave the alternate screen on %v", sig)
			}
			data, err := os.ReadFile(prog)
			if err != nil {
				t.Fatalf("no progress kept: %v", err)
			}
			if !strings.Contains(string(data), `"4.1"`) {
				t.Errorf("the progress lacks step 4.1, the last one shown:\n%s", data)
			}
		})
	}
}
