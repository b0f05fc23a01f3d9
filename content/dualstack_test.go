package content

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"podlab/netview"
)

// dualStackPair is the lesson's pair with the IPv6 side Calico gives a
// dual-stack pod: a /128 from node1's /122 block, a default route via the
// host end's link-local address, which the host end holds, and the
// node's /128 into the pod and its blackholed /122.
func dualStackPair(t *testing.T) *netview.Pair {
	t.Helper()
	p := lessonPair(t)
	f := &p.Facts
	f.ClusterCIDR6, f.BlockSize6 = netip.MustParsePrefix("fd00:19::/48"), 122
	f.Blocks = append(slices.Clone(f.Blocks),
		netview.Block{CIDR: netip.MustParsePrefix("fd00:19::2280/122"), Node: "node1"},
		netview.Block{CIDR: netip.MustParsePrefix("fd00:19::2140/122"), Node: "node2"})
	f.Pod.IP6 = netip.MustParseAddr("fd00:19::2284")
	v6 := func(dst, gw, dev string, typ string) netview.Route {
		r := netview.Route{Family: 6, Table: netview.TableMain, Type: typ, Dst: netip.MustParsePrefix(dst), Dev: dev,
			Scope: "universe", Protocol: netview.ProtoBoot, Metric: 1024}
		if gw != "" {
			r.Gw = netip.MustParseAddr(gw)
		}
		return r
	}
	p.Pod.Addrs = append(slices.Clone(p.Pod.Addrs),
		netview.Addr{Index: 3, Dev: "eth0", Prefix: netip.MustParsePrefix("fd00:19::2284/128"), Scope: "global"})
	p.Pod.Routes = append(slices.Clone(p.Pod.Routes),
		v6("fd00:19::2284/128", "", "eth0", "unicast"),
		v6("::/0", "fe80::ecee:eeff:feee:eeee", "eth0", "unicast"))
	p.Host.Addrs = append(slices.Clone(p.Host.Addrs),
		netview.Addr{Index: 9, Dev: "caliea2aa288365", Prefix: netip.MustParsePrefix("fe80::ecee:eeff:feee:eeee/64"), Scope: "link"})
	bh := v6("fd00:19::2280/122", "", "lo", "blackhole")
	bh.Protocol = netview.ProtoBird
	p.Host.Routes = append(slices.Clone(p.Host.Routes),
		v6("fd00:19::2284/128", "", "caliea2aa288365", "unicast"), bh,
		v6("fd00:19::2140/122", "fd00:198::3", "eth0", "unicast"))
	return p
}

// A dual-stack lab's variables hold the pod's IPv6 address, its IPv6
// gateway and the node's IPv6 block, while the IPv4 ones the text is
// built on stay IPv4; the lesson's IPv4 lab leaves the IPv6 ones empty.
func TestVarsOfDualStack(t *testing.T) {
	tests := []struct {
		name string
		pair func(*testing.T) *netview.Pair
		want Vars // only the fields compared below
	}{
		{"ipv4", lessonPair, Vars{OwnBlock: netip.MustParsePrefix("198.19.22.128/26"), RemoteBlock: netip.MustParsePrefix("198.19.21.0/26"), BlockSize: 26}},
		{"dual-stack", dualStackPair, Vars{OwnBlock: netip.MustParsePrefix("198.19.22.128/26"), RemoteBlock: netip.MustParsePrefix("198.19.21.0/26"), BlockSize: 26,
			PodIP6: netip.MustParseAddr("fd00:19::2284"), Gateway6: netip.MustParseAddr("fe80::ecee:eeff:feee:eeee"), HostOwnsGateway6: true, OwnBlock6: netip.MustParsePrefix("fd00:19::2280/122")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.pair(t)
			a := netview.Analyze(p)
			v := VarsOf(p, &a)
			got := Vars{OwnBlock: v.OwnBlock, RemoteBlock: v.RemoteBlock, BlockSize: v.BlockSize,
				PodIP6: v.PodIP6, Gateway6: v.Gateway6, HostOwnsGateway6: v.HostOwnsGateway6, OwnBlock6: v.OwnBlock6}
			if got != tt.want {
				t.Errorf("VarsOf = %+v\nwant %+v", got, tt.want)
			}
			if strings.Contains(v.RemoteBlocks, ":") {
				t.Errorf("RemoteBlocks %q names an IPv6 block", v.RemoteBlocks)
			}
		})
	}
}

// The steps about the pod's address and gateway and the node's pod route
// and blackhole say what the IPv6 side shows on a dual-stack lab, and
// nothing of IPv6 on an IPv4 one.
func TestLessonTextDualStack(t *testing.T) {
	secs, err := Lesson()
	if err != nil {
		t.Fatal(err)
	}
	steps := map[string]Step{}
	for _, s := range secs {
		for _, st := range s.Steps {
			steps[st.Title] = st
		}
	}
	ds := dualStackPair(t)
	dsA := netview.Analyze(ds)
	v4 := lessonPair(t)
	v4A := netview.Analyze(v4)
	tests := []struct {
		title string
		want  []string
	}{
		{"The pod's addresses", []string{"fd00:19::2284", "/128"}},
		{"The pod's routes", []string{"fe80::ecee:eeff:feee:eeee", "caliea2aa288365 really holds"}},
		{"Routes to pods on this node", []string{"fd00:19::2284 dev caliea2aa288365"}},
		{"The blackhole for this node's block", []string{"fd00:19::2280/122"}},
	}
	for _, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			st, ok := steps[tt.title]
			if !ok {
				t.Fatalf("no step %q", tt.title)
			}
			text := st.Render(VarsOf(ds, &dsA))
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("the dual-stack text lacks %q:\n%s", w, text)
				}
			}
			if text := st.Render(VarsOf(v4, &v4A)); strings.Contains(text, "IPv6") || strings.Contains(text, "fd00:") {
				t.Errorf("the IPv4 text speaks of IPv6:\n%s", text)
			}
		})
	}
}
