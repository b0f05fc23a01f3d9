package netview

import (
	"net/netip"
	"strings"
	"testing"
)

// variant is the lesson pair changed by edit.
func variant(t *testing.T, edit func(p *Pair)) *Pair {
	t.Helper()
	rec := loadLesson(t)
	if edit != nil {
		edit(&rec.Pair)
	}
	return &rec.Pair
}

func routeClasses(a *Analysis, side Side) map[string]RouteClass {
	out := map[string]RouteClass{}
	for _, r := range a.Routes {
		if r.Side == side {
			out[r.Dst] = r
		}
	}
	return out
}

func TestAnalyzeLesson(t *testing.T) {
	p := variant(t, nil)
	a := Analyze(p)

	t.Run("veth", func(t *testing.T) {
		v := a.Veth
		if !v.Agree || v.PodIf != "eth0" || v.PodIndex != 3 || v.PodPeerIndex != 9 || v.PodNetNSID != 0 ||
			v.HostIf != "caliea2aa288365" || v.HostIndex != 9 || v.HostPeerIndex != 3 || v.HostNetNSID != 4 ||
			v.HostLinkNetns != lessonPodNS {
			t.Fatalf("veth = %+v", v)
		}
		if !strings.Contains(v.Reason, "agree") {
			t.Errorf("reason %q", v.Reason)
		}
	})
	t.Run("gateway", func(t *testing.T) {
		g := a.Gateway
		if g.Address != CalicoGateway || !g.DefaultRoute || !g.LinkRoute || !g.HostProxyARP ||
			g.NeighMAC != CalicoMAC || g.NeighState != "REACHABLE" || g.HostMAC != CalicoMAC {
			t.Fatalf("gateway = %+v", g)
		}
		for _, want := range []string{"default route", "scope link", "resolved 169.254.1.1 to ee:ee:ee:ee:ee:ee", "proxy_arp=1", "route covering 169.254.1.1"} {
			if !strings.Contains(strings.Join(g.Confirmed, "\n"), want) {
				t.Errorf("confirmed %q does not say %q", g.Confirmed, want)
			}
		}
	})
	t.Run("expected name", func(t *testing.T) {
		if a.ExpectedHostIf != "caliea2aa288365" {
			t.Fatalf("expected host if %q", a.ExpectedHostIf)
		}
	})
	t.Run("no problems", func(t *testing.T) {
		if len(a.Problems) != 0 {
			t.Fatalf("problems: %q", a.Problems)
		}
	})

	routes := []struct {
		side        Side
		dst         string
		class       Class
		peer        string
		reasonWords string
	}{
		{SidePod, "default", ClassPodDefault, "", "169.254.1.1"},
		{SidePod, "169.254.1.1", ClassPodGateway, "", "/32"},
		{SideHost, "default", ClassDefault, "", "169.254.1.1"},
		{SideHost, "192.168.44.64/28", ClassConnected, "", "kernel"},
		{SideHost, "192.168.44.65", ClassOther, "", "gateway"},
		{SideHost, "198.19.0.0/20", ClassConnected, "", "other nodes"},
		{SideHost, "198.19.21.0/26", ClassRemoteBlock, "control", "proto bird"},
		{SideHost, "198.19.21.64/26", ClassRemoteBlock, "node2", "198.19.0.3"},
		{SideHost, "198.19.22.128", ClassLocalPod, "kube-system/coredns-5d78c9869d-7xkq2", "RTPROT_BOOT"},
		{SideHost, "198.19.22.128/26", ClassLocalBlockBlackhole, "", "proto bird"},
		{SideHost, "198.19.22.129", ClassLocalPod, "kube-system/coredns-5d78c9869d-lfp4w", "cali9c9ee09e807"},
		{SideHost, "198.19.22.130", ClassLocalPod, "calico-system/calico-kube-controllers-7c5b6c8f4d-qj2mz", "calid35188eb0ba"},
		{SideHost, "198.19.22.131", ClassLocalPod, "yaobank/summary-6c9b8f7d5b-k2x8w", "calif0a98285df9"},
		{SideHost, "198.19.22.132", ClassLocalPod, "yaobank/customer-574bd6cc75-2blnv", "host end of the customer pod's veth"},
	}
	if len(a.Routes) != len(routes) {
		t.Errorf("%d routes classed, want %d", len(a.Routes), len(routes))
	}
	for _, tt := range routes {
		t.Run(string(tt.side)+" "+tt.dst, func(t *testing.T) {
			rc, ok := routeClasses(&a, tt.side)[tt.dst]
			if !ok {
				t.Fatalf("no class for %s", tt.dst)
			}
			if rc.Class != tt.class || rc.Peer != tt.peer {
				t.Fatalf("class %s peer %q, want %s %q (%s)", rc.Class, rc.Peer, tt.class, tt.peer, rc.Reason)
			}
			if !strings.Contains(rc.Reason, tt.reasonWords) {
				t.Fatalf("reason %q does not say %q", rc.Reason, tt.reasonWords)
			}
		})
	}
}

