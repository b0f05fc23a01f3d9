package host1_test

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"podlab/internal/host1"
	"podlab/internal/kubetest"
	"podlab/lab/cluster"
	"podlab/lab/sandbox"
	"podlab/netview"
	"podlab/sudo"
)

// resourceRules are what the lessons on IP pools, BGP and kube-proxy add
// to StudentRules, as the README's ClusterRole has them.
var resourceRules = []rbacv1.PolicyRule{
	{APIGroups: []string{""}, Resources: []string{"services"}, Verbs: []string{"get", "list"}},
	{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"get", "list"}},
	{APIGroups: []string{"crd.projectcalico.org"}, Resources: []string{"ippools", "bgppeers", "bgpconfigurations"}, Verbs: []string{"get", "list"}},
}

// addLessonObjects writes what the course's cluster has of the lesson on
// IP pools and BGP: its pools, host1 as a BGP peer, the BGP
// configuration advertising the service range, and the yaobank Services
// with the EndpointSlices of the sandbox's pods.
func addLessonObjects(t *testing.T, l *host1.Lab) {
	t.Helper()
	s := l.Server
	s.AddCalicoObject(t, kubetest.KindIPPool, "default-ipv4-ippool", map[string]any{
		"cidr": "198.19.16.0/21", "blockSize": 26, "ipipMode": "Never", "vxlanMode": "Never", "natOutgoing": true, "nodeSelector": "all()",
	})
	s.AddCalicoObject(t, kubetest.KindIPPool, "external-pool", map[string]any{
		"cidr": "198.19.24.0/21", "blockSize": 29, "ipipMode": "Never", "vxlanMode": "Never", "natOutgoing": true, "nodeSelector": "!all()",
	})
	s.AddCalicoObject(t, kubetest.KindBGPPeer, "host1", map[string]any{"peerIP": l.Addr.String(), "asNumber": 64512})
	s.AddCalicoObject(t, kubetest.KindBGPConfiguration, "default", map[string]any{
		"asNumber": 64512, "nodeToNodeMeshEnabled": true,
		"serviceClusterIPs": []any{map[string]any{"cidr": "198.19.32.0/20"}},
	})
	ctx := context.Background()
	c := s.Client(t)
	for _, svc := range l.State.Services() {
		// The test API server's service range is its own: the cluster
		// IPs are allocated from it.
		obj := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: svc.Name}, Spec: corev1.ServiceSpec{
			Type: corev1.ServiceType(svc.Type), Selector: map[string]string{"app": svc.Name},
		}}
		for _, p := range svc.Ports {
			obj.Spec.Ports = append(obj.Spec.Ports, corev1.ServicePort{Name: p.Name, Protocol: corev1.Protocol(p.Protocol),
				Port: p.Port, TargetPort: intstr.Parse(p.TargetPort), NodePort: p.NodePort})
		}
		if _, err := c.CoreV1().Services(svc.Namespace).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			t.Fatalf("service %s: %v", svc.Name, err)
		}
		t.Cleanup(func() {
			c.CoreV1().Services(svc.Namespace).Delete(context.Background(), svc.Name, metav1.DeleteOptions{})
		})
	}
	for _, es := range l.State.EndpointSlices() {
		obj := &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: es.Name, Labels: map[string]string{discoveryv1.LabelServiceName: es.Service}},
			AddressType: discoveryv1.AddressType(es.AddressType),
		}
		for _, e := range es.Endpoints {
			ready, node := e.Ready, e.Node
			ep := discoveryv1.Endpoint{NodeName: &node, Conditions: discoveryv1.EndpointConditions{Ready: &ready},
				TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: es.Namespace, Name: e.Pod}}
			for _, a := range e.Addresses {
				ep.Addresses = append(ep.Addresses, a.String())
			}
			obj.Endpoints = append(obj.Endpoints, ep)
		}
		if _, err := c.DiscoveryV1().EndpointSlices(es.Namespace).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			t.Fatalf("endpoint slice %s: %v", es.Name, err)
		}
		t.Cleanup(func() {
			c.DiscoveryV1().EndpointSlices(es.Namespace).Delete(context.Background(), es.Name, metav1.DeleteOptions{})
		})
	}
}

// summaryChain is kube-proxy's chain of yaobank/summary:http, tcp.
const summaryChain = "KUBE-SVC-OIQIZJVJK6E34BR4"

