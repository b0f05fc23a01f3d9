package netview

import (
	"slices"
	"strings"
	"testing"
)

// route6 is an IPv6 main-table route as the kernel reports one.
func route6(dst, gw, dev string, proto, metric int) Route {
	r := Route{Family: 6, Table: TableMain, Type: "unicast", Dst: mp(dst), Dev: dev, Scope: "universe", Protocol: proto, Metric: metric}
	if gw != "" {
		r.Gw = ma(gw)
	}
	return r
}

// dualStack gives the lesson's pair the IPv6 side Calico gives a
// dual-stack cluster: the pod a /128 from node1's /122 block and an IPv6
// default route via the host end's link-local address, the node its
// /128 into the pod, its own block blackholed, the remote blocks and a
// borrowed /128 over BGP, and the kernel's IPv6 routes.
func dualStack(p *Pair) {
	f := &p.Facts
	f.ClusterCIDR6, f.BlockSize6 = mp("fd00:19::/48"), 122
	f.Blocks = append(f.Blocks,
		Block{CIDR: mp("fd00:19::2100/122"), Node: "control"},
		Block{CIDR: mp("fd00:19::2280/122"), Node: "node1"},
		Block{CIDR: mp("fd00:19::2140/122"), Node: "node2"})
	for i, ip := range []string{"fd00:198::1", "fd00:198::2", "fd00:198::3"} {
		f.Nodes[i].InternalIP6 = ma(ip)
	}
	for i := range f.Pods {
		if f.Pods[i].Name == f.Pod.Name {
			f.Pods[i].IP6 = ma("fd00:19::2284")
		}
	}
	f.Pod.IP6 = ma("fd00:19::2284")

	pod := &p.Pod
	pod.Addrs = append(pod.Addrs, forever(Addr{Index: 3, Dev: "eth0", Prefix: mp("fd00:19::2284/128"), Scope: "global"}))
	pod.Routes = append(pod.Routes,
		route6("fd00:19::2284/128", "", "eth0", ProtoKernel, 256),
		route6("fe80::/64", "", "eth0", ProtoKernel, 256),
		route6("::/0", "fe80::ecee:eeff:feee:eeee", "eth0", ProtoBoot, 1024))
	pod.Neighs = append(pod.Neighs, Neigh{Index: 3, Dev: "eth0", IP: ma("fe80::ecee:eeff:feee:eeee"), MAC: CalicoMAC,
		State: []string{"REACHABLE"}, Flags: []string{"router"}})

	host := &p.Host
	host.Addrs = append(host.Addrs,
		forever(Addr{Index: 2, Dev: "eth0", Prefix: mp("fd00:198::2/64"), Scope: "global"}),
		forever(Addr{Index: 9, Dev: "caliea2aa288365", Prefix: mp("fe80::ecee:eeff:feee:eeee/64"), Scope: "link"}))
	blackhole := route6("fd00:19::2280/122", "", "lo", ProtoBird, 1024)
	blackhole.Type = "blackhole"
	unreachable := route6("::ffff:0.0.0.0/96", "", "lo", ProtoBoot, 1024)
	unreachable.Type = "unreachable"
	host.Routes = append(host.Routes,
		unreachable,
		route6("fd00:198::/64", "", "eth0", ProtoKernel, 256),
		route6("fd00:19::2100/122", "fd00:198::1", "eth0", ProtoBird, 1024),
		route6("fd00:19::2140/122", "fe80::3", "eth0", ProtoBird, 1024),
		route6("fd00:19::22a0/128", "fd00:198::3", "eth0", ProtoBird, 1024),
		blackhole,
		route6("fd00:19::2284/128", "", "caliea2aa288365", ProtoBoot, 1024),
		route6("fe80::/64", "", "caliea2aa288365", ProtoKernel, 256),
		route6("::/0", "fe80::1", "eth0", 9, 1024))
}

