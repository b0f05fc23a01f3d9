// Package host1 builds, for tests, the lesson's classroom: a student on
// host1 as a plain user with kubectl and ssh, a real kube-apiserver whose
// exec requests reach a kubelet stand-in on each node, and a real sshd in
// each node's namespace. The nodes and pods are a sandbox's (lab/sandbox):
// real namespaces, veths and BIRD.
//
// host1 is the test's own (root) network namespace, joined to the
// sandbox's fabric bridge by a veth, so the API server on 127.0.0.1 and
// podlab both reach the nodes at their InternalIPs, as in the lesson.
package host1

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab/internal/kubetest"
	"podlab/internal/netnstest"
	"podlab/lab/sandbox"
)

// host1Addr is host1's address on the fabric: free in the sandbox's
// 198.19.0.0/20 (nodes from .0.1, the fabric's own at .15.253/.254).
var host1Addr = netip.MustParsePrefix("198.19.15.250/20")

// Lab is the classroom around a sandbox.
type Lab struct {
	Server   *kubetest.Server
	State    *sandbox.State
	User     *User
	Kubelets map[string]*Kubelet
	// Addr is host1's address on the fabric.
	Addr netip.Addr

	mu       sync.Mutex
	sshPorts map[string]uint16 // the last port an sshd of the node took
}

// New joins host1 to the sandbox's fabric, starts a kubelet stand-in on
// every node, registers the nodes (pointing the API server at their
// kubelets), blocks and pods with the API server, and makes the student.
// Everything goes when the test ends.
func New(t *testing.T, s *kubetest.Server, st *sandbox.State) *Lab {
	t.Helper()
	netnstest.RequireRoot(t)
	netnstest.RequireCommand(t, "nsenter", "apt-get install util-linux")
	joinFabric(t, st)
	l := &Lab{Server: s, State: st, Kubelets: map[string]*Kubelet{}, Addr: host1Addr.Addr(), sshPorts: map[string]uint16{}}
	for _, n := range st.Nodes {
		k := StartKubelet(t, s.KubeletTLS(t, n.IP), n.Name, n.NS, n.IP)
		l.Kubelets[n.Name] = k
		s.AddNode(t, n.Name, n.IP.String())
		s.AddBlockAffinity(t, n.Name, n.Block.String(), "confirmed")
		l.setKubeletPort(t, n.Name, k.Addr.Port())
	}
	for _, p := range st.Pods {
		app, _, _ := strings.Cut(p.Name, "-")
		s.AddPod(t, p.Namespace, p.Name, p.Node, p.IP.String(), map[string]string{"app": app}, corev1.PodRunning)
		l.Kubelets[p.Node].AddPod(p.Namespace, p.Name, PodRun{Netns: p.NS, Container: "main"})
	}
	l.User = NewUser(t)
	return l
}

// setKubeletPort writes the node's daemonEndpoints.kubeletEndpoint.Port,
// where the API server sends exec requests.
func (l *Lab) setKubeletPort(t *testing.T, node string, port uint16) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nodes := l.Server.Client(t).CoreV1().Nodes()
	n, err := nodes.Get(ctx, node, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("host1: get node %s: %v", node, err)
	}
	n.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(port)
	if _, err := nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("host1: point node %s at its kubelet: %v", node, err)
	}
}

// KubeletDown points node's kubelet endpoint at a port nothing listens on
// until the test ends, as a stopped kubelet or a firewall would.
func (l *Lab) KubeletDown(t *testing.T, node string) {
	t.Helper()
	l.setKubeletPort(t, node, 1)
	t.Cleanup(func() { l.setKubeletPort(t, node, l.Kubelets[node].Addr.Port()) })
}

// StudentRules are what the lesson's student is granted cluster-wide:
// read pods, nodes and Calico's blocks, and exec into pods.
var StudentRules = []rbacv1.PolicyRule{
	{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}},
	{APIGroups: []string{""}, Resources: []string{"pods/exec"}, Verbs: []string{"create", "get"}},
	{APIGroups: []string{""}, Resources: []string{"nodes", "namespaces"}, Verbs: []string{"get", "list"}},
	{APIGroups: []string{"crd.projectcalico.org"}, Resources: []string{"blockaffinities"}, Verbs: []string{"get", "list"}},
}

// Kubeconfig grants the kube user name rules cluster-wide (none: only
// discovery) and writes a kubeconfig for it that the student owns,
// returning its path.
func (l *Lab) Kubeconfig(t *testing.T, name string, rules ...rbacv1.PolicyRule) string {
	t.Helper()
	if len(rules) > 0 {
		l.Server.Allow(t, "", name, rules...)
	}
	b, err := os.ReadFile(l.Server.KubeconfigFor(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return l.User.WriteFile(t, filepath.Join(".kube", name+".kubeconfig"), string(b))
}

// joinFabric links host1 (this namespace) to the fabric bridge.
func joinFabric(t *testing.T, st *sandbox.State) {
	t.Helper()
	suffix := make([]byte, 3)
	rand.Read(suffix)
	here, peer := "h1"+hex.EncodeToString(suffix), "h1f"+hex.EncodeToString(suffix)
	fabric, err := netns.GetFromName(st.FabricNS())
	if err != nil {
		t.Fatalf("host1: fabric namespace: %v", err)
	}
	defer fabric.Close()
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: here}, PeerName: peer, PeerNamespace: netlink.NsFd(fabric)}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Fatalf("host1: veth to the fabric: %v", err)
	}
	t.Cleanup(func() {
		if l, err := netlink.LinkByName(here); err == nil {
			netlink.LinkDel(l)
		}
	})
	link, err := netlink.LinkByName(here)
	if err != nil {
		t.Fatal(err)
	}
	if err := netlink.AddrAdd(link, &netlink.Addr{IPNet: ipnet(host1Addr)}); err != nil {
		t.Fatalf("host1: address %s: %v", host1Addr, err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		t.Fatal(err)
	}
	fh, err := netlink.NewHandleAt(fabric)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	pl, err := fh.LinkByName(peer)
	if err != nil {
		t.Fatal(err)
	}
	br, err := fh.LinkByName("br0")
	if err != nil {
		t.Fatalf("host1: the fabric's bridge: %v", err)
	}
	if err := fh.LinkSetMaster(pl, br); err != nil {
		t.Fatal(err)
	}
	if err := fh.LinkSetUp(pl); err != nil {
		t.Fatal(err)
	}
}

func ipnet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
