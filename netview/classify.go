package netview

import (
	"fmt"
	"net/netip"
	"strings"
)

// classifyPod appends the pod's classed routes to out.
func classifyPod(out []RouteClass, s *Snapshot, gw netip.Addr) []RouteClass {
	for i := range s.Routes {
		r := &s.Routes[i]
		if !isClassed(r) {
			continue
		}
		rc := newRouteClass(SidePod, r)
		dst := routeDst(r)
		switch {
		case dst.Bits() == 0 && r.Gw.IsValid():
			rc.Class = ClassPodDefault
			rc.Reason = fmt.Sprintf("the pod's default route: everything it sends beyond itself goes to %s out of %s", r.Gw, r.Dev)
			if r.Gw != calicoGateway {
				rc.Reason += fmt.Sprintf(" (Calico would use %s)", calicoGateway)
			}
		case hostLen(dst) && dst.Addr() == gw && !r.Gw.IsValid() && r.Scope == "link":
			rc.Class = ClassPodGateway
			rc.Reason = fmt.Sprintf("tells the pod %s is on the link %s, so it can ARP for it although its own address is a /32", gw, r.Dev)
		case r.Protocol == ProtoKernel && r.Scope == "link":
			rc.Class = ClassConnected
			rc.Reason = fmt.Sprintf("added by the kernel for an address on %s", r.Dev)
		default:
			rc.Class = ClassOther
			rc.Reason = "not one of the two routes Calico's CNI plugin gives a pod"
		}
		out = append(out, rc)
	}
	return out
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

func isTunnel(dev string) bool { return dev == "tunl0" || dev == "vxlan.calico" }

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
	case p.Namespace == "yaobank" && (p.Name == "customer" || strings.HasPrefix(p.Name, "customer-")):
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
		if f.ClusterCIDR.IsValid() && f.ClusterCIDR.Overlaps(dst) {
			return true
		}
		for _, b := range f.Blocks {
			if b.CIDR.Overlaps(dst) {
				return true
			}
		}
		return r.Protocol == ProtoBird || r.Protocol == ProtoFelix || isTunnel(r.Dev)
	}
	// nodeFor names the node a remote route leads to.
	nodeFor := func(r *Route, dst netip.Prefix, preferGw bool) string {
		byGw := f.NodeByIP(r.Gw)
		if byGw == "" && r.Gw.IsValid() && isTunnel(r.Dev) {
			// a VXLAN next hop is the remote node's tunnel address, taken from its block
			if b := blockOf(f, r.Gw); b != nil {
				byGw = b.Node
			}
		}
		byBlock := ""
		for _, b := range f.Blocks {
			if b.CIDR == dst || (!preferGw && b.CIDR.Contains(dst.Addr())) {
				byBlock = b.Node
			}
		}
		if preferGw && byGw != "" || byBlock == "" {
			return byGw
		}
		return byBlock
	}
	// A node's thousands of routes lead through a handful of next hops:
	// their words are made once per next hop, device and peer.
	type viaKey struct {
		gw        netip.Addr
		dev, peer string
	}
	vias := map[viaKey]string{}
	via := func(r *Route, peer string) string {
		k := viaKey{r.Gw, r.Dev, peer}
		if w, ok := vias[k]; ok {
			return w
		}
		who := r.Gw.String()
		if peer != "" {
			who = peer + " (" + r.Gw.String() + ")"
		}
		var w string
		switch r.Dev {
		case "tunl0":
			w = fmt.Sprintf("encapsulated IP-in-IP to %s through tunl0 (onlink: the next hop is not on tunl0's subnet)", who)
		case "vxlan.calico":
			w = fmt.Sprintf("encapsulated in VXLAN to %s's tunnel address through vxlan.calico (onlink: the next hop is not on its subnet)", who)
		default:
			w = fmt.Sprintf("via %s on %s", who, r.Dev)
		}
		vias[k] = w
		return w
	}
	learned := func(r *Route) string {
		switch r.Protocol {
		case ProtoBird:
			return "learned over BGP (proto bird)"
		case ProtoFelix:
			return "written by Felix (proto 80)"
		}
		return "proto " + ProtoName(r.Protocol)
	}

	type blockWordsKey struct {
		peer  string
		proto int
		via   string
	}
	blockWords := map[blockWordsKey]string{}
	gwTexts := map[netip.Addr]string{}
	words := wordsOf{}
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
		// default route's words on the routes that cover 169.254.1.1:
		// those are worked out each time.
		if rc, ok := memo.find(r); ok && r.Type != "blackhole" && routeDst(r).Bits() != 0 {
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
		rc := RouteClass{Side: SideHost, Dst: dstText(r), Route: r, RouteWords: &RouteWords{Dev: r.Dev, Gateway: gw,
			Proto: ProtoName(r.Protocol), Type: routeType(r)}}
		dst := routeDst(r)
		switch {
		case r.Type == "blackhole":
			rc.Class, rc.Reason = blackholeClass(f, r, dst, node, localPods)
		case dst.Bits() == 0:
			rc.Class = ClassDefault
			rc.Reason = fmt.Sprintf("%s's default route (%s): where traffic goes when nothing more specific matches", nodeWords, protoWords(r))
			if dst.Contains(calicoGateway) {
				if lr, ok := Lookup(s, calicoGateway); ok && lr.Dst == r.Dst && lr.Gw == r.Gw {
					rc.Reason += "; it also covers 169.254.1.1, which proxy ARP needs before it answers the pods"
				}
			}
		case isLocalPod(r):
			rc.Class = ClassLocalPod
			who := "a pod on " + nodeWords
			if pf := f.PodByIP(dst.Addr()); pf != nil {
				rc.Peer = pf.Namespace + "/" + pf.Name
				who = "pod " + rc.Peer
			}
			end := ""
			if hostIf != nil && r.Dev == hostIf.Name {
				end = ", the host end of " + PodWords(f) + "'s veth"
			}
			rc.Reason = fmt.Sprintf("traffic for %s (%s) goes straight out of %s%s", who, dst.Addr(), r.Dev, end)
			if r.Protocol == ProtoBoot {
				rc.Reason += "; Felix writes it with RTPROT_BOOT, so ip shows no proto"
			} else {
				rc.Reason += fmt.Sprintf("; proto %s (Felix writes these with RTPROT_BOOT, which ip does not show)", ProtoName(r.Protocol))
			}
		case (r.Gw.IsValid() || isTunnel(r.Dev)) && podNet(r, dst):
			if hostLen(dst) {
				rc.Class = ClassRemotePod
				rc.Peer = nodeFor(r, dst, true)
				holder := ""
				if pf := f.PodByIP(dst.Addr()); pf != nil {
					rc.Pod = pf.Namespace + "/" + pf.Name
					holder = " (pod " + rc.Pod + ")"
				}
				rc.Reason = fmt.Sprintf("a single pod IP %s%s, %s, %s", dst.Addr(), holder, learned(r), via(r, rc.Peer))
				if b := blockOf(f, dst.Addr()); b != nil && b.Node != rc.Peer {
					rc.Reason += fmt.Sprintf(": it lies in %s's block %s, so %s borrowed it when IPAM ran short of blocks", b.Node, b.CIDR, nodeOr(rc.Peer, "that node"))
				} else {
					rc.Reason += ": a borrowed IP, announced as a more specific route than its block"
				}
			} else {
				rc.Class = ClassRemoteBlock
				rc.Peer = nodeFor(r, dst, false)
				// The commonest route on a large node: its words name
				// the node and the next hop, not the block (its line
				// shows it), and are made once for each.
				k := blockWordsKey{rc.Peer, r.Protocol, via(r, rc.Peer)}
				w, ok := blockWords[k]
				if !ok {
					w = nodeOr(rc.Peer, "another node") + "'s block, " + learned(r) + ", " + k.via
					blockWords[k] = w
				}
				rc.Reason = w
			}
		case r.Protocol == ProtoKernel && r.Scope == "link":
			rc.Class = ClassConnected
			rc.Reason = fmt.Sprintf("added by the kernel for %s's address", r.Dev)
			if r.Src.IsValid() {
				rc.Reason = fmt.Sprintf("added by the kernel for %s's address %s", r.Dev, r.Src)
			}
			rc.Reason += fmt.Sprintf(": %s is reached directly on %s", dst, r.Dev)
			for _, n := range f.Nodes {
				if dst.Contains(n.InternalIP) && n.Name != node {
					rc.Reason += ", and the other nodes are in it"
					break
				}
			}
		default:
			rc.Class = ClassOther
			rc.Reason = "not one of Calico's routes"
			if hostLen(dst) && !r.Gw.IsValid() && r.Scope == "link" {
				if def != nil && def.Gw == dst.Addr() {
					rc.Reason = fmt.Sprintf("a link-scope route to %s, the default route's gateway (%s)", dst.Addr(), protoWords(r))
				}
			}
		}
		rc.RouteWords = words.intern(rc.RouteWords)
		out = append(out, rc)
	}
	return out
}