func setLink(s *Snapshot, index int, edit func(l *Link)) {
	edit(s.LinkByIndex(index))
}

func TestAnalyzeVeth(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(p *Pair)
		agree    bool
		hostIf   string
		reason   []string
		problems []string
	}{
		{"pod side names another host link", func(p *Pair) {
			setLink(&p.Pod, 3, func(l *Link) { l.ParentIndex = 8 })
		}, false, "caliea2aa288365", []string{"pod side disagrees", "@if8", "host link 9 caliea2aa288365 points back"}, []string{"veth pair: pod side"}},
		{"pod side names a missing link", func(p *Pair) {
			setLink(&p.Pod, 3, func(l *Link) { l.ParentIndex = 42 })
		}, false, "caliea2aa288365", []string{"pod side disagrees", "no link 42"}, nil},
		{"host side points at another index", func(p *Pair) {
			setLink(&p.Host, 9, func(l *Link) { l.ParentIndex = 4 })
		}, false, "caliea2aa288365", []string{"host side disagrees", "@if4, not 3"}, []string{"veth pair: host side"}},
		{"host side leads to another namespace", func(p *Pair) {
			setLink(&p.Host, 9, func(l *Link) { l.LinkNetNSID = 2 })
		}, false, "caliea2aa288365", []string{"host side disagrees", "cni-cebefddd", "not the pod's namespace"}, nil},
		{"host side has no peer namespace", func(p *Pair) {
			setLink(&p.Host, 9, func(l *Link) { l.LinkNetNSID = -1 })
		}, false, "caliea2aa288365", []string{"host side disagrees", "no peer namespace"}, nil},
		{"wrong node", func(p *Pair) {
			p.Host.Links = p.Host.Links[:2]
		}, false, "", []string{"is this the pod's node?"}, nil},
		{"pod is not a veth", func(p *Pair) {
			setLink(&p.Pod, 3, func(l *Link) { l.ParentIndex, l.LinkNetNSID = 0, -1 })
		}, false, "", []string{"pod side", "not a veth"}, nil},
		{"unnamed pod namespace: indexes only", func(p *Pair) {
			p.Pod.NS.Name = "pod"
		}, true, "caliea2aa288365", []string{"only the indexes were checked"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Analyze(variant(t, tt.edit))
			if a.Veth.Agree != tt.agree || a.Veth.HostIf != tt.hostIf {
				t.Fatalf("agree %v host %q, want %v %q: %s", a.Veth.Agree, a.Veth.HostIf, tt.agree, tt.hostIf, a.Veth.Reason)
			}
			for _, w := range tt.reason {
				if !strings.Contains(a.Veth.Reason, w) {
					t.Errorf("reason %q does not say %q", a.Veth.Reason, w)
				}
			}
			for _, w := range tt.problems {
				if !strings.Contains(strings.Join(a.Problems, "\n"), w) {
					t.Errorf("problems %q do not say %q", a.Problems, w)
				}
			}
		})
	}
}

func hostRoute(dst, gw, dev string, proto int, flags ...string) Route {
	r := Route{Family: 4, Table: TableMain, Type: "unicast", Dst: mp(dst), Dev: dev, Scope: "universe", Protocol: proto, Flags: flags}
	if gw != "" {
		r.Gw = ma(gw)
	}
	return r
}

// replaceRoutes swaps the lesson's BGP routes for others.
func replaceRoutes(s *Snapshot, repl map[string]Route) {
	for i, r := range s.Routes {
		if n, ok := repl[r.Dst.String()]; ok {
			s.Routes[i] = n
		}
	}
}

