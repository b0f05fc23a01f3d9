package netview

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// classifyPod appends the pod's classed routes to out; gw is its IPv4
// gateway, g6 its IPv6 one (nil when it has no IPv6).
func classifyPod(out []RouteClass, s *Snapshot, gw netip.Addr, g6 *Gateway6) []RouteClass {
	for i := range s.Routes {
		r := &s.Routes[i]
		if !isClassed(r) {
			continue
		}
		rc := newRouteClass(SidePod, r)
		dst := routeDst(r)
		v6 := dst.Addr().Is6()
		switch {
		case dst.Bits() == 0 && v6 && (r.Gw.IsValid() || len(r.NextHops) > 0):
			rc.Class = ClassPodDefault
			via, dev := firstGw(r)
			rc.Reason = fmt.Sprintf("the pod's IPv6 default route: everything it sends beyond itself goes to %s out of %s", via, dev)
			switch {
			case g6 != nil && g6.HostOwns && via.WithZone("") == g6.Address.WithZone(""):
				rc.Reason += ", the link-local address of the host end of its veth, which Calico's CNI plugin reads off the host end and makes the pod's IPv6 next hop"
			case via.WithZone("") == CalicoLinkLocal:
				rc.Reason += fmt.Sprintf(": the link-local address the host end of its veth has from its MAC %s, which Calico's CNI plugin makes the pod's IPv6 next hop", CalicoMAC)
			default:
				rc.Reason += fmt.Sprintf(" (Calico would use the host end's link-local address, %s with its MAC %s)", CalicoLinkLocal, CalicoMAC)
			}
		case dst.Bits() == 0 && r.Gw.IsValid():
			rc.Class = ClassPodDefault
			rc.Reason = fmt.Sprintf("the pod's default route: everything it sends beyond itself goes to %s out of %s", r.Gw, r.Dev)
			if r.Gw != CalicoGateway {
				rc.Reason += fmt.Sprintf(" (Calico would use %s)", CalicoGateway)
			}
		case hostLen(dst) && dst.Addr() == gw && !r.Gw.IsValid() && r.Scope == "link":
			rc.Class = ClassPodGateway
			rc.Reason = fmt.Sprintf("tells the pod %s is on the link %s, so it can ARP for it although its own address is a /32", gw, r.Dev)
		case isConnected(r, dst):
			rc.Class = ClassConnected
			rc.Reason = fmt.Sprintf("added by the kernel for an address on %s", r.Dev)
			if v6 && dst.Addr().IsLinkLocalUnicast() && g6 != nil && g6.Address.IsLinkLocalUnicast() {
				rc.Reason = fmt.Sprintf("added by the kernel for %s's link-local address: it puts %s, the pod's IPv6 gateway, directly on the link, as %s's route does for IPv4", r.Dev, g6.Address.WithZone(""), CalicoGateway)
			}
		default:
			rc.Class = ClassOther
			rc.Reason = "not one of the routes Calico's CNI plugin gives a pod"
		}
		out = append(out, rc)
	}
	return out
}

// isConnected: the kernel made the route for an address on its device
// (IPv6's have scope global, IPv4's scope link).
func isConnected(r *Route, dst netip.Prefix) bool {
	return r.Protocol == ProtoKernel && routeType(r) == "unicast" && !r.Gw.IsValid() && len(r.NextHops) == 0 &&
		(r.Scope == "link" || dst.Addr().Is6() && r.Dev != "")
}

func newRouteClass(side Side, r *Route) RouteClass {
	return RouteClass{Side: side, Dst: dstText(r), Route: r, RouteWords: &RouteWords{Dev: r.Dev, Gateway: addrText(r.Gw),
		Proto: ProtoName(r.Protocol), Type: routeType(r)}}
}

func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func routeType(r *Route) string {
	if r.Type == "" {
		return "unicast"
	}
	return r.Type
}

// ownNode is the node the host snapshot belongs to.
func ownNode(f *Facts) string {
	if f.Node != "" {
		return f.Node
	}
	return f.Pod.Node
}

