package netmap

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"podlab/netview"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// lesson is the lesson's own pair: the customer pod on node1.
func lesson(t testing.TB) *netview.Pair {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "netview", "testdata", "lesson.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := netview.ReadRecording(f)
	if err != nil {
		t.Fatal(err)
	}
	return &r.Pair
}

func hostRoute(dst, gw, dev string, proto int, flags ...string) netview.Route {
	r := netview.Route{Family: 4, Table: netview.TableMain, Type: "unicast", Dst: netip.MustParsePrefix(dst),
		Dev: dev, Scope: "universe", Protocol: proto, Flags: flags}
	if gw != "" {
		r.Gw = netip.MustParseAddr(gw)
	}
	return r
}

// replaceRoutes swaps the host routes to the given destinations.
func replaceRoutes(s *netview.Snapshot, repl map[string]netview.Route) {
	for i, r := range s.Routes {
		if n, ok := repl[r.Dst.String()]; ok {
			s.Routes[i] = n
		}
	}
}

// The pairs the map is drawn for: the lesson's and the forms a student
// meets beside it.
var variants = []struct {
	name string
	edit func(p *netview.Pair)
}{
	{"bgp", func(*netview.Pair) {}},
	{"vxlan", func(p *netview.Pair) {
		p.Facts.Mode = "vxlan"
		p.Host.Links = append(p.Host.Links, netview.Link{Index: 10, Name: "vxlan.calico", Kind: "vxlan",
			Flags: []string{"BROADCAST", "MULTICAST", "UP", "LOWER_UP"}, MTU: 1410, LinkNetNSID: -1})
		p.Host.Addrs = append(p.Host.Addrs, netview.Addr{Index: 10, Dev: "vxlan.calico",
			Prefix: netip.MustParsePrefix("198.19.22.128/32"), Scope: "global"})
		bh := hostRoute("198.19.22.128/26", "", "", netview.ProtoFelix)
		bh.Type = "blackhole"
		replaceRoutes(&p.Host, map[string]netview.Route{
			"198.19.21.0/26":   hostRoute("198.19.21.0/26", "198.19.21.1", "vxlan.calico", netview.ProtoFelix, "onlink"),
			"198.19.21.64/26":  hostRoute("198.19.21.64/26", "198.19.21.65", "vxlan.calico", netview.ProtoFelix, "onlink"),
			"198.19.22.128/26": bh,
		})
	}},
	{"borrowed", func(p *netview.Pair) {
		p.Host.Routes = append(p.Host.Routes, hostRoute("198.19.22.140/32", "198.19.0.3", "eth0", netview.ProtoBird))
		p.Facts.Pods = append(p.Facts.Pods, netview.PodFact{Namespace: "yaobank", Name: "summary-6c9b8f7d5b-zz9qq",
			IP: netip.MustParseAddr("198.19.22.140"), Node: "node2"})
	}},
	{"disagree", func(p *netview.Pair) {
		for i := range p.Host.Links {
			if p.Host.Links[i].Index == 9 {
				p.Host.Links[i].ParentIndex = 4
			}
		}
	}},
	{"multipath", func(p *netview.Pair) {
		hops := func(gws ...string) []netview.NextHop {
			var out []netview.NextHop
			for _, gw := range gws {
				out = append(out, netview.NextHop{Gw: netip.MustParseAddr(gw), Dev: "eth0", Weight: 1})
			}
			return out
		}
		// control's block over two nodes, and a block no node owns over
		// two, as BGP's ECMP leaves them.
		both := hostRoute("198.19.21.0/26", "", "", netview.ProtoBird)
		both.NextHops = hops("198.19.0.1", "198.19.0.3")
		replaceRoutes(&p.Host, map[string]netview.Route{"198.19.21.0/26": both})
		r := hostRoute("198.19.24.0/26", "", "", netview.ProtoBird)
		r.NextHops = hops("198.19.0.3", "198.19.0.1")
		p.Host.Routes = append(p.Host.Routes, r)
	}},
	{"110-pods", func(p *netview.Pair) {
		for i := range 105 {
			name := fmt.Sprintf("cali%011x", 0xa0000000+i)
			idx := 100 + i
			p.Host.Links = append(p.Host.Links, netview.Link{Index: idx, Name: name, Kind: "veth",
				Flags: []string{"BROADCAST", "MULTICAST", "UP", "LOWER_UP"}, MTU: 1410, ParentIndex: 3, LinkNetNSID: 10 + i})
			ip := netip.AddrFrom4([4]byte{198, 19, 22, byte(133 + i%60)})
			if i >= 60 {
				ip = netip.AddrFrom4([4]byte{198, 19, 23, byte(i - 60)})
			}
			p.Host.Routes = append(p.Host.Routes, netview.Route{Family: 4, Table: netview.TableMain, Type: "unicast",
				Dst: netip.PrefixFrom(ip, 32), Dev: name, DevIndex: idx, Scope: "link", Protocol: netview.ProtoBoot})
		}
	}},
}

