// Package kubetest runs a real etcd and kube-apiserver on 127.0.0.1 for
// podlab's cluster tests, and offers the few helpers a cluster without a
// kubelet needs: nodes with addresses, pods with a written status,
// Calico's BlockAffinity objects, a kubelet stand-in for exec
// (AddKubelet), and a real kube-proxy in a network namespace
// (StartKubeProxy).
//
// One server is shared by every test of a test binary: it starts on the
// first call to Start and runs until Stop. A package that uses it stops it
// from TestMain:
//
//	func TestMain(m *testing.M) { kubetest.Main(m) }
//
// As a backstop the processes are started with a parent-death signal, so
// they die with the test binary even if Stop is never reached.
//
// The binaries come from .ci/kube/build.sh: PODLAB_KUBE_BIN names their
// directory (default $HOME/.cache/podlab/kube/v1.37.2). Without them Start
// skips the test, or fails it when PODLAB_REQUIRE_KUBE=1.
package kubetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// KubeVersion is the Kubernetes release the binaries are built from.
const KubeVersion = "v1.37.2"

const (
	envBin     = "PODLAB_KUBE_BIN"
	envRequire = "PODLAB_REQUIRE_KUBE"

	// A cold start (etcd bootstrap, RBAC bootstrap policy) takes seconds;
	// the bound is generous for a loaded two-core CI machine.
	startTimeout = 2 * time.Minute
	stopTimeout  = 10 * time.Second

	// Only the allocation range for Service IPs: nothing is ever sent there.
	serviceCIDR = "10.96.0.0/16"
)

// Server is a running kube-apiserver backed by its own etcd.
type Server struct {
	// URL is the API server's https address on 127.0.0.1.
	URL string
	// Kubeconfig is the path of an admin (system:masters) kubeconfig file.
	Kubeconfig string
	// Config is the admin client configuration, loaded from Kubeconfig.
	Config *rest.Config

	dir        string
	ca         *authority
	adminToken string
	procs      []*proc
	lock       *os.File // held while the server runs; see removeStaleDirs
	crdMu      sync.Mutex
	crdServed  bool
}

var (
	sharedMu  sync.Mutex
	shared    *Server
	sharedErr error
)

// Start returns the test binary's API server, starting it on first use.
// A failed start is remembered: later callers fail at once with the same
// error instead of waiting for the timeout again.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := binDir()
	if err == nil {
		err = checkBinaries(bin)
	}
	if err != nil {
		msg := fmt.Sprintf("kubetest: %v; run .ci/kube/build.sh (or set %s to its output directory)", err, envBin)
		if os.Getenv(envRequire) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}

	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil && sharedErr == nil {
		began := time.Now()
		shared, sharedErr = start(bin)
		if sharedErr == nil {
			t.Logf("kubetest: kube-apiserver %s ready at %s in %s", KubeVersion, shared.URL, time.Since(began).Round(time.Millisecond))
		}
	}
	if sharedErr != nil {
		t.Fatalf("kubetest: %v", sharedErr)
	}
	if err := shared.alive(); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	return shared
}

// Main runs the tests, stops the shared server, and exits with the tests'
// status. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop ends the shared server's processes and removes their data. It is
// safe to call when no server was started, and more than once.
func Stop() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		shared.stop()
	}
	shared, sharedErr = nil, nil
}

// Client returns a clientset with admin rights.
func (s *Server) Client(t testing.TB) kubernetes.Interface {
	t.Helper()
	c, err := kubernetes.NewForConfig(s.Config)
	if err != nil {
		t.Fatalf("kubetest: admin clientset: %v", err)
	}
	return c
}

// Dynamic returns a dynamic client with admin rights.
func (s *Server) Dynamic(t testing.TB) dynamic.Interface {
	t.Helper()
	c, err := dynamic.NewForConfig(s.Config)
	if err != nil {
		t.Fatalf("kubetest: admin dynamic client: %v", err)
	}
	return c
}

func binDir() (string, error) {
	if d := os.Getenv(envBin); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the kube binaries: %w", err)
	}
	return filepath.Join(home, ".cache", "podlab", "kube", KubeVersion), nil
}