// addNATRules writes a service's rules in node's nat table, as
// kube-proxy's iptables mode writes them, until the test ends.
func addNATRules(t *testing.T, l *host1.Lab, node string) {
	t.Helper()
	run := func(args ...string) error {
		out, err := l.OnNode(node, false, append([]string{"iptables", "-w", "-t", "nat"}, args...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("iptables %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	t.Cleanup(func() {
		for _, c := range []string{"KUBE-SERVICES", summaryChain} {
			run("-F", c)
		}
		for _, c := range []string{"KUBE-SERVICES", summaryChain} {
			run("-X", c)
		}
	})
	for _, args := range [][]string{
		{"-N", "KUBE-SERVICES"},
		{"-N", summaryChain},
		{"-A", "KUBE-SERVICES", "-d", "198.19.34.135/32", "-p", "tcp", "-m", "comment", "--comment", "yaobank/summary:http cluster IP", "-m", "tcp", "--dport", "80", "-j", summaryChain},
	} {
		if err := run(args...); err != nil {
			t.Fatal(err)
		}
	}
}

// openFromHost1 opens the cluster lab as the student's podlab on host1
// does, with what it wants, reaching node1 with the student's ssh.
func openFromHost1(t *testing.T, l *host1.Lab, kubeconfig string, w netview.Wants) *cluster.Lab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u := &sudo.User{Name: l.User.Name, UID: l.User.UID, GID: l.User.GID}
	c, err := cluster.Open(ctx, cluster.Options{Kubeconfig: kubeconfig, Invoker: u})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if c.Where() != cluster.Remote {
		t.Fatalf("the lab collects %s, want from host1 (remote)", c.Where())
	}
	c.Want(w)
	return c
}

func collect(t *testing.T, c *cluster.Lab) *netview.Pair {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), c.CollectTimeout())
	defer cancel()
	p, err := c.Collect(ctx)
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	return p
}

// TestClusterExtra: from host1, the cluster lab wanting every part reads
// the pools, peers, BGP configuration, Services and EndpointSlices
// through the API server, node1's BIRD sessions and nat table through
// `sudo -n podlab collect --bird --nat` over ssh (calico-node's socket
// path is where node1's BIRD answers, in node1's sessions), and host1's
// own routing table; a kind the student may not list is said in Unread,
// with the rule to add, and the rest is read.
func TestClusterExtra(t *testing.T) {
	l := classroom(t)
	addLessonObjects(t, l)
	addNATRules(t, l, "node1")
	bin := podlab(t)
	l.User.Sudoers(t, fmt.Sprintf("%s ALL=(root) NOPASSWD: %s %s", l.User.Name, filepath.Join(bin, "podlab"), cluster.SudoersCollectArgs))
	i := slices.IndexFunc(l.State.Processes, func(p sandbox.Process) bool { return p.Node == "node1" })
	if i < 0 {
		t.Fatal("the sandbox runs no BIRD on node1")
	}
	sshd := l.StartSSHD(t, "node1", host1.SSHOptions{PodlabDir: bin,
		Binds: []host1.Bind{{Source: l.State.Processes[i].Socket, Target: cluster.BirdSocket}}})
	l.SSHConfig(t, []*host1.SSHD{sshd}, sshd)
	all := netview.Wants{Host1: true, Bird: true, NAT: true, Resources: true}

	t.Run("every part", func(t *testing.T) {
		kc := l.Kubeconfig(t, l.User.Name, append(slices.Clone(host1.StudentRules), resourceRules...)...)
		p := collect(t, openFromHost1(t, l, kc, all))
		e := p.Extra
		if e == nil {
			t.Fatal("no Extra")
		}
		for part, why := range e.Unread {
			if part != netview.PartHost1Bird { // this machine runs no BIRD of its own
				t.Errorf("unread %s: %s", part, why)
			}
		}
		checkResources(t, l, e.Resources)
		checkNodeBird(t, l, e.Bird)
		if e.NAT == nil || e.NAT.Chain(summaryChain) == nil {
			t.Errorf("node1's nat table has no %s: %+v", summaryChain, e.NAT)
		} else if r := e.NAT.Chain("KUBE-SERVICES").Rules; len(r) != 1 || r[0].Target != summaryChain {
			t.Errorf("KUBE-SERVICES: %+v", r)
		}
		if e.Host1 == nil || !slices.ContainsFunc(e.Host1.Addrs, func(a netview.Addr) bool { return a.Prefix.Addr() == l.Addr }) {
			t.Errorf("host1's snapshot is not this machine's (no %s): %+v", l.Addr, e.Host1)
		}
		if f := e.Host1Facts; f == nil || len(f.Resources.Pools) != 2 || len(f.Resources.BGPConfigs) != 1 || len(f.Facts.Nodes) != len(l.State.Nodes) || len(f.Imports) != 0 {
			t.Errorf("host1's facts: %+v", f)
		}
	})

	t.Run("no rule for ippools", func(t *testing.T) {
		rules := slices.Clone(host1.StudentRules)
		for _, r := range resourceRules {
			if r.APIGroups[0] == "crd.projectcalico.org" {
				r.Resources = []string{"bgppeers", "bgpconfigurations"}
			}
			rules = append(rules, r)
		}
		kc := l.Kubeconfig(t, l.User.Name+"-nopools", rules...)
		p := collect(t, openFromHost1(t, l, kc, netview.Wants{Resources: true}))
		e := p.Extra
		if e == nil || e.Resources == nil {
			t.Fatalf("no resources: %+v", e)
		}
		why := e.Unread[netview.PartResources]
		for _, want := range []string{"ippools.crd.projectcalico.org", `add to podlab's ClusterRole: {apiGroups: ["crd.projectcalico.org"], resources: ["ippools"], verbs: ["get", "list"]}`} {
			if !strings.Contains(why, want) {
				t.Errorf("unread resources %q does not say %q", why, want)
			}
		}
		if len(e.Resources.Pools) != 0 || len(e.Resources.Peers) != 1 || len(e.Resources.Services) != len(l.State.Services()) {
			t.Errorf("read %d pools, %d peers, %d services; want 0, 1, %d", len(e.Resources.Pools), len(e.Resources.Peers), len(e.Resources.Services), len(l.State.Services()))
		}
		if e.Bird != nil || e.NAT != nil || e.Host1 != nil {
			t.Errorf("read parts not wanted: %+v", e)
		}
	})

	t.Run("nothing wanted", func(t *testing.T) {
		kc := l.Kubeconfig(t, l.User.Name+"-plain", host1.StudentRules...)
		if p := collect(t, openFromHost1(t, l, kc, netview.Wants{})); p.Extra != nil {
			t.Errorf("Extra %+v with nothing wanted", p.Extra)
		}
	})
}

