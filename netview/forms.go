package netview

import (
	"cmp"
	"fmt"
	"net/netip"
)

// What a route is by its shape: the devices Felix makes, tunnels and
// their endpoints, blocks and what is wider than one, and blackholes.

// Devices Felix makes, by the names it gives them.
const (
	devIPIP   = "tunl0"
	devVXLAN  = "vxlan.calico"
	devVXLAN6 = "vxlan-v6.calico"
	// devBPFIn: in eBPF mode, the node's own traffic to a service is
	// routed in here, where Calico's programs resolve the service.
	devBPFIn = "bpfin.cali"
)

func isTunnel(dev string) bool { return dev == devIPIP || isVXLAN(dev) }

func isVXLAN(dev string) bool { return dev == devVXLAN || dev == devVXLAN6 }

// encapOf is what a route out of dev wraps its packets in.
func encapOf(dev string) string {
	switch {
	case dev == devIPIP:
		return "ipip"
	case isVXLAN(dev):
		return "vxlan"
	}
	return ""
}

// leavesByNode: the route, or a next hop of it, goes through a gateway
// or a tunnel.
func leavesByNode(r *Route) bool {
	if r.Gw.IsValid() || isTunnel(r.Dev) {
		return true
	}
	for _, h := range r.NextHops {
		if h.Gw.IsValid() || isTunnel(h.Dev) {
			return true
		}
	}
	return false
}

// isVTEP: Felix's route to another node's VXLAN tunnel address, which
// has no gateway (the address is the VXLAN device's peer).
func isVTEP(r *Route, dst netip.Prefix) bool {
	return isVXLAN(r.Dev) && !r.Gw.IsValid() && hostLen(dst) && routeType(r) == "unicast"
}

// usesDev: the route, or a next hop of it, goes out of dev.
func usesDev(r *Route, dev string) bool {
	if r.Dev == dev {
		return true
	}
	for _, h := range r.NextHops {
		if h.Dev == dev {
			return true
		}
	}
	return false
}

// blockBits is the IPAM block prefix length of dst's family, and whether
// the facts say it; otherwise Calico's default.
func blockBits(f *Facts, v6 bool) (int, bool) {
	if v6 {
		return cmp.Or(f.BlockSize6, 122), f.BlockSize6 != 0
	}
	return cmp.Or(f.BlockSize, 26), f.BlockSize != 0
}

// widestBlock is the largest a block of dst's family can be: the pool's
// block size when the facts say it (known), else the largest Calico
// allows (/20 for IPv4, /116 for IPv6).
func widestBlock(f *Facts, v6 bool) (bits int, known bool) {
	if bits, known := blockBits(f, v6); known {
		return bits, true
	}
	if v6 {
		return 116, false
	}
	return 20, false
}

// widerThanBlock: dst is larger than any block of the pool can be.
func widerThanBlock(f *Facts, dst netip.Prefix) bool {
	bits, _ := widestBlock(f, dst.Addr().Is6())
	return dst.Bits() < bits
}

// widestBlockWords say why a prefix of dst's family is wider than a block.
func widestBlockWords(f *Facts, v6 bool) string {
	bits, known := widestBlock(f, v6)
	if known {
		return fmt.Sprintf("the pool's blocks are /%d", bits)
	}
	return fmt.Sprintf("no Calico block is larger than /%d", bits)
}

// hopByIndex: a next hop of the route names its device by index alone.
func hopByIndex(r *Route) bool {
	for _, h := range r.NextHops {
		if h.Dev == "" && h.DevIndex != 0 {
			return true
		}
	}
	return false
}

// refusingWords explain a route of a type other than unicast and
// blackhole (unreachable, prohibit, throw...): none of them are
// Calico's.
func refusingWords(r *Route, dst netip.Prefix) string {
	switch r.Type {
	case "unreachable", "prohibit":
	case "throw":
		return fmt.Sprintf("a throw route (%s): the lookup for %s leaves this table for the next rule's; not one of Calico's routes", protoWords(r), dst)
	default:
		return fmt.Sprintf("a %s route (%s) in the main table: not one of Calico's routes", r.Type, protoWords(r))
	}
	if dst == mappedV4 {
		return fmt.Sprintf("the kernel's %s route for IPv4-mapped IPv6 addresses (%s), there once the sit module is loaded: IPv6 traffic to them is refused; not one of Calico's routes", r.Type, dst)
	}
	return fmt.Sprintf("a %s route (%s): the kernel refuses traffic to %s with an error; not one of Calico's routes", r.Type, protoWords(r), dst)
}

var mappedV4 = netip.MustParsePrefix("::ffff:0.0.0.0/96")

func blackholeClass(f *Facts, r *Route, dst netip.Prefix, node string, localPods []netip.Addr) (Class, string) {
	how := "BIRD installs it and announces the block to the other nodes (proto bird)"
	switch r.Protocol {
	case ProtoFelix:
		how = "Felix writes it (proto 80), as it does in VXLAN mode"
	case ProtoBird:
	default:
		how = protoWords(r)
	}
	why := "its pods have /32s; any other address in it is dropped here instead of leaving by the default route"
	if dst.Addr().Is6() {
		why = "its pods have /128s; any other address in it is dropped here instead of leaving by the default route"
	}
	for _, b := range f.Blocks {
		if b.CIDR == dst && node != "" && b.Node == node {
			return ClassLocalBlockBlackhole, fmt.Sprintf("%s's own IPAM block %s: %s; %s", node, dst, why, how)
		}
		if b.CIDR == dst {
			return ClassOther, fmt.Sprintf("a blackhole for %s's block %s, not this node's", b.Node, dst)
		}
	}
	if widerThanBlock(f, dst) {
		return ClassOther, fmt.Sprintf("a blackhole larger than a block (%s): not a node's block; %s", widestBlockWords(f, dst.Addr().Is6()), protoWords(r))
	}
	ownKnown := false
	for _, b := range f.Blocks {
		if node != "" && b.Node == node {
			ownKnown = true
		}
	}
	if !ownKnown {
		for _, a := range localPods {
			if dst.Contains(a) {
				return ClassLocalBlockBlackhole, fmt.Sprintf("covers this node's pod routes, so %s is taken to be its own block: %s; %s", dst, why, how)
			}
		}
	}
	// A node with no pods (a control-plane node) still blackholes its
	// own blocks, and Calico blackholes no other node's.
	bits, known := blockBits(f, dst.Addr().Is6())
	calicos := r.Protocol == ProtoBird || r.Protocol == ProtoFelix ||
		f.ClusterCIDR.IsValid() && f.ClusterCIDR.Overlaps(dst) || f.ClusterCIDR6.IsValid() && f.ClusterCIDR6.Overlaps(dst)
	if len(f.Blocks) == 0 && dst.Bits() == bits && calicos {
		size := fmt.Sprintf("a /%d, Calico's default block size", bits)
		if known {
			size = fmt.Sprintf("a /%d, the pool's block size", bits)
		}
		return ClassLocalBlockBlackhole, fmt.Sprintf("most likely this node's own block: %s, with no pods of this node in it yet, and Calico blackholes only the blocks affine to the node it runs on (the block affinities were not read, which would say); %s; %s", size, why, how)
	}
	return ClassOther, "a blackhole that is not this node's block"
}
