package content

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"podlab/kubeproxy"
	"podlab/netview"
)

// The second and third packs' checks, on labs built by hand as the
// sandbox's end states are: what they pass, and what each fault says.

var (
	a4 = netip.MustParseAddr
	p4 = netip.MustParsePrefix
)

var bgpNodes = []netview.NodeFact{
	{Name: "control", InternalIP: a4("198.19.0.1")},
	{Name: "node1", InternalIP: a4("198.19.0.2")},
	{Name: "node2", InternalIP: a4("198.19.0.3")},
}

func session(name, peer, state string) netview.BirdProtocol {
	info := state
	ps := "up"
	if state != netview.BirdEstablished {
		ps = "start"
	}
	return netview.BirdProtocol{Name: name, Proto: "BGP", State: ps, Since: "11:00:00", Info: info,
		BGP: &netview.BirdBGP{State: state, NeighborAddr: a4(peer)}}
}

func birdRoute(dst string, via ...string) netview.Route {
	r := netview.Route{Family: 4, Table: 254, Type: "unicast", Dst: p4(dst), Scope: "universe", Protocol: 12}
	if len(via) == 1 {
		r.Gw, r.Dev = a4(via[0]), "eth0"
		return r
	}
	for _, v := range via {
		r.NextHops = append(r.NextHops, netview.NextHop{Gw: a4(v), Dev: "eth0", Weight: 1})
	}
	return r
}

// bgpEndState is the lab at the end of the bgp-peering pack: host1
// peered, the external pool's /29s learned, the service range over
// every node, customer's cluster IP via node1 alone (Local).
func bgpEndState() *netview.Pair {
	facts := netview.Facts{Node: "node1", Nodes: bgpNodes,
		Pod: netview.PodFact{Namespace: "yaobank", Name: "customer-574bd6cc75-2blnv", IP: a4("198.19.22.132"), Node: "node1"},
		Blocks: []netview.Block{
			{CIDR: p4("198.19.21.0/26"), Node: "control"}, {CIDR: p4("198.19.22.128/26"), Node: "node1"},
			{CIDR: p4("198.19.21.64/26"), Node: "node2"}, {CIDR: p4("198.19.24.0/29"), Node: "control"},
			{CIDR: p4("198.19.24.8/29"), Node: "node1"}, {CIDR: p4("198.19.24.16/29"), Node: "node2"},
		}}
	local := true
	res := netview.Resources{
		Pools: []netview.IPPool{{Name: "default-ipv4-ippool", CIDR: p4("198.19.16.0/21"), BlockSize: 26},
			{Name: "external-pool", CIDR: p4("198.19.24.0/21"), BlockSize: 29}},
		Peers:      []netview.BGPPeer{{Name: "host1", PeerIP: a4("198.19.15.254"), ASNumber: 64512}},
		BGPConfigs: []netview.BGPConfiguration{{Name: "default", ASNumber: 64512, NodeToNodeMeshEnabled: &local, ServiceClusterIPs: []netip.Prefix{p4("198.19.32.0/20")}, ServiceExternalIPs: []netip.Prefix{p4("198.19.48.0/20")}}},
		Services: []netview.Service{{Namespace: "yaobank", Name: "customer", Type: "NodePort", ClusterIPs: []netip.Addr{a4("198.19.33.112")},
			ExternalIPs: []netip.Addr{a4("198.19.48.10")}, ExternalTrafficPolicy: "Local",
			Ports: []netview.ServicePort{{Name: "http", Protocol: "TCP", Port: 80, NodePort: 30180}}}},
		EndpointSlices: []netview.EndpointSlice{{Namespace: "yaobank", Name: "customer-x", Service: "customer",
			Endpoints: []netview.Endpoint{{Addresses: []netip.Addr{a4("198.19.22.132")}, Node: "node1", Ready: true}}}},
	}
	host1 := &netview.Snapshot{Routes: []netview.Route{
		{Family: 4, Table: 254, Type: "unicast", Dst: p4("198.19.0.0/20"), Dev: "eth0", Scope: "link", Protocol: 2},
		birdRoute("198.19.24.0/29", "198.19.0.1"), birdRoute("198.19.24.8/29", "198.19.0.2"), birdRoute("198.19.24.16/29", "198.19.0.3"),
		birdRoute("198.19.32.0/20", "198.19.0.1", "198.19.0.2", "198.19.0.3"),
		birdRoute("198.19.33.112/32", "198.19.0.2"),
		birdRoute("198.19.48.0/20", "198.19.0.1", "198.19.0.2", "198.19.0.3"),
	}}
	h1f := &netview.Host1Facts{Facts: facts, Resources: res, Imports: []string{"198.19.24.0/21+", "198.19.32.0/20+", "198.19.48.0/20"}}
	return &netview.Pair{Facts: facts, Extra: &netview.Extra{
		Host1: host1, Host1Facts: h1f, Resources: &res,
		Host1Bird: netview.BirdProtocols{session("control", "198.19.0.1", "Established"),
			session("node1", "198.19.0.2", "Established"), session("node2", "198.19.0.3", "Established")},
		Bird: netview.BirdProtocols{session("Mesh_198_19_0_1", "198.19.0.1", "Established"),
			session("Mesh_198_19_0_3", "198.19.0.3", "Established"), session("Global_198_19_15_254", "198.19.15.254", "Established")},
	}}
}

