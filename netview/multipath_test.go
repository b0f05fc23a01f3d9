package netview

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// multipathNode is a node namespace with multipath routes, the one whose
// `ip route` (iproute2 6.1) is testdata/multipath-route.ip, made as root
// in a throw-away namespace with:
//
//	ip link add eth0 type veth peer name fab0   (and eth1/fab1, fab1 left down)
//	ip link add caliea2aa288365 type veth peer name pod0
//	ip link add vxlan.calico type vxlan id 4096 dstport 4789 dev eth0
//	ip addr add 198.19.0.2/20 dev eth0; ip addr add 10.0.0.2/24 dev eth1
//	ip route add 198.19.21.0/26 proto bird nexthop via 198.19.0.1 dev eth0 weight 1 nexthop via 198.19.0.3 dev eth0 weight 1
//	ip route add 198.19.21.64/26 via 198.19.0.3 dev eth0 proto bird
//	ip route add blackhole 198.19.22.128/26 proto bird
//	ip route add 198.19.22.132 dev caliea2aa288365 scope link
//	ip route add 198.19.24.0/26 proto 80 metric 5 nexthop via 198.19.0.3 dev eth0 weight 3 onlink nexthop via 198.19.0.1 dev eth0 weight 1
//	ip route add 198.19.25.0/26 nexthop dev eth0 nexthop via 10.0.0.1 dev eth1
//	ip route add default via 198.19.0.1 dev eth0 proto dhcp src 198.19.0.2 metric 100
//	ip route add 198.19.23.1 dev vxlan.calico scope link
//	ip route add 198.19.23.0/26 via 198.19.23.1 dev vxlan.calico onlink
//
// The routes are listed out of the kernel's order, which the view sorts.
func multipathNode() *Snapshot {
	up := []string{"BROADCAST", "MULTICAST", "UP", "LOWER_UP"}
	return &Snapshot{
		NS: Namespace{Name: "host"},
		Links: []Link{
			{Index: 1, Name: "lo", Flags: []string{"LOOPBACK", "UP", "LOWER_UP"}, MTU: 65536, LinkNetNSID: -1},
			{Index: 2, Name: "fab0", Kind: "veth", Flags: up, MTU: 1500, ParentIndex: 3, LinkNetNSID: -1},
			{Index: 3, Name: "eth0", Kind: "veth", Flags: up, MTU: 1500, ParentIndex: 2, LinkNetNSID: -1},
			{Index: 4, Name: "fab1", Kind: "veth", Flags: []string{"BROADCAST", "MULTICAST"}, MTU: 1500, ParentIndex: 5, LinkNetNSID: -1},
			{Index: 5, Name: "eth1", Kind: "veth", Flags: []string{"NO-CARRIER", "BROADCAST", "MULTICAST", "UP", "M-DOWN"}, MTU: 1500, ParentIndex: 4, LinkNetNSID: -1},
			{Index: 6, Name: "pod0", Kind: "veth", Flags: up, MTU: 1500, ParentIndex: 7, LinkNetNSID: -1},
			{Index: 7, Name: "caliea2aa288365", Kind: "veth", Flags: up, MTU: 1500, ParentIndex: 6, LinkNetNSID: -1},
			{Index: 8, Name: "vxlan.calico", Kind: "vxlan", Flags: up, MTU: 1450, LinkNetNSID: -1},
		},
		Routes: []Route{
			{Family: 4, Table: TableMain, Type: "unicast", Dst: mp("198.19.21.0/26"), Scope: "universe", Protocol: ProtoBird, NextHops: []NextHop{
				{Gw: ma("198.19.0.1"), Dev: "eth0", DevIndex: 3, Weight: 1},
				{Gw: ma("198.19.0.3"), Dev: "eth0", DevIndex: 3, Weight: 1},
			}},
			{Family: 4, Table: TableMain, Type: "unicast", Dst: mp("0.0.0.0/0"), Gw: ma("198.19.0.1"), Dev: "eth0", DevIndex: 3, Scope: "universe", Protocol: ProtoDHCP, Src: ma("198.19.0.2"), Metric: 100},
			{Family: 4, Table: TableMain, Type: "unicast", Dst: mp("10.0.0.0/24"), Dev: "eth1", DevIndex: 5, Scope: "link", Protocol: ProtoKernel, Src: ma("10.0.0.2"), Flags: []string{"linkdown"}},
			{Family: 4, Table: TableMain, Type: "unicast", Dst: mp("198.19.0.0/20"), Dev: "eth0", DevIndex: 3, Scope: "link", Protocol: ProtoKernel, Src: ma("198.19.0.2")},
			{Family: 4, Table: TableMain, Type: "unicast", Dst: mp("198.19.21.64/26"), Gw: ma("198.19.0.3"), Dev: "eth0", DevIndex: 3, Scope: "universe", Protocol: ProtoBird},
			{Family: 4, Table: TableMain, Type: "blackhole", Dst: mp("198.19.22.128/26"), Scope: "universe", Protocol: ProtoBird},
			{Family: 4, Table: TableMain, Type: "unicast", Dst: mp("198.19.22.132/32"), Dev: "caliea2aa288365", DevIndex: 7, Scope: "link", Protocol: ProtoBoot},
			{Family: 4, Table: TableMain, Type: "unicast", Dst: mp("198.19.23.0/26"), Gw: ma("198.19.23.1"), Dev: "vxlan.calico", DevIndex: 8, Scope: "universe", Protocol: ProtoBoot, Flags: []string{"onlink"}},
			{Family: 4, Table: TableMain, Type: "unicast", Dst: mp("198.19.23.1/32"), Dev: "vxlan.calico", DevIndex: 8, Scope: "link", Protocol: ProtoBoot},
			{Family: 4, Table: TableMain, Type: "unicast", Dst: mp("198.19.24.0/26"), Scope: "universe", Protocol: ProtoFelix, Metric: 5, NextHops: []NextHop{
				{Gw: ma("198.19.0.3"), Dev: "eth0", DevIndex: 3, Weight: 3, Flags: []string{"onlink"}},
				{Gw: ma("198.19.0.1"), Dev: "eth0", DevIndex: 3, Weight: 1},
			}},
			// The hops' names left to their indexes, and a weight not read.
			{Family: 4, Table: TableMain, Type: "unicast", Dst: mp("198.19.25.0/26"), Scope: "universe", Protocol: ProtoBoot, NextHops: []NextHop{
				{DevIndex: 3},
				{Gw: ma("10.0.0.1"), DevIndex: 5, Weight: 1, Flags: []string{"linkdown"}},
			}},
			{Family: 6, Table: TableMain, Type: "unicast", Dst: mp("fd00:22::/122"), Scope: "universe", Protocol: ProtoBird, Metric: 1024, NextHops: []NextHop{
				{Gw: ma("fd00:19::1"), Dev: "eth0", DevIndex: 3, Weight: 1},
				{Gw: ma("fd00:19::3"), Dev: "eth0", DevIndex: 3, Weight: 1},
			}},
		},
	}
}

