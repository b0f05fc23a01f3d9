package cluster

import (
	"context"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab/internal/kubetest"
)

// TestOpenFactsDualStack: a dual-stack cluster's pods list an IPv6
// address second in status.podIPs and its nodes an IPv6 InternalIP; the
// facts carry both families, so IPv6 routes are named as IPv4's are.
func TestOpenFactsDualStack(t *testing.T) {
	s := kubetest.Start(t)
	c := s.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*defaultTimeout)
	defer cancel()
	v6 := map[string]string{"control": "fd00:198::1", "node1": "fd00:198::2", "node2": "fd00:198::3"}
	for _, n := range lessonNodes {
		node := s.AddNode(t, n.Name, n.InternalIP.String())
		// A link-local address and a second IPv6 one are no InternalIP6.
		node.Status.Addresses = append(node.Status.Addresses,
			corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "fe80::1%eth0"},
			corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: v6[n.Name]},
			corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "fd00:198::ff"})
		if _, err := c.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	pods := []struct{ ns, name, node, ip, ip6 string }{
		{"yaobank", customer, "node1", "198.19.22.132", "fd00:19::2284"},
		{"yaobank", "summary-85c56b76d7-28dxz", "node1", "198.19.22.131", "fd00:19::2283"},
		{"kube-system", "coredns-7db6d8ff4d-5qhs4", "node1", "198.19.22.129", ""},
	}
	for _, p := range pods {
		pod := s.AddPod(t, p.ns, p.name, p.node, p.ip, map[string]string{"app": "customer"}, corev1.PodRunning)
		if p.ip6 == "" {
			continue
		}
		pod.Status.PodIPs = append(pod.Status.PodIPs, corev1.PodIP{IP: p.ip6})
		if _, err := c.CoreV1().Pods(p.ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	l, err := open(t, Options{Kubeconfig: s.Kubeconfig, Pod: customer})
	if err != nil {
		t.Fatal(err)
	}
	f := l.Facts()
	if f.Pod.IP.String() != "198.19.22.132" || f.Pod.IP6.String() != "fd00:19::2284" {
		t.Errorf("pod IPs %s and %s, want 198.19.22.132 and fd00:19::2284", f.Pod.IP, f.Pod.IP6)
	}
	for _, p := range pods {
		pf := f.PodByIP(netip.MustParseAddr(p.ip))
		if pf == nil {
			t.Errorf("no pod %s", p.ip)
			continue
		}
		if got := pf.IP6; (p.ip6 == "" && got.IsValid()) || (p.ip6 != "" && got.String() != p.ip6) {
			t.Errorf("%s/%s IPv6 %s, want %q", p.ns, p.name, got, p.ip6)
		}
		if p.ip6 != "" && f.PodByIP(netip.MustParseAddr(p.ip6)) != pf {
			t.Errorf("%s does not name %s/%s", p.ip6, p.ns, p.name)
		}
	}
	for _, n := range lessonNodes {
		if f.NodeByIP(netip.MustParseAddr(v6[n.Name])) != n.Name || f.NodeByIP(n.InternalIP) != n.Name {
			t.Errorf("%s and %s do not name %s: %+v", v6[n.Name], n.InternalIP, n.Name, f.Nodes)
		}
	}
}
