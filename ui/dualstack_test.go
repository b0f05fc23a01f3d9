package ui

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"podlab/content"
	"podlab/netview"
)

// dualStackPod is the lesson's recording with an IPv6 address and
// default route in the pod, as Calico's CNI plugin gives a dual-stack
// pod; the node stays IPv4-only.
func dualStackPod(t *testing.T) *netview.Pair {
	t.Helper()
	p := *lessonRecording(t)
	eth0 := -1
	for _, l := range p.Pod.Links {
		if l.Name == "eth0" {
			eth0 = l.Index
		}
	}
	if eth0 < 0 {
		t.Fatal("the recording's pod has no eth0")
	}
	p.Pod.Addrs = append(slices.Clone(p.Pod.Addrs), netview.Addr{Index: eth0, Dev: "eth0",
		Prefix: netip.MustParsePrefix("fd00:19::2284/128"), Scope: "global"})
	p.Pod.Routes = append(slices.Clone(p.Pod.Routes),
		netview.Route{Family: 6, Table: netview.TableMain, Type: "unicast", Dst: netip.MustParsePrefix("fd00:19::2284/128"),
			Dev: "eth0", Scope: "universe", Protocol: netview.ProtoKernel, Metric: 256},
		netview.Route{Family: 6, Table: netview.TableMain, Type: "unicast", Dst: netip.MustParsePrefix("::/0"),
			Gw: netip.MustParseAddr("fe80::ecee:eeff:feee:eeee"), Dev: "eth0", Scope: "universe", Protocol: netview.ProtoBoot, Metric: 1024})
	return &p
}

// paneText is every item of a pane as text, one a line.
func paneText(p *netPane) string {
	var b strings.Builder
	for i, it := range p.items {
		if it.isLine() {
			b.WriteString(p.line(i).String())
		} else {
			b.WriteString(it.text)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// A dual-stack pod's pane shows ip -6 addr after ip addr and ip -6 route
// after ip route; an IPv4-only namespace's pane does not.
func TestPaneDualStackViews(t *testing.T) {
	var first *netview.Refresh
	tests := []struct {
		name    string
		pair    func(*testing.T) *netview.Pair
		side    netview.Side
		views   []netview.View
		want    []string
		notWant []string
	}{
		{"dual-stack pod", dualStackPod, netview.SidePod, []netview.View{netview.ViewAddr, netview.ViewRoute},
			[]string{"$ ip -6 addr", "inet6 fd00:19::2284/128 scope global", "$ ip -6 route",
				"default via fe80::ecee:eeff:feee:eeee dev eth0"},
			nil},
		{"dual-stack pod, link only", dualStackPod, netview.SidePod, []netview.View{netview.ViewLink},
			nil, []string{"-6"}},
		{"ipv4-only node of a dual-stack pod", dualStackPod, netview.SideHost, []netview.View{netview.ViewRoute},
			nil, []string{"-6"}},
		{"the recording's pod", func(t *testing.T) *netview.Pair { return lessonRecording(t) }, netview.SidePod,
			[]netview.View{netview.ViewAddr, netview.ViewRoute}, nil, []string{"-6", "fe80::ecee"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newNetPane(&shared{theme: NewTheme(true, false)}, tt.side)
			p.setSize(100, 40)
			lab := &content.Lab{Refresh: first.Next(&netview.Analyzer{}, tt.pair(t), false)}
			p.setData(paneInput{who: "pod", views: tt.views, lab: lab})
			text := paneText(&p)
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("the pane lacks %q:\n%s", w, text)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(text, w) {
					t.Errorf("the pane holds %q:\n%s", w, text)
				}
			}
			if got, want := p.command(), "pod $ "+tt.views[0].Command(); got != want {
				t.Errorf("command = %q, want %q", got, want)
			}
		})
	}
}

// An IPv6 route gone since the last refresh is marked removed in the
// ip -6 route view, as an IPv4 one is in ip route.
func TestPaneDualStackRemovedRoute(t *testing.T) {
	old := dualStackPod(t)
	cur := *old
	cur.Pod.Routes = slices.DeleteFunc(slices.Clone(old.Pod.Routes), func(r netview.Route) bool {
		return r.Family == 6 && r.Dst.Bits() == 0
	})
	var first *netview.Refresh
	an := &netview.Analyzer{}
	r := first.Next(an, old, false).Next(an, &cur, false)
	p := newNetPane(&shared{theme: NewTheme(true, false)}, netview.SidePod)
	p.setSize(100, 40)
	p.setData(paneInput{who: "pod", views: []netview.View{netview.ViewRoute}, lab: &content.Lab{Refresh: r}})
	removed := false
	for _, it := range p.items {
		if it.kind == itemRemoved && strings.Contains(it.text, "default via fe80::ecee:eeff:feee:eeee") {
			removed = true
		}
	}
	if !removed {
		t.Errorf("the IPv6 default route is not marked removed:\n%s", paneText(&p))
	}
}

// The ip -6 route view is drawn as the ip route view is, a line when it
// is shown, not whole on each refresh: its lines read as netview renders
// them, an IPv6 route new since the last refresh is marked added, and
// none is drawn before it is looked at.
func TestPaneIPv6RoutesDrawnWhenShown(t *testing.T) {
	old := dualStackPod(t)
	cur := *old
	cur.Pod.Routes = append(slices.Clone(old.Pod.Routes), netview.Route{Family: 6, Table: netview.TableMain, Type: "unicast",
		Dst: netip.MustParsePrefix("fd00:22::/122"), Gw: netip.MustParseAddr("fe80::ecee:eeff:feee:eeee"), Dev: "eth0",
		Scope: "universe", Protocol: netview.ProtoBoot, Metric: 1024})
	var first *netview.Refresh
	an := &netview.Analyzer{}
	r := first.Next(an, old, false).Next(an, &cur, false)
	p := newNetPane(&shared{theme: NewTheme(true, false)}, netview.SidePod)
	p.setData(paneInput{who: "pod", views: []netview.View{netview.ViewRoute}, lab: &content.Lab{Refresh: r}})
	var got []string
	for i, it := range p.items {
		if it.kind != itemRoute6 {
			continue
		}
		if _, drawn := p.drawn[-1-it.n]; drawn {
			t.Errorf("ip -6 route line %d was drawn before it was shown", it.n)
		}
		l := p.line(i)
		got = append(got, l.String())
		if added := strings.HasPrefix(l.String(), "fd00:22::/122 "); it.added != added {
			t.Errorf("%q marked added %v, want %v", l.String(), it.added, added)
		}
	}
	var want []string
	for _, l := range netview.Render(netview.SidePod, netview.ViewRoute6, &cur.Pod, r.Analysis) {
		want = append(want, strings.ReplaceAll(l.String(), "\t", "        "))
	}
	if len(want) != 3 || !slices.Equal(got, want) {
		t.Errorf("the pane's ip -6 route lines:\n%s\nnetview renders:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