// MayHaveRemotePods says whether the node has a route the analysis could
// class as another node's pod whose pod the facts do not name: a main
// /32 through a next hop or a tunnel. It is cheap; false spares a caller
// the analysis of a large node.
func MayHaveRemotePods(p *Pair) bool {
	for i := range p.Host.Routes {
		r := &p.Host.Routes[i]
		if !isClassed(r) || !hostLen(routeDst(r)) {
			continue
		}
		if (r.Gw.IsValid() || isTunnel(r.Dev)) && p.Facts.PodByIP(routeDst(r).Addr()) == nil {
			return true
		}
	}
	return false
}

func nodeOr(n, or string) string {
	if n == "" {
		return or
	}
	return n
}

func protoWords(r *Route) string {
	if r.Protocol == ProtoBoot {
		return "no proto shown"
	}
	return "proto " + ProtoName(r.Protocol)
}

func blackholeClass(f *Facts, r *Route, dst netip.Prefix, node string, localPods []netip.Addr) (Class, string) {
	how := "BIRD installs it and announces the block to the other nodes (proto bird)"
	switch r.Protocol {
	case ProtoFelix:
		how = "Felix writes it (proto 80), as it does in VXLAN mode"
	case ProtoBird:
	default:
		how = protoWords(r)
	}
	const why = "its pods have /32s; any other address in it is dropped here instead of leaving by the default route"
	for _, b := range f.Blocks {
		if b.CIDR == dst && node != "" && b.Node == node {
			return ClassLocalBlockBlackhole, fmt.Sprintf("%s's own IPAM block %s: %s; %s", node, dst, why, how)
		}
		if b.CIDR == dst {
			return ClassOther, fmt.Sprintf("a blackhole for %s's block %s, not this node's", b.Node, dst)
		}
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
	return ClassOther, "a blackhole that is not this node's block"
}
