package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"podlab/lab"
)

// With --kube the sandbox runs the real control plane a lesson on
// kube-proxy reads: etcd and kube-apiserver in the control node's
// namespace (198.19.0.1:6443, reached from every node over the fabric,
// never from outside the sandbox), the sandbox's nodes, pods, yaobank
// Services and EndpointSlices registered in it, a real kube-proxy per
// node namespace writing that node's rules, and a responder in each
// yaobank pod answering on its Service's target port. Every process is
// recorded before it starts and killed on down, by pid, only while it
// still runs the recorded command line.

// Proxy modes of kube-proxy the sandbox runs.
const (
	ProxyIPTables = "iptables"
	ProxyNFTables = "nftables"
)

// kubeVersion is the release .ci/kube/build.sh builds, whose default
// output directory is one place the binaries are looked for.
const kubeVersion = "v1.37.2"

// EnvKubeBin names the directory of etcd, kube-apiserver and kube-proxy.
const EnvKubeBin = "PODLAB_KUBE_BIN"

// The API server's place: the control node's address, the port kubeadm
// uses; etcd on the control node's loopback.
var (
	apiServerIP = netip.MustParseAddr("198.19.0.1")
	apiServer   = "https://198.19.0.1:6443"
)

const (
	etcdClient = "http://127.0.0.1:2379"
	etcdPeer   = "http://127.0.0.1:2380"
	kubeSubdir = "kube"
)

// Roles of the processes of KubeInfo.
const (
	roleEtcd      = "etcd"
	roleAPIServer = "kube-apiserver"
	roleKubeProxy = "kube-proxy"
	roleResponder = "responder"
)

// KubeInfo is what --kube added: the proxy mode and the processes.
type KubeInfo struct {
	ProxyMode string     `json:"proxy_mode"`
	Server    string     `json:"server"`
	Procs     []KubeProc `json:"processes"`
	// ReadyMS is how long the control plane took to start and every
	// kube-proxy to write the yaobank rules.
	ReadyMS int64 `json:"ready_ms,omitempty"`
}

// KubeProc is one process of the control plane, a node's kube-proxy or a
// pod's responder.
type KubeProc struct {
	Role string `json:"role"`
	// Node is the node it runs on (the pod's node for a responder).
	Node string `json:"node"`
	// Pod is "<namespace>/<name>" of a responder's pod.
	Pod     string   `json:"pod,omitempty"`
	NS      string   `json:"ns"`
	Pid     int      `json:"pid,omitempty"`
	Cmdline []string `json:"cmdline"`
}

func (p KubeProc) what() string {
	if p.Pod != "" {
		return fmt.Sprintf("%s of %s (pid %d)", p.Role, p.Pod, p.Pid)
	}
	return fmt.Sprintf("%s on %s (pid %d)", p.Role, p.Node, p.Pid)
}

// kubeMode is the proxy mode a sandbox of o runs, "" without --kube.
func (o Options) kubeMode() string {
	if !o.Kube {
		return ""
	}
	if o.KubeProxyMode == "" {
		return ProxyIPTables
	}
	return o.KubeProxyMode
}

func (s *State) kubeMode() string {
	if s.Kube == nil {
		return ""
	}
	return s.Kube.ProxyMode
}

func (o Options) kubeDir() string { return filepath.Join(o.fileDir(), kubeSubdir) }

// kubeDirFD opens the checked directory of the control plane's files.
func (o Options) kubeDirFD(create bool) (*dirFD, error) {
	d, err := o.fileDirFD(create)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.sub(kubeSubdir, create)
}