// Every IPv6 route of a dual-stack node and pod gets the class its IPv4
// twin has, and the kernel's IPv4-mapped route stays IPv6.
func TestAnalyzeIPv6(t *testing.T) {
	p := variant(t, dualStack)
	a := Analyze(p)
	tests := []struct {
		side        Side
		dst         string
		class       Class
		peer        string
		reasonWords string
	}{
		{SidePod, "default", ClassPodDefault, "", "the link-local address of the host end of its veth"},
		{SideHost, "default", ClassDefault, "", "node1's default route (proto ra)"},
		{SidePod, "fd00:19::2284", ClassConnected, "", "eth0"},
		{SidePod, "fe80::/64", ClassConnected, "", "fe80::ecee:eeff:feee:eeee, the pod's IPv6 gateway"},
		{SideHost, "::ffff:0.0.0.0/96", ClassOther, "", "IPv4-mapped"},
		{SideHost, "fd00:198::/64", ClassConnected, "", "other nodes are in it"},
		{SideHost, "fd00:19::2100/122", ClassRemoteBlock, "control", "via control (fd00:198::1) on eth0"},
		{SideHost, "fd00:19::2140/122", ClassRemoteBlock, "node2", "link-local"},
		{SideHost, "fd00:19::22a0", ClassRemotePod, "node2", "node1's block fd00:19::2280/122, so node2 borrowed it"},
		{SideHost, "fd00:19::2280/122", ClassLocalBlockBlackhole, "", "/128s"},
		{SideHost, "fd00:19::2284", ClassLocalPod, "yaobank/customer-574bd6cc75-2blnv", "host end of the customer pod's veth"},
		{SideHost, "fe80::/64", ClassConnected, "", "link-local"},
	}
	got := map[string]RouteClass{}
	for _, rc := range a.Routes {
		if rc.Route.Family == 6 {
			got[string(rc.Side)+" "+rc.Dst] = rc
		}
	}
	for _, tt := range tests {
		t.Run(string(tt.side)+" "+tt.dst, func(t *testing.T) {
			rc, ok := got[string(tt.side)+" "+tt.dst]
			if !ok {
				t.Fatalf("no class for IPv6 %s %s", tt.side, tt.dst)
			}
			if rc.Class != tt.class || rc.Peer != tt.peer {
				t.Fatalf("class %s peer %q, want %s %q (%s)", rc.Class, rc.Peer, tt.class, tt.peer, rc.Reason)
			}
			if !strings.Contains(rc.Reason, tt.reasonWords) {
				t.Fatalf("reason %q does not say %q", rc.Reason, tt.reasonWords)
			}
		})
	}
	t.Run("gateway", func(t *testing.T) {
		g := a.Gateway6
		if g == nil {
			t.Fatal("no IPv6 gateway")
		}
		if g.Address != CalicoLinkLocal || !g.DefaultRoute || !g.HostOwns || g.NeighMAC != CalicoMAC || g.NeighState != "REACHABLE" {
			t.Fatalf("gateway6 = %+v", *g)
		}
		all := strings.Join(g.Confirmed, "\n")
		for _, want := range []string{"IPv6 default route goes via fe80::ecee:eeff:feee:eeee dev eth0", "own link-local address", "resolved fe80::ecee:eeff:feee:eeee to ee:ee:ee:ee:ee:ee"} {
			if !strings.Contains(all, want) {
				t.Errorf("confirmed %q does not say %q", g.Confirmed, want)
			}
		}
		if a.Gateway.Address != CalicoGateway || !a.Gateway.DefaultRoute {
			t.Errorf("the IPv4 gateway changed: %+v", a.Gateway)
		}
	})
	t.Run("no problems", func(t *testing.T) {
		if len(a.Problems) != 0 {
			t.Errorf("problems: %q", a.Problems)
		}
	})
	t.Run("every route classed", func(t *testing.T) {
		n := 0
		for _, s := range []*Snapshot{&p.Pod, &p.Host} {
			for i := range s.Routes {
				n += btoi(isMain(&s.Routes[i]))
			}
		}
		if len(a.Routes) != n {
			t.Errorf("%d routes classed of %d", len(a.Routes), n)
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// What goes wrong on a pod's IPv6 side is said, as on its IPv4 side.
func TestAnalyzeIPv6Problems(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(p *Pair)
		problem string
	}{
		{"no IPv6 default route", func(p *Pair) {
			p.Pod.Routes = p.Pod.Routes[:len(p.Pod.Routes)-1]
		}, "no IPv6 default route"},
		{"default route via another address", func(p *Pair) {
			p.Pod.Routes[len(p.Pod.Routes)-1].Gw = ma("fe80::99")
		}, "via fe80::99, which is not an address of the host end caliea2aa288365"},
		{"no route back into the pod", func(p *Pair) {
			p.Host.Routes = slicesDelete(p.Host.Routes, "fd00:19::2284/128")
		}, "no route fd00:19::2284 dev caliea2aa288365"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Analyze(variant(t, func(p *Pair) { dualStack(p); tt.edit(p) }))
			if !strings.Contains(strings.Join(a.Problems, "\n"), tt.problem) {
				t.Errorf("problems %q do not say %q", a.Problems, tt.problem)
			}
		})
	}
	t.Run("IPv4 only", func(t *testing.T) {
		if a := Analyze(variant(t, nil)); a.Gateway6 != nil {
			t.Errorf("an IPv4-only pod has an IPv6 gateway: %+v", *a.Gateway6)
		}
	})
}

func slicesDelete(rs []Route, dst string) []Route {
	out := rs[:0:0]
	for _, r := range rs {
		if r.Dst.String() != dst {
			out = append(out, r)
		}
	}
	return out
}

// A step's IPv4 route and address views are followed by their IPv6 ones
// on a dual-stack side, and only there.
func TestRefreshViewsDualStack(t *testing.T) {
	lesson := variant(t, nil)
	ds := variant(t, dualStack)
	var first *Refresh
	tests := []struct {
		name  string
		pair  *Pair
		side  Side
		views []View
		want  []View
	}{
		{"ipv4 pod", lesson, SidePod, []View{ViewAddr, ViewRoute}, []View{ViewAddr, ViewRoute}},
		{"ipv4 node", lesson, SideHost, []View{ViewRoute}, []View{ViewRoute}},
		{"dual-stack pod", ds, SidePod, []View{ViewAddr, ViewLink, ViewRoute, ViewNeigh},
			[]View{ViewAddr, ViewAddr6, ViewLink, ViewRoute, ViewRoute6, ViewNeigh}},
		{"dual-stack node", ds, SideHost, []View{ViewLink, ViewRoute}, []View{ViewLink, ViewRoute, ViewRoute6}},
		{"dual-stack, no ip views", ds, SidePod, []View{ViewLink, ViewNeigh}, []View{ViewLink, ViewNeigh}},
		{"dual-stack, none", ds, SidePod, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := first.Next(&Analyzer{}, tt.pair, false)
			if got := r.Views(tt.side, tt.views); !slices.Equal(got, tt.want) {
				t.Errorf("Views = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("no refresh", func(t *testing.T) {
		if got := first.Views(SidePod, []View{ViewRoute}); !slices.Equal(got, []View{ViewRoute}) {
			t.Errorf("Views = %v, want [route]", got)
		}
	})
}

// Only an address a namespace routes with makes it dual-stack: the
// link-local, loopback and IPv4-mapped ones every host may hold do not.
func TestSnapshotDualStack(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"10.65.0.2/32", false},
		{"fe80::1/64", false},
		{"::1/128", false},
		{"::ffff:10.0.0.1/128", false},
		{"fd00:19::2284/128", true},
		{"2001:db8::1/64", true},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			s := &Snapshot{Addrs: []Addr{{Index: 1, Dev: "eth0", Prefix: mp(tt.addr)}}}
			if got := s.DualStack(); got != tt.want {
				t.Errorf("DualStack = %v, want %v", got, tt.want)
			}
		})
	}
	if (*Snapshot)(nil).DualStack() {
		t.Error("a nil snapshot is dual-stack")
	}
}
