package netview

import (
	"slices"
	"strings"
	"testing"
)

// multipathRoute is a route over several next hops.
func multipathRoute(dst string, proto int, hops ...NextHop) Route {
	return Route{Family: 4, Table: TableMain, Type: "unicast", Dst: mp(dst), Scope: "universe", Protocol: proto, NextHops: hops}
}

func hop(gw, dev string) NextHop { return NextHop{Gw: ma(gw), Dev: dev, DevIndex: 2, Weight: 1} }

// dropRoutes removes the host routes out of devices starting with
// prefix: a node whose pods are gone.
func dropRoutes(s *Snapshot, prefix string) {
	s.Routes = slices.DeleteFunc(s.Routes, func(r Route) bool { return strings.HasPrefix(r.Dev, prefix) })
}

// The routes real nodes have and the lesson's labs do not: each is
// classed for what it is, with the reason that says so.
func TestAnalyzeRealNodeRoutes(t *testing.T) {
	vxlan := Link{Index: 10, Name: "vxlan.calico", Kind: "vxlan", Flags: []string{"UP", "LOWER_UP"}, MTU: 1450, LinkNetNSID: -1}
	tests := []struct {
		name  string
		edit  func(p *Pair)
		dst   string
		class Class
		peer  string
		// reason holds every one of these; notReason none.
		reason, notReason []string
	}{
		{"mapped IPv4 route stays IPv6", func(p *Pair) {
			r := route6("::ffff:0.0.0.0/96", "", "lo", ProtoBoot, 1024)
			r.Type = "unreachable"
			p.Host.Routes = append(p.Host.Routes, r)
		}, "::ffff:0.0.0.0/96", ClassOther, "", []string{"IPv4-mapped", "not one of Calico's routes"}, []string{"default"}},
		{"ECMP remote block names every node", func(p *Pair) {
			replaceRoutes(&p.Host, map[string]Route{"198.19.21.0/26": multipathRoute("198.19.21.0/26", ProtoBird,
				hop("198.19.0.1", "eth0"), hop("198.19.0.3", "eth0"))})
		}, "198.19.21.0/26", ClassRemoteBlock, "control",
			[]string{"control's block", "learned over BGP", "2 next hops", "control (198.19.0.1)", "node2 (198.19.0.3)"}, []string{"not one of Calico's"}},
		{"ECMP remote block without block facts", func(p *Pair) {
			p.Facts.Blocks = nil
			replaceRoutes(&p.Host, map[string]Route{"198.19.21.0/26": multipathRoute("198.19.21.0/26", ProtoBird,
				hop("198.19.0.1", "eth0"), hop("198.19.0.3", "eth0"))})
		}, "198.19.21.0/26", ClassRemoteBlock, "control, node2", []string{"control (198.19.0.1)", "node2 (198.19.0.3)"}, nil},
		{"ECMP borrowed address", func(p *Pair) {
			p.Host.Routes = append(p.Host.Routes, multipathRoute("198.19.22.140/32", ProtoBird, hop("198.19.0.3", "eth0"), hop("198.19.0.1", "eth0")))
		}, "198.19.22.140", ClassRemotePod, "node2, control", []string{"a single pod IP", "borrowed"}, nil},
		{"ECMP default route", func(p *Pair) {
			p.Facts.Mode = "vxlan"
			p.Host.Routes[0] = multipathRoute("0.0.0.0/0", ProtoDHCP, hop("192.168.44.65", "eth0"), hop("192.168.44.66", "eth0"))
		}, "default", ClassDefault, "", []string{"2 next hops", "192.168.44.66"}, []string{"cross-subnet"}},
		{"VXLAN tunnel endpoint", func(p *Pair) {
			p.Facts.Mode = "vxlan"
			p.Host.Links = append(p.Host.Links, vxlan)
			p.Host.Routes = append(p.Host.Routes, hostRoute("198.19.21.65/32", "", "vxlan.calico", ProtoBoot))
			p.Host.Routes[len(p.Host.Routes)-1].Scope = "link"
		}, "198.19.21.65", ClassTunnelEndpoint, "node2", []string{"node2's VXLAN tunnel address"}, []string{"borrowed", "pod IP"}},
		{"recent Felix's VXLAN route", func(p *Pair) {
			p.Facts.Mode = "vxlan"
			p.Host.Links = append(p.Host.Links, vxlan)
			replaceRoutes(&p.Host, map[string]Route{"198.19.21.64/26": hostRoute("198.19.21.64/26", "198.19.21.65", "vxlan.calico", ProtoBoot, "onlink")})
		}, "198.19.21.64/26", ClassRemoteBlock, "node2", []string{"written by Felix", "encapsulated in VXLAN"}, []string{"proto boot"}},
		{"cross-subnet plain route", func(p *Pair) {
			p.Facts.Mode = "vxlan"
			p.Host.Links = append(p.Host.Links, vxlan)
			replaceRoutes(&p.Host, map[string]Route{"198.19.21.64/26": hostRoute("198.19.21.64/26", "198.19.0.3", "eth0", ProtoFelix)})
		}, "198.19.21.64/26", ClassRemoteBlock, "node2", []string{"written by Felix", "unencapsulated"}, []string{"VXLAN"}},
		{"own block on a node with no pods", func(p *Pair) {
			p.Facts.Blocks = nil
			dropRoutes(&p.Host, "cali")
		}, "198.19.22.128/26", ClassLocalBlockBlackhole, "",
			[]string{"most likely this node's own block", "blackholes only the blocks affine to the node", "affinities were not read"}, []string{"not this node's block"}},
		{"blackhole of another size on a node with no pods", func(p *Pair) {
			p.Facts.Blocks = nil
			dropRoutes(&p.Host, "cali")
			bh := hostRoute("198.19.22.128/28", "", "", ProtoBird)
			bh.Type = "blackhole"
			replaceRoutes(&p.Host, map[string]Route{"198.19.22.128/26": bh})
		}, "198.19.22.128/28", ClassOther, "", []string{"not this node's block"}, nil},
		{"blackhole larger than the pool's blocks", func(p *Pair) {
			p.Facts.Blocks = nil
			bh := hostRoute("198.19.22.0/24", "", "", ProtoBird)
			bh.Type = "blackhole"
			replaceRoutes(&p.Host, map[string]Route{"198.19.22.128/26": bh})
		}, "198.19.22.0/24", ClassOther, "", []string{"larger than a block (the pool's blocks are /26)", "not a node's block"}, []string{"announces the block"}},
		{"blackhole wider than a block", func(p *Pair) {
			p.Facts.Blocks = nil
			bh := hostRoute("198.19.16.0/20", "", "", ProtoBird)
			bh.Type = "blackhole"
			p.Host.Routes = append(p.Host.Routes, bh)
		}, "198.19.16.0/20", ClassOther, "", []string{"larger than a block", "/26"}, []string{"own block"}},
		{"route wider than a block", func(p *Pair) {
			p.Host.Routes = append(p.Host.Routes, hostRoute("198.19.16.0/20", "198.19.0.1", "eth0", ProtoBird))
		}, "198.19.16.0/20", ClassOther, "control", []string{"larger than a block (the pool's blocks are /26)", "not one node's"}, []string{"control's block"}},
		{"route wider than any block, block size unknown", func(p *Pair) {
			p.Facts.BlockSize = 0
			p.Host.Routes = append(p.Host.Routes, hostRoute("198.19.0.0/16", "198.19.0.1", "eth0", ProtoBird))
		}, "198.19.0.0/16", ClassOther, "control", []string{"no Calico block is larger than /20"}, nil},
		{"tap workloads", func(p *Pair) {
			p.Facts.InterfacePrefix = "tap"
			for i := range p.Host.Routes {
				p.Host.Routes[i].Dev = strings.Replace(p.Host.Routes[i].Dev, "cali", "tap", 1)
			}
		}, "198.19.22.131", ClassLocalPod, "yaobank/summary-6c9b8f7d5b-k2x8w", []string{"starts with tap, Felix's interface prefix here"}, nil},
		{"tap workloads, prefix not known", func(p *Pair) {
			for i := range p.Host.Routes {
				p.Host.Routes[i].Dev = strings.Replace(p.Host.Routes[i].Dev, "cali", "tap", 1)
			}
		}, "198.19.22.131", ClassOther, "", []string{"tapf0a98285df9", "start with cali (Felix's interface prefix"}, nil},
		{"fe80::/64 on bpfin.cali is the kernel's", func(p *Pair) {
			p.Host.Routes = append(p.Host.Routes, route6("fe80::/64", "", "bpfin.cali", ProtoKernel, 256))
		}, "fe80::/64", ClassConnected, "", []string{"link-local address", "bpfin.cali"}, []string{"eBPF"}},
		{"fe80::/64 on vxlan.calico is the kernel's", func(p *Pair) {
			p.Host.Links = append(p.Host.Links, vxlan)
			p.Host.Routes = append(p.Host.Routes, route6("fe80::/64", "", "vxlan.calico", ProtoKernel, 256))
		}, "fe80::/64", ClassConnected, "", []string{"link-local address", "vxlan.calico"}, []string{"VXLAN", "invalid IP"}},
		{"a local pod whose name is not known", func(p *Pair) {
			p.Facts.Pods = []PodFact{{IP: ma("198.19.22.131")}}
		}, "198.19.22.131", ClassLocalPod, "", []string{"a pod on"}, []string{"pod /"}},
		{"eBPF mode's service route", func(p *Pair) {
			p.Host.Routes = append(p.Host.Routes, hostRoute("10.96.0.10/32", "169.254.1.1", "bpfin.cali", ProtoBoot))
		}, "10.96.0.10", ClassOther, "", []string{"Felix's, in eBPF mode", "bpfin.cali"}, []string{"not one of Calico's"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := variant(t, tt.edit)
			a := Analyze(p)
			rc, ok := routeClasses(&a, SideHost)[tt.dst]
			if !ok {
				t.Fatalf("no class for %s in %+v", tt.dst, a.Routes)
			}
			if rc.Class != tt.class || rc.Peer != tt.peer {
				t.Errorf("class %s peer %q, want %s %q (%s)", rc.Class, rc.Peer, tt.class, tt.peer, rc.Reason)
			}
			for _, w := range tt.reason {
				if !strings.Contains(rc.Reason, w) {
					t.Errorf("reason %q does not say %q", rc.Reason, w)
				}
			}
			for _, w := range tt.notReason {
				if strings.Contains(rc.Reason, w) {
					t.Errorf("reason %q says %q", rc.Reason, w)
				}
			}
			var z Analyzer
			z.Analyze(p)
			if again := z.Analyze(p); !slices.EqualFunc(again.Routes, a.Routes, func(x, y RouteClass) bool {
				return x.Class == y.Class && x.Peer == y.Peer && x.Reason == y.Reason
			}) {
				t.Errorf("the Analyzer's second answer differs from Analyze's")
			}
		})
	}
}

