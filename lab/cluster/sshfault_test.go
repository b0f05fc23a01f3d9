package cluster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"podlab/internal/netnstest"
	"podlab/netview"
)

// faultBin is a bin directory for startSSHNode whose ip runs script for
// every command but `ip netns …`, which the sshd's ForceCommand needs
// from the real ip. The fault lives on the node, as a hung or runaway
// command there would.
func faultBin(t *testing.T, script string) string {
	t.Helper()
	realIP := netnstest.RequireCommand(t, "ip", "apt-get install iproute2")
	dir := t.TempDir()
	body := fmt.Sprintf("#!/bin/sh\ncase \"$1\" in netns) exec %s \"$@\";; esac\n%s\n", realIP, script)
	if err := os.WriteFile(filepath.Join(dir, "ip"), []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// faultSleep is a fault script's endless command: a sleep no other
// process runs, so that killPidFile can tell it from whatever has its pid
// later.
func faultSleep() string { return fmt.Sprintf("sleep 300.%06d", rand.IntN(1000000)) }

// killPidFile ends, at cleanup, the processes whose pids fault scripts
// appended to path (sshd leaves a session's command running when the
// client goes away), those only that still run sleep, the script's
// faultSleep. One that ended may have left its pid to another process,
// of another test even: pids are few (32,768 here) and soon used again.
func killPidFile(t *testing.T, path, sleep string) {
	t.Helper()
	want := strings.ReplaceAll(sleep, " ", "\x00") + "\x00"
	t.Cleanup(func() {
		b, err := os.ReadFile(path)
		if err != nil {
			return
		}
		for _, f := range strings.Fields(string(b)) {
			pid, err := strconv.Atoi(f)
			if err != nil || pid <= 1 {
				continue
			}
			// The pidfd is opened before the command line is read: the
			// signal cannot reach a process that took the pid after.
			fd, err := unix.PidfdOpen(pid, 0)
			if err != nil {
				continue
			}
			if cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && string(cmd) == want {
				unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
			}
			unix.Close(fd)
		}
	})
}

// remoteLab is a Lab collecting from elsewhere over the ssh configuration
// config, with the lesson's customer pod on node standing in for what the
// API server would say.
func remoteLab(config, node string, o Options) *Lab {
	o.SSHConfig = config
	o.setDefaults()
	l := &Lab{opts: o, context: "test", where: Remote}
	l.facts.Node = node
	l.facts.Pod = netview.PodFact{Namespace: "yaobank", Name: customer, IP: netip.MustParseAddr("198.19.22.132"), Node: node, Phase: "Running"}
	return l
}

// returnsWithin runs f and fails the test when it has not returned after
// d: the bound the faults below must respect, set far above their own
// timeouts.
func returnsWithin(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("still running after %s", d)
	}
}

// checkOneLine fails unless err is a one-line *Error starting with prefix
// and containing each of more.
func checkOneLine(t *testing.T, err error, prefix string, more ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one starting %q", prefix)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) || strings.Contains(msg, "\n") {
		t.Errorf("error\n  %q\nwant one line starting\n  %q", msg, prefix)
	}
	for _, m := range more {
		if !strings.Contains(msg, m) {
			t.Errorf("error %q lacks %q", msg, m)
		}
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("error %T is not a *cluster.Error", err)
	}
}