func variant(t testing.TB, edit func(*netview.Pair)) (*netview.Pair, *netview.Analysis) {
	t.Helper()
	p := lesson(t)
	edit(p)
	a := netview.Analyze(p)
	return p, &a
}

func TestGolden(t *testing.T) {
	for _, v := range variants {
		for _, w := range []int{80, 120, 160} {
			t.Run(fmt.Sprintf("%s-%d", v.name, w), func(t *testing.T) {
				p, a := variant(t, v.edit)
				golden(t, fmt.Sprintf("%s-%d.golden", v.name, w), netview.Plain(Render(p, a, w)))
			})
		}
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./netmap -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test ./netmap -update rewrites it):\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// Every width gets a whole map: no line longer than the width, nothing
// the wide layout names dropped by a narrow one.
func TestDrawFitsEveryWidth(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			p, a := variant(t, v.edit)
			words := mapWords(Render(p, a, 400))
			for w := minBox; w <= 200; w++ {
				lines := Render(p, a, w)
				for i, l := range lines {
					if n := ansi.StringWidth(l.String()); n > w {
						t.Fatalf("width %d: line %d is %d wide: %q", w, i, n, l.String())
					}
				}
				if w < 60 { // very narrow boxes break words
					continue
				}
				got := mapWords(lines)
				for _, word := range words {
					if !slices.Contains(got, word) {
						t.Fatalf("width %d lost %q:\n%s", w, word, netview.Plain(lines))
					}
				}
			}
		})
	}
}

// mapWords are the names and addresses a map shows, with the borders and
// the labels that move between layouts left out.
func mapWords(lines []netview.Line) []string {
	var out []string
	for _, f := range strings.Fields(netview.Plain(lines)) {
		if strings.ContainsAny(f, "0123456789") && strings.ContainsAny(f, ".:") {
			out = append(out, strings.Trim(f, "│┆┝┥├┤┃"))
		}
	}
	return out
}

// The map names what the analysis found: the veth ends with their
// indexes, the pod's address, the gateway, the node's block and each
// other node's block.
func TestNamesWhatTheAnalysisFound(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			p, a := variant(t, v.edit)
			for _, w := range []int{80, 160} {
				text := netview.Plain(Render(p, a, w))
				want := []string{
					fmt.Sprintf("%d: %s@if%d", a.Veth.PodIndex, a.Veth.PodIf, a.Veth.PodPeerIndex),
					fmt.Sprintf("%d: %s@if%d", a.Veth.HostIndex, a.Veth.HostIf, a.Veth.HostPeerIndex),
					"198.19.22.132/32", a.Gateway.Address.String(), "198.19.0.2",
				}
				for _, rc := range a.Routes {
					switch rc.Class {
					case netview.ClassLocalBlockBlackhole, netview.ClassRemoteBlock, netview.ClassRemotePod:
						want = append(want, rc.Dst)
						if rc.Peer != "" {
							want = append(want, rc.Peer)
						}
					}
				}
				for _, s := range want {
					if !strings.Contains(text, s) {
						t.Errorf("width %d: the map does not name %q:\n%s", w, s, text)
					}
				}
			}
		})
	}
}

