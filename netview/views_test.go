package netview

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"podlab/internal/kpgen"
	"podlab/kubeproxy"
)

var (
	addr = netip.MustParseAddr
	pfx  = netip.MustParsePrefix
)

// viewsLab is the sandbox's lab, built by hand: control, node1 and node2;
// the default pool and an external one of /29 blocks; host1 peered with
// every node (node2's session down); the three yaobank Services, summary
// with two endpoints or three.
func viewsLab(t testing.TB, summaryEndpoints int) *Extra {
	t.Helper()
	yes := true
	nodes := []NodeFact{{Name: "control", InternalIP: addr("198.19.0.1")}, {Name: "node1", InternalIP: addr("198.19.0.2")},
		{Name: "node2", InternalIP: addr("198.19.0.3")}}
	blocks := []Block{{CIDR: pfx("198.19.19.0/26"), Node: "control"}, {CIDR: pfx("198.19.22.128/26"), Node: "node1"},
		{CIDR: pfx("198.19.21.64/26"), Node: "node2"}, {CIDR: pfx("198.19.24.0/29"), Node: "node1"}, {CIDR: pfx("198.19.24.8/29"), Node: "node2"}}
	summary := []Endpoint{
		{Addresses: []netip.Addr{addr("198.19.21.65")}, Node: "node2", Pod: "summary-85c56b76d7-q6gkv", Ready: true},
		{Addresses: []netip.Addr{addr("198.19.22.129")}, Node: "node1", Pod: "summary-85c56b76d7-n4x5z", Ready: true},
		{Addresses: []netip.Addr{addr("198.19.22.130")}, Node: "node1", Pod: "summary-85c56b76d7-2xw9d", Ready: true},
	}[:summaryEndpoints]
	r := Resources{
		Pools: []IPPool{
			{Name: "default-ipv4-ippool", CIDR: pfx("198.19.16.0/21"), BlockSize: 26, IPIPMode: "Never", VXLANMode: "Never", NATOutgoing: true, NodeSelector: "all()"},
			{Name: "external-pool", CIDR: pfx("198.19.24.0/21"), BlockSize: 29, NATOutgoing: true, NodeSelector: "!all()"},
		},
		Peers: []BGPPeer{{Name: "host1", PeerIP: addr("198.19.15.254"), ASNumber: 64512}},
		BGPConfigs: []BGPConfiguration{{Name: "default", ASNumber: 64512, NodeToNodeMeshEnabled: &yes,
			ServiceClusterIPs: []netip.Prefix{pfx("198.19.32.0/20")}, ServiceExternalIPs: []netip.Prefix{pfx("198.19.48.0/20")}}},
		Services: []Service{
			{Namespace: "yaobank", Name: "customer", Type: "NodePort", ClusterIPs: []netip.Addr{addr("198.19.33.112")}, ExternalTrafficPolicy: "Cluster",
				Ports: []ServicePort{{Name: "http", Protocol: "TCP", Port: 80, TargetPort: "80", NodePort: 30180}}},
			{Namespace: "yaobank", Name: "database", Type: "ClusterIP", ClusterIPs: []netip.Addr{addr("198.19.33.14")}, ExternalTrafficPolicy: "Cluster",
				Ports: []ServicePort{{Name: "http", Protocol: "TCP", Port: 2379, TargetPort: "2379"}}},
			{Namespace: "yaobank", Name: "summary", Type: "ClusterIP", ClusterIPs: []netip.Addr{addr("198.19.34.135")}, ExternalTrafficPolicy: "Cluster",
				Ports: []ServicePort{{Name: "http", Protocol: "TCP", Port: 80, TargetPort: "80"}}},
		},
		EndpointSlices: []EndpointSlice{
			{Namespace: "yaobank", Name: "customer-8rl4x", Service: "customer", AddressType: "IPv4",
				Endpoints: []Endpoint{{Addresses: []netip.Addr{addr("198.19.22.132")}, Node: "node1", Pod: "customer-574bd6cc75-2blnv", Ready: true}}},
			{Namespace: "yaobank", Name: "database-2jx6p", Service: "database", AddressType: "IPv4",
				Endpoints: []Endpoint{{Addresses: []netip.Addr{addr("198.19.21.68")}, Node: "node2", Pod: "database-6c5db58d95-pb5lv", Ready: true}}},
			{Namespace: "yaobank", Name: "summary-0p5rn", Service: "summary", AddressType: "IPv4", Endpoints: summary},
		},
	}
	bgp := func(name, state, since, info string, peer string, imp, exp int) BirdProtocol {
		p := BirdProtocol{Name: name, Proto: "BGP", Table: "---", State: state, Since: since, Info: info,
			Routes: BirdRoutes{Imported: imp, Exported: exp, Preferred: imp}}
		st, rest, _ := strings.Cut(info, " ")
		p.BGP = &BirdBGP{State: st, NeighborAddr: addr(peer), NeighborAS: 64512, LocalAS: 64512, LastError: rest}
		return p
	}
	device := BirdProtocol{Name: "device1", Proto: "Device", Table: "---", State: "up", Since: "10:48:44.357"}
	kernel := BirdProtocol{Name: "kernel1", Proto: "Kernel", Table: "master4", State: "up", Since: "10:48:44.357"}
	e := &Extra{
		Host1Facts: &Host1Facts{Facts: Facts{Node: "node1", Nodes: nodes, Blocks: blocks}, Resources: r,
			Imports: []string{"198.19.24.0/21+", "198.19.32.0/20+", "198.19.48.0/20"}},
		Host1Bird: BirdProtocols{device, kernel,
			bgp("control", "up", "10:49:02.113", "Established", "198.19.0.1", 2, 0),
			bgp("node1", "up", "10:49:02.114", "Established", "198.19.0.2", 3, 0),
			bgp("node2", "start", "10:49:02.114", "Active Socket: Connection refused", "198.19.0.3", 0, 0)},
		Bird: BirdProtocols{device, kernel,
			bgp("Mesh_198_19_0_1", "up", "10:47:10.500", "Established", "198.19.0.1", 1, 3),
			bgp("Mesh_198_19_0_3", "up", "10:47:10.501", "Established", "198.19.0.3", 2, 3),
			bgp("Global_198_19_15_254", "up", "10:49:02.114", "Established", "198.19.15.254", 0, 3)},
		Resources: &r,
	}
	e.NAT = natOf(t, &r, false)
	e.Sanitize()
	return e
}

