package ui

import (
	"net/netip"
	"time"

	"podlab/netview"
)

// lessonPair is the lesson's example, by hand, until netview/testdata/lesson.json lands.
func lessonPair() *netview.Pair {
	pfx := netip.MustParsePrefix
	ip := netip.MustParseAddr
	at := time.Date(2025, 1, 2, 10, 0, 0, 0, time.UTC)
	up := []string{"BROADCAST", "MULTICAST", "UP", "LOWER_UP"}
	pod := netview.Snapshot{NS: netview.Namespace{Name: "pod", NSIDs: map[int]string{0: "host"}}, TakenAt: at,
		Links: []netview.Link{
			{Index: 1, Name: "lo", Flags: []string{"LOOPBACK", "UP", "LOWER_UP"}, MTU: 65536, LinkType: "loopback", MAC: "00:00:00:00:00:00", LinkNetNSID: -1},
			{Index: 3, Name: "eth0", Kind: "veth", Flags: up, MTU: 1410, LinkType: "ether", MAC: "3a:0c:14:d0:92:89", ParentIndex: 9, LinkNetNSID: 0},
		},
		Addrs: []netview.Addr{
			{Index: 1, Dev: "lo", Prefix: pfx("127.0.0.1/8"), Scope: "host"},
			{Index: 3, Dev: "eth0", Prefix: pfx("198.19.22.132/32"), Scope: "global"},
		},
		Routes: []netview.Route{
			{Family: 4, Table: 254, Type: "unicast", Dst: pfx("0.0.0.0/0"), Gw: ip("169.254.1.1"), Dev: "eth0", DevIndex: 3, Scope: "universe", Protocol: 3},
			{Family: 4, Table: 254, Type: "unicast", Dst: pfx("169.254.1.1/32"), Dev: "eth0", DevIndex: 3, Scope: "link", Protocol: 3},
		},
		Neighs: []netview.Neigh{{Index: 3, Dev: "eth0", IP: ip("169.254.1.1"), MAC: "ee:ee:ee:ee:ee:ee", State: []string{"REACHABLE"}}},
	}
	host := netview.Snapshot{NS: netview.Namespace{Name: "host", NSIDs: map[int]string{3: "cni-f7159375-bf04-e8d8-85b8-0da49bfd53d0"}}, TakenAt: at,
		Links: []netview.Link{
			{Index: 1, Name: "lo", Flags: []string{"LOOPBACK", "UP", "LOWER_UP"}, MTU: 65536, LinkType: "loopback", LinkNetNSID: -1},
			{Index: 2, Name: "eth0", Flags: up, MTU: 1500, LinkType: "ether", MAC: "00:15:5d:60:a5:a3", LinkNetNSID: -1},
		},
		Routes: []netview.Route{
			{Family: 4, Table: 254, Type: "unicast", Dst: pfx("0.0.0.0/0"), Gw: ip("192.168.44.65"), Dev: "eth0", Protocol: 16, Src: ip("192.168.44.75"), Metric: 100},
			{Family: 4, Table: 254, Type: "unicast", Dst: pfx("192.168.44.64/28"), Dev: "eth0", Protocol: 2, Scope: "link", Src: ip("192.168.44.75")},
			{Family: 4, Table: 254, Type: "unicast", Dst: pfx("198.19.0.0/20"), Dev: "eth0", Protocol: 2, Scope: "link", Src: ip("198.19.0.2")},
			{Family: 4, Table: 254, Type: "unicast", Dst: pfx("198.19.21.0/26"), Gw: ip("198.19.0.1"), Dev: "eth0", Protocol: 12},
			{Family: 4, Table: 254, Type: "unicast", Dst: pfx("198.19.21.64/26"), Gw: ip("198.19.0.3"), Dev: "eth0", Protocol: 12},
			{Family: 4, Table: 254, Type: "blackhole", Dst: pfx("198.19.22.128/26"), Protocol: 12},
		},
		Sysctls: map[string]int{netview.SysctlIPForward: 1},
	}
	for i, name := range []string{"cali1eaab2bfc77", "cali9c9ee09e807", "calid35188eb0ba", "calif0a98285df9", "caliea2aa288365"} {
		idx := 5 + i
		host.Links = append(host.Links, netview.Link{Index: idx, Name: name, Kind: "veth", Flags: up, MTU: 1410, LinkType: "ether",
			MAC: "ee:ee:ee:ee:ee:ee", ParentIndex: 3, LinkNetNSID: i,
			Sysctls: map[string]int{netview.SysctlProxyARP: 1}})
		host.Routes = append(host.Routes, netview.Route{Family: 4, Table: 254, Type: "unicast",
			Dst: netip.PrefixFrom(ip("198.19.22.128").Next(), 32), Dev: name, DevIndex: idx, Scope: "link", Protocol: 3})
	}
	// Fix the /32s: .128 .. .132 in order.
	a := ip("198.19.22.128")
	for i := range host.Routes {
		if host.Routes[i].Dev != "" && host.Routes[i].DevIndex >= 5 {
			host.Routes[i].Dst = netip.PrefixFrom(a, 32)
			a = a.Next()
		}
	}
	host.NS.NSIDs[4] = "cni-f7159375-bf04-e8d8-85b8-0da49bfd53d0"
	host.Links[len(host.Links)-1].LinkNetNSID = 4
	return &netview.Pair{Pod: pod, Host: host, Facts: netview.Facts{
		Pod:  netview.PodFact{Namespace: "yaobank", Name: "customer-574bd6cc75-2blnv", IP: ip("198.19.22.132"), Node: "node1"},
		Node: "node1", Mode: "bgp", InterfacePrefix: "cali",
		Nodes:  []netview.NodeFact{{Name: "control", InternalIP: ip("198.19.0.1")}, {Name: "node1", InternalIP: ip("198.19.0.2")}, {Name: "node2", InternalIP: ip("198.19.0.3")}},
		Blocks: []netview.Block{{CIDR: pfx("198.19.21.0/26"), Node: "control"}, {CIDR: pfx("198.19.22.128/26"), Node: "node1"}, {CIDR: pfx("198.19.21.64/26"), Node: "node2"}},
	}}
}