func builtinPack(t *testing.T, name string) *Pack {
	t.Helper()
	pk, err := Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return pk
}

// missingByStep runs the pack's checks: each failing step's findings.
func missingByStep(pk *Pack, p *netview.Pair) map[string]string {
	out := map[string]string{}
	for _, v := range pk.CheckLab(p) {
		if !v.OK {
			out[v.Step] = strings.Join(v.Missing, "; ")
		}
	}
	return out
}

func TestBGPPeeringChecks(t *testing.T) {
	pk := builtinPack(t, "bgp-peering")
	tests := []struct {
		name   string
		break_ func(p *netview.Pair)
		// want: step → words its findings hold; every other step passes.
		want map[string][]string
	}{
		{"end state", func(*netview.Pair) {}, nil},
		{"node2's BIRD stopped", func(p *netview.Pair) {
			// host1's session with node2 falls back, and node2's next
			// hops and block go from host1's table.
			e := p.Extra
			e.Host1Bird[2] = session("node2", "198.19.0.3", "Active")
			e.Host1Bird[2].Info = "Active        Socket: Connection refused"
			e.Host1.Routes[3] = birdRoute("198.19.24.24/29", "198.19.0.2") // node2's /29 gone, another in its place
			e.Host1.Routes[4] = birdRoute("198.19.32.0/20", "198.19.0.1", "198.19.0.2")
		}, map[string][]string{
			"2.2": {"host1's session node2 with node2 (198.19.0.3) is Active, not Established (Active        Socket: Connection refused)"},
			"3.2": {"host1 has no route to node2's block 198.19.24.16/29 of external-pool"},
			"3.1": {"host1 has no route to node2's block 198.19.24.16/29"},
			"4.1": {"host1's route to 198.19.32.0/20 has no next hop via node2 (198.19.0.3)"},
		}},
		{"no peer yet", func(p *netview.Pair) {
			p.Extra.Resources.Peers = nil
			p.Extra.Bird = p.Extra.Bird[:2]
		}, map[string][]string{"2.2": {"no BGPPeer for host1 (198.19.15.254)"}}},
		{"a default block leaks to host1", func(p *netview.Pair) {
			p.Extra.Host1.Routes = append(p.Extra.Host1.Routes, birdRoute("198.19.22.128/26", "198.19.0.2"))
		}, map[string][]string{
			"1.1": {"host1 learned 198.19.22.128/26 of the default pool: its import filter should refuse 198.19.16.0/21"},
			"2.3": {"host1 learned 198.19.22.128/26"}, "3.1": {"host1 learned"},
		}},
		{"Local via a node without an endpoint", func(p *netview.Pair) {
			p.Extra.Host1.Routes[5] = birdRoute("198.19.33.112/32", "198.19.0.2", "198.19.0.3")
		}, map[string][]string{"4.3": {"host1 sends customer's 198.19.33.112 to node2, which has no endpoint of it"}}},
		{"node's BIRD unreadable", func(p *netview.Pair) {
			p.Extra.Bird = nil
			p.Extra.Miss(netview.PartBird, fmt.Errorf("node1: no BIRD control socket at /var/run/calico/bird.ctl"))
		}, map[string][]string{"2.2": {"the node's BIRD could not be read: node1: no BIRD control socket"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := bgpEndState()
			tc.break_(p)
			got := missingByStep(pk, p)
			for step, words := range tc.want {
				for _, w := range words {
					if !strings.Contains(got[step], w) {
						t.Errorf("step %s: findings %q lack %q", step, got[step], w)
					}
				}
			}
			for step, m := range got {
				if _, ok := tc.want[step]; !ok {
					t.Errorf("step %s fails, want it to pass: %s", step, m)
				}
			}
		})
	}
}

// natSave writes kube-proxy's nat rules for the summary Service with
// endpoints at eps (iptables-save -c form), and customer's node port.
func natSave(eps ...string) string {
	summary := kubeproxy.ServicePort{Namespace: "yaobank", Name: "summary", Port: "http", Protocol: "TCP"}
	customer := kubeproxy.ServicePort{Namespace: "yaobank", Name: "customer", Port: "http", Protocol: "TCP"}
	var b strings.Builder
	b.WriteString("*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n")
	svc, cust := kubeproxy.SVCChain(summary), kubeproxy.SVCChain(customer)
	fmt.Fprintf(&b, ":%s - [0:0]\n:%s - [0:0]\n:%s - [0:0]\n", svc, cust, kubeproxy.EXTChain(customer))
	seps := make([]string, len(eps))
	for i, ep := range eps {
		seps[i] = kubeproxy.SEPChain(summary, ep+":80")
		fmt.Fprintf(&b, ":%s - [0:0]\n", seps[i])
	}
	fmt.Fprintf(&b, "[5:300] -A KUBE-SERVICES -d 198.19.34.135/32 -p tcp -m comment --comment \"yaobank/summary:http cluster IP\" -m tcp --dport 80 -j %s\n", svc)
	fmt.Fprintf(&b, "[0:0] -A KUBE-SERVICES -d 198.19.33.112/32 -p tcp -m comment --comment \"yaobank/customer:http cluster IP\" -m tcp --dport 80 -j %s\n", cust)
	fmt.Fprintf(&b, "[0:0] -A KUBE-NODEPORTS -p tcp -m comment --comment \"yaobank/customer:http\" -m tcp --dport 30180 -j %s\n", kubeproxy.EXTChain(customer))
	fmt.Fprintf(&b, "[0:0] -A %s -j %s\n", kubeproxy.EXTChain(customer), cust)
	for i, ep := range eps {
		prob := ""
		if n := len(eps) - i; n > 1 {
			prob = fmt.Sprintf(" -m statistic --mode random --probability %.11f", 1/float64(n))
		}
		fmt.Fprintf(&b, "[2:120] -A %s -m comment --comment \"yaobank/summary:http -> %s:80\"%s -j %s\n", svc, ep, prob, seps[i])
		fmt.Fprintf(&b, "[2:120] -A %s -p tcp -m comment --comment yaobank/summary:http -m tcp -j DNAT --to-destination %s:80\n", seps[i], ep)
	}
	fmt.Fprintf(&b, "[0:0] -A %s -m comment --comment \"yaobank/customer:http -> 198.19.22.132:80\" -j %s\n", cust, kubeproxy.SEPChain(customer, "198.19.22.132:80"))
	fmt.Fprintf(&b, ":%s - [0:0]\n", kubeproxy.SEPChain(customer, "198.19.22.132:80"))
	fmt.Fprintf(&b, "[0:0] -A %s -p tcp -m tcp -j DNAT --to-destination 198.19.22.132:80\n", kubeproxy.SEPChain(customer, "198.19.22.132:80"))
	b.WriteString("COMMIT\n")
	return b.String()
}

func kubeProxyLab(t *testing.T, save string, summaryEps ...string) *netview.Pair {
	t.Helper()
	tab, err := kubeproxy.ParseSave(strings.NewReader(save), kubeproxy.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	slice := netview.EndpointSlice{Namespace: "yaobank", Name: "summary-x", Service: "summary"}
	for _, ep := range summaryEps {
		slice.Endpoints = append(slice.Endpoints, netview.Endpoint{Addresses: []netip.Addr{a4(ep)}, Ready: true})
	}
	res := netview.Resources{
		Services: []netview.Service{
			{Namespace: "yaobank", Name: "customer", Type: "NodePort", ClusterIPs: []netip.Addr{a4("198.19.33.112")},
				Ports: []netview.ServicePort{{Name: "http", Protocol: "TCP", Port: 80, NodePort: 30180}}},
			{Namespace: "yaobank", Name: "summary", Type: "ClusterIP", ClusterIPs: []netip.Addr{a4("198.19.34.135")},
				Ports: []netview.ServicePort{{Name: "http", Protocol: "TCP", Port: 80}}},
		},
		EndpointSlices: []netview.EndpointSlice{slice, {Namespace: "yaobank", Name: "customer-x", Service: "customer",
			Endpoints: []netview.Endpoint{{Addresses: []netip.Addr{a4("198.19.22.132")}, Ready: true}}}},
	}
	return &netview.Pair{Facts: netview.Facts{Node: "node1"}, Extra: &netview.Extra{NAT: tab, Resources: &res}}
}

func TestKubeProxyChecks(t *testing.T) {
	pk := builtinPack(t, "kube-proxy")
	two := []string{"198.19.21.66", "198.19.22.130"}
	three := []string{"198.19.21.66", "198.19.22.130", "198.19.21.5"}
	tests := []struct {
		name string
		lab  *netview.Pair
		want map[string][]string
	}{
		{"two endpoints", kubeProxyLab(t, natSave(two...), two...), nil},
		{"three endpoints", kubeProxyLab(t, natSave(three...), three...), nil},
		{"the slice has three, the rules two", kubeProxyLab(t, natSave(two...), three...), map[string][]string{
			"1.2": {"yaobank/summary:http has 2 KUBE-SEP chains, not one per ready endpoint"},
			"2.4": {"not one per ready endpoint"},
			"2.3": {"not one per ready endpoint"},
			"4.2": {"not one per ready endpoint"},
		}},
		{"unequal shares", kubeProxyLab(t, strings.Replace(natSave(two...), "0.50000000000", "0.25000000000", 1), two...), map[string][]string{
			"2.3": {"yaobank/summary:http's endpoint rules do not give each of its 2 endpoints an equal share"},
			"4.1": {"equal share"}, "4.2": {"equal share"},
		}},
		{"no rules at all", kubeProxyLab(t, "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n", two...), map[string][]string{
			"2.1": {"no " + kubeproxy.SVCChain(kubeproxy.ServicePort{Namespace: "yaobank", Name: "summary", Port: "http", Protocol: "TCP"}) + " chain for yaobank/summary:http"},
			"2.2": {"kube-proxy has not written this Service's rules on node1"},
			"3.1": {"KUBE-NODEPORTS sends nothing to customer's chain for its node port"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := missingByStep(pk, tc.lab)
			for step, words := range tc.want {
				for _, w := range words {
					if !strings.Contains(got[step], w) {
						t.Errorf("step %s: findings %q lack %q", step, got[step], w)
					}
				}
			}
			for step, m := range got {
				if _, ok := tc.want[step]; !ok {
					t.Errorf("step %s fails, want it to pass: %s", step, m)
				}
			}
		})
	}
}