// The map's parts carry the tags the step highlights: the cable lights
// with the veth ends, 169.254.1.1 with the gateway, the blocks with their
// route class.
func TestTags(t *testing.T) {
	p, a := variant(t, variants[2].edit) // borrowed: every class there is
	for _, w := range []int{80, 160} {
		lines := Render(p, a, w)
		tagged := map[netview.Tag][]string{}
		for _, l := range lines {
			for _, s := range l.Spans {
				tagged[s.Tag] = append(tagged[s.Tag], s.Text)
			}
		}
		want := map[netview.Tag]string{
			netview.TagVethPod:                                 "eth0@if9",
			netview.TagVethHost:                                "caliea2aa288365@if3",
			netview.TagGateway:                                 "169.254.1.1",
			netview.TagPodIP:                                   "198.19.22.132/32",
			netview.RouteTag(netview.ClassRemoteBlock):         "198.19.21.64/26",
			netview.RouteTag(netview.ClassRemotePod):           "198.19.22.140",
			netview.RouteTag(netview.ClassLocalBlockBlackhole): "blackhole",
			netview.RouteTag(netview.ClassLocalPod):            "198.19.22.132",
			netview.RouteTag(netview.ClassDefault):             "exit",
		}
		for tag, s := range want {
			if !strings.Contains(strings.Join(tagged[tag], "|"), s) {
				t.Errorf("width %d: %q is not tagged %s (spans %q)", w, s, tag, tagged[tag])
			}
		}
		cable := strings.Join(tagged[netview.TagVethPod], "")
		if !strings.ContainsAny(cable, "━┃") {
			t.Errorf("width %d: the cable is not tagged %s: %q", w, netview.TagVethPod, cable)
		}
	}
}

// What the analysis could not prove is drawn dashed and labelled.
func TestUnprovenIsDashed(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*netview.Pair)
		label string
	}{
		{"veth ends disagree", variants[3].edit, "veth pair: "},
		{"no proxy_arp", func(p *netview.Pair) {
			for i := range p.Host.Links {
				if p.Host.Links[i].Index == 9 {
					p.Host.Links[i].Sysctls[netview.SysctlProxyARP] = 0
				}
			}
		}, "proxy_arp is not 1"},
		{"no blackhole", func(p *netview.Pair) {
			p.Host.Routes = slices.DeleteFunc(p.Host.Routes, func(r netview.Route) bool { return r.Type == "blackhole" })
		}, "no blackhole route"},
		{"next hop no node owns", func(p *netview.Pair) {
			p.Host.Routes = append(p.Host.Routes, hostRoute("198.19.24.0/26", "198.19.0.9", "eth0", netview.ProtoBird))
		}, "198.19.0.9, which no node"},
		{"no default route in the pod", func(p *netview.Pair) { p.Pod.Routes = p.Pod.Routes[1:] }, "no default route via 169.254.1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, a := variant(t, tt.edit)
			for _, w := range []int{80, 160} {
				text := netview.Plain(Render(p, a, w))
				if !strings.ContainsAny(text, "┄┆╎") {
					t.Errorf("width %d: nothing drawn dashed:\n%s", w, text)
				}
				if !strings.Contains(strings.Join(strings.Fields(text), " "), tt.label) {
					t.Errorf("width %d: no label %q:\n%s", w, tt.label, text)
				}
			}
			ok, _ := variant(t, func(*netview.Pair) {})
			_ = ok
		})
	}
	p, a := variant(t, variants[0].edit)
	if text := netview.Plain(Render(p, a, 160)); strings.ContainsAny(text, "┄┆╎") {
		t.Errorf("the lesson's own pair has a dashed piece:\n%s", text)
	}
}

func TestNothingToDraw(t *testing.T) {
	if got := Render(nil, nil, 80); got != nil {
		t.Errorf("Render(nil) = %q", got)
	}
}

