package cluster

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/rest"

	"podlab/internal/hostile"
	"podlab/internal/kubetest"
	"podlab/netview"
)

// bgpNamespace holds the services of the tests of Resources.
const bgpNamespace = "bgp-lesson"

// addBGPLesson writes the objects of the lesson on IP pools and BGP
// peering: the default pool and the external one, host1 as a BGP peer,
// the BGP configuration advertising the service ranges, and a Service
// with externalTrafficPolicy Local whose one endpoint is on node1.
func addBGPLesson(t *testing.T, s *kubetest.Server) {
	t.Helper()
	s.AddCalicoObject(t, kubetest.KindIPPool, "default-ipv4-ippool", map[string]any{
		"cidr": "198.19.16.0/21", "blockSize": 26, "ipipMode": "Never", "vxlanMode": "Never",
		"natOutgoing": true, "nodeSelector": "all()",
	})
	s.AddCalicoObject(t, kubetest.KindIPPool, "external-pool", map[string]any{
		// Calico masks a CIDR written with host bits.
		"cidr": "198.19.24.1/21", "blockSize": 29, "ipipMode": "Never", "vxlanMode": "Never",
		"natOutgoing": true, "nodeSelector": "!all()",
	})
	s.AddCalicoObject(t, kubetest.KindIPPool, "retired", map[string]any{
		"cidr": "10.48.0.0/24", "disabled": true, "ipipMode": "CrossSubnet",
	})
	s.AddCalicoObject(t, kubetest.KindBGPPeer, "host1", map[string]any{"peerIP": "198.19.15.254", "asNumber": 64512})
	s.AddCalicoObject(t, kubetest.KindBGPPeer, "tor-node1", map[string]any{"peerIP": "198.19.15.253:1179", "asNumber": 64513, "node": "node1"})
	s.AddCalicoObject(t, kubetest.KindBGPPeer, "rack-a", map[string]any{"peerIP": "[fd00::1]:179", "asNumber": 4200000000, "nodeSelector": "rack == 'a'"})
	s.AddCalicoObject(t, kubetest.KindBGPConfiguration, "default", map[string]any{
		"asNumber": 64512, "nodeToNodeMeshEnabled": true,
		"serviceClusterIPs":  []any{map[string]any{"cidr": "198.19.32.0/20"}},
		"serviceExternalIPs": []any{map[string]any{"cidr": "198.19.48.0/20"}, map[string]any{"cidr": "not a cidr"}},
	})
	s.AddCalicoObject(t, kubetest.KindBGPConfiguration, "node.node2", map[string]any{})

	s.EnsureNamespace(t, bgpNamespace)
	ctx := context.Background()
	c := s.Client(t)
	svcs := []*corev1.Service{
		{ObjectMeta: metav1.ObjectMeta{Name: "customer"}, Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeNodePort, ClusterIP: "10.96.0.50", ExternalIPs: []string{"198.19.48.10"},
			ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyLocal,
			Selector:              map[string]string{"app": "customer"},
			Ports:                 []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(80), NodePort: 30180, Protocol: corev1.ProtocolTCP}},
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: "database"}, Spec: corev1.ServiceSpec{
			ClusterIP: "10.96.0.51", Selector: map[string]string{"app": "database"},
			Ports: []corev1.ServicePort{{Port: 2379, TargetPort: intstr.FromString("etcd"), Protocol: corev1.ProtocolTCP}},
		}},
	}
	for _, svc := range svcs {
		if _, err := c.CoreV1().Services(bgpNamespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			c.CoreV1().Services(bgpNamespace).Delete(context.Background(), svc.Name, metav1.DeleteOptions{})
		})
	}
	node1, ready, notReady := "node1", true, false
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "customer-x7k2p", Labels: map[string]string{discoveryv1.LabelServiceName: "customer"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"198.19.22.132"}, NodeName: &node1, Conditions: discoveryv1.EndpointConditions{Ready: &ready},
				TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: bgpNamespace, Name: "customer-574bd6cc75-2blnv"}},
			{Addresses: []string{"198.19.22.133"}, NodeName: &node1, Conditions: discoveryv1.EndpointConditions{Ready: &notReady}},
		},
	}
	if _, err := c.DiscoveryV1().EndpointSlices(bgpNamespace).Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.DiscoveryV1().EndpointSlices(bgpNamespace).Delete(context.Background(), slice.Name, metav1.DeleteOptions{})
	})
}

