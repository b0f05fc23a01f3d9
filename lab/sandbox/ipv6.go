package sandbox

import (
	"fmt"
	"net/netip"
	"podlab/netview"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The dual-stack sandbox's IPv6 side (--ipv6), in unique local addresses
// (fd00::/8), which nothing routes outside. Each IPv6 address is made
// from its IPv4 twin, so the lesson's numbers read the same in both
// families: pod 198.19.22.132 is fd00:19::2284, node1's block
// 198.19.22.128/26 is fd00:19::2280/122, node 198.19.0.2 is fd00:198::2.
var (
	fabricNet6   = netip.MustParsePrefix("fd00:198::/64")
	clusterCIDR6 = netip.MustParsePrefix("fd00:19::/48")
)

// blockSize6 is Calico's default IPv6 block size.
const blockSize6 = 122

// ip6Of is the IPv6 twin of a cluster address: the third byte's decimal
// digits read as hex, then the last byte, so 198.19.22.132 becomes
// fd00:19::2284 (22, then 132 = 0x84), and a /26 block stays a /122.
func ip6Of(a netip.Addr) netip.Addr {
	b := clusterCIDR6.Addr().As16()
	v := a.As4()
	b[14], b[15] = v[2]/10%10<<4|v[2]%10, v[3] // the pool's third bytes are 16-31
	return netip.AddrFrom16(b)
}

// block6Of is the IPv6 twin of a node's /26 block: a /122 holds 64
// addresses too.
func block6Of(p netip.Prefix) netip.Prefix {
	return netip.PrefixFrom(ip6Of(p.Addr()), blockSize6)
}

// nodeIP6Of is a node's IPv6 address on the fabric: fd00:198::<last
// byte of its IPv4 address>.
func nodeIP6Of(a netip.Addr) netip.Addr {
	b := fabricNet6.Addr().As16()
	b[15] = a.As4()[3]
	return netip.AddrFrom16(b)
}

// node6 gives a node its IPv6 address on the fabric (no DAD: the fabric
// holds only the sandbox's nodes) and forwarding, as a dual-stack node
// has.
func node6(h *netlink.Handle, eth0 netlink.Link, n *NodeInfo) error {
	a := &netlink.Addr{IPNet: ipnet(netip.PrefixFrom(n.IP6, fabricNet6.Bits())), Flags: unix.IFA_F_NODAD}
	if err := h.AddrAdd(eth0, a); err != nil {
		return fmt.Errorf("address %s on %s eth0: %w", n.IP6, n.Name, err)
	}
	return setSysctls(n.NS, "all", []sysctl{{"ipv6.forwarding", "1"}})
}

// noDAD turns duplicate address detection off on the two ends of a new
// veth while they are still in the pod's namespace, as Calico's CNI
// plugin does, so their addresses are usable at once.
func noDAD(nsName, hostIf string) error {
	off := []sysctl{{"ipv6.accept_dad", "0"}}
	if err := setSysctls(nsName, "eth0", off); err != nil {
		return err
	}
	return setSysctls(nsName, hostIf, off)
}

// pod6 is the pod side of Calico's IPv6 wiring: the default route via the
// host end's link-local address (no 169.254.1.1 stand-in is needed, the
// host end has a real address), then the pod's /128.
func pod6(ph *netlink.Handle, eth0 netlink.Link, ip6 netip.Addr) error {
	def := &netlink.Route{LinkIndex: eth0.Attrs().Index, Dst: ipnet(netip.PrefixFrom(netip.IPv6Unspecified(), 0)), Gw: netview.CalicoLinkLocal.AsSlice(), Protocol: unix.RTPROT_BOOT}
	if err := ph.RouteAdd(def); err != nil {
		return fmt.Errorf("pod IPv6 default route via %s: %w", netview.CalicoLinkLocal, err)
	}
	if err := ph.AddrAdd(eth0, &netlink.Addr{IPNet: ipnet(netip.PrefixFrom(ip6, 128))}); err != nil {
		return fmt.Errorf("pod address %s: %w", ip6, err)
	}
	return nil
}

// hostSysctls6 are the host end's IPv6 settings Calico's CNI plugin
// writes: proxy NDP (as proxy ARP for IPv4) and forwarding. accept_dad
// is set again because a link moved to another namespace takes that
// namespace's defaults.
var hostSysctls6 = []sysctl{
	{"ipv6.disable_ipv6", "0"},
	{"ipv6.accept_dad", "0"},
	{"ipv6.proxy_ndp", "1"},
	{"ipv6.forwarding", "1"},
}

// host6 is the node's /128 route into the pod, as Calico's CNI plugin
// writes it (SetupRoutes: scope link, no gateway).
func host6(nh *netlink.Handle, host netlink.Link, ip6 netip.Addr) error {
	r := &netlink.Route{LinkIndex: host.Attrs().Index, Dst: ipnet(netip.PrefixFrom(ip6, 128)), Scope: netlink.SCOPE_LINK, Protocol: unix.RTPROT_BOOT}
	if err := nh.RouteAdd(r); err != nil {
		return fmt.Errorf("route to pod %s: %w", ip6, err)
	}
	return nil
}
