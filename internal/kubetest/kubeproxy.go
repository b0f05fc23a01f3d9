package kubetest

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"podlab/lab"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// KubeProxy is a real kube-proxy running in a network namespace as the
// proxy of one node of the test server.
type KubeProxy struct {
	Node, NS, Mode string

	log  string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // set before done is closed
}

// StartKubeProxy runs kube-proxy for node in mode ("iptables" or
// "nftables") inside the named network namespace, as the identity
// system:kube-proxy (the bootstrap policy's node-proxier), and stops it
// when the test ends. It writes only inside the namespace: its conntrack
// flags are the ones that leave the host's sysctls and the conntrack
// module alone, and healthz and metrics listen on the namespace's
// loopback. The namespace's loopback is brought up and reaches the API
// server through a forwarder on the server's own address.
func (s *Server) StartKubeProxy(t testing.TB, ns, node, mode string) *KubeProxy {
	t.Helper()
	bin, err := binDir()
	if err == nil {
		err = checkBinary(bin, "kube-proxy")
	}
	if err != nil {
		msg := fmt.Sprintf("kubetest: %v; run .ci/kube/build.sh (or set %s to its output directory)", err, envBin)
		if os.Getenv(envRequire) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if out, err := exec.Command("ip", "-n", ns, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("kubetest: bring up lo in %s: %v: %s", ns, err, out)
	}
	s.forwardInto(t, ns)

	dir := t.TempDir()
	k := &KubeProxy{Node: node, NS: ns, Mode: mode, log: filepath.Join(dir, "kube-proxy.log"), done: make(chan struct{})}
	logFile, err := os.Create(k.log)
	if err != nil {
		t.Fatalf("kubetest: kube-proxy's log: %v", err)
	}
	// ip netns exec execs kube-proxy in place: the process is kube-proxy.
	k.cmd = exec.Command("ip", "netns", "exec", ns, filepath.Join(bin, "kube-proxy"),
		"--kubeconfig="+s.KubeconfigFor(t, "system:kube-proxy"),
		"--hostname-override="+node,
		"--proxy-mode="+mode,
		// 0 leaves nf_conntrack_max, the module's hashsize and the
		// conntrack timeouts as they are: the first two are the host's.
		"--conntrack-max-per-core=0",
		"--conntrack-tcp-timeout-established=0",
		"--conntrack-tcp-timeout-close-wait=0",
		"--healthz-bind-address=127.0.0.1:10256",
		"--metrics-bind-address=127.0.0.1:10249",
		// Its own score only; the default -999 would shield a test's
		// process from the OOM killer.
		"--oom-score-adj=0",
		"--v=2",
	)
	k.cmd.Dir = dir
	k.cmd.Stdout, k.cmd.Stderr = logFile, logFile
	// A group of its own: the iptables-restore or nft it may be running
	// when it is stopped is ended with it.
	k.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := launch(k.cmd); err != nil {
		logFile.Close()
		t.Fatalf("kubetest: start kube-proxy in %s: %v", ns, err)
	}
	go func() {
		k.err = k.cmd.Wait()
		logFile.Close()
		close(k.done)
	}()
	t.Cleanup(func() {
		if err := k.stop(); err != nil {
			t.Errorf("kubetest: %v", err)
		}
		if t.Failed() {
			t.Logf("kubetest: kube-proxy in %s:\n%s", ns, k.Tail())
		}
	})
	return k
}

// Alive reports a kube-proxy that exited, with the end of its log.
func (k *KubeProxy) Alive() error {
	select {
	case <-k.done:
		return fmt.Errorf("kube-proxy in %s exited: %v\n%s", k.NS, k.err, k.Tail())
	default:
		return nil
	}
}

// Tail is the end of kube-proxy's log.
func (k *KubeProxy) Tail() string {
	b, err := os.ReadFile(k.log)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return lastLines(string(b), 40)
}

// stop ends kube-proxy, then what is left of its process group, and
// waits (bounded) until the group is gone.
func (k *KubeProxy) stop() error {
	select {
	case <-k.done:
	default:
		_ = k.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-k.done:
		case <-time.After(stopTimeout):
			_ = k.cmd.Process.Kill()
			<-k.done
		}
	}
	group := -k.cmd.Process.Pid
	_ = unix.Kill(group, unix.SIGKILL)
	deadline := time.Now().Add(stopTimeout)
	for unix.Kill(group, 0) == nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("kube-proxy's children in %s still there %s after it ended", k.NS, stopTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

func checkBinary(dir, name string) error {
	fi, err := os.Stat(filepath.Join(dir, name))
	if err != nil {
		return fmt.Errorf("no %s in %s", name, dir)
	}
	if fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s in %s is not executable", name, dir)
	}
	return nil
}

// forwardInto listens on the API server's address inside ns and passes
// each connection to the server in the test's own namespace: the
// server's 127.0.0.1 is not the namespace's. TLS goes through untouched.
func (s *Server) forwardInto(t testing.TB, ns string) {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatalf("kubetest: server address %q: %v", s.URL, err)
	}
	addr := u.Host
	l, err := listenIn(ns, addr)
	if err != nil {
		t.Fatalf("kubetest: listen on %s in %s: %v", addr, ns, err)
	}
	var (
		mu     sync.Mutex
		conns  = map[net.Conn]bool{}
		closed bool
		wg     sync.WaitGroup
	)
	track := func(c net.Conn) bool {
		mu.Lock()
		defer mu.Unlock()
		if closed {
			c.Close()
			return false
		}
		conns[c] = true
		return true
	}
	wg.Go(func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			if !track(in) {
				return
			}
			wg.Go(func() {
				out, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil || !track(out) {
					in.Close()
					return
				}
				var pipes sync.WaitGroup
				pipes.Go(func() { io.Copy(out, in); out.Close() })
				pipes.Go(func() { io.Copy(in, out); in.Close() })
				pipes.Wait()
				mu.Lock()
				delete(conns, in)
				delete(conns, out)
				mu.Unlock()
			})
		}
	})
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		closed = true
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
}

// listenIn opens a TCP listener inside the named namespace: the socket
// stays there whichever thread later accepts on it. lab.InNS is podlab's
// one way into a namespace.
func listenIn(ns, addr string) (net.Listener, error) {
	var l net.Listener
	err := lab.InNS(lab.NSRef{Name: ns}, func() error {
		var err error
		l, err = net.Listen("tcp", addr)
		return err
	})
	return l, err
}

// RequireBinaries returns the directory of the named binaries of
// .ci/kube/build.sh (PODLAB_KUBE_BIN, or its default), for a test that
// runs them itself: without them it skips, or fails when
// PODLAB_REQUIRE_KUBE=1.
func RequireBinaries(t testing.TB, names ...string) string {
	t.Helper()
	bin, err := binDir()
	for _, n := range names {
		if err == nil {
			err = checkBinary(bin, n)
		}
	}
	if err != nil {
		msg := fmt.Sprintf("kubetest: %v; run .ci/kube/build.sh (or set %s to its output directory)", err, envBin)
		if os.Getenv(envRequire) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return bin
}
