package netview

import (
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
	a.Gateway6 = gateway6Of(p, podIf, hostIf)
	// One allocation for both sides: a node may hold tens of thousands.
	a.Routes = make([]RouteClass, 0, len(p.Pod.Routes)+len(p.Host.Routes))
	a.Routes = classifyPod(a.Routes, &p.Pod, a.Gateway.Address, a.Gateway6)
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

// isClassed says whether a route gets a class: the main table's routes
// of either family, what `ip route` and `ip -6 route` print.
func isClassed(r *Route) bool { return isMain(r) && routeDst(r).IsValid() }

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
	problems6(p, a.Gateway6, podIf, hostIf, add)
	return out
}