// natOf is the nat table kube-proxy writes for the Services (kpgen's
// iptables-restore input, read as iptables-save's), every rule counted.
func natOf(t testing.TB, r *Resources, large bool) *kubeproxy.Table {
	t.Helper()
	var svcs []kpgen.Service
	if large {
		svcs = kpgen.Scale(5000, 20000)
	}
	for _, s := range r.Services {
		for _, p := range s.Ports {
			ks := kpgen.Service{Port: kubeproxy.ServicePort{Namespace: s.Namespace, Name: s.Name, Port: p.Name, Protocol: strings.ToLower(p.Protocol)},
				ClusterIP: s.ClusterIPs[0].String(), ServePort: int(p.Port), NodePort: int(p.NodePort)}
			fmt.Sscan(p.TargetPort, &ks.TargetPort)
			for _, ep := range endpointsOf(r, s.Namespace, s.Name) {
				ks.Endpoints = append(ks.Endpoints, ep.Addresses[0].String())
			}
			svcs = append(svcs, ks)
		}
	}
	var in bytes.Buffer
	if err := kpgen.WriteIPTables(&in, svcs); err != nil {
		t.Fatal(err)
	}
	tb, err := kubeproxy.ParseSave(&in, kubeproxy.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	for i := range tb.Chains {
		for j := range tb.Chains[i].Rules {
			tb.Chains[i].Rules[j].Counted = true
		}
	}
	return tb
}

// explained shows a view's text, its tags, and what each line says.
func explained(lines []Line) string {
	var b strings.Builder
	b.WriteString(Plain(lines))
	b.WriteString("== tags\n")
	b.WriteString(tagged(lines))
	b.WriteString("== why\n")
	for _, l := range lines {
		if l.Label != "" || l.Why != "" {
			fmt.Fprintf(&b, "%s\n  %s: %s\n", l.Key, l.Label, l.Why)
		}
	}
	return b.String()
}

func TestRenderExtraGolden(t *testing.T) {
	for _, tt := range []struct {
		name      string
		place     Place
		view      View
		endpoints int
	}{
		{"bird-host", PlaceHost, ViewBird, 2},
		{"bird-host1", PlaceHost1, ViewBird, 2},
		{"pools-host", PlaceHost, ViewPools, 2},
		{"pools-host1", PlaceHost1, ViewPools, 2},
		{"peers", PlaceCluster, ViewPeers, 2},
		{"bgp", PlaceCluster, ViewBGP, 2},
		{"services", PlaceCluster, ViewServices, 2},
		{"endpoints", PlaceCluster, ViewEndpoints, 3},
		{"nat-2", PlaceHost, ViewNAT, 2},
		{"nat-3", PlaceHost, ViewNAT, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lines := RenderExtra(tt.place, tt.view, viewsLab(t, tt.endpoints), nil)
			if len(lines) == 0 {
				t.Fatal("no lines")
			}
			golden(t, "extra-"+tt.name+".golden", explained(lines))
		})
	}
}

