package netview

import (
	"cmp"
	"fmt"
	"net/netip"
	"strings"
)

// Analyze works out what the lesson teaches from a pod's and its node's
// snapshots: the veth pair, the gateway, and what each route is for.
func Analyze(p *Pair) Analysis { return analyze(p, nil) }

// analyze is Analyze, with z's memory when z is not nil.
func analyze(p *Pair, z *Analyzer) Analysis {
	var a Analysis
	if p == nil {
		return a
	}
	f := &p.Facts
	if f.Pod.Name != "" {
		a.ExpectedHostIf = VethName(f.Prefix(), f.Pod.Namespace, f.Pod.Name)
	}
	podIf := podVeth(&p.Pod)
	var hostIf *Link
	a.Veth, hostIf = pairVeth(p, podIf)
	a.Gateway = gatewayOf(p, podIf, hostIf)
	// One allocation for both sides: a node may hold tens of thousands.
	a.Routes = make([]RouteClass, 0, len(p.Pod.Routes)+len(p.Host.Routes))
	a.Routes = classifyPod(a.Routes, &p.Pod, a.Gateway.Address)
	a.Routes = classifyHost(a.Routes, p, hostIf, z)
	a.Problems = problems(p, &a, podIf, hostIf)
	return a
}

// podVeth is the pod's eth0, or failing that its first veth into another
// namespace.
func podVeth(s *Snapshot) *Link {
	if l := s.LinkByName("eth0"); l != nil {
		return l
	}
	for i := range s.Links {
		if s.Links[i].ParentIndex > 0 && s.Links[i].LinkNetNSID >= 0 {
			return &s.Links[i]
		}
	}
	return nil
}

// netnsName is what the host calls the namespace behind a link-netnsid.
func netnsName(s *Snapshot, nsid int) string {
	if nsid < 0 {
		return ""
	}
	return s.NS.NSIDs[nsid]
}

func netnsWords(s *Snapshot, nsid int) string {
	if n := netnsName(s, nsid); n != "" {
		return "link-netns " + n
	}
	return fmt.Sprintf("link-netnsid %d", nsid)
}

// pairVeth matches the pod's eth0 with its host end, from both sides.
// Every host end says @if3 (each pod's eth0 tends to be index 3), so the
// pod's @ifN picks the host link and the host link is checked back.
func pairVeth(p *Pair, podIf *Link) (VethPair, *Link) {
	v := VethPair{PodNetNSID: -1, HostNetNSID: -1}
	if podIf == nil {
		v.Reason = "pod side: the pod has no eth0"
		return v, nil
	}
	v.PodIf, v.PodIndex, v.PodPeerIndex, v.PodNetNSID = podIf.Name, podIf.Index, podIf.ParentIndex, podIf.LinkNetNSID
	A, B := podIf.Index, podIf.ParentIndex
	if B == 0 || podIf.LinkNetNSID < 0 {
		v.Reason = fmt.Sprintf("pod side: %s (index %d) is not a veth into another namespace (no @ifN and link-netnsid)", podIf.Name, A)
		return v, nil
	}

	// The pod's namespace can be recognised on the host when the host
	// names the nsid and the pod's snapshot carries the same name.
	podNS := p.Pod.NS.Name
	nsKnown := false
	for _, n := range p.Host.NS.NSIDs {
		if podNS != "" && n == podNS {
			nsKnown = true
		}
	}
	leadsToPod := func(l *Link) bool {
		return l.LinkNetNSID >= 0 && (!nsKnown || netnsName(&p.Host, l.LinkNetNSID) == podNS)
	}
	var back *Link // a host link that points back at the pod's eth0
	for i := range p.Host.Links {
		l := &p.Host.Links[i]
		if l.ParentIndex == A && nsKnown && leadsToPod(l) {
			back = l
			break
		}
	}

	host := p.Host.LinkByIndex(B)
	// The host end is the link the pod names, unless another one is known
	// to lead back into the pod's namespace: then the pod side is wrong.
	end := host
	if back != nil && (host == nil || host != back && !(host.ParentIndex == A && leadsToPod(host))) {
		end = back
	}
	if end != nil {
		v.HostIf, v.HostIndex, v.HostPeerIndex, v.HostNetNSID = end.Name, end.Index, end.ParentIndex, end.LinkNetNSID
		v.HostLinkNetns = netnsName(&p.Host, end.LinkNetNSID)
	}
	podWords := fmt.Sprintf("the pod's %s (index %d) says its peer is @if%d", podIf.Name, A, B)
	switch {
	case host == nil && back != nil:
		v.Reason = fmt.Sprintf("pod side disagrees: %s, but the host has no link %d; host link %d %s points back at it (@if%d, %s)",
			podWords, B, back.Index, back.Name, back.ParentIndex, netnsWords(&p.Host, back.LinkNetNSID))
	case host == nil:
		v.Reason = fmt.Sprintf("host side disagrees: %s, but the host has no link %d and none points back at the pod: is this the pod's node?", podWords, B)
	case host.ParentIndex == A && leadsToPod(host):
		v.Agree = true
		ns := netnsWords(&p.Host, host.LinkNetNSID)
		if nsKnown {
			ns += ", the pod's namespace"
		} else {
			ns += " (the host does not name it, so only the indexes were checked)"
		}
		v.Reason = fmt.Sprintf("both sides agree: %s, and host link %d %s says its peer is @if%d in %s",
			podWords, B, host.Name, host.ParentIndex, ns)
	case back != nil && back != host:
		v.Reason = fmt.Sprintf("pod side disagrees: %s, but host link %d %s leads elsewhere (@if%d, %s) and host link %d %s points back at the pod (@if%d, %s)",
			podWords, B, host.Name, host.ParentIndex, netnsWords(&p.Host, host.LinkNetNSID),
			back.Index, back.Name, back.ParentIndex, netnsWords(&p.Host, back.LinkNetNSID))
	case host.LinkNetNSID < 0:
		v.Reason = fmt.Sprintf("host side disagrees: %s, but host link %d %s has no peer namespace (no link-netns)", podWords, B, host.Name)
	case host.ParentIndex != A:
		v.Reason = fmt.Sprintf("host side disagrees: %s, but host link %d %s says its peer is @if%d, not %d",
			podWords, B, host.Name, host.ParentIndex, A)
	default:
		v.Reason = fmt.Sprintf("host side disagrees: %s, and host link %d %s says @if%d, but in %s, not the pod's namespace %s",
			podWords, B, host.Name, host.ParentIndex, netnsWords(&p.Host, host.LinkNetNSID), podNS)
	}
	return v, end
}