// TestClusterExtraOlderRule: under the sudoers line of before --bird and
// --nat, the node's two namespaces are still read by podlab collect; the
// node's parts are unread, saying what to change.
func TestClusterExtraOlderRule(t *testing.T) {
	l := classroom(t)
	bin := podlab(t)
	l.User.Sudoers(t, fmt.Sprintf("%s ALL=(root) NOPASSWD: %s ^collect --pod-ip [0-9a-fA-F.:]+$", l.User.Name, filepath.Join(bin, "podlab")))
	sshd := l.StartSSHD(t, "node1", host1.SSHOptions{PodlabDir: bin})
	l.SSHConfig(t, []*host1.SSHD{sshd}, sshd)
	kc := l.Kubeconfig(t, l.User.Name, host1.StudentRules...)
	c := openFromHost1(t, l, kc, netview.Wants{Bird: true, NAT: true})
	p := collect(t, c)
	if d := c.Describe(); !strings.Contains(d, "collected on node1 by podlab collect over ssh node1") {
		t.Errorf("describe: %s", d)
	}
	for _, part := range []string{netview.PartBird, netview.PartNAT} {
		why := p.Extra.Unread[part]
		if !strings.Contains(why, "sudo on node1 does not let podlab collect --bird --nat run") || !strings.Contains(why, cluster.SudoersCollectArgs) {
			t.Errorf("unread %s: %q", part, why)
		}
	}
}

// checkResources: the objects written are read back.
func checkResources(t *testing.T, l *host1.Lab, r *netview.Resources) {
	t.Helper()
	if r == nil {
		t.Fatal("no resources")
	}
	var pools []string
	for _, p := range r.Pools {
		pools = append(pools, p.Name+" "+p.CIDR.String())
	}
	if want := []string{"default-ipv4-ippool 198.19.16.0/21", "external-pool 198.19.24.0/21"}; !slices.Equal(pools, want) {
		t.Errorf("pools %v, want %v", pools, want)
	}
	if len(r.Peers) != 1 || r.Peers[0].PeerIP != l.Addr || r.Peers[0].ASNumber != 64512 {
		t.Errorf("peers %+v, want host1 at %s", r.Peers, l.Addr)
	}
	if len(r.BGPConfigs) != 1 || !slices.Equal(r.BGPConfigs[0].ServiceClusterIPs, []netip.Prefix{netip.MustParsePrefix("198.19.32.0/20")}) {
		t.Errorf("bgp configurations %+v", r.BGPConfigs)
	}
	want := l.State.Services()
	if !slices.EqualFunc(r.Services, want, func(a, b netview.Service) bool {
		return a.Namespace == b.Namespace && a.Name == b.Name && a.Type == b.Type && slices.Equal(a.Ports, b.Ports) && len(a.ClusterIPs) == 1
	}) {
		t.Errorf("services\n got %+v\nwant %+v", r.Services, want)
	}
	wantSlices := l.State.EndpointSlices()
	if len(r.EndpointSlices) != len(wantSlices) {
		t.Fatalf("%d endpoint slices, want %d", len(r.EndpointSlices), len(wantSlices))
	}
	for i, es := range r.EndpointSlices {
		if es.Service != wantSlices[i].Service || len(es.Endpoints) != len(wantSlices[i].Endpoints) {
			t.Errorf("endpoint slice %s: %+v, want %+v", es.Name, es, wantSlices[i])
		}
	}
}

// checkNodeBird: node1's BIRD, read through collect, has an Established
// session with every other node.
func checkNodeBird(t *testing.T, l *host1.Lab, ps netview.BirdProtocols) {
	t.Helper()
	sessions := ps.Sessions()
	for _, n := range l.State.Nodes {
		if n.Name == "node1" {
			continue
		}
		i := slices.IndexFunc(sessions, func(p netview.BirdProtocol) bool { return p.BGP != nil && p.BGP.NeighborAddr == n.IP })
		if i < 0 {
			t.Errorf("node1's BIRD has no session with %s (%s): %+v", n.Name, n.IP, sessions)
		} else if !sessions[i].Established() {
			t.Errorf("node1's session with %s: %s %s", n.Name, sessions[i].State, sessions[i].Info)
		}
	}
}