// Every line of every view has a key of its own, so that a cursor can
// hold one; and the keys of the rules a refresh keeps stay the same when
// an endpoint is added.
func TestRenderExtraKeys(t *testing.T) {
	for _, p := range []Place{PlacePod, PlaceHost, PlaceHost1, PlaceCluster} {
		for _, v := range ExtraViews() {
			t.Run(string(p)+"-"+string(v), func(t *testing.T) {
				seen := map[string]bool{}
				for _, l := range RenderExtra(p, v, viewsLab(t, 3), nil) {
					if l.Key == "" || seen[l.Key] {
						t.Errorf("key %q empty or twice: %q", l.Key, l.String())
					}
					seen[l.Key] = true
				}
			})
		}
	}
	two := keyed(RenderExtra(PlaceHost, ViewNAT, viewsLab(t, 2), nil))
	three := keyed(RenderExtra(PlaceHost, ViewNAT, viewsLab(t, 3), nil))
	for _, k := range []string{"nat:KUBE-SERVICES:" + kubeproxy.SVCChain(summaryPort) + ":cluster IP", "nat:chain:" + kubeproxy.SVCChain(summaryPort),
		"nat:" + kubeproxy.SVCChain(summaryPort) + ":KUBE-MARK-MASQ", "nat:" + kubeproxy.SEPChain(summaryPort, "198.19.22.129:80") + ":DNAT"} {
		if two[k] == nil || three[k] == nil {
			t.Errorf("key %s: in 2 endpoints' view %v, in 3's %v", k, two[k] != nil, three[k] != nil)
		}
	}
}

var summaryPort = kubeproxy.ServicePort{Namespace: "yaobank", Name: "summary", Port: "http", Protocol: "TCP"}

func keyed(lines []Line) map[string]*Line {
	m := map[string]*Line{}
	for i := range lines {
		m[lines[i].Key] = &lines[i]
	}
	return m
}

// The lesson's probabilities: 0.5 then the rest for two endpoints,
// 0.333…, 0.5, the rest for three, each endpoint's line saying its share.
func TestRenderNATProbabilities(t *testing.T) {
	for _, tt := range []struct {
		endpoints int
		probs     []string
		share     string
	}{
		{2, []string{"probability 0.5000000000"}, "1/2 of new connections end here"},
		{3, []string{"probability 0.3333333333", "probability 0.5000000000"}, "1/3 of new connections end here"},
	} {
		t.Run(fmt.Sprint(tt.endpoints), func(t *testing.T) {
			var probs []string
			hops := 0
			for _, l := range RenderExtra(PlaceHost, ViewNAT, viewsLab(t, tt.endpoints), nil) {
				if !strings.HasPrefix(l.Key, "nat:"+kubeproxy.SVCChain(summaryPort)+":"+kubeproxy.PrefixSEP) {
					continue
				}
				hops++
				for _, s := range l.Spans {
					if s.Tag == TagProbability {
						probs = append(probs, strings.TrimPrefix(s.Text, "statistic mode random "))
					}
				}
				if !strings.Contains(l.Why, tt.share) || !l.HasTag(TagKubeSEP) {
					t.Errorf("%s: why %q, tags %v", l.Key, l.Why, tagged([]Line{l}))
				}
			}
			if hops != tt.endpoints || fmt.Sprint(probs) != fmt.Sprint(tt.probs) {
				t.Errorf("%d hops, probabilities %q; want %d, %q", hops, probs, tt.endpoints, tt.probs)
			}
		})
	}
}

// The view lays rules out as iptables -L -v -n prints them: the file
// holds iptables 1.8.9's own output for testdata/nat-counters.save, and
// each chain the view shows must read as there, header and counters
// (K and M included) alike.
func TestRenderNATAsIPTablesList(t *testing.T) {
	tb := readSaveFile(t, "testdata/nat-counters.save")
	want := readFile(t, "testdata/nat-counters.iptables-L")
	real := map[string][]string{} // chain → its lines
	var chain string
	for _, l := range strings.Split(want, "\n") {
		if name, ok := strings.CutPrefix(l, "Chain "); ok {
			chain, _, _ = strings.Cut(name, " ")
		}
		if l != "" {
			real[chain] = append(real[chain], l)
		}
	}
	lines := RenderExtra(PlaceHost, ViewNAT, &Extra{NAT: tb}, nil)
	chains := 0
	for i, l := range lines {
		name, ok := strings.CutPrefix(l.Key, "nat:chain:")
		if !ok {
			continue
		}
		chains++
		got := []string{l.String()}
		for _, r := range lines[i+1:] {
			if r.String() == "" || strings.HasPrefix(r.Key, "nat:chain:") || strings.HasPrefix(r.Key, "nat:svc:") {
				break
			}
			got = append(got, r.String())
		}
		exp := real[name]
		if name == kubeproxy.ChainServices {
			// The view leaves out KUBE-SERVICES' rules of no service port.
			exp = slicesFilter(exp, func(s string) bool { return !strings.Contains(s, "KUBE-NODEPORTS  ") })
		}
		if strings.Join(got, "\n") != strings.Join(exp, "\n") {
			t.Errorf("chain %s:\n--- iptables -L\n%s\n--- view\n%s", name, strings.Join(exp, "\n"), strings.Join(got, "\n"))
		}
	}
	if chains != len(real) {
		t.Errorf("the view shows %d chains, iptables -L %d", chains, len(real))
	}
}

func slicesFilter(ss []string, keep func(string) bool) []string {
	var out []string
	for _, s := range ss {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}