// The route view of a node with multipath routes is iproute2's, byte for
// byte: each next hop on a line of its own after its route's, started by
// a tab, and the trailing spaces where ip leaves them.
func TestRenderMultipathMatchesIP(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "multipath-route.ip"))
	if err != nil {
		t.Fatal(err)
	}
	p := multipathPair()
	a := Analyze(p)
	for _, tt := range []struct {
		name string
		a    *Analysis
	}{{"plain", nil}, {"analysed", &a}} {
		t.Run(tt.name, func(t *testing.T) {
			lines := Render(SideHost, ViewRoute, &p.Host, tt.a)
			if got := Plain(lines); got != string(want) {
				t.Fatalf("got\n%s\nwant\n%s", strings.ReplaceAll(got, " \n", "·\n"), strings.ReplaceAll(string(want), " \n", "·\n"))
			}
			v := NewRouteView(SideHost, &p.Host, tt.a)
			if v.Len() != len(lines) {
				t.Fatalf("%d lines in the view, %d rendered", v.Len(), len(lines))
			}
			for i, l := range lines {
				if got := string(v.AppendText(nil, i)); got != l.String() {
					t.Errorf("line %d: AppendText %q, Line %q", i, got, l.String())
				}
				if strings.HasPrefix(l.String(), "\tnexthop") {
					r := v.Route(i)
					if len(r.NextHops) == 0 || l.Key != "route:"+dstText(r) {
						t.Errorf("line %d %q: route %s key %q: not its multipath route's", i, l.String(), r.Dst, l.Key)
					}
				}
				if !v.SameLine(i, v, i) || !v.Has(v, i) {
					t.Errorf("line %d %q is not the same as itself", i, l.String())
				}
			}
		})
	}
}