func TestAnalyzeModesAndProblems(t *testing.T) {
	tunnel := func(name, kind string) Link {
		return Link{Index: 10, Name: name, Kind: kind, Flags: []string{"NOARP", "UP", "LOWER_UP"}, MTU: 1440, LinkNetNSID: -1}
	}
	tests := []struct {
		name     string
		edit     func(p *Pair)
		classes  map[string]Class
		peers    map[string]string
		reasons  map[string]string
		problems []string
	}{
		{"vxlan", func(p *Pair) {
			p.Facts.Mode = "vxlan"
			p.Host.Links = append(p.Host.Links, tunnel("vxlan.calico", "vxlan"))
			bh := hostRoute("198.19.22.128/26", "", "", ProtoFelix)
			bh.Type = "blackhole"
			replaceRoutes(&p.Host, map[string]Route{
				"198.19.21.0/26":   hostRoute("198.19.21.0/26", "198.19.21.1", "vxlan.calico", ProtoFelix, "onlink"),
				"198.19.21.64/26":  hostRoute("198.19.21.64/26", "198.19.21.65", "vxlan.calico", ProtoFelix, "onlink"),
				"198.19.22.128/26": bh,
			})
		}, map[string]Class{"198.19.21.0/26": ClassRemoteBlock, "198.19.21.64/26": ClassRemoteBlock, "198.19.22.128/26": ClassLocalBlockBlackhole},
			map[string]string{"198.19.21.0/26": "control", "198.19.21.64/26": "node2"},
			map[string]string{"198.19.21.64/26": "vxlan.calico", "198.19.22.128/26": "proto 80"}, nil},
		{"ipip", func(p *Pair) {
			p.Facts.Mode = "ipip"
			p.Host.Links = append(p.Host.Links, tunnel("tunl0", "ipip"))
			replaceRoutes(&p.Host, map[string]Route{
				"198.19.21.0/26":  hostRoute("198.19.21.0/26", "198.19.0.1", "tunl0", ProtoBird, "onlink"),
				"198.19.21.64/26": hostRoute("198.19.21.64/26", "198.19.0.3", "tunl0", ProtoBird, "onlink"),
			})
		}, map[string]Class{"198.19.21.0/26": ClassRemoteBlock, "198.19.21.64/26": ClassRemoteBlock},
			map[string]string{"198.19.21.0/26": "control", "198.19.21.64/26": "node2"},
			map[string]string{"198.19.21.64/26": "IP-in-IP to node2 (198.19.0.3) through tunl0"}, nil},
		{"borrowed ip", func(p *Pair) {
			p.Host.Routes = append(p.Host.Routes, hostRoute("198.19.22.140/32", "198.19.0.3", "eth0", ProtoBird))
		}, map[string]Class{"198.19.22.140": ClassRemotePod},
			map[string]string{"198.19.22.140": "node2"},
			map[string]string{"198.19.22.140": "node1's block 198.19.22.128/26, so node2 borrowed it"}, nil},
		{"borrowed ip, its pod known", func(p *Pair) {
			p.Host.Routes = append(p.Host.Routes, hostRoute("198.19.22.140/32", "198.19.0.3", "eth0", ProtoBird))
			p.Facts.Pods = append(p.Facts.Pods, PodFact{Namespace: "default", Name: "borrowed-ip-demo", IP: netip.MustParseAddr("198.19.22.140"), Node: "node2"})
		}, map[string]Class{"198.19.22.140": ClassRemotePod},
			map[string]string{"198.19.22.140": "node2"},
			map[string]string{"198.19.22.140": "198.19.22.140 (pod default/borrowed-ip-demo)"}, nil},
		{"no facts", func(p *Pair) { p.Facts = Facts{} },
			map[string]Class{"198.19.22.128/26": ClassLocalBlockBlackhole, "198.19.21.64/26": ClassRemoteBlock, "198.19.22.132": ClassLocalPod},
			map[string]string{"198.19.21.64/26": "", "198.19.22.132": ""},
			map[string]string{"198.19.22.128/26": "taken to be its own block"}, nil},
		{"another node's blackhole", func(p *Pair) {
			bh := hostRoute("198.19.21.64/26", "", "", ProtoBird)
			bh.Type = "blackhole"
			replaceRoutes(&p.Host, map[string]Route{"198.19.21.64/26": bh})
		}, map[string]Class{"198.19.21.64/26": ClassOther}, nil, map[string]string{"198.19.21.64/26": "node2's block"}, nil},
		{"missing proxy_arp", func(p *Pair) {
			setLink(&p.Host, 9, func(l *Link) { l.Sysctls[SysctlProxyARP] = 0 })
		}, nil, nil, nil, []string{"proxy_arp=0 on caliea2aa288365"}},
		{"renamed host end", func(p *Pair) {
			setLink(&p.Host, 9, func(l *Link) { l.Name = "cali0123456789a" })
			for i := range p.Host.Routes {
				if p.Host.Routes[i].Dev == "caliea2aa288365" {
					p.Host.Routes[i].Dev = "cali0123456789a"
				}
			}
		}, nil, nil, nil, []string{"is cali0123456789a, but Calico would name it caliea2aa288365"}},
		{"mtu mismatch", func(p *Pair) {
			setLink(&p.Host, 9, func(l *Link) { l.MTU = 1500 })
		}, nil, nil, nil, []string{"mtu differs across the veth: pod eth0 1410, host caliea2aa288365 1500"}},
		{"host without default route", func(p *Pair) { p.Host.Routes = p.Host.Routes[1:] },
			nil, nil, nil, []string{"no route covering 169.254.1.1"}},
		{"pod gateway elsewhere", func(p *Pair) {
			p.Pod.Routes[0].Gw = ma("10.0.0.1")
		}, nil, nil, nil, []string{"via 10.0.0.1, not 169.254.1.1", "no scope-link route to 10.0.0.1"}},
		{"forwarding off", func(p *Pair) {
			p.Host.Sysctls[SysctlIPForward] = 0
			setLink(&p.Host, 9, func(l *Link) { l.Sysctls[SysctlForwarding] = 0 })
		}, nil, nil, nil, []string{"net.ipv4.ip_forward=0", "forwarding=0 on caliea2aa288365"}},
		{"pod route missing on host", func(p *Pair) { p.Host.Routes = p.Host.Routes[:len(p.Host.Routes)-1] },
			nil, nil, nil, []string{"no route 198.19.22.132 dev caliea2aa288365"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Analyze(variant(t, tt.edit))
			rc := routeClasses(&a, SideHost)
			for dst, want := range tt.classes {
				if got := rc[dst]; got.Class != want {
					t.Errorf("%s: class %q, want %q (%s)", dst, got.Class, want, got.Reason)
				}
			}
			for dst, want := range tt.peers {
				if got := rc[dst].Peer; got != want {
					t.Errorf("%s: peer %q, want %q", dst, got, want)
				}
			}
			for dst, want := range tt.reasons {
				if got := rc[dst].Reason; !strings.Contains(got, want) {
					t.Errorf("%s: reason %q does not say %q", dst, got, want)
				}
			}
			all := strings.Join(a.Problems, "\n")
			for _, want := range tt.problems {
				if !strings.Contains(all, want) {
					t.Errorf("problems %q do not say %q", a.Problems, want)
				}
			}
			if len(tt.problems) == 0 && len(a.Problems) != 0 {
				t.Errorf("unexpected problems %q", a.Problems)
			}
		})
	}
}

