package cluster

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"podlab/internal/host1"
	"podlab/internal/kubetest"
	"podlab/internal/netnstest"
	"podlab/lab"
	"podlab/lab/sandbox"
	"podlab/netview"
)

// sshNode is a real sshd on a loopback port that stands in for a node:
// it logs in root by key only, and every session runs inside the node's
// namespace, with bin first on its PATH, as if podlab were installed there.
type sshNode struct {
	// config is the ssh client configuration (ssh -F) that reaches it
	// as host name.
	config string
	name   string
	log    *host1.SyncBuffer
}

func startSSHNode(t *testing.T, name, netns, bin string) *sshNode {
	t.Helper()
	netnstest.RequireRoot(t)
	sshd := host1.SSHDBinary(t)
	netnstest.RequireCommand(t, "ssh", "apt-get install openssh-client")
	keygen := netnstest.RequireCommand(t, "ssh-keygen", "apt-get install openssh-client")
	dir := t.TempDir()
	for _, k := range []string{"host_key", "id"} {
		if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "podlab-test", "-f", filepath.Join(dir, k)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v: %s", err, out)
		}
	}
	pub, err := os.ReadFile(filepath.Join(dir, "id.pub"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "authorized_keys"), string(pub))
	port := closedPort(t)
	force := fmt.Sprintf(`PATH=%s:$PATH exec ip netns exec %s /bin/sh -c "$SSH_ORIGINAL_COMMAND"`, bin, netns)
	write(t, filepath.Join(dir, "sshd_config"), strings.Join([]string{
		"Port " + strconv.Itoa(port),
		"ListenAddress 127.0.0.1",
		"HostKey " + filepath.Join(dir, "host_key"),
		"PidFile " + filepath.Join(dir, "sshd.pid"),
		"AuthorizedKeysFile " + filepath.Join(dir, "authorized_keys"),
		"PermitRootLogin prohibit-password",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"UsePAM no",
		"StrictModes no",
		"ForceCommand " + force,
		"",
	}, "\n"))
	hostPub, err := os.ReadFile(filepath.Join(dir, "host_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "known_hosts"), name+" "+string(hostPub))
	config := filepath.Join(dir, "ssh_config")
	write(t, config, strings.Join([]string{
		"Host " + name,
		"  HostName 127.0.0.1",
		"  Port " + strconv.Itoa(port),
		"  User root",
		"  IdentityFile " + filepath.Join(dir, "id"),
		"  IdentitiesOnly yes",
		"  HostKeyAlias " + name,
		"  UserKnownHostsFile " + filepath.Join(dir, "known_hosts"),
		"  StrictHostKeyChecking yes",
		"  LogLevel ERROR",
		"",
	}, "\n"))

	log := host1.RunSSHD(t, "sshd for "+name, nil, sshd, filepath.Join(dir, "sshd_config"), "127.0.0.1:"+strconv.Itoa(port))
	return &sshNode{config: config, name: name, log: log}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// podlabBinary is the podlab command's directory.
func podlabBinary(t *testing.T) string { return host1.PodlabBinary(t) }

// TestLessonOverSSH: from elsewhere, podlab reaches node1 with the user's
// ssh and runs `podlab collect` there, which reads both namespaces.
func TestLessonOverSSH(t *testing.T) {
	st := lessonSandbox(t)
	s := kubetest.Start(t)
	registerSandbox(t, s, st)
	node := startSSHNode(t, "node1", st.NodeNS("node1"), podlabBinary(t))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, p := collectCustomer(ctx, t, st, Options{Kubeconfig: s.Kubeconfig, SSHConfig: node.config}, Remote)
	checkNamed(t, st, netview.Analyze(p))
	if d := l.Describe(); !strings.Contains(d, "collected on node1 by podlab collect over ssh node1") {
		t.Errorf("Describe does not say how it collects: %s", d)
	}
}

// TestSSHNode: the ssh paths with the sandbox's facts standing in for the
// API server's, so they run without one.
func TestSSHNode(t *testing.T) {
	st := lessonSandbox(t)
	node := startSSHNode(t, "node1", st.NodeNS("node1"), podlabBinary(t))
	customerNS := st.PodNS(sandbox.CustomerNamespace, sandbox.CustomerPod)
	remote := func(o Options) *Lab {
		o.SSHConfig = node.config
		o.setDefaults()
		return &Lab{opts: o, context: "test", facts: sandboxFacts(st, sandbox.CustomerNamespace, sandbox.CustomerPod), where: Remote}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	t.Run("podlab collect", func(t *testing.T) {
		l := remote(Options{})
		p, err := l.Collect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p.Pod.NS.Name != customerNS || p.Host.NS.Name != st.NodeNS("node1") {
			t.Errorf("collected %q and %q", p.Pod.NS.Name, p.Host.NS.Name)
		}
		checkNamed(t, st, netview.Analyze(p))
	})
	t.Run("no changes stream", func(t *testing.T) {
		if _, ok := <-remote(Options{}).Changes(ctx); ok {
			t.Error("Changes from elsewhere should be closed: the caller polls")
		}
	})
	t.Run("route", func(t *testing.T) {
		r, err := remote(Options{}).Route(ctx, netip.MustParseAddr("198.19.21.66"))
		if err != nil {
			t.Fatal(err)
		}
		if r.Gw != netip.MustParseAddr("198.19.0.3") || r.Dev != "eth0" {
			t.Errorf("route %+v", r)
		}
	})

	t.Run("without podlab there", func(t *testing.T) {
		// ip -j over ssh gives the host view; the pod view would come from
		// the exec API, which needs a kubelet this API server does not have,
		// so the pod is read here to check the host view against it.
		l2 := remote(Options{RemotePodlab: "podlab-not-installed"})
		res, err := l2.sshNode(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.collected != nil || res.host == nil {
			t.Fatalf("podlab collect ran, or no host view: %+v", res)
		}
		pod, err := lab.Collect(ctx, lab.NSRef{Name: customerNS})
		if err != nil {
			t.Fatal(err)
		}
		if res.host.NS.Name != st.NodeNS("node1") {
			t.Errorf("host namespace %q", res.host.NS.Name)
		}
		p2 := &netview.Pair{Host: *res.host, Pod: *pod, Facts: l2.Facts()}
		a := netview.Analyze(p2)
		checkNamed(t, st, a)
		if !a.Gateway.HostProxyARP {
			t.Errorf("proxy_arp not read over ssh: %+v", a.Gateway)
		}
		if a.Veth.HostLinkNetns != customerNS {
			t.Errorf("host end's link-netns %q, want %s", a.Veth.HostLinkNetns, customerNS)
		}
	})

	t.Run("podlab collect fails there", func(t *testing.T) {
		// A pod IP no namespace on node1 holds: podlab collect says so, and
		// the ip -j fallback says why it was needed.
		l3 := remote(Options{})
		l3.facts.Pod.IP = netip.MustParseAddr("198.19.22.150")
		res, err := l3.sshNode(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.host == nil || !strings.Contains(res.note, "no network namespace on this node has 198.19.22.150") {
			t.Errorf("note %q", res.note)
		}
	})

	t.Run("ssh fails", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "ssh_config")
		write(t, bad, fmt.Sprintf("Host node1\n  HostName 127.0.0.1\n  Port %d\n", closedPort(t)))
		l4 := remote(Options{})
		l4.opts.SSHConfig = bad
		_, err := l4.Collect(ctx)
		want := "ssh node1 failed: ssh: connect to host 127.0.0.1 port"
		if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "— run podlab on node1 with sudo instead") || strings.Contains(err.Error(), "\n") {
			t.Errorf("error %q, want one line starting %q", err, want)
		}
	})
}