func checkBinaries(dir string) error {
	for _, name := range []string{"etcd", "kube-apiserver"} {
		if err := checkBinary(dir, name); err != nil {
			return err
		}
	}
	return nil
}

// start brings up etcd then kube-apiserver. A port taken between probing
// and binding is the one expected failure, so it is retried a few times.
func start(bin string) (*Server, error) {
	var err error
	for range 3 {
		var s *Server
		s, err = startOnce(bin)
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, errPortTaken) {
			return nil, err
		}
	}
	return nil, err
}

var errPortTaken = errors.New("port already in use")

func startOnce(bin string) (s *Server, err error) {
	removeStaleDirs()
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("make the server's directory: %w", err)
	}
	s = &Server{dir: dir}
	defer func() {
		if err != nil {
			s.stop()
		}
	}()
	if s.lock, err = lockDir(dir); err != nil {
		return nil, err
	}

	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	etcdClient, etcdPeer, apiPort := ports[0], ports[1], ports[2]

	if err := s.startEtcd(bin, etcdClient, etcdPeer); err != nil {
		return nil, err
	}
	if err := s.writeCredentials(); err != nil {
		return nil, err
	}
	if err := s.writeKubeletClient(); err != nil {
		return nil, err
	}
	s.URL = "https://127.0.0.1:" + strconv.Itoa(apiPort)
	if err := s.startAPIServer(bin, etcdClient, apiPort); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) startEtcd(bin string, clientPort, peerPort int) error {
	client := "http://127.0.0.1:" + strconv.Itoa(clientPort)
	peer := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	p, err := s.run(filepath.Join(bin, "etcd"), "etcd",
		"--name=podlab",
		"--data-dir="+filepath.Join(s.dir, "etcd"),
		"--listen-client-urls="+client,
		"--advertise-client-urls="+client,
		"--listen-peer-urls="+peer,
		"--initial-advertise-peer-urls="+peer,
		"--initial-cluster=podlab="+peer,
		"--initial-cluster-state=new",
		// Test data is thrown away: skipping fsync makes startup and
		// writes much faster.
		"--unsafe-no-fsync",
		"--log-level=warn",
	)
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: 2 * time.Second}
	return p.waitReady(startTimeout, func() error {
		resp, err := hc.Get(client + "/health")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"health":"true"`)) {
			return fmt.Errorf("etcd /health: %s %s", resp.Status, bytes.TrimSpace(body))
		}
		return nil
	})
}

func (s *Server) startAPIServer(bin string, etcdPort, port int) error {
	certDir := filepath.Join(s.dir, "certs")
	p, err := s.run(filepath.Join(bin, "kube-apiserver"), "kube-apiserver",
		"--etcd-servers=http://127.0.0.1:"+strconv.Itoa(etcdPort),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(port),
		"--cert-dir="+certDir,
		"--client-ca-file="+s.path(caCertFile),
		"--token-auth-file="+s.path(tokenFile),
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+s.path(saPublicFile),
		"--service-account-signing-key-file="+s.path(saPrivateFile),
		"--service-cluster-ip-range="+serviceCIDR,
		// No kubelet or controller-manager runs, and the server must not
		// publish itself as the endpoint of the kubernetes Service.
		"--endpoint-reconciler-type=none",
		"--profiling=false",
		// Exec reaches kubelet stand-ins (see KubeletTLS) the way a
		// kubeadm cluster reaches its kubelets.
		"--kubelet-preferred-address-types=InternalIP",
		"--kubelet-certificate-authority="+s.path(caCertFile),
		"--kubelet-client-certificate="+s.path(kubeletClientCertFile),
		"--kubelet-client-key="+s.path(kubeletClientKeyFile),
	)
	if err != nil {
		return err
	}

	// The server writes its self-signed serving certificate (leaf then CA)
	// into cert-dir before it listens.
	servingCert := filepath.Join(certDir, "apiserver.crt")
	if err := p.waitReady(startTimeout, func() error {
		_, err := os.Stat(servingCert)
		return err
	}); err != nil {
		return err
	}
	if err := s.writeAdminKubeconfig(servingCert); err != nil {
		return err
	}
	hc, err := rest.HTTPClientFor(s.Config)
	if err != nil {
		return fmt.Errorf("admin http client: %w", err)
	}
	hc.Timeout = 5 * time.Second
	return p.waitReady(startTimeout, func() error {
		resp, err := hc.Get(s.URL + "/readyz")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("/readyz: %s: %s", resp.Status, lastLines(string(body), 10))
		}
		return nil
	})
}

func (s *Server) writeAdminKubeconfig(caFile string) error {
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return fmt.Errorf("read the serving certificate: %w", err)
	}
	s.Kubeconfig = s.path("admin.kubeconfig")
	if err := writeKubeconfig(s.Kubeconfig, s.URL, caPEM, "admin", credentials{token: s.adminToken}); err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig)
	if err != nil {
		return fmt.Errorf("load the admin kubeconfig: %w", err)
	}
	// Tests create objects in bursts; the default 5 QPS only slows them.
	cfg.QPS, cfg.Burst = 100, 200
	s.Config = cfg
	return nil
}

func (s *Server) path(name string) string { return filepath.Join(s.dir, name) }

// alive reports a server process that died since it became ready.
func (s *Server) alive() error {
	for _, p := range s.procs {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited: %v\n%s", p.name, p.err, p.tail())
		default:
		}
	}
	return nil
}

func (s *Server) stop() {
	// Reverse order: the API server first, while its etcd is still there.
	for i := len(s.procs) - 1; i >= 0; i-- {
		s.procs[i].stop()
	}
	s.procs = nil
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
	if s.lock != nil {
		s.lock.Close()
	}
}

const (
	dirPrefix = "podlab-kube-"
	lockName  = ".lock"
)

// lockDir marks dir as in use for as long as this process lives: the
// kernel drops the flock when the process dies, however it dies.
func lockDir(dir string) (*os.File, error) {
	f, err := os.Create(filepath.Join(dir, lockName))
	if err != nil {
		return nil, fmt.Errorf("create the server's lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock the server's directory: %w", err)
	}
	return f, nil
}

// removeStaleDirs removes the directories of servers whose test binary was
// killed before Stop (a test timeout, a Ctrl-C): their lock is free. A
// directory with no lock file yet is being set up and is left alone.
func removeStaleDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, dir := range dirs {
		f, err := os.Open(filepath.Join(dir, lockName))
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			os.RemoveAll(dir)
		}
		f.Close()
	}
}

// proc is one child process, its log file and its exit.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error // set before done is closed
}

func (s *Server) run(path, name string, args ...string) (*proc, error) {
	logPath := s.path(name + ".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create %s's log: %w", name, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := launch(cmd); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	s.procs = append(s.procs, p)
	return p, nil
}

// waitReady polls ready until it succeeds, the process exits, or the
// timeout passes; failures carry the tail of the process's log.
func (p *proc) waitReady(timeout time.Duration, ready func() error) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = ready(); last == nil {
			return nil
		}
		select {
		case <-p.done:
			tail := p.tail()
			err := fmt.Errorf("%s exited during startup: %v\n%s", p.name, p.err, tail)
			if strings.Contains(tail, "address already in use") {
				err = fmt.Errorf("%w: %w", errPortTaken, err)
			}
			return err
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s: %v\n%s", p.name, timeout, last, p.tail())
		case <-tick.C:
		}
	}
}

func (p *proc) tail() string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return fmt.Sprintf("--- last lines of %s ---\n%s", p.log, lastLines(string(b), 40))
}

func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freePorts asks the kernel for n distinct free loopback ports. They are
// released before the servers bind them, hence the retry in start.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Pdeathsig fires when the thread that forked the child exits, not the
// process. Go may retire threads, so children are forked from one goroutine
// locked to its thread for the life of the test binary.
var (
	launchOnce sync.Once
	launches   chan launchReq
)

type launchReq struct {
	cmd  *exec.Cmd
	errc chan error
}

func launch(cmd *exec.Cmd) error {
	launchOnce.Do(func() {
		launches = make(chan launchReq)
		go func() {
			runtime.LockOSThread()
			for r := range launches {
				r.errc <- r.cmd.Start()
			}
		}()
	})
	errc := make(chan error, 1)
	launches <- launchReq{cmd: cmd, errc: errc}
	return <-errc
}
