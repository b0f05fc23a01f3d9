package content

import (
	"net/netip"
	"testing"

	"podlab/netview"
)

// bigNode is the lesson's lab on a node of a large cluster: n remote
// blocks, each with its route and its IPAM block.
func bigNode(t testing.TB, n int) *netview.Pair {
	p := lessonPair(t.(*testing.T))
	gw := netip.MustParseAddr("198.19.0.3")
	for i := range n {
		dst := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 10), byte(i >> 2), byte(i&3) << 6}), 26)
		p.Host.Routes = append(p.Host.Routes, netview.Route{Family: 4, Dst: dst, Gw: gw, Protocol: netview.ProtoBird, Type: "unicast", Table: 254, Dev: "eth0", Scope: "universe"})
		p.Facts.Blocks = append(p.Facts.Blocks, netview.Block{CIDR: dst, Node: "node2"})
	}
	return p
}

// TestChecksAtScale: a node with 2,000 remote blocks is checked within
// the expressions' cost bounds, and a missing route among them is named.
func TestChecksAtScale(t *testing.T) {
	secs, err := Lesson()
	if err != nil {
		t.Fatal(err)
	}
	p := bigNode(t, 2000)
	vs := CheckLab(secs, p)
	if Failed(vs) != 0 {
		for _, v := range vs {
			if !v.OK {
				t.Fatalf("step %s: %v", v.Step, v.Missing[:min(3, len(v.Missing))])
			}
		}
	}
	p.Host.Routes = p.Host.Routes[:len(p.Host.Routes)-1]
	vs = CheckLab(secs, p)
	for _, v := range vs {
		if v.Step == "4.3" && (v.OK || len(v.Missing) != 1) {
			t.Errorf("step 4.3 with one route of 2,000 gone: %+v", v)
		}
	}
}