// A multipath route's text in words names every next hop, on one line.
func TestIPRouteTextMultipath(t *testing.T) {
	r := &multipathNode().Routes[0]
	want := "198.19.21.0/26 proto bird nexthop via 198.19.0.1 dev eth0 weight 1 nexthop via 198.19.0.3 dev eth0 weight 1"
	if got := ipRouteText(r); got != want {
		t.Errorf("ipRouteText = %q, want %q", got, want)
	}
}

// multipathPair is multipathNode as node1 of the lesson's cluster, with
// a fourth node, node3, reached over VXLAN.
func multipathPair() *Pair {
	return &Pair{Host: *multipathNode(), Facts: Facts{
		Node: "node1", BlockSize: 26, ClusterCIDR: mp("198.19.16.0/20"),
		Nodes: []NodeFact{{Name: "control", InternalIP: ma("198.19.0.1")}, {Name: "node1", InternalIP: ma("198.19.0.2")},
			{Name: "node2", InternalIP: ma("198.19.0.3")}, {Name: "node3", InternalIP: ma("198.19.0.4")}},
		Blocks: []Block{{CIDR: mp("198.19.21.0/26"), Node: "control"}, {CIDR: mp("198.19.22.128/26"), Node: "node1"},
			{CIDR: mp("198.19.21.64/26"), Node: "node2"}, {CIDR: mp("198.19.23.0/26"), Node: "node3"}},
	}}
}

// analysisText is an analysis as a golden holds it: every route's class,
// peer, next hops and reason, what the IPv6 gateway says, and with
// problems the problems.
func analysisText(a *Analysis, problems bool) string {
	var b strings.Builder
	for _, rc := range a.Routes {
		fmt.Fprintf(&b, "%s %s dev=%q class=%s peer=%q encap=%q\n", rc.Side, rc.Dst, rc.Dev, rc.Class, rc.Peer, rc.Encap)
		for _, h := range rc.Hops() {
			fmt.Fprintf(&b, "\tnexthop %s dev %s peer %q\n", h.Gateway, h.Dev, h.Peer)
		}
		fmt.Fprintf(&b, "\t%s\n", rc.Reason)
	}
	if g := a.Gateway6; g != nil {
		fmt.Fprintf(&b, "gateway6 %s default_route=%v host_owns=%v neigh=%s %s\n", g.Address, g.DefaultRoute, g.HostOwns, g.NeighMAC, g.NeighState)
		for _, c := range g.Confirmed {
			fmt.Fprintf(&b, "\t%s\n", c)
		}
	}
	for _, pr := range a.Problems {
		if problems {
			fmt.Fprintf(&b, "problem: %s\n", pr)
		}
	}
	return b.String()
}

// The classes and words of a node with multipath routes, and of a
// dual-stack node and pod, with their route view's tags.
func TestAnalysisGoldens(t *testing.T) {
	t.Run("multipath", func(t *testing.T) {
		p := multipathPair()
		a := Analyze(p)
		golden(t, "multipath-analysis.golden", analysisText(&a, false))
		golden(t, "multipath-tags.golden", tagged(Render(SideHost, ViewRoute, &p.Host, &a)))
	})
	t.Run("dual-stack", func(t *testing.T) {
		a := Analyze(variant(t, dualStack))
		golden(t, "dualstack-analysis.golden", analysisText(&a, true))
	})
}
