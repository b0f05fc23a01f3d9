package host1

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"podlab/internal/netnstest"

	"github.com/vishvananda/netns"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"
)

// PodRun is how the kubelet stand-in runs a pod's container.
type PodRun struct {
	// Netns is the named network namespace the container's commands run in.
	Netns string
	// Container is its one container's name ("main", as kubetest.AddPod
	// writes it).
	Container string
	// Stopped: the container is not running, so exec finds no container,
	// as a real kubelet says for an exited one.
	Stopped bool
	// NoIP: the container image has no ip command (a PATH without it).
	NoIP bool
}

// Kubelet serves the kubelet's exec endpoint with the kubelet's own
// streaming code (ServeExec: SPDY and WebSocket), on the node's address
// inside the node's namespace, over TLS that only the API server's client
// certificate passes.
type Kubelet struct {
	Node string
	Addr netip.AddrPort

	mu   sync.Mutex
	pods map[string]PodRun // "namespace/name"
	// Execs counts the commands run, so a test can tell the pod view came
	// through here.
	execs int
	// upgrades counts the streaming protocols asked for ("SPDY/3.1",
	// "websocket").
	upgrades map[string]int
	srv      *http.Server
}

// listenIn opens a TCP listener inside the named network namespace: the
// socket stays there whichever thread later accepts on it.
func listenIn(nsName, addr string) (net.Listener, error) {
	type result struct {
		l   net.Listener
		err error
	}
	done := make(chan result, 1)
	go func() {
		// The thread never returns to the pool: it ends with the goroutine.
		runtime.LockOSThread()
		h, err := netns.GetFromName(nsName)
		if err != nil {
			done <- result{err: fmt.Errorf("open namespace %s: %w", nsName, err)}
			return
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			done <- result{err: fmt.Errorf("enter namespace %s: %w", nsName, err)}
			return
		}
		l, err := net.Listen("tcp", addr)
		done <- result{l, err}
	}()
	r := <-done
	return r.l, r.err
}

// StartKubelet serves the exec endpoint for node on ip:port in netns nodeNS.
func StartKubelet(t testing.TB, tlsConfig *tls.Config, node, nodeNS string, ip netip.Addr) *Kubelet {
	t.Helper()
	l, err := listenIn(nodeNS, net.JoinHostPort(ip.String(), "0"))
	if err != nil {
		t.Fatalf("host1: kubelet stand-in for %s: %v", node, err)
	}
	k := &Kubelet{Node: node, Addr: netip.AddrPortFrom(ip, uint16(l.Addr().(*net.TCPAddr).Port)), pods: map[string]PodRun{}, upgrades: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/exec/", k.serveExec)
	k.srv = &http.Server{Handler: mux, TLSConfig: tlsConfig, ReadHeaderTimeout: 10 * time.Second}
	go k.srv.Serve(tls.NewListener(l, tlsConfig))
	t.Cleanup(func() { k.srv.Close() })
	return k
}

// AddPod tells the stand-in how to run ns/name.
func (k *Kubelet) AddPod(ns, name string, run PodRun) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.pods[ns+"/"+name] = run
}

// SetPod changes how ns/name runs; see PodRun.
func (k *Kubelet) SetPod(ns, name string, change func(*PodRun)) {
	k.mu.Lock()
	defer k.mu.Unlock()
	r := k.pods[ns+"/"+name]
	change(&r)
	k.pods[ns+"/"+name] = r
}

// Execs is how many commands ran through the stand-in.
func (k *Kubelet) Execs() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.execs
}

// Upgrades is how many exec requests asked for each streaming protocol
// (the Upgrade header: "SPDY/3.1", "websocket").
func (k *Kubelet) Upgrades() map[string]int {
	k.mu.Lock()
	defer k.mu.Unlock()
	m := make(map[string]int, len(k.upgrades))
	for p, n := range k.upgrades {
		m[p] = n
	}
	return m
}

// serveExec answers /exec/{namespace}/{pod}/{container} and
// /exec/{namespace}/{pod}/{uid}/{container}, the kubelet's own paths.
func (k *Kubelet) serveExec(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/exec/"), "/")
	if len(parts) != 3 && len(parts) != 4 {
		http.NotFound(w, r)
		return
	}
	ns, name, container := parts[0], parts[1], parts[len(parts)-1]
	uid := ""
	if len(parts) == 4 {
		uid = parts[2]
	}
	cmd := r.URL.Query()["command"]
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	k.mu.Lock()
	run, ok := k.pods[ns+"/"+name]
	k.upgrades[r.Header.Get("Upgrade")]++
	k.mu.Unlock()
	// The kubelet looks the container up among the running ones and
	// answers before any stream is made.
	if !ok || run.Stopped || (run.Container != "" && run.Container != container) {
		// What streaming.WriteError writes for a plain error.
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "container not found (%q)", container)
		return
	}
	ex := &podExecutor{k: k, run: run}
	remotecommand.ServeExec(w, r, ex, ns+"/"+name, uid, container, cmd, opts,
		time.Minute, remotecommand.DefaultStreamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

type podExecutor struct {
	k   *Kubelet
	run PodRun
}

// containerPath is the PATH of the pod's image.
const containerPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// nobody runs the commands: a container's processes are no root on the
// node, and reading a namespace needs none.
const nobody = "65534"

func (e *podExecutor) ExecInContainer(ctx context.Context, name, uid, container string, cmd []string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize, timeout time.Duration) error {
	e.k.mu.Lock()
	e.k.execs++
	e.k.mu.Unlock()
	if len(cmd) == 0 {
		return errors.New("no command")
	}
	path := containerPath
	if e.run.NoIP {
		path = "/nonexistent"
	}
	bin, err := lookPath(cmd[0], path)
	if err != nil {
		// As the runtime words it, and not an exit: the process never ran.
		return fmt.Errorf("failed to exec in container: OCI runtime exec failed: exec failed: unable to start container process: exec: %q: executable file not found in $PATH: unknown", cmd[0])
	}
	args := append([]string{"--net=" + netnstest.Path(e.run.Netns), "-S", nobody, "-G", nobody, "--", bin}, cmd[1:]...)
	c := exec.CommandContext(ctx, "nsenter", args...)
	c.WaitDelay = time.Second
	if in != nil {
		c.Stdin = in
	}
	if out != nil {
		c.Stdout = out
	}
	if errw != nil {
		c.Stderr = errw
	}
	err = c.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.Exited() {
		return utilexec.CodeExitError{Err: err, Code: ee.ExitCode()}
	}
	return err
}

// lookPath finds name on path, as the runtime does inside the image.
func lookPath(name, path string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, name)
		if fi, err := exec.LookPath(p); err == nil {
			return fi, nil
		}
	}
	return "", exec.ErrNotFound
}
