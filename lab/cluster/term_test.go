package cluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"podlab/internal/kubetest"
	"podlab/internal/ptytest"
)

// The lesson on a live cluster from elsewhere: podlab polls the node over
// ssh. Its terminal closes while an ssh runs; podlab ends within 2 s and
// no process it started (the ssh) is left, whether SIGHUP reaches it or
// not.
func TestLessonOverSSHEndsWithItsTerminal(t *testing.T) {
	st := lessonSandbox(t)
	s := kubetest.Start(t)
	registerSandbox(t, s, st)
	bin := podlabBinary(t)
	node := startSSHNode(t, "node1", st.NodeNS("node1"), bin)

	for _, c := range []struct{ name, script string }{
		{"sighup ignored", `trap '' HUP; exec "$0" "$@"`},
		{"sighup delivered", `exec "$0" "$@"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			master, slave := ptytest.Open(t, 120, 40)
			out := ptytest.Drain(master)
			cmd := exec.Command("sh", "-c", c.script, filepath.Join(bin, "podlab"),
				"--lab", "cluster", "--kubeconfig", s.Kubeconfig, "--ssh-config", node.config, "--refresh", "100ms")
			cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
			cmd.Env = append(os.Environ(), "TERM=xterm-256color")
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			slave.Close()
			pid := cmd.Process.Pid // the session's leader: podlab, once sh execs
			exited := make(chan struct{})
			go func() { cmd.Wait(); close(exited) }()
			t.Cleanup(func() {
				for p := range ptytest.Session(pid) {
					syscall.Kill(p, syscall.SIGKILL)
				}
				<-exited
			})

			// Wait until the lesson is drawn and an ssh to the node runs.
			deadline := time.Now().Add(time.Minute)
			for {
				var ssh bool
				for _, comm := range ptytest.Session(pid) {
					ssh = ssh || comm == "ssh"
				}
				if ssh && strings.Contains(string(out.Bytes()), "refreshed") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no lesson with an ssh running; podlab wrote:\n%s", out.Bytes())
				}
				time.Sleep(5 * time.Millisecond)
			}
			master.Close()
			closed := time.Now()
			select {
			case <-exited:
				t.Logf("podlab was gone %v later", time.Since(closed).Round(time.Millisecond))
			case <-time.After(2 * time.Second):
				t.Fatalf("podlab still runs 2s after its terminal closed; its session: %v", ptytest.Session(pid))
			}
			if left := ptytest.Session(pid); len(left) > 0 {
				t.Errorf("processes podlab started outlive it: %v", left)
			}
		})
	}
}
