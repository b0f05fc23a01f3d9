package ui

import (
	"net/netip"
	"strings"
	"testing"

	"podlab/content"
	"podlab/netview"
)

// A multipath route's next-hop lines, which ip starts with a tab, are
// drawn with spaces: a tab would jump past the pane's edge.
func TestPaneNextHopLineHasNoTab(t *testing.T) {
	s := &netview.Snapshot{
		Links: []netview.Link{{Index: 2, Name: "eth0", Flags: []string{"UP", "LOWER_UP"}, MTU: 1500, LinkNetNSID: -1}},
		Routes: []netview.Route{{Family: 4, Table: netview.TableMain, Type: "unicast", Dst: netip.MustParsePrefix("10.65.3.0/26"),
			Scope: "universe", Protocol: netview.ProtoBird, NextHops: []netview.NextHop{
				{Gw: netip.MustParseAddr("10.0.0.3"), Dev: "eth0", DevIndex: 2, Weight: 1},
				{Gw: netip.MustParseAddr("10.0.0.4"), Dev: "eth0", DevIndex: 2, Weight: 1},
			}}},
	}
	p := newNetPane(&shared{theme: NewTheme(true, false)}, netview.SideHost)
	p.setSize(80, 10)
	var first *netview.Refresh
	lab := &content.Lab{Refresh: first.Next(&netview.Analyzer{}, &netview.Pair{Host: *s}, false)}
	p.setData(paneInput{views: []netview.View{netview.ViewRoute}, lab: lab})
	hops := 0
	for i := range p.items {
		text := p.line(i).String()
		if strings.Contains(text, "\t") {
			t.Errorf("line %d %q holds a tab", i, text)
		}
		if strings.HasPrefix(text, "        nexthop via 10.0.0.") {
			hops++
		}
	}
	if hops != 2 {
		t.Errorf("%d next-hop lines, want 2", hops)
	}
	if v := p.View(); strings.Contains(v, "\t") {
		t.Errorf("the pane draws a tab:\n%s", v)
	}
}