// isMain: the route is in the main table, or names none (table 0).
func isMain(r *Route) bool { return r.Table == TableMain || r.Table == 0 }

// isClassed says whether a route gets a class: the main table's IPv4
// routes, which are what `ip route` prints and what the lesson reads.
func isClassed(r *Route) bool { return isMain(r) && !routeDst(r).Addr().Is6() }

func hostLen(p netip.Prefix) bool { return p.IsValid() && p.Bits() == p.Addr().BitLen() }

func isUniverse(scope string) bool { return scope == "" || scope == "universe" || scope == "global" }

func defaultRoute(s *Snapshot) *Route {
	for i := range s.Routes {
		r := &s.Routes[i]
		if isMain(r) && r.Type != "blackhole" && routeDst(r).Bits() == 0 && routeDst(r).Addr().Is4() {
			return r
		}
	}
	return nil
}

func gatewayOf(p *Pair, podIf, hostIf *Link) Gateway {
	g := Gateway{Address: CalicoGateway}
	def := defaultRoute(&p.Pod)
	if def != nil && def.Gw.IsValid() {
		g.Address = def.Gw
	}
	podName := "eth0"
	if podIf != nil {
		podName = podIf.Name
	}
	onPodIf := func(dev string) bool { return dev == "" || dev == podName }
	if def != nil && def.Gw == g.Address && onPodIf(def.Dev) {
		g.DefaultRoute = true
		g.Confirmed = append(g.Confirmed, fmt.Sprintf("the pod's default route goes via %s dev %s", g.Address, podName))
	}
	for i := range p.Pod.Routes {
		r := &p.Pod.Routes[i]
		if isMain(r) && routeDst(r) == netip.PrefixFrom(g.Address, g.Address.BitLen()) && !r.Gw.IsValid() && r.Scope == "link" && onPodIf(r.Dev) {
			g.LinkRoute = true
			g.Confirmed = append(g.Confirmed, fmt.Sprintf("the route %q puts %s directly on %s, though no address of the pod is in its subnet", ipRouteText(r), g.Address, podName))
			break
		}
	}
	if hostIf != nil {
		g.HostMAC = hostIf.MAC
	}
	for _, n := range p.Pod.Neighs {
		if n.IP != g.Address || !onPodIf(n.Dev) {
			continue
		}
		g.NeighMAC, g.NeighState = n.MAC, strings.Join(n.State, " ")
		if n.MAC != "" && hostIf != nil && strings.EqualFold(n.MAC, hostIf.MAC) {
			g.Confirmed = append(g.Confirmed, fmt.Sprintf("the pod resolved %s to %s (%s), the MAC of the host end %s", g.Address, n.MAC, g.NeighState, hostIf.Name))
		}
		break
	}
	if hostIf != nil {
		if v, ok := hostIf.Sysctl(SysctlProxyARP); ok && v == 1 {
			g.HostProxyARP = true
			g.Confirmed = append(g.Confirmed, fmt.Sprintf("proxy_arp=1 on %s: the host answers the pod's ARP for %s with its own MAC", hostIf.Name, g.Address))
		}
	}
	if r, ok := Lookup(&p.Host, g.Address); ok && r.Type != "blackhole" && !(hostIf != nil && r.Dev == hostIf.Name) {
		g.Confirmed = append(g.Confirmed, fmt.Sprintf("the host has a route covering %s (%s), which proxy ARP needs before it answers", g.Address, ipRouteText(&r)))
	}
	return g
}

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
			if r.Gw != CalicoGateway {
				rc.Reason += fmt.Sprintf(" (Calico would use %s)", CalicoGateway)
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
		// default route's words on the routes that cover CalicoGateway:
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
			if dst.Contains(CalicoGateway) {
				if lr, ok := Lookup(s, CalicoGateway); ok && lr.Dst == r.Dst && lr.Gw == r.Gw {
					rc.Reason += "; it also covers " + CalicoGateway.String() + ", which proxy ARP needs before it answers the pods"
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
					rc.Reason += fmt.Sprintf(": it lies in %s's block %s, so %s borrowed it when IPAM ran short of blocks", b.Node, b.CIDR, cmp.Or(rc.Peer, "that node"))
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
					w = cmp.Or(rc.Peer, "another node") + "'s block, " + learned(r) + ", " + k.via
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

func problems(p *Pair, a *Analysis, podIf, hostIf *Link) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if !a.Veth.Agree {
		add("veth pair: %s", a.Veth.Reason)
	}
	if hostIf != nil {
		if a.ExpectedHostIf != "" && hostIf.Name != a.ExpectedHostIf {
			add("the host end of the pod's veth is %s, but Calico would name it %s (%s + SHA-1 of %q)",
				hostIf.Name, a.ExpectedHostIf, p.Facts.Prefix(), p.Facts.Pod.Namespace+"."+p.Facts.Pod.Name)
		}
		if podIf != nil && podIf.MTU != hostIf.MTU {
			add("mtu differs across the veth: pod %s %d, host %s %d", podIf.Name, podIf.MTU, hostIf.Name, hostIf.MTU)
		}
		if hostIf.MAC != "" && !strings.EqualFold(hostIf.MAC, CalicoMAC) {
			add("the host end %s has MAC %s, not %s as Calico sets it", hostIf.Name, hostIf.MAC, CalicoMAC)
		}
		if v, ok := hostIf.Sysctl(SysctlProxyARP); ok && v != 1 {
			add("proxy_arp=%d on %s: nothing answers the pod's ARP for %s", v, hostIf.Name, a.Gateway.Address)
		}
		if v, ok := hostIf.Sysctl(SysctlProxyDelay); ok && v != 0 {
			add("neigh proxy_delay=%d on %s: the host delays its proxy ARP replies (Calico sets 0)", v, hostIf.Name)
		}
		if v, ok := hostIf.Sysctl(SysctlForwarding); ok && v != 1 {
			add("forwarding=%d on %s: the host will not route the pod's traffic", v, hostIf.Name)
		}
	}
	if v, ok := p.Host.Sysctls[SysctlIPForward]; ok && v != 1 {
		add("%s=%d on the host: it will not route between pods and the network", SysctlIPForward, v)
	}
	g := &a.Gateway
	if g.Address != CalicoGateway {
		add("the pod's default route goes via %s, not %s as Calico sets it", g.Address, CalicoGateway)
	}
	if !g.DefaultRoute {
		add("the pod has no default route via %s", g.Address)
	}
	if !g.LinkRoute {
		add("the pod has no scope-link route to %s, so it cannot reach its gateway", g.Address)
	}
	if g.NeighMAC != "" && g.HostMAC != "" && !strings.EqualFold(g.NeighMAC, g.HostMAC) {
		add("the pod resolved %s to %s, not to the host end's MAC %s", g.Address, g.NeighMAC, g.HostMAC)
	}
	if r, ok := Lookup(&p.Host, g.Address); !ok || r.Type == "blackhole" {
		add("the host has no route covering %s, so proxy ARP will not answer for it", g.Address)
	}
	if ip := p.Facts.Pod.IP; ip.IsValid() && hostIf != nil {
		if r, ok := Lookup(&p.Host, ip); !ok || r.Dev != hostIf.Name || !hostLen(routeDst(&r)) {
			add("the host has no route %s dev %s scope link for the pod", ip, hostIf.Name)
		}
	}
	return out
}
