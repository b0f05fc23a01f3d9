package sandbox

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"podlab/internal/netnstest"
	"podlab/netview"
)

func TestIPv6Values(t *testing.T) {
	tests := []struct{ v4, want string }{
		{"198.19.22.132", "fd00:19::2284"},
		{"198.19.21.64", "fd00:19::2140"},
		{"198.19.22.140", "fd00:19::228c"},
		{"198.19.16.0", "fd00:19::1600"},
		{"198.19.31.255", "fd00:19::31ff"},
	}
	for _, tc := range tests {
		t.Run(tc.v4, func(t *testing.T) {
			if got := ip6Of(netip.MustParseAddr(tc.v4)); got.String() != tc.want {
				t.Errorf("ip6Of = %s, want %s", got, tc.want)
			}
		})
	}
	for _, n := range nodeSpecs {
		b6 := block6Of(n.block)
		for _, p := range append(slices.Clone(podSpecs), borrowedPod) {
			if p.node == n.name && p != borrowedPod && !b6.Contains(ip6Of(p.ip)) {
				t.Errorf("%s's pod %s: %s is not in its block %s", n.name, p.name, ip6Of(p.ip), b6)
			}
		}
		if !clusterCIDR6.Contains(b6.Addr()) || !fabricNet6.Contains(nodeIP6Of(n.ip)) {
			t.Errorf("%s: block %s or address %s outside the pool or the fabric", n.name, b6, nodeIP6Of(n.ip))
		}
	}
	// The facts of a dual-stack state, as a sandbox records it.
	st := fullState(Options{Prefix: "podlab", Mode: "bgp"}.withDefaults())
	dualState(st)
	f := st.Facts(CustomerNamespace, CustomerPod)
	if f.ClusterCIDR6 != clusterCIDR6 || f.BlockSize6 != blockSize6 || f.Pod.IP6.String() != "fd00:19::2284" ||
		f.NodeByIP(netip.MustParseAddr("fd00:198::1")) != "control" || len(f.Blocks) != 6 {
		t.Errorf("dual-stack facts: %+v", f)
	}
	if f := fullState(Options{Prefix: "podlab", Mode: "bgp"}.withDefaults()).Facts(CustomerNamespace, CustomerPod); f.ClusterCIDR6.IsValid() || f.Pod.IP6.IsValid() || len(f.Blocks) != 3 {
		t.Errorf("IPv4-only facts name IPv6: %+v", f)
	}
	if _, err := (Options{IPv6: true, Mode: "vxlan"}).checked(); err == nil {
		t.Error("--ipv6 --mode vxlan accepted: the sandbox builds IPv6 in bgp mode only")
	}
}

// A dual-stack sandbox is wired as Calico's CNI plugin wires a
// dual-stack pod, BIRD carries the IPv6 blocks and a borrowed /128 over
// IPv6 sessions, pods reach each other over IPv6, the facts say all of
// it, and Down removes everything.
func TestDualStack(t *testing.T) {
	requireSandbox(t, true)
	o := testOptions(t, "bgp")
	o.IPv6, o.Borrowed = true, true
	st := up(t, o).State
	if !st.IPv6 {
		t.Fatal("the state does not say the sandbox is dual-stack")
	}
	node1 := st.NodeNS("node1")
	pod := st.PodNS(CustomerNamespace, CustomerPod)

	t.Run("pod", func(t *testing.T) {
		h := nsHandleT(t, pod)
		eth0, err := h.LinkByName("eth0")
		if err != nil {
			t.Fatal(err)
		}
		addrs, err := h.AddrList(eth0, netlink.FAMILY_V6)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(addrs, func(a netlink.Addr) bool { return a.IPNet.String() == "fd00:19::2284/128" }) {
			t.Errorf("pod eth0 has no fd00:19::2284/128: %v", addrs)
		}
		rs, err := h.RouteList(eth0, netlink.FAMILY_V6)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(rs, func(r netlink.Route) bool {
			return (r.Dst == nil || prefixOf(r.Dst).Bits() == 0) && r.Gw.String() == "fe80::ecee:eeff:feee:eeee"
		}) {
			t.Errorf("pod has no IPv6 default route via the host end's link-local address: %v", rs)
		}
	})
	t.Run("node", func(t *testing.T) {
		for key, want := range map[string]string{
			"net/ipv6/conf/caliea2aa288365/proxy_ndp":  "1",
			"net/ipv6/conf/caliea2aa288365/forwarding": "1",
			"net/ipv6/conf/all/forwarding":             "1",
		} {
			if got := sysctlIn(t, node1, key); got != want {
				t.Errorf("%s = %s, want %s", key, got, want)
			}
		}
		h := nsHandleT(t, node1)
		cali, err := h.LinkByName("caliea2aa288365")
		if err != nil {
			t.Fatal(err)
		}
		addrs, err := h.AddrList(cali, netlink.FAMILY_V6)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(addrs, func(a netlink.Addr) bool {
			return a.IP.String() == netview.CalicoLinkLocal.String() && a.Flags&unix.IFA_F_TENTATIVE == 0
		}) {
			t.Errorf("the host end has no usable %s: %v", netview.CalicoLinkLocal, addrs)
		}
		if r, ok := findRoute(t, h, "fd00:19::2284/128", unix.RTPROT_BOOT); !ok || r.LinkIndex != cali.Attrs().Index {
			t.Errorf("node1 has no fd00:19::2284/128 dev caliea2aa288365: %v", r)
		}
		if r, ok := findRoute(t, h, "fd00:19::2280/122", protoBird); !ok || r.Type != unix.RTN_BLACKHOLE {
			t.Errorf("node1's own block is not blackholed by BIRD: %v", r)
		}
		for _, w := range []struct{ dst, gw string }{
			{"fd00:19::2100/122", "fd00:198::1"},
			{"fd00:19::2140/122", "fd00:198::3"},
			{"fd00:19::228c/128", "fd00:198::3"}, // borrowed by node2
		} {
			if r, ok := findRoute(t, h, w.dst, protoBird); !ok || r.Gw.String() != w.gw && !r.Gw.IsLinkLocalUnicast() {
				t.Errorf("node1 has no %s via %s proto bird: %v", w.dst, w.gw, r)
			}
		}
	})
	t.Run("ping", func(t *testing.T) {
		netnstest.Ping(t, pod, netip.MustParseAddr("fd00:19::2141")) // database, on node2
		netnstest.Ping(t, pod, netip.MustParseAddr("fd00:19::228c")) // borrowed, on node2
		netnstest.Ping(t, pod, netip.MustParseAddr("198.19.21.65"))
	})
	t.Run("facts", func(t *testing.T) {
		f := st.Facts(CustomerNamespace, CustomerPod)
		if f.ClusterCIDR6 != clusterCIDR6 || f.BlockSize6 != 122 || f.Pod.IP6.String() != "fd00:19::2284" {
			t.Errorf("facts: cluster %s /%d, pod %s", f.ClusterCIDR6, f.BlockSize6, f.Pod.IP6)
		}
		if got := f.NodeByIP(netip.MustParseAddr("fd00:198::3")); got != "node2" {
			t.Errorf("fd00:198::3 is %q, want node2", got)
		}
		if !slices.Contains(f.Blocks, netview.Block{CIDR: netip.MustParsePrefix("fd00:19::2280/122"), Node: "node1"}) {
			t.Errorf("no IPv6 block for node1 in %v", f.Blocks)
		}
	})
	if err := Down(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	assertGone(t, o, st)
}