// kubeBinaries finds etcd, kube-apiserver and kube-proxy: in dir when
// given (PODLAB_KUBE_BIN), else on PATH, else where .ci/kube/build.sh puts
// them by default.
func kubeBinaries(dir string) (map[string]string, error) {
	out := map[string]string{}
	home, _ := os.UserHomeDir()
	for _, name := range []string{roleEtcd, roleAPIServer, roleKubeProxy} {
		var cands []string
		if dir != "" {
			cands = []string{filepath.Join(dir, name)}
		} else {
			if p, err := exec.LookPath(name); err == nil {
				cands = append(cands, p)
			}
			if home != "" {
				cands = append(cands, filepath.Join(home, ".cache", "podlab", "kube", kubeVersion, name))
			}
		}
		for _, c := range cands {
			abs, err := filepath.Abs(c)
			if err != nil {
				continue
			}
			if fi, err := os.Stat(abs); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				out[name] = abs
				break
			}
		}
		if out[name] == "" {
			where := "on PATH or in ~/.cache/podlab/kube/" + kubeVersion
			if dir != "" {
				where = "in " + dir
			}
			return nil, fmt.Errorf("--kube needs %s, not found %s: build etcd, kube-apiserver and kube-proxy with .ci/kube/build.sh and set %s to its output directory (sudo --preserve-env=%s)", name, where, EnvKubeBin, EnvKubeBin)
		}
		if !programRE.MatchString(out[name]) {
			return nil, fmt.Errorf("%s's path %q has a character podlab does not run programs from: move it", name, out[name])
		}
	}
	return out, nil
}

// The command lines: a pure function of the program and the sandbox, so
// that a state file's can be checked against what the sandbox runs.

func etcdCmdline(o Options, prog string) []string {
	return []string{prog,
		"--name=podlab",
		"--data-dir=" + filepath.Join(o.kubeDir(), "etcd"),
		"--listen-client-urls=" + etcdClient,
		"--advertise-client-urls=" + etcdClient,
		"--listen-peer-urls=" + etcdPeer,
		"--initial-advertise-peer-urls=" + etcdPeer,
		"--initial-cluster=podlab=" + etcdPeer,
		"--initial-cluster-state=new",
		// The sandbox is thrown away on down: fsync would only slow it.
		"--unsafe-no-fsync",
		"--log-level=warn",
	}
}

