package host1_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"podlab/internal/host1"
	"podlab/internal/netnstest"
	"podlab/lab/cluster"
	"podlab/lab/sandbox"
)

// term is a tmux server of the student's own, with one window running
// podlab as the student.
type term struct {
	t    *testing.T
	l    *host1.Lab
	sock string
}

func newTerm(t *testing.T, l *host1.Lab, args ...string) *term {
	t.Helper()
	netnstest.RequireCommand(t, "tmux", "apt-get install tmux")
	tm := &term{t: t, l: l, sock: netnstest.Name("podlab-h1-")}
	cmdline := append([]string{filepath.Join(podlab(t), "podlab")}, args...)
	for i, a := range cmdline {
		cmdline[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	tm.run("-f", "/dev/null", "new-session", "-d", "-s", "lab", "-x", "160", "-y", "48",
		"-e", "TERM=xterm-256color", strings.Join(cmdline, " ")+`; s=$?; echo "[podlab exited $s]"; sleep 600`)
	t.Cleanup(func() { l.User.Command("tmux", "-L", tm.sock, "kill-server").Run() })
	return tm
}

func (tm *term) run(args ...string) string {
	tm.t.Helper()
	var out bytes.Buffer
	cmd := tm.l.User.Command(append([]string{"tmux", "-L", tm.sock}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		tm.t.Fatalf("tmux %v: %v: %s", args, err, out.String())
	}
	return out.String()
}

func (tm *term) screen() string { return tm.run("capture-pane", "-p", "-t", "lab") }

func (tm *term) waitText(d time.Duration, want ...string) string {
	tm.t.Helper()
	deadline := time.Now().Add(d)
	for {
		s := tm.screen()
		if !slices.ContainsFunc(want, func(w string) bool { return !strings.Contains(s, w) }) {
			return s
		}
		if strings.Contains(s, "[podlab exited") || time.Now().After(deadline) {
			tm.t.Fatalf("waiting for %q; the screen is:\n%s", want, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTUIFromHost1: the TUI as the student on host1, the pod over exec and
// the node over ssh (ip -j, then podlab collect through sudo -n). It also
// measures, in the same run, the time to the first frame and per refresh
// against the lesson's commands typed by hand, and logs the ratios; it
// asserts only that each ran.
func TestTUIFromHost1(t *testing.T) {
	l := classroom(t)
	kc, err := os.ReadFile(l.Kubeconfig(t, l.User.Name, host1.StudentRules...))
	if err != nil {
		t.Fatal(err)
	}
	l.User.WriteFile(t, ".kube/config", string(kc))
	cust := l.State.Pod(sandbox.CustomerNamespace, sandbox.CustomerPod)
	node1 := l.Kubelets["node1"]

	t.Run("ip on the node", func(t *testing.T) {
		sshd := l.StartSSHD(t, "node1", host1.SSHOptions{})
		l.SSHConfig(t, []*host1.SSHD{sshd}, sshd)
		byHand := handTime(t, l, cust)

		// The TUI's own start, with nothing to reach: the built-in recording.
		began := time.Now()
		rec := newTerm(t, l, "--lab", "recording")
		rec.waitText(time.Minute, "recording", "refreshed")
		recFirst := time.Since(began)

		began = time.Now()
		tm := newTerm(t, l, "--lab", "cluster")
		tm.waitText(time.Minute, cust.IP.String(), "node1 $ ip", "refreshed")
		first := time.Since(began)

		// r reads again: one ssh round and the four execs.
		var refresh []time.Duration
		for range 3 {
			before := node1.Execs()
			began := time.Now()
			tm.run("send-keys", "-t", "lab", "r")
			for node1.Execs() < before+4 {
				if time.Since(began) > time.Minute {
					t.Fatalf("r did not refresh through the kubelet:\n%s", tm.screen())
				}
				time.Sleep(5 * time.Millisecond)
			}
			refresh = append(refresh, time.Since(began))
		}
		slices.Sort(refresh)
		ratio := func(d time.Duration) string {
			if byHand == 0 {
				return "no ratio"
			}
			return fmt.Sprintf("%.2fx", float64(d)/float64(byHand))
		}
		t.Logf("timing: by hand (kubectl exec ip -j addr, kubectl exec ip -j route, ssh node1 ip -j addr, ssh node1 ip -j route) %s; TUI first frame %s (%s; on the built-in recording %s); refresh median %s (%s)",
			byHand.Round(time.Millisecond), first.Round(time.Millisecond), ratio(first), recFirst.Round(time.Millisecond),
			refresh[1].Round(time.Millisecond), ratio(refresh[1]))
	})

	t.Run("podlab and sudo on the node", func(t *testing.T) {
		bin := podlab(t)
		l.User.Sudoers(t, fmt.Sprintf("%s ALL=(root) NOPASSWD: %s %s", l.User.Name, filepath.Join(bin, "podlab"), cluster.SudoersCollectArgs))
		sshd := l.StartSSHD(t, "node1", host1.SSHOptions{PodlabDir: bin})
		l.SSHConfig(t, []*host1.SSHD{sshd}, sshd)
		before := node1.Execs()
		tm := newTerm(t, l, "--lab", "cluster")
		tm.waitText(time.Minute, cust.IP.String(), "node1 $ ip", "refreshed")
		tm.run("send-keys", "-t", "lab", "r")
		time.Sleep(time.Second)
		tm.waitText(time.Minute, cust.IP.String(), "refreshed")
		if got := node1.Execs() - before; got != 0 {
			t.Errorf("%d execs: podlab collect on the node should need none", got)
		}
	})
}

// handTime is the median of three runs of the lesson's commands, typed
// one after the other by the student.
func handTime(t *testing.T, l *host1.Lab, cust *sandbox.PodInfo) time.Duration {
	t.Helper()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		// Only the figures need it; the test's assertions do not.
		t.Log("timing: no kubectl here to compare with")
		return 0
	}
	cmds := [][]string{
		{kubectl, "exec", "-n", cust.Namespace, cust.Name, "--", "ip", "-j", "addr"},
		{kubectl, "exec", "-n", cust.Namespace, cust.Name, "--", "ip", "-j", "route"},
		{"ssh", "node1", "ip", "-j", "addr"},
		{"ssh", "node1", "ip", "-j", "route"},
	}
	var runs []time.Duration
	for range 3 {
		began := time.Now()
		for _, argv := range cmds {
			cmd := l.User.Command(argv...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := runBounded(t, cmd, time.Minute); err != nil {
				t.Fatalf("%v: %v\n%s", argv, err, out.String())
			}
		}
		runs = append(runs, time.Since(began))
	}
	slices.Sort(runs)
	return runs[1]
}
