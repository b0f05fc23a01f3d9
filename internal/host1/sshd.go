package host1

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"podlab/internal/netnstest"
)

// SSHOptions say what a node's sshd offers the student.
type SSHOptions struct {
	// PodlabDir, when set, is put first on the PATH of every session: podlab
	// is installed on the node. Without it the node has no podlab, even
	// if this machine has one installed.
	PodlabDir string
	// Binds make paths of this machine appear, in the sessions only, at
	// the fixed paths under /run a node's tools read (calico-node's BIRD
	// socket at /var/run/calico/bird.ctl): this machine's /run is not
	// touched.
	Binds []Bind
}

// Bind is Source seen at Target.
type Bind struct{ Source, Target string }

// sessionPath is the PATH of a node's ssh sessions: podlab's directory
// when it is installed on the node, then the system's tools, and never a
// podlab this machine has installed (/usr/local/bin, say): whether the
// node has podlab is the test's choice.
func sessionPath(t *testing.T, podlabDir string) string {
	t.Helper()
	var dirs []string
	if podlabDir != "" {
		dirs = append(dirs, podlabDir)
	}
	hasIP := false
	for _, d := range []string{"/usr/sbin", "/usr/bin", "/sbin", "/bin"} {
		if _, err := os.Stat(filepath.Join(d, "podlab")); err == nil {
			continue
		}
		dirs = append(dirs, d)
		if _, err := os.Stat(filepath.Join(d, "ip")); err == nil {
			hasIP = true
		}
	}
	if !hasIP {
		t.Fatalf("host1: podlab is installed beside ip in the system's directories: the node's sessions cannot have one without the other")
	}
	return strings.Join(dirs, ":")
}

// SSHD is a real sshd in a node's namespace on the node's address: port
// 22 for the node's first, the next ones on 2222 and up (a test may run
// two at once: the ssh config names the port).
type SSHD struct {
	Node    string
	Port    uint16
	HostKey string // public, a known_hosts key
	dir     string
	log     *SyncBuffer
}

// StartSSHD starts sshd for node, letting in the student's key.
func (l *Lab) StartSSHD(t *testing.T, node string, o SSHOptions) *SSHD {
	t.Helper()
	sshd := SSHDBinary(t)
	keygen := netnstest.RequireCommand(t, "ssh-keygen", "apt-get install openssh-client")
	n, ok := l.State.Node(node)
	if !ok {
		t.Fatalf("host1: no node %s", node)
	}
	l.mu.Lock()
	port := l.sshPorts[node]
	switch port {
	case 0:
		port = 22
	case 22:
		port = 2222
	default:
		port++
	}
	l.sshPorts[node] = port
	l.mu.Unlock()
	// sshd reads authorized_keys as the student: it must reach the file.
	dir, err := os.MkdirTemp(l.User.Base, "sshd-"+node+"-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, "host_key")).CombinedOutput(); err != nil {
		t.Fatalf("host1: ssh-keygen: %v: %s", err, out)
	}
	writeRoot(t, filepath.Join(dir, "authorized_keys"), l.User.PublicKey(t)+"\n", 0o644)
	conf := []string{
		"ListenAddress " + netip.AddrPortFrom(n.IP, port).String(),
		"HostKey " + filepath.Join(dir, "host_key"),
		"PidFile " + filepath.Join(dir, "sshd.pid"),
		"AuthorizedKeysFile " + filepath.Join(dir, "authorized_keys"),
		"AllowUsers " + l.User.Name,
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"UsePAM no",
		// The keys live under the test's temporary directory.
		"StrictModes no",
	}
	conf = append(conf, fmt.Sprintf(`ForceCommand PATH=%s; export PATH; exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"`, sessionPath(t, o.PodlabDir)))
	writeRoot(t, filepath.Join(dir, "sshd_config"), strings.Join(conf, "\n")+"\n", 0o600)
	hostPub, err := os.ReadFile(filepath.Join(dir, "host_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.AddrPortFrom(n.IP, port).String()
	prefix := []string{"ip", "netns", "exec", n.NS}
	if len(o.Binds) > 0 {
		prefix = append(prefix, bindPrefix(t, dir, o.Binds)...)
	}
	log := RunSSHD(t, "host1: sshd on "+node, prefix, sshd, filepath.Join(dir, "sshd_config"), addr)
	s := &SSHD{Node: node, Port: port, HostKey: strings.TrimSpace(string(hostPub)), dir: dir, log: log}
	return s
}

// SSHDBinary finds sshd (off a plain user's PATH on Debian) and makes the
// privilege separation directory Debian's sshd wants.
func SSHDBinary(t *testing.T) string {
	t.Helper()
	sshd := "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		sshd = netnstest.RequireCommand(t, "sshd", "apt-get install openssh-server")
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	return sshd
}

// RunSSHD runs sshd with config in the foreground (after prefix, such as
// ip netns exec NS), stops it when the test ends, and returns once it
// listens at addr. Its log is shown when the test failed.
func RunSSHD(t *testing.T, what string, prefix []string, sshd, config, addr string) *SyncBuffer {
	t.Helper()
	log := &SyncBuffer{}
	argv := append(append([]string(nil), prefix...), sshd, "-D", "-e", "-f", config)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s:\n%s", what, log.String())
		}
	})
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if i == 100 {
			t.Fatalf("%s never listened on %s: %v\n%s", what, addr, err, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return log
}

// SSHConfig writes the student's ~/.ssh/config (Host NODE → its address
// and the port of its sshd in use) and known_hosts with the host keys of
// known, as a student's setup for `ssh node1` has them.
func (l *Lab) SSHConfig(t *testing.T, use []*SSHD, known ...*SSHD) {
	t.Helper()
	var cfg, hosts strings.Builder
	for _, s := range use {
		n, _ := l.State.Node(s.Node)
		fmt.Fprintf(&cfg, "Host %s\n  HostName %s\n  Port %d\n  LogLevel ERROR\n", n.Name, n.IP, s.Port)
	}
	for _, s := range known {
		n, _ := l.State.Node(s.Node)
		host := n.IP.String()
		if s.Port != 22 {
			host = fmt.Sprintf("[%s]:%d", n.IP, s.Port)
		}
		fmt.Fprintf(&hosts, "%s %s\n", host, s.HostKey)
	}
	l.User.WriteFile(t, ".ssh/config", cfg.String())
	l.User.WriteFile(t, ".ssh/known_hosts", hosts.String())
}

func writeRoot(t *testing.T, p, s string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), mode); err != nil {
		t.Fatal(err)
	}
}

