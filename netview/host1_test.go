package netview

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// host1Facts are the course's: three nodes, the default pool's /26s and
// the external pool's /29s, the service range advertised, and host1's
// import filter.
func host1Facts() *Host1Facts {
	f := &Host1Facts{
		Facts: Facts{
			Nodes: []NodeFact{
				{Name: "control", InternalIP: ma("198.19.0.1")},
				{Name: "node1", InternalIP: ma("198.19.0.2")},
				{Name: "node2", InternalIP: ma("198.19.0.3")},
			},
			Blocks: []Block{
				{CIDR: mp("198.19.21.0/26"), Node: "control"},
				{CIDR: mp("198.19.22.128/26"), Node: "node1"},
				{CIDR: mp("198.19.21.64/26"), Node: "node2"},
				{CIDR: mp("198.19.24.0/29"), Node: "control"},
				{CIDR: mp("198.19.24.8/29"), Node: "node1"},
				{CIDR: mp("198.19.24.16/29"), Node: "node2"},
			},
		},
		Resources: Resources{
			Pools: []IPPool{
				{Name: "default-ipv4-ippool", CIDR: mp("198.19.16.0/21"), BlockSize: 26},
				{Name: "external-pool", CIDR: mp("198.19.24.0/21"), BlockSize: 29},
			},
			BGPConfigs: []BGPConfiguration{{Name: "default", ServiceClusterIPs: []netip.Prefix{mp("198.19.32.0/20")}}},
		},
		Imports: []string{"198.19.24.0/21+", "198.19.32.0/20+", "198.19.48.0/20"},
	}
	return f
}

func host1Via(dst, gw string) Route {
	return Route{Family: 4, Table: TableMain, Type: "unicast", Dst: mp(dst), Gw: ma(gw), Dev: "eth0", DevIndex: 2, Scope: "universe", Protocol: ProtoBird}
}

func host1ECMP(dst string, gws ...string) Route {
	r := Route{Family: 4, Table: TableMain, Type: "unicast", Dst: mp(dst), Scope: "universe", Protocol: ProtoBird}
	for _, g := range gws {
		r.NextHops = append(r.NextHops, NextHop{Gw: ma(g), Dev: "eth0", DevIndex: 2, Weight: 1})
	}
	return r
}

// host1Table is host1's table as the sandbox makes it; drop leaves out
// the routes to those destinations, and the service range's next hops
// are hops.
func host1Table(hops []string, drop ...string) *Snapshot {
	rs := []Route{
		{Family: 4, Table: TableMain, Type: "unicast", Dst: mp("198.19.0.0/20"), Dev: "eth0", DevIndex: 2, Scope: "link", Protocol: ProtoKernel, Src: ma("198.19.15.254")},
		host1Via("198.19.24.0/29", "198.19.0.1"),
		host1Via("198.19.24.8/29", "198.19.0.2"),
		host1Via("198.19.24.16/29", "198.19.0.3"),
		host1ECMP("198.19.32.0/20", hops...),
	}
	rs = slices.DeleteFunc(rs, func(r Route) bool { return slices.Contains(drop, r.Dst.String()) })
	return &Snapshot{
		NS: Namespace{Name: "host1"},
		Links: []Link{
			{Index: 1, Name: "lo", Flags: []string{"LOOPBACK", "UP", "LOWER_UP"}, MTU: 65536, LinkNetNSID: -1},
			{Index: 2, Name: "eth0", Kind: "veth", Flags: []string{"BROADCAST", "MULTICAST", "UP", "LOWER_UP"}, MTU: 1500, ParentIndex: 6, LinkNetNSID: 0},
		},
		Routes: rs,
	}
}

func host1Routes(h Host1Analysis) map[string]Host1Route {
	m := map[string]Host1Route{}
	for _, r := range h.Routes {
		m[r.Dst] = r
	}
	return m
}