// PodWords names the shown pod in explanations: "the customer pod" for
// the lesson's, otherwise the pod itself ("pod bank/teller-7d9f…"), so
// that words follow -l and --pod.
func PodWords(f *Facts) string {
	p := f.Pod
	switch {
	case p.Name == "":
		return "the pod"
	case IsCustomerPod(p.Namespace, p.Name):
		return "the customer pod"
	}
	if p.Namespace == "" {
		return "pod " + p.Name
	}
	return "pod " + p.Namespace + "/" + p.Name
}

// blockOf returns the block that contains a, or nil.
func blockOf(f *Facts, a netip.Addr) *Block {
	for i := range f.Blocks {
		if f.Blocks[i].CIDR.Contains(a) {
			return &f.Blocks[i]
		}
	}
	return nil
}

// classifyHost appends the node's classed routes to out, in one pass.
func classifyHost(out []RouteClass, p *Pair, hostIf *Link, z *Analyzer) []RouteClass {
	f := &p.Facts
	s := &p.Host
	prefix := f.Prefix()
	node := ownNode(f)
	nodeWords := "this node"
	if node != "" {
		nodeWords = node
	}
	blocks := newBlockIndex(f.Blocks)
	isLocalPod := func(r *Route) bool {
		return routeType(r) == "unicast" && strings.HasPrefix(r.Dev, prefix) && hostLen(routeDst(r)) && !r.Gw.IsValid()
	}
	var localPods []netip.Addr
	for i := range s.Routes {
		if r := &s.Routes[i]; isMain(r) && isLocalPod(r) {
			localPods = append(localPods, routeDst(r).Addr())
		}
	}
	podNet := func(r *Route, dst netip.Prefix) bool {
		for _, pool := range []netip.Prefix{f.ClusterCIDR, f.ClusterCIDR6} {
			if pool.IsValid() && pool.Overlaps(dst) {
				return true
			}
		}
		if blocks.overlaps(dst) {
			return true
		}
		return r.Protocol == ProtoBird || r.Protocol == ProtoFelix || usesDev(r, devIPIP) || usesDev(r, devVXLAN) || usesDev(r, devVXLAN6)
	}
	// gwNode names the node a next hop is.
	gwNode := func(gw netip.Addr, dev string) string {
		n := f.NodeByIP(gw)
		if n == "" && gw.IsValid() && isTunnel(dev) {
			// a VXLAN next hop is the remote node's tunnel address, taken from its block
			if b := blocks.first(gw); b != nil {
				n = b.Node
			}
		}
		return n
	}
	// nodeFor names the node a remote route leads to.
	nodeFor := func(gw netip.Addr, dev string, dst netip.Prefix, preferGw bool) string {
		byGw := gwNode(gw, dev)
		byBlock := blocks.lastNode(dst, !preferGw)
		if preferGw && byGw != "" || byBlock == "" {
			return byGw
		}
		return byBlock
	}
	// A tunnel mode's node has plain routes beside its tunnelled ones
	// (cross-subnet: to nodes on its own subnet).
	tunnelMode := f.Mode == "vxlan" || f.Mode == "ipip"
	// A node's thousands of routes lead through a handful of next hops:
	// their words are made once per next hop, device and peer.
	type viaKey struct {
		gw        netip.Addr
		dev, peer string
		unwrapped bool
	}
	vias := map[viaKey]string{}
	// via words a next hop; toNode says it leads to another node's pods,
	// which in a tunnel mode a plain route reaches unencapsulated.
	via := func(r *Route, gw netip.Addr, dev, peer string, toNode bool) string {
		k := viaKey{gw, dev, peer, toNode && !isTunnel(dev) && (tunnelMode || r.Protocol == ProtoFelix)}
		if w, ok := vias[k]; ok {
			return w
		}
		who := gw.String()
		if peer != "" {
			who = peer + " (" + who + ")"
		}
		var w string
		switch {
		case !gw.IsValid() && !isTunnel(dev):
			w = fmt.Sprintf("straight out of %s", dev)
		case dev == devIPIP:
			w = fmt.Sprintf("encapsulated IP-in-IP to %s through tunl0 (onlink: the next hop is not on tunl0's subnet)", who)
		case isVXLAN(dev):
			w = fmt.Sprintf("encapsulated in VXLAN to %s's tunnel address through %s (onlink: the next hop is not on its subnet)", who, dev)
		case gw.Is6() && gw.IsLinkLocalUnicast():
			w = fmt.Sprintf("via %s on %s, a link-local address of the node on that link", who, dev)
		default:
			w = fmt.Sprintf("via %s on %s", who, dev)
		}
		if k.unwrapped {
			w += ", unencapsulated (cross-subnet: the node shares this node's subnet)"
		}
		vias[k] = w
		return w
	}
	learned := func(r *Route) string {
		switch {
		case r.Protocol == ProtoBird:
			return "learned over BGP (proto bird)"
		case r.Protocol == ProtoFelix:
			return "written by Felix (proto 80)"
		case r.Protocol == ProtoBoot && (usesDev(r, devVXLAN) || usesDev(r, devVXLAN6) || tunnelMode):
			return "written by Felix (no proto shown: recent Felix writes RTPROT_BOOT, older proto 80)"
		}
		return protoWords(r)
	}
	// paths names a multipath route's next hops; one for each, with
	// their words joined, and the nodes they are.
	paths := func(r *Route, toNode bool) (hops []HopWords, words string, nodes []string) {
		hops = make([]HopWords, len(r.NextHops))
		ws := make([]string, len(r.NextHops))
		for k, h := range r.NextHops {
			dev := h.Dev
			if l := s.LinkByIndex(h.DevIndex); dev == "" && l != nil {
				dev = l.Name
			}
			peer := gwNode(h.Gw, dev)
			hops[k] = HopWords{Gateway: addrText(h.Gw), Dev: dev, Peer: peer}
			ws[k] = via(r, h.Gw, dev, peer, toNode)
			if peer != "" && !slices.Contains(nodes, peer) {
				nodes = append(nodes, peer)
			}
		}
		return hops, fmt.Sprintf("over %d next hops (multipath): %s", len(hops), strings.Join(ws, "; ")), nodes
	}

	type blockWordsKey struct {
		peer  string
		proto int
		via   string
	}
	blockWords := map[blockWordsKey]string{}
	gwTexts := map[netip.Addr]string{}
	words := wordsOf{}
	// A route's words are worked out here and kept only when no route
	// before read alike (intern copies them): most of a large node's
	// routes share theirs.
	scratch := new(RouteWords)
	def := defaultRoute(s)
	var memo *routeMemo
	if z != nil {
		memo = &z.memo
		memo.begin(z.reuse(f, hostIf, def))
		defer func() { memo.end(out) }()
	}
	for i := range s.Routes {
		r := &s.Routes[i]
		if !isClassed(r) {
			continue
		}
		// A blackhole's class hangs on the node's other routes, the
		// default route's words on the routes that cover 169.254.1.1, a
		// next hop's named by its index alone on the links: those are
		// worked out each time.
		if rc, ok := memo.find(r); ok && r.Type != "blackhole" && routeDst(r).Bits() != 0 && !hopByIndex(r) {
			memo.hits++
			rc.Route = r // equal, but this snapshot's
			out = append(out, rc)
			continue
		}
		gw, ok := gwTexts[r.Gw]
		if !ok {
			gw = addrText(r.Gw)
			gwTexts[r.Gw] = gw
		}
		*scratch = RouteWords{Dev: r.Dev, Gateway: gw, Proto: ProtoName(r.Protocol), Type: routeType(r)}
		rc := RouteClass{Side: SideHost, Dst: dstText(r), Route: r, RouteWords: scratch}
		dst := routeDst(r)
		switch {
		case r.Type == "blackhole":
			rc.Class, rc.Reason = blackholeClass(f, r, dst, node, localPods)
		case routeType(r) != "unicast":
			rc.Class = ClassOther
			rc.Reason = refusingWords(r, dst)
		case dst.Bits() == 0:
			rc.Class = ClassDefault
			rc.Reason = fmt.Sprintf("%s's default route (%s): where traffic goes when nothing more specific matches", nodeWords, protoWords(r))
			if len(r.NextHops) > 0 {
				var w string
				var hops []HopWords
				hops, w, _ = paths(r, false)
				rc.NextHops = &hops
				rc.Reason += ", " + w
			}
			if dst.Contains(CalicoGateway) {
				if lr, ok := Lookup(s, CalicoGateway); ok && lr.Dst == r.Dst && lr.Gw == r.Gw {
					rc.Reason += "; it also covers " + CalicoGateway.String() + ", which proxy ARP needs before it answers the pods"
				}
			}
		case isLocalPod(r):
			rc.Class = ClassLocalPod
			who := "a pod on " + nodeWords
			// A netns lab knows the pod's address but not its name.
			if pf := f.PodByIP(dst.Addr()); pf != nil && pf.Name != "" {
				rc.Peer = pf.Namespace + "/" + pf.Name
				who = "pod " + rc.Peer
			}
			end := ""
			if hostIf != nil && r.Dev == hostIf.Name {
				end = ", the host end of " + PodWords(f) + "'s veth"
			}
			rc.Reason = fmt.Sprintf("traffic for %s (%s) goes straight out of %s%s", who, dst.Addr(), r.Dev, end)
			if prefix != DefaultInterfacePrefix {
				rc.Reason += fmt.Sprintf(" (a workload's interface: its name starts with %s, Felix's interface prefix here)", prefix)
			}
			if r.Protocol == ProtoBoot {
				rc.Reason += "; Felix writes it with RTPROT_BOOT, so ip shows no proto"
			} else {
				rc.Reason += fmt.Sprintf("; proto %s (Felix writes these with RTPROT_BOOT, which ip does not show)", ProtoName(r.Protocol))
			}
		// Before the device forms: the kernel gives every IPv6 link, Felix's
		// devices too, its fe80::/64.
		case isConnected(r, dst):
			rc.Class = ClassConnected
			switch {
			case dst.Addr().Is6() && dst.Addr().IsLinkLocalUnicast():
				rc.Reason = fmt.Sprintf("added by the kernel for %s's link-local address, as on every IPv6 link", r.Dev)
			case r.Src.IsValid():
				rc.Reason = fmt.Sprintf("added by the kernel for %s's address %s", r.Dev, r.Src)
			default:
				rc.Reason = fmt.Sprintf("added by the kernel for %s's address", r.Dev)
			}
			rc.Reason += fmt.Sprintf(": %s is reached directly on %s", dst, r.Dev)
			for _, n := range f.Nodes {
				if (dst.Contains(n.InternalIP) || dst.Contains(n.InternalIP6)) && n.Name != node {
					rc.Reason += ", and the other nodes are in it"
					break
				}
			}
		case usesDev(r, devBPFIn):
			rc.Class = ClassOther
			rc.Reason = fmt.Sprintf("Felix's, in eBPF mode: the node's own traffic for %s goes into %s, where Calico's eBPF programs resolve the service behind it (when connect-time load balancing does not)", dst, devBPFIn)
		case isVTEP(r, dst):
			rc.Class = ClassTunnelEndpoint
			rc.Encap = "vxlan"
			if b := blocks.first(dst.Addr()); b != nil {
				rc.Peer = b.Node
			}
			rc.Reason = fmt.Sprintf("%s's VXLAN tunnel address (its VTEP, taken from its block): Felix writes a route to each remote node's tunnel address on %s, with no gateway, so that the routes to that node's blocks, via this address onlink, are encapsulated to it; %s",
				cmp.Or(rc.Peer, "another node"), r.Dev, protoWords(r))
			if rc.Peer != "" && rc.Peer == node {
				rc.Reason += fmt.Sprintf("; but the facts put it in %s's own block", node)
			}
		case leavesByNode(r) && podNet(r, dst):
			multi := len(r.NextHops) > 0
			var hopWords string
			var hopNodes []string
			if multi {
				var hops []HopWords
				hops, hopWords, hopNodes = paths(r, true)
				rc.NextHops = &hops
			} else {
				rc.Encap = encapOf(r.Dev)
			}
			// The node the route leads to; a multipath route's block
			// names it, else its next hops do, every one of them.
			switch {
			case !multi:
				rc.Peer = nodeFor(r.Gw, r.Dev, dst, hostLen(dst))
			case hostLen(dst):
				rc.Peer = strings.Join(hopNodes, ", ")
			default:
				rc.Peer = cmp.Or(nodeFor(netip.Addr{}, "", dst, false), strings.Join(hopNodes, ", "))
			}
			switch {
			case hostLen(dst):
				rc.Class = ClassRemotePod
				holder := ""
				if pf := f.PodByIP(dst.Addr()); pf != nil && pf.Name != "" {
					rc.Pod = pf.Namespace + "/" + pf.Name
					holder = " (pod " + rc.Pod + ")"
				}
				w := hopWords
				if !multi {
					w = via(r, r.Gw, r.Dev, rc.Peer, true)
				}
				rc.Reason = fmt.Sprintf("a single pod IP %s%s, %s, %s", dst.Addr(), holder, learned(r), w)
				if b := blocks.first(dst.Addr()); b != nil && b.Node != rc.Peer {
					rc.Reason += fmt.Sprintf(": it lies in %s's block %s, so %s borrowed it when IPAM ran short of blocks", b.Node, b.CIDR, cmp.Or(rc.Peer, "that node"))
				} else {
					rc.Reason += ": a borrowed IP, announced as a more specific route than its block"
				}
			case widerThanBlock(f, dst):
				rc.Class = ClassOther
				w := hopWords
				if !multi {
					w = via(r, r.Gw, r.Dev, rc.Peer, true)
				}
				rc.Reason = fmt.Sprintf("a route to pod addresses %s, %s, %s: larger than a block (%s), so a range of blocks, not one node's", dst, learned(r), w, widestBlockWords(f, dst.Addr().Is6()))
			case multi:
				rc.Class = ClassRemoteBlock
				whose := cmp.Or(rc.Peer, "another node") + "'s block"
				if len(hopNodes) > 1 && rc.Peer == strings.Join(hopNodes, ", ") {
					whose = "a block reached through " + strings.Join(hopNodes, " and ")
				}
				rc.Reason = whose + ", " + learned(r) + ", " + hopWords
			default:
				rc.Class = ClassRemoteBlock
				// The commonest route on a large node: its words name
				// the node and the next hop, not the block (its line
				// shows it), and are made once for each.
				k := blockWordsKey{rc.Peer, r.Protocol, via(r, r.Gw, r.Dev, rc.Peer, true)}
				w, ok := blockWords[k]
				if !ok {
					w = cmp.Or(rc.Peer, "another node") + "'s block, " + learned(r) + ", " + k.via
					blockWords[k] = w
				}
				rc.Reason = w
			}
		default:
			rc.Class = ClassOther
			rc.Reason = "not one of Calico's routes"
			switch {
			case hostLen(dst) && !r.Gw.IsValid() && r.Scope == "link" && def != nil && def.Gw == dst.Addr():
				rc.Reason = fmt.Sprintf("a link-scope route to %s, the default route's gateway (%s)", dst.Addr(), protoWords(r))
			case hostLen(dst) && !r.Gw.IsValid() && r.Dev != "" && len(r.NextHops) == 0:
				rc.Reason = fmt.Sprintf("not one of Calico's routes: a single address out of %s, but Calico's workload interfaces here start with %s (Felix's interface prefix, as podlab read it)", r.Dev, prefix)
			}
		}
		rc.RouteWords = words.intern(rc.RouteWords)
		out = append(out, rc)
	}
	return out
}

// MayHaveRemotePods says whether the node has a route the analysis could
// class as another node's pod whose pod the facts do not name: a main
// /32 (or /128) through a next hop or a tunnel, not a tunnel endpoint.
// It is cheap; false spares a caller the analysis of a large node.
func MayHaveRemotePods(p *Pair) bool {
	for i := range p.Host.Routes {
		r := &p.Host.Routes[i]
		d := routeDst(r)
		if !isClassed(r) || !hostLen(d) || isVTEP(r, d) {
			continue
		}
		if leavesByNode(r) && p.Facts.PodByIP(d.Addr()) == nil {
			return true
		}
	}
	return false
}

func protoWords(r *Route) string {
	if r.Protocol == ProtoBoot {
		return "no proto shown"
	}
	return "proto " + ProtoName(r.Protocol)
}