func apiServerCmdline(o Options, prog string) []string {
	k := o.kubeDir()
	return []string{prog,
		"--etcd-servers=" + etcdClient,
		"--bind-address=" + apiServerIP.String(),
		"--advertise-address=" + apiServerIP.String(),
		"--secure-port=6443",
		"--cert-dir=" + filepath.Join(k, "certs"),
		"--token-auth-file=" + filepath.Join(k, "tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + filepath.Join(k, "sa.pub"),
		"--service-account-signing-key-file=" + filepath.Join(k, "sa.key"),
		"--service-cluster-ip-range=" + serviceCIDR.String(),
		// No kubelet or controller-manager runs: nothing makes service
		// accounts, and the server must not publish itself as the
		// kubernetes Service's endpoint.
		"--disable-admission-plugins=ServiceAccount",
		"--endpoint-reconciler-type=none",
		"--profiling=false",
	}
}

func kubeProxyCmdline(o Options, prog, node, mode string) []string {
	return []string{prog,
		"--kubeconfig=" + filepath.Join(o.kubeDir(), proxyKubeconfig),
		"--hostname-override=" + node,
		"--proxy-mode=" + mode,
		// Traffic from outside the pods' range is masqueraded, as in the
		// course's cluster.
		"--cluster-cidr=" + clusterCIDR.String(),
		// 0 leaves the conntrack table's size and hash, which are the
		// host's, and its timeouts alone.
		"--conntrack-max-per-core=0",
		"--conntrack-tcp-timeout-established=0",
		"--conntrack-tcp-timeout-close-wait=0",
		"--healthz-bind-address=127.0.0.1:10256",
		"--metrics-bind-address=127.0.0.1:10249",
		"--oom-score-adj=0",
		"--v=1",
	}
}

// responderCmdline is podlab itself, run again as the pod's server.
func responderCmdline(prog string, p PodInfo, port int) []string {
	return []string{prog, "sandbox", ResponderCommand,
		"--listen=" + netip.AddrPortFrom(p.IP, uint16(port)).String(),
		"--pod=" + p.Namespace + "/" + p.Name}
}

// validateKube checks what a state file says --kube started: each
// process in a namespace of the sandbox, running exactly a command line
// the sandbox runs.
func (s *State) validateKube(o Options, allowed map[string]string) error {
	k := s.Kube
	if k == nil {
		return nil
	}
	if k.ProxyMode != ProxyIPTables && k.ProxyMode != ProxyNFTables {
		return fmt.Errorf("unknown kube-proxy mode %q", k.ProxyMode)
	}
	if k.Server != apiServer {
		return fmt.Errorf("API server %q is not the sandbox's", k.Server)
	}
	for _, p := range k.Procs {
		if len(p.Cmdline) == 0 || !programRE.MatchString(p.Cmdline[0]) || filepath.Clean(p.Cmdline[0]) != p.Cmdline[0] {
			return fmt.Errorf("%s on %q has a program the sandbox does not run", p.Role, p.Node)
		}
		if p.Pid < 0 || p.Pid > maxPid {
			return fmt.Errorf("%s on %q has pid %d", p.Role, p.Node, p.Pid)
		}
		if _, ok := s.Node(p.Node); !ok {
			return fmt.Errorf("%s on unknown node %q", p.Role, p.Node)
		}
		var want []string
		nodeNS := o.Prefix + "-" + p.Node
		switch p.Role {
		case roleEtcd, roleAPIServer:
			if p.Node != controlNode || p.NS != nodeNS {
				return fmt.Errorf("%s runs in %q, not the control node's namespace", p.Role, p.NS)
			}
			want = etcdCmdline(o, p.Cmdline[0])
			if p.Role == roleAPIServer {
				want = apiServerCmdline(o, p.Cmdline[0])
			}
		case roleKubeProxy:
			if p.NS != nodeNS {
				return fmt.Errorf("kube-proxy of %q runs in %q", p.Node, p.NS)
			}
			want = kubeProxyCmdline(o, p.Cmdline[0], p.Node, k.ProxyMode)
		case roleResponder:
			ns, name, _ := strings.Cut(p.Pod, "/")
			pod := s.Pod(ns, name)
			if pod == nil || pod.NS != p.NS || pod.Node != p.Node || allowed[p.NS] != "pod" {
				return fmt.Errorf("responder of %q is not in a pod of the sandbox", p.Pod)
			}
			port, ok := servicePortOf(*pod)
			if !ok {
				return fmt.Errorf("responder of %q: the pod backs no service", p.Pod)
			}
			want = responderCmdline(p.Cmdline[0], *pod, port)
		default:
			return fmt.Errorf("unknown process role %q", p.Role)
		}
		if !slices.Equal(p.Cmdline, want) {
			return fmt.Errorf("%s on %q has a command line the sandbox does not run", p.Role, p.Node)
		}
	}
	return nil
}

// servicePortOf is the target port of the yaobank Service that selects
// the pod, if one does.
func servicePortOf(p PodInfo) (int, bool) {
	if p.Namespace != CustomerNamespace {
		return 0, false
	}
	app := podLabels(p.Namespace, p.Name)["app"]
	for _, sp := range yaobankServices {
		if sp.name == app {
			var port int
			if _, err := fmt.Sscan(sp.port.TargetPort, &port); err == nil && port > 0 && port < 65536 {
				return port, true
			}
		}
	}
	return 0, false
}

// kubeHealth lists the control plane's processes no longer running.
func (s *State) kubeHealth() []string {
	if s.Kube == nil {
		return nil
	}
	var out []string
	for _, p := range s.Kube.Procs {
		if !cmdlineMatches(p.Pid, p.Cmdline) {
			out = append(out, p.what()+" is not running")
		}
	}
	return out
}

// startKube launches a recorded process in its namespace, detached (a
// session of its own, its output to log, or nowhere when log is ""),
// and returns its pid. The process outlives podlab; down ends it.
func startKube(o Options, p KubeProc, log string) (int, error) {
	var out *os.File
	if log != "" {
		d, err := o.kubeDirFD(false)
		if err != nil {
			return 0, err
		}
		out, err = d.create(log, 0o600)
		d.Close()
		if err != nil {
			return 0, err
		}
		defer out.Close()
	}
	cmd := exec.Command(p.Cmdline[0], p.Cmdline[1:]...)
	cmd.Args = p.Cmdline
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}
	if out != nil {
		cmd.Stdout, cmd.Stderr = out, out
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// The child is born in the namespace the thread joined.
	if err := lab.InNS(lab.NSRef{Name: p.NS}, cmd.Start); err != nil {
		return 0, fmt.Errorf("start %s: %w", p.what(), err)
	}
	// Reaped when it ends while podlab still runs, so a dead process
	// is seen as gone, not as a zombie.
	go cmd.Wait()
	return cmd.Process.Pid, nil
}

// stopKube ends what --kube started, the last started first.
func stopKube(st *State) []error {
	if st.Kube == nil {
		return nil
	}
	var errs []error
	for i := len(st.Kube.Procs) - 1; i >= 0; i-- {
		if err := stopKubeProc(st.Kube.Procs[i]); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func stopKubeProc(p KubeProc) error {
	pid := p.Pid
	if pid == 0 {
		// Stopped between recording and starting it, or before its pid
		// was recorded: its command line, which names this sandbox's
		// files or its pod, finds it.
		pid = findCmdline(p.Cmdline)
	}
	if err := stopCmdline(pid, p.Cmdline, p.what()); err != nil {
		return err
	}
	if p.Role != roleKubeProxy || pid <= 0 {
		return nil
	}
	ino, err := nsInode(p.NS)
	if err != nil {
		return nil // the namespace is gone, and with it what ran there
	}
	return endSession(pid, ino, p.what())
}

// endSession ends what is left of the session a process led (a
// kube-proxy's iptables-restore or nft, running when it ended): the
// processes of session sid that run in the namespace of inode ino, and
// nothing else. A session id is not given to a new process while one of
// its members lives.
func endSession(sid int, ino uint64, what string) error {
	for range 100 {
		left := sessionIn(sid, ino)
		if len(left) == 0 {
			return nil
		}
		for _, pid := range left {
			fd, err := unix.PidfdOpen(pid, 0)
			if err != nil {
				continue
			}
			// Checked again through the pidfd's process: a pid reused
			// since the scan is never signalled.
			if s, n, ok := sessionNS(pid); ok && s == sid && n == ino {
				unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
			}
			unix.Close(fd)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("what %s started still runs after it ended", what)
}

// sessionIn lists the live processes of session sid in the namespace of
// inode ino.
func sessionIn(sid int, ino uint64) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		if s, n, ok := sessionNS(pid); ok && s == sid && n == ino {
			out = append(out, pid)
		}
	}
	return out
}

// sessionNS is a live process's session and network namespace inode; ok
// is false for one gone or a zombie.
func sessionNS(pid int) (sid int, ino uint64, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	// After the command: state, ppid, pgrp, session.
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 4 || f[0] == "Z" {
		return 0, 0, false
	}
	if sid, err = strconv.Atoi(f[3]); err != nil {
		return 0, 0, false
	}
	var st unix.Stat_t
	if unix.Stat(fmt.Sprintf("/proc/%d/ns/net", pid), &st) != nil {
		return 0, 0, false
	}
	return sid, st.Ino, true
}

// findCmdline is the pid of a process running exactly cmdline, or 0.
func findCmdline(cmdline []string) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil || pid <= 0 {
			continue
		}
		if cmdlineMatches(pid, cmdline) {
			return pid
		}
	}
	return 0
}

// removeKubeDir removes the control plane's directory (etcd's data, the
// certificates, logs), never following a symlink.
func removeKubeDir(o Options, st *State) error {
	if st.Kube == nil {
		return nil
	}
	d, err := o.fileDirFD(false)
	if errors.As(err, new(errNoDir)) {
		return nil
	}
	if err != nil {
		return err
	}
	defer d.Close()
	if err := removeTree(d.fd, kubeSubdir, 0); err != nil {
		return fmt.Errorf("remove %s: %w", o.kubeDir(), err)
	}
	return nil
}

// removeTree removes name in the directory dirfd and, when it is a
// directory (never a symlink to one), everything in it.
func removeTree(dirfd int, name string, depth int) error {
	if depth > 16 {
		return errors.New("nested too deep")
	}
	err := unix.Unlinkat(dirfd, name, 0)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	if !errors.Is(err, unix.EISDIR) && !errors.Is(err, unix.EPERM) {
		return err
	}
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), name)
	names, err := f.Readdirnames(-1)
	if err == nil {
		for _, n := range names {
			if err = removeTree(fd, n, depth+1); err != nil {
				break
			}
		}
	}
	f.Close()
	if err != nil {
		return err
	}
	if err := unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR); err != nil && !errors.Is(err, unix.ENOENT) {
		return err
	}
	return nil
}