func TestAnalyzeHost1(t *testing.T) {
	all := []string{"198.19.0.1", "198.19.0.2", "198.19.0.3"}
	type want struct {
		dst   string
		class Class
		kind  Host1Kind
		peer  string
		in    string // in the reason
	}
	tests := []struct {
		name     string
		snap     *Snapshot
		facts    func(*Host1Facts)
		routes   []want
		absent   []string
		problems []string
	}{
		{
			name: "the lesson's end state",
			snap: host1Table(all),
			routes: []want{
				{"198.19.0.0/20", ClassConnected, Host1Fabric, "", "the nodes are in it (control, node1, node2)"},
				{"198.19.24.8/29", ClassRemoteBlock, Host1PoolBlock, "node1", "node1's block of pool external-pool (198.19.24.0/21, /29 blocks), learned over BGP (proto bird), via node1 (198.19.0.2) on eth0"},
				{"198.19.24.16/29", ClassRemoteBlock, Host1PoolBlock, "node2", "node2's block of pool external-pool"},
				{"198.19.32.0/20", ClassServiceRange, Host1ClusterIPs, "control, node1, node2", "the service cluster IP range, which the nodes advertise (BGPConfiguration serviceClusterIPs), learned over BGP (proto bird), ECMP over control, node1, node2"},
			},
			absent: []string{"the blocks of pool default-ipv4-ippool (198.19.16.0/21, /26 blocks) are absent (control's 198.19.21.0/26, node1's 198.19.22.128/26, node2's 198.19.21.64/26): the nodes announce every block they own, but host1's BIRD imports only the ranges its filter lists (198.19.24.0/21+, 198.19.32.0/20+, 198.19.48.0/20)"},
		},
		{
			name: "node2's BIRD stopped",
			snap: host1Table(all[:2], "198.19.24.16/29"),
			routes: []want{
				{"198.19.32.0/20", ClassServiceRange, Host1ClusterIPs, "control, node1", "ECMP over control, node1: "},
				{"198.19.32.0/20", ClassServiceRange, Host1ClusterIPs, "control, node1", "no next hop via node2 (198.19.0.3)"},
			},
			absent: []string{"the blocks of pool default-ipv4-ippool"},
			problems: []string{
				"the service cluster IP range 198.19.32.0/20 has no next hop via node2 (198.19.0.3)",
				"host1 has no route to node2's block 198.19.24.16/29 of pool external-pool (198.19.24.0/21, /29 blocks), which its import filter admits",
			},
		},
		{
			name: "one node left",
			snap: host1Table(all[1:2], "198.19.24.0/29", "198.19.24.16/29"),
			routes: []want{
				{"198.19.32.0/20", ClassServiceRange, Host1ClusterIPs, "node1", "via node1 (198.19.0.2) on eth0: one node only"},
			},
			problems: []string{"has no next hop via control (198.19.0.1), node2 (198.19.0.3)", "control's block 198.19.24.0/29"},
		},
		{
			name: "a block via another node",
			snap: func() *Snapshot {
				s := host1Table(all)
				s.Routes[2].Gw = ma("198.19.0.3")
				return s
			}(),
			routes: []want{
				{"198.19.24.8/29", ClassRemoteBlock, Host1PoolBlock, "node2", "but the block is node1's"},
			},
			problems: []string{"host1 reaches node1's block 198.19.24.8/29 via node2 (198.19.0.3) on eth0, not via node1"},
		},
		{
			name: "a filter that lets the default pool in",
			snap: host1Table(all),
			facts: func(f *Host1Facts) {
				f.Imports = append(f.Imports, "198.19.16.0/21+")
			},
			problems: []string{"host1 has no route to node1's block 198.19.22.128/26 of pool default-ipv4-ippool"},
		},
		{
			name: "a learned range of no pool nor service",
			snap: func() *Snapshot {
				s := host1Table(all)
				s.Routes = append(s.Routes, host1Via("203.0.113.0/24", "198.19.0.2"))
				return s
			}(),
			routes: []want{{"203.0.113.0/24", ClassOther, Host1Other, "node1", "neither a pool's block nor an advertised service range"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := host1Facts()
			if tt.facts != nil {
				tt.facts(f)
			}
			h := AnalyzeHost1(tt.snap, f)
			got := host1Routes(h)
			for _, w := range tt.routes {
				r, ok := got[w.dst]
				if !ok {
					t.Errorf("no analysis of %s", w.dst)
					continue
				}
				if r.Class != w.class || r.Kind != w.kind || r.Peer != w.peer || !strings.Contains(r.Reason, w.in) {
					t.Errorf("%s: %s %s (%s): %s\nwant %s %s (%s) with %q", w.dst, r.Class, r.Kind, r.Peer, r.Reason, w.class, w.kind, w.peer, w.in)
				}
			}
			for _, w := range tt.absent {
				if !slices.ContainsFunc(h.Absent, func(s string) bool { return strings.Contains(s, w) }) {
					t.Errorf("absent %q, want one with %q", h.Absent, w)
				}
			}
			for _, w := range tt.problems {
				if !slices.ContainsFunc(h.Problems, func(s string) bool { return strings.Contains(s, w) }) {
					t.Errorf("problems %q, want one with %q", h.Problems, w)
				}
			}
			if len(tt.problems) == 0 && len(h.Problems) > 0 {
				t.Errorf("problems %q, want none", h.Problems)
			}
		})
	}
}

// host1's lines are tagged with their classes, and read as ip prints
// them, next hops on lines of their own.
func TestRenderHost1(t *testing.T) {
	s := host1Table([]string{"198.19.0.1", "198.19.0.2", "198.19.0.3"})
	h := AnalyzeHost1(s, host1Facts())
	lines := Render(SideHost, ViewRoute, s, h.Analysis())
	want := "198.19.0.0/20 dev eth0 proto kernel scope link src 198.19.15.254 \n" +
		"198.19.24.0/29 via 198.19.0.1 dev eth0 proto bird \n" +
		"198.19.24.8/29 via 198.19.0.2 dev eth0 proto bird \n" +
		"198.19.24.16/29 via 198.19.0.3 dev eth0 proto bird \n" +
		"198.19.32.0/20 proto bird \n" +
		"\tnexthop via 198.19.0.1 dev eth0 weight 1 \n" +
		"\tnexthop via 198.19.0.2 dev eth0 weight 1 \n" +
		"\tnexthop via 198.19.0.3 dev eth0 weight 1 \n"
	if got := Plain(lines); got != want {
		t.Fatalf("renders:\n%s\nwant:\n%s", got, want)
	}
	for i, l := range lines {
		tag := RouteTag(ClassRemoteBlock)
		switch {
		case i == 0:
			tag = RouteTag(ClassConnected)
		case i >= 4:
			tag = RouteTag(ClassServiceRange)
		}
		if !l.HasTag(tag) {
			t.Errorf("line %q lacks tag %s", l.String(), tag)
		}
	}
}

// Host1Facts are cleaned where they enter: a hostile pool name or
// import pattern reaches no terminal raw.
func TestHost1FactsSanitize(t *testing.T) {
	f := host1Facts()
	f.Resources.Pools[1].Name = "external\x1b[2Jpool"
	f.Imports[0] = "198.19.24.0/21+\x1b]0;x\a"
	f.Facts.Nodes[1].Name = "node1\x1b[31m"
	f.Sanitize()
	for _, s := range []string{f.Resources.Pools[1].Name, f.Imports[0], f.Facts.Nodes[1].Name} {
		if strings.ContainsAny(s, "\x1b\a") {
			t.Errorf("%q keeps a control character", s)
		}
	}
}

// A Service with externalTrafficPolicy Local is announced as a /32 by the
// nodes with its endpoints only: that is what host1 should have, not a
// service range missing next hops.
func TestAnalyzeHost1Local(t *testing.T) {
	for _, tc := range []struct {
		name    string
		via     []string
		problem string
	}{
		{"via the endpoint's node", []string{"198.19.0.2"}, ""},
		{"via a node without an endpoint too", []string{"198.19.0.2", "198.19.0.3"}, "host1 routes yaobank/customer's 198.19.33.112 via node2, which has no endpoint of it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := host1Facts()
			f.Resources.Services = []Service{{Namespace: "yaobank", Name: "customer", ClusterIPs: []netip.Addr{netip.MustParseAddr("198.19.33.112")}, ExternalTrafficPolicy: "Local"}}
			f.Resources.EndpointSlices = []EndpointSlice{{Namespace: "yaobank", Service: "customer",
				Endpoints: []Endpoint{{Addresses: []netip.Addr{netip.MustParseAddr("198.19.22.132")}, Node: "node1", Ready: true}}}}
			s := host1Table([]string{"198.19.0.1", "198.19.0.2", "198.19.0.3"})
			r := host1Via("198.19.33.112/32", tc.via[0])
			if len(tc.via) > 1 {
				r = host1ECMP("198.19.33.112/32", tc.via...)
			}
			s.Routes = append(s.Routes, r)
			h := AnalyzeHost1(s, f)
			got := host1Routes(h)["198.19.33.112"]
			if got.Class != ClassServiceRange || !strings.Contains(got.Reason, "Service yaobank/customer's address 198.19.33.112, externalTrafficPolicy Local: only the nodes with one of its endpoints (node1) announce it") {
				t.Errorf("the /32: %s %q", got.Class, got.Reason)
			}
			var problems []string
			for _, p := range h.Problems {
				if strings.Contains(p, "198.19.33.112") {
					problems = append(problems, p)
				}
			}
			if tc.problem == "" && len(problems) > 0 || tc.problem != "" && (len(problems) != 1 || problems[0] != tc.problem) {
				t.Errorf("problems %q, want %q", problems, tc.problem)
			}
		})
	}
}