// A multipath route's analysis names each next hop and the node it is.
func TestAnalyzeMultipathHops(t *testing.T) {
	a := Analyze(variant(t, func(p *Pair) {
		replaceRoutes(&p.Host, map[string]Route{"198.19.21.0/26": multipathRoute("198.19.21.0/26", ProtoBird,
			hop("198.19.0.1", "eth0"), hop("198.19.0.3", "eth0"))})
	}))
	rc := routeClasses(&a, SideHost)["198.19.21.0/26"]
	want := []HopWords{{Gateway: "198.19.0.1", Dev: "eth0", Peer: "control"}, {Gateway: "198.19.0.3", Dev: "eth0", Peer: "node2"}}
	if !slices.Equal(rc.Hops(), want) {
		t.Errorf("next hops %+v, want %+v", rc.Hops(), want)
	}
	if rc.Gateway != "" || rc.Dev != "" {
		t.Errorf("a multipath route has gateway %q dev %q", rc.Gateway, rc.Dev)
	}
}

// What a route to another node wraps its packets in is said in Encap,
// never by its protocol number.
func TestAnalyzeEncap(t *testing.T) {
	tests := []struct {
		name  string
		route Route
		encap string
	}{
		{"plain", hostRoute("198.19.21.64/26", "198.19.0.3", "eth0", ProtoBird), ""},
		{"vxlan proto 80", hostRoute("198.19.21.64/26", "198.19.21.65", "vxlan.calico", ProtoFelix, "onlink"), "vxlan"},
		{"vxlan no proto", hostRoute("198.19.21.64/26", "198.19.21.65", "vxlan.calico", ProtoBoot, "onlink"), "vxlan"},
		{"ipip", hostRoute("198.19.21.64/26", "198.19.0.3", "tunl0", ProtoBird, "onlink"), "ipip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Analyze(variant(t, func(p *Pair) { replaceRoutes(&p.Host, map[string]Route{"198.19.21.64/26": tt.route}) }))
			if rc := routeClasses(&a, SideHost)["198.19.21.64/26"]; rc.Class != ClassRemoteBlock || rc.Encap != tt.encap {
				t.Errorf("class %s encap %q, want remote-block %q (%s)", rc.Class, rc.Encap, tt.encap, rc.Reason)
			}
		})
	}
}

// A VXLAN tunnel endpoint is no borrowed pod: nothing to look up.
func TestMayHaveRemotePodsVTEP(t *testing.T) {
	p := variant(t, func(p *Pair) {
		r := hostRoute("198.19.21.65/32", "", "vxlan.calico", ProtoBoot)
		r.Scope = "link"
		p.Host.Routes = append(p.Host.Routes, r)
	})
	if MayHaveRemotePods(p) {
		t.Error("a tunnel endpoint route is taken for a remote pod")
	}
	p.Host.Routes = append(p.Host.Routes, multipathRoute("198.19.22.140/32", ProtoBird, hop("198.19.0.3", "eth0"), hop("198.19.0.1", "eth0")))
	if !MayHaveRemotePods(p) {
		t.Error("a multipath /32 is not taken for a remote pod")
	}
}