func openResources(t *testing.T, kubeconfig string) *Resources {
	t.Helper()
	r, err := OpenResources(Options{Kubeconfig: kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestResourcesRead: the pools, peers, configurations, services and
// slices created are read back as calicoctl and kubectl show them, in
// pages of one as in pages of many.
func TestResourcesRead(t *testing.T) {
	s := kubetest.Start(t)
	addBGPLesson(t, s)
	yes := true
	want := netview.Resources{
		Pools: []netview.IPPool{
			{Name: "default-ipv4-ippool", CIDR: netip.MustParsePrefix("198.19.16.0/21"), BlockSize: 26, IPIPMode: "Never", VXLANMode: "Never", NATOutgoing: true, NodeSelector: "all()"},
			{Name: "external-pool", CIDR: netip.MustParsePrefix("198.19.24.0/21"), BlockSize: 29, IPIPMode: "Never", VXLANMode: "Never", NATOutgoing: true, NodeSelector: "!all()"},
			{Name: "retired", CIDR: netip.MustParsePrefix("10.48.0.0/24"), IPIPMode: "CrossSubnet", Disabled: true},
		},
		Peers: []netview.BGPPeer{
			{Name: "host1", PeerIP: netip.MustParseAddr("198.19.15.254"), ASNumber: 64512},
			{Name: "rack-a", PeerIP: netip.MustParseAddr("fd00::1"), PeerPort: 179, ASNumber: 4200000000, NodeSelector: "rack == 'a'"},
			{Name: "tor-node1", PeerIP: netip.MustParseAddr("198.19.15.253"), PeerPort: 1179, ASNumber: 64513, Node: "node1"},
		},
		BGPConfigs: []netview.BGPConfiguration{
			{Name: "default", ASNumber: 64512, NodeToNodeMeshEnabled: &yes,
				ServiceClusterIPs: []netip.Prefix{netip.MustParsePrefix("198.19.32.0/20")}, ServiceExternalIPs: []netip.Prefix{netip.MustParsePrefix("198.19.48.0/20")}},
			{Name: "node.node2"},
		},
		Services: []netview.Service{
			{Namespace: bgpNamespace, Name: "customer", Type: "NodePort", ClusterIPs: []netip.Addr{netip.MustParseAddr("10.96.0.50")},
				ExternalIPs: []netip.Addr{netip.MustParseAddr("198.19.48.10")}, ExternalTrafficPolicy: "Local",
				Ports: []netview.ServicePort{{Name: "http", Protocol: "TCP", Port: 80, TargetPort: "80", NodePort: 30180}}},
			{Namespace: bgpNamespace, Name: "database", Type: "ClusterIP", ClusterIPs: []netip.Addr{netip.MustParseAddr("10.96.0.51")},
				Ports: []netview.ServicePort{{Protocol: "TCP", Port: 2379, TargetPort: "etcd"}}},
		},
		EndpointSlices: []netview.EndpointSlice{{Namespace: bgpNamespace, Name: "customer-x7k2p", Service: "customer", AddressType: "IPv4",
			Endpoints: []netview.Endpoint{
				{Addresses: []netip.Addr{netip.MustParseAddr("198.19.22.132")}, Node: "node1", Pod: "customer-574bd6cc75-2blnv", Ready: true},
				{Addresses: []netip.Addr{netip.MustParseAddr("198.19.22.133")}, Node: "node1"},
			}}},
	}
	for _, page := range []int64{listPage, 1} {
		t.Run(fmt.Sprintf("pages of %d", page), func(t *testing.T) {
			// Count the requests for pools: three pools in pages of one
			// are three pages and a last, empty-continue answer.
			var poolRequests atomic.Int32
			config := rest.CopyConfig(s.Config)
			config.Wrap(func(rt http.RoundTripper) http.RoundTripper {
				return roundTripFunc(func(req *http.Request) (*http.Response, error) {
					if strings.HasSuffix(req.URL.Path, "/ippools") {
						poolRequests.Add(1)
					}
					return rt.RoundTrip(req)
				})
			})
			r, err := newResources(config, s.URL)
			if err != nil {
				t.Fatal(err)
			}
			r.page = page
			got := r.Read(context.Background(), bgpNamespace)
			if len(got.Unreadable) > 0 {
				t.Fatalf("unreadable: %+v", got.Unreadable)
			}
			if n := poolRequests.Load(); page == 1 && n < 3 || page > 3 && n != 1 {
				t.Errorf("%d requests for pools in pages of %d", n, page)
			}
			checkResources(t, got, want)
			if !got.BGPConfigs[0].MeshEnabled() || !got.BGPConfigs[1].MeshEnabled() {
				t.Errorf("the mesh reads as disabled: %+v", got.BGPConfigs)
			}
		})
	}
}

func checkResources(t *testing.T, got, want netview.Resources) {
	t.Helper()
	eq := func(what string, ok bool, g, w any) {
		t.Helper()
		if !ok {
			t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
		}
	}
	eq("pools", slices.Equal(got.Pools, want.Pools), got.Pools, want.Pools)
	eq("peers", slices.Equal(got.Peers, want.Peers), got.Peers, want.Peers)
	eq("bgp configurations", slices.EqualFunc(got.BGPConfigs, want.BGPConfigs, func(a, b netview.BGPConfiguration) bool {
		return a.Name == b.Name && a.ASNumber == b.ASNumber && (a.NodeToNodeMeshEnabled == nil) == (b.NodeToNodeMeshEnabled == nil) &&
			(a.NodeToNodeMeshEnabled == nil || *a.NodeToNodeMeshEnabled == *b.NodeToNodeMeshEnabled) &&
			slices.Equal(a.ServiceClusterIPs, b.ServiceClusterIPs) && slices.Equal(a.ServiceExternalIPs, b.ServiceExternalIPs)
	}), got.BGPConfigs, want.BGPConfigs)
	eq("services", slices.EqualFunc(got.Services, want.Services, func(a, b netview.Service) bool {
		return a.Namespace == b.Namespace && a.Name == b.Name && a.Type == b.Type && slices.Equal(a.ClusterIPs, b.ClusterIPs) &&
			slices.Equal(a.ExternalIPs, b.ExternalIPs) && a.ExternalTrafficPolicy == b.ExternalTrafficPolicy && slices.Equal(a.Ports, b.Ports)
	}), got.Services, want.Services)
	eq("endpoint slices", slices.EqualFunc(got.EndpointSlices, want.EndpointSlices, func(a, b netview.EndpointSlice) bool {
		return a.Namespace == b.Namespace && a.Name == b.Name && a.Service == b.Service && a.AddressType == b.AddressType &&
			slices.EqualFunc(a.Endpoints, b.Endpoints, func(x, y netview.Endpoint) bool {
				return slices.Equal(x.Addresses, y.Addresses) && x.Node == y.Node && x.Pod == y.Pod && x.Ready == y.Ready
			})
	}), got.EndpointSlices, want.EndpointSlices)
}

// TestResourcesUnreadable: a kind the user may not list, a CRD that is
// not installed and an answer over the bound are each one line in
// Unreadable, naming the resource and what to ask for; what can be read
// still is.
func TestResourcesUnreadable(t *testing.T) {
	s := kubetest.Start(t)
	addBGPLesson(t, s)
	gap := func(got netview.Resources, resource string) string {
		t.Helper()
		for _, g := range got.Unreadable {
			if g.Resource == resource {
				return g.Reason
			}
		}
		return ""
	}
	oneLine := func(got netview.Resources) {
		t.Helper()
		for _, g := range got.Unreadable {
			if strings.Contains(g.Reason, "\n") || hostile.Check(g.Reason, false) != nil {
				t.Errorf("%s: %q is not one clean line", g.Resource, g.Reason)
			}
		}
	}

	t.Run("forbidden", func(t *testing.T) {
		user := "podlab-bgp-student"
		s.Allow(t, bgpNamespace, user,
			rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"services"}, Verbs: []string{"get", "list"}},
			rbacv1.PolicyRule{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"get", "list"}})
		got := openResources(t, s.KubeconfigFor(t, user)).Read(context.Background(), bgpNamespace)
		oneLine(got)
		for _, kind := range []string{kubetest.KindIPPool, kubetest.KindBGPPeer, kubetest.KindBGPConfiguration} {
			res := kubetest.CalicoResource(kind)
			want := `forbidden: cannot list ` + res + `: ask for "list ` + res + `"`
			if r := gap(got, res); r != want {
				t.Errorf("%s: %q, want %q", res, r, want)
			}
		}
		if len(got.Services) != 2 || len(got.EndpointSlices) != 1 || len(got.Pools) != 0 {
			t.Errorf("read %d services, %d slices, %d pools; want 2, 1, 0", len(got.Services), len(got.EndpointSlices), len(got.Pools))
		}
		other := openResources(t, s.KubeconfigFor(t, user)).Read(context.Background(), "default")
		want := `forbidden: cannot list services in namespace default: ask for "list services" in namespace default`
		if r := gap(other, "services"); r != want {
			t.Errorf("services of another namespace: %q, want %q", r, want)
		}
	})

	t.Run("over the bound", func(t *testing.T) {
		r := openResources(t, s.Kubeconfig)
		r.budget = 1 << 10
		got := r.Read(context.Background(), bgpNamespace)
		oneLine(got)
		if g := gap(got, "ippools.crd.projectcalico.org"); g != "the ippools.crd.projectcalico.org are more than podlab reads (1 KiB)" {
			t.Errorf("pools over the bound: %q", g)
		}
	})

	t.Run("not installed", func(t *testing.T) {
		s.RemoveCalicoCRD(t, kubetest.KindBGPPeer)
		got := openResources(t, s.Kubeconfig).Read(context.Background(), bgpNamespace)
		oneLine(got)
		if g := gap(got, "bgppeers.crd.projectcalico.org"); g != "bgppeers.crd.projectcalico.org is not installed: this cluster has no Calico with the Kubernetes datastore" {
			t.Errorf("absent CRD: %q", g)
		}
		if len(got.Pools) != 3 || len(got.Peers) != 0 || len(got.Unreadable) != 1 {
			t.Errorf("read %d pools, %d peers, unreadable %+v", len(got.Pools), len(got.Peers), got.Unreadable)
		}
	})
}