// SyncBuffer is a buffer a process's stdout and stderr may write at once
// (an sshd's log).
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// bindRun runs in a mount namespace of its own: it moves /run aside,
// puts an empty tmpfs in its place with every entry of the old one bound
// back, then binds each source at its target, and runs the rest of its
// arguments. So a target may be new under /run without a directory
// being made on this machine.
const bindRun = `set -e
old=$1; shift
mount -n --rbind /run "$old"
mount -n -t tmpfs -o mode=0755 podlab-test-run /run
for e in "$old"/* "$old"/.[!.]*; do
  [ -e "$e" ] || [ -L "$e" ] || continue
  n=/run/${e##*/}
  if [ -L "$e" ]; then ln -s "$(readlink "$e")" "$n"
  elif [ -d "$e" ]; then mkdir "$n"; mount -n --rbind "$e" "$n"
  else : > "$n"; mount -n --bind "$e" "$n"; fi
done
while [ "$1" != -- ]; do
  mkdir -p "${2%/*}"; : > "$2"; mount -n --bind "$1" "$2"; shift 2
done
shift
exec "$@"
`

// bindPrefix is the command line that runs the rest with binds in place.
func bindPrefix(t *testing.T, dir string, binds []Bind) []string {
	t.Helper()
	netnstest.RequireCommand(t, "unshare", "apt-get install util-linux")
	old := filepath.Join(dir, "run")
	if err := os.Mkdir(old, 0o755); err != nil {
		t.Fatal(err)
	}
	argv := []string{"unshare", "--mount", "--propagation", "slave", "sh", "-c", bindRun, "sh", old}
	for _, b := range binds {
		target := b.Target
		if rest, ok := strings.CutPrefix(target, "/var/run/"); ok {
			target = "/run/" + rest
		}
		if !strings.HasPrefix(target, "/run/") || filepath.Clean(target) != target {
			t.Fatalf("host1: bind target %s is not a clean path under /run", b.Target)
		}
		source := b.Source
		if rest, ok := strings.CutPrefix(source, "/run/"); ok {
			source = filepath.Join(old, rest) // /run is covered by then
		}
		argv = append(argv, source, target)
	}
	return append(argv, "--")
}