// On a short screen the map is drawn compact: the lesson's lab at 80
// columns in the 18 rows an 80x24 terminal leaves it, every piece the
// full layout names still there.
func TestDrawInShortScreen(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			p, a := variant(t, v.edit)
			m := Build(p, a)
			full := m.Draw(80)
			fit := m.DrawIn(80, 18)
			if len(full) <= 18 {
				if len(fit) != len(full) {
					t.Errorf("a map that fits was redrawn: %d rows, not %d", len(fit), len(full))
				}
				return
			}
			if len(fit) >= len(full) {
				t.Fatalf("compact is %d rows, the full layout %d", len(fit), len(full))
			}
			for i, l := range fit {
				if n := ansi.StringWidth(l.String()); n > 80 {
					t.Fatalf("line %d is %d wide: %q", i, n, l.String())
				}
			}
			got := mapWords(fit)
			for _, word := range mapWords(full) {
				if !slices.Contains(got, word) {
					t.Errorf("compact lost %q:\n%s", word, netview.Plain(fit))
				}
			}
			if v.name == "bgp" && len(fit) > 18 {
				t.Errorf("the lesson's lab takes %d rows at 80 columns, more than 18:\n%s", len(fit), netview.Plain(fit))
			}
			golden(t, v.name+"-80x18.golden", netview.Plain(fit))
		})
	}
}

// A node whose uplink is a veth (a sandbox node's: eth0@if4 … link-netnsid
// 0) says so on the map, lest it be taken for a pod's cable; a real
// node's NIC does not.
func TestUplinkVethSaysSo(t *testing.T) {
	for _, veth := range []bool{false, true} {
		t.Run(fmt.Sprint("veth=", veth), func(t *testing.T) {
			p, a := variant(t, func(p *netview.Pair) {
				if veth {
					l := p.Host.LinkByName("eth0")
					l.Kind, l.ParentIndex, l.LinkNetNSID = "veth", 4, 0
				}
			})
			for _, w := range []int{80, 160} {
				got := netview.Plain(Render(p, a, w))
				if has := strings.Contains(got, "eth0 198.19.0.2/20 · "+UplinkVethMark); has != veth {
					t.Errorf("width %d: the uplink's mark shown %v, want %v:\n%s", w, has, veth, got)
				}
			}
		})
	}
}

// A multipath route is drawn in the box of every node its next hops
// lead to, each time naming all of them; a next hop no node owns gets a
// dashed box of its own, as a single next hop does.
func TestMultipathNamesEveryNextHop(t *testing.T) {
	tests := []struct {
		name  string
		gws   []string
		boxes []string // box titles that must hold the route
		words string
	}{
		{"two nodes", []string{"198.19.0.3", "198.19.0.1"}, []string{"node2 · 198.19.0.3", "control · 198.19.0.1"}, "ECMP over node2, control"},
		{"three nodes", []string{"198.19.0.1", "198.19.0.2", "198.19.0.3"}, []string{"control · 198.19.0.1", "node1 · 198.19.0.2", "node2 · 198.19.0.3"}, "ECMP over control, node1, node2"},
		{"twice to one node", []string{"198.19.0.3", "198.19.0.3"}, []string{"node2 · 198.19.0.3"}, "ECMP over node2"},
		{"a next hop no node owns", []string{"198.19.0.3", "198.19.0.9"}, []string{"node2 · 198.19.0.3", "198.19.0.9 · no node known"}, "ECMP over node2, 198.19.0.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, a := variant(t, func(p *netview.Pair) {
				r := hostRoute("198.19.24.0/26", "", "", netview.ProtoBird)
				for _, gw := range tt.gws {
					r.NextHops = append(r.NextHops, netview.NextHop{Gw: netip.MustParseAddr(gw), Dev: "eth0", Weight: 1})
				}
				p.Host.Routes = append(p.Host.Routes, r)
			})
			m := Build(p, a)
			held := 0
			for _, b := range m.Remotes {
				title := strings.Join(strings.Fields(netview.Plain([]netview.Line{{Spans: b.Title}})), " ")
				for _, r := range b.Rows {
					text := netview.Plain([]netview.Line{{Spans: r.Spans}})
					if !strings.HasPrefix(text, "198.19.24.0/26 ") {
						continue
					}
					held++
					if !slices.Contains(tt.boxes, title) {
						t.Errorf("box %q holds the route, want only %q", title, tt.boxes)
					}
					if !strings.Contains(text, tt.words) {
						t.Errorf("box %q: row %q does not say %q", title, text, tt.words)
					}
				}
			}
			if held != len(tt.boxes) {
				t.Errorf("%d boxes hold the route, want %d (%q):\n%s", held, len(tt.boxes), tt.boxes, netview.Plain(Render(p, a, 160)))
			}
		})
	}
}