// TestAsNumber: Calico's AS numbers, as numbers or strings, plain or
// dotted; what is none reads as 0.
func TestAsNumber(t *testing.T) {
	tests := []struct {
		in   any
		want uint32
	}{
		{int64(64512), 64512}, {float64(64512), 64512}, {"64512", 64512}, {"1.10", 65546},
		{int64(4294967295), 4294967295}, {int64(4294967296), 0}, {int64(-1), 0}, {float64(1.5), 0},
		{"1.70000", 0}, {"x", 0}, {true, 0}, {nil, 0},
	}
	for _, tt := range tests {
		if got := asNumber(tt.in); got != tt.want {
			t.Errorf("asNumber(%#v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// TestResourcesHostile: text an administrator (or an attacker with
// write access to Calico's resources) put in a pool or a peer reaches
// the facts cleaned, never as terminal controls.
func TestResourcesHostile(t *testing.T) {
	s := kubetest.Start(t)
	s.AddCalicoObject(t, kubetest.KindIPPool, "hostile-pool", map[string]any{
		"cidr": "10.77.0.0/24", "ipipMode": "Never" + hostile.Text, "nodeSelector": "all()" + hostile.Text,
	})
	s.AddCalicoObject(t, kubetest.KindBGPPeer, "hostile-peer", map[string]any{
		"peerIP": "198.19.15.254" + hostile.Text, "node": "node1" + hostile.Text, "asNumber": 64512,
	})
	got := openResources(t, s.Kubeconfig).Read(context.Background(), bgpNamespace)
	if dirty := hostile.Unclean(&got); len(dirty) > 0 {
		t.Fatalf("control characters in %v", dirty)
	}
	i := slices.IndexFunc(got.Pools, func(p netview.IPPool) bool { return p.Name == "hostile-pool" })
	if i < 0 || got.Pools[i].NodeSelector != netview.Clean("all()"+hostile.Text) || got.Pools[i].CIDR.String() != "10.77.0.0/24" {
		t.Errorf("pools %+v", got.Pools)
	}
	j := slices.IndexFunc(got.Peers, func(p netview.BGPPeer) bool { return p.Name == "hostile-peer" })
	if j < 0 || got.Peers[j].PeerIP.IsValid() || !strings.HasPrefix(got.Peers[j].Node, "node1\\x1b") {
		t.Errorf("peers %+v", got.Peers)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