// TestSSHFaults: a real sshd whose node hangs or floods; podlab's ssh
// ends within its bound and says so in one line.
func TestSSHFaults(t *testing.T) {
	ns := netnstest.New(t, "plf")
	// route get 127.0.0.1 below needs lo.
	netnstest.Run(t, ns, "ip", "link", "set", "lo", "up")
	const bound = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 10*bound)
	defer cancel()

	t.Run("hang", func(t *testing.T) {
		pids, sleep := filepath.Join(t.TempDir(), "pid"), faultSleep()
		killPidFile(t, pids, sleep)
		node := startSSHNode(t, "node1", ns, faultBin(t, "echo $$ >> "+pids+"; exec "+sleep))
		l := remoteLab(node.config, "node1", Options{RemotePodlab: "podlab-not-installed", Timeout: time.Second})
		returnsWithin(t, bound, func() {
			_, err := l.Collect(ctx)
			checkOneLine(t, err, "ssh node1 gave no complete answer in ", "check that ssh node1 true works, or run podlab on node1 with sudo instead")
		})
		returnsWithin(t, bound, func() {
			_, err := l.Route(ctx, netip.MustParseAddr("198.19.21.66"))
			checkOneLine(t, err, "ssh node1 gave no complete answer in ")
		})
	})

	collect := func(l *Lab) error { _, err := l.Collect(ctx); return err }
	route := func(l *Lab) error { _, err := l.Route(ctx, netip.MustParseAddr("198.19.21.66")); return err }
	for _, c := range []struct {
		name, script string
		op           func(*Lab) error
		want         string
	}{
		{"flood", "exec yes podlab-flood", collect, "ssh node1 printed more than 4 MiB: "},
		{"flood on route get", "exec yes podlab-flood", route, "ssh node1 printed more than 4 MiB: "},
		// The node script sends ip's stderr to /dev/null; route get's
		// reaches ssh.
		{"flood on stderr", "exec yes podlab-flood >&2", route, "ssh node1 printed more than 64 KiB of errors: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			node := startSSHNode(t, "node1", ns, faultBin(t, c.script))
			// The timeout is far above the time to send 4 MiB: only the
			// limit can end this.
			l := remoteLab(node.config, "node1", Options{RemotePodlab: "podlab-not-installed", Timeout: bound / 2})
			returnsWithin(t, bound, func() {
				err := c.op(l)
				checkOneLine(t, err, c.want, "run podlab on node1 with sudo instead")
				if !errors.Is(err, errOutputLimit) {
					t.Errorf("error does not unwrap to errOutputLimit: %#v", err)
				}
			})
		})
	}

	t.Run("zone reaches no shell", func(t *testing.T) {
		// ip is the real one here: the zone is the attack.
		node := startSSHNode(t, "node1", ns, t.TempDir())
		l := remoteLab(node.config, "node1", Options{})
		owned := filepath.Join(t.TempDir(), "owned")
		dst := netip.MustParseAddr("fe80::1%$(touch " + owned + ")")
		_, err := l.Route(ctx, dst)
		if _, serr := os.Stat(owned); serr == nil {
			t.Errorf("the zone ran as a command on the node: %s exists", owned)
		}
		checkOneLine(t, err, `"fe80::1%$(touch `, "give an IPv4 or IPv6 address without a zone")
		// And an address without one still works over the same path.
		if _, err := l.Route(ctx, netip.MustParseAddr("127.0.0.1")); err != nil {
			t.Errorf("route get 127.0.0.1: %v", err)
		}
	})
}

// TestSSHNodeNameOption: a node name that would be an ssh option never
// reaches ssh's command line. Only the ssh client is needed.
func TestSSHNodeNameOption(t *testing.T) {
	netnstest.RequireCommand(t, "ssh", "apt-get install openssh-client")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	owned := filepath.Join(t.TempDir(), "owned")
	for _, node := range []string{"-oProxyCommand=touch " + owned, "-V"} {
		t.Run(node, func(t *testing.T) {
			l := remoteLab(os.DevNull, node, Options{Timeout: 5 * time.Second})
			want := fmt.Sprintf("the API server names the pod's node %q, which is not a valid node name (DNS-1123)", node)
			_, err := l.Collect(ctx)
			checkOneLine(t, err, want, "give its address with --ssh")
			_, err = l.Route(ctx, netip.MustParseAddr("198.19.21.66"))
			checkOneLine(t, err, want)
			if _, err := os.Stat(owned); err == nil {
				t.Errorf("ssh ran the node name's ProxyCommand")
			}
		})
	}
}

// TestSSHProxyHang: ssh killed at the timeout leaves its ProxyCommand
// running with ssh's stderr: Route stops waiting for it.
func TestSSHProxyHang(t *testing.T) {
	netnstest.RequireCommand(t, "ssh", "apt-get install openssh-client")
	dir := t.TempDir()
	pids, sleep := filepath.Join(dir, "pid"), faultSleep()
	killPidFile(t, pids, sleep)
	config := filepath.Join(dir, "ssh_config")
	write(t, config, fmt.Sprintf("Host node1\n  ProxyCommand sh -c 'echo $$ >> %s; exec %s'\n", pids, sleep))
	l := remoteLab(config, "node1", Options{Timeout: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	returnsWithin(t, time.Minute, func() {
		_, err := l.Route(ctx, netip.MustParseAddr("198.19.21.66"))
		checkOneLine(t, err, "ssh node1 gave no complete answer in ")
	})
}