func TestAnalyzeMissingProxyARPGateway(t *testing.T) {
	a := Analyze(variant(t, func(p *Pair) {
		setLink(&p.Host, 9, func(l *Link) { l.Sysctls[SysctlProxyARP] = 0 })
	}))
	if a.Gateway.HostProxyARP {
		t.Fatal("proxy ARP reported on")
	}
	for _, c := range a.Gateway.Confirmed {
		if strings.Contains(c, "proxy_arp") {
			t.Fatalf("confirmed by %q", c)
		}
	}
}

func TestAnalyzeNil(t *testing.T) {
	a := Analyze(nil)
	if a.Veth.Agree || len(a.Routes) != 0 {
		t.Fatalf("%+v", a)
	}
	a = Analyze(&Pair{})
	if a.Veth.Agree || a.Gateway.Address != netip.MustParseAddr("169.254.1.1") {
		t.Fatalf("%+v", a)
	}
}

func TestPodWords(t *testing.T) {
	tests := []struct {
		pod  PodFact
		want string
	}{
		{PodFact{Namespace: "yaobank", Name: "customer-574bd6cc75-2blnv"}, "the customer pod"},
		{PodFact{Namespace: "yaobank", Name: "summary-85c56b76d7-28dbn"}, "pod yaobank/summary-85c56b76d7-28dbn"},
		{PodFact{Namespace: "bank", Name: "customer-1"}, "pod bank/customer-1"},
		{PodFact{Name: "teller"}, "pod teller"},
		{PodFact{}, "the pod"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := PodWords(&Facts{Pod: tt.pod}); got != tt.want {
				t.Errorf("PodWords(%+v) = %q, want %q", tt.pod, got, tt.want)
			}
		})
	}
}
