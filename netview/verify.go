package netview

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
)

// Verdict is what one lab check found: the pieces of the lesson's lab
// that are missing or wrong, empty when it passed.
type Verdict struct {
	Check   string   `json:"check"`
	Missing []string `json:"missing,omitempty"`
}

// OK says the check passed.
func (v Verdict) OK() bool { return len(v.Missing) == 0 }

// The lab checks, each proving one piece a step of the lesson shows.
const (
	CheckPod         = "pod"           // the pod is Running with its address
	CheckVeth        = "veth"          // the veth pair agrees from both sides
	CheckGateway     = "gateway"       // CalicoGateway is proven
	CheckNodeRoutes  = "node-routes"   // the node's default and connected routes
	CheckLocalPods   = "local-pods"    // a /32 into each local pod's host end
	CheckBlackhole   = "blackhole"     // the node's own block, blackholed
	CheckRemoteBlock = "remote-blocks" // a route per remote block, from BIRD in bgp mode
)

// checksByTag says which lab checks prove what a step's highlighted tags
// point at; a tag absent here (a borrowed /32, which only some labs have)
// needs nothing.
var checksByTag = map[Tag]string{
	TagPodIP:                           CheckPod,
	TagVethPod:                         CheckVeth,
	TagVethHost:                        CheckVeth,
	TagNetnsID:                         CheckVeth,
	TagMAC:                             CheckVeth,
	TagGateway:                         CheckGateway,
	RouteTag(ClassPodDefault):          CheckGateway,
	RouteTag(ClassPodGateway):          CheckGateway,
	RouteTag(ClassDefault):             CheckNodeRoutes,
	RouteTag(ClassConnected):           CheckNodeRoutes,
	RouteTag(ClassLocalPod):            CheckLocalPods,
	RouteTag(ClassLocalBlockBlackhole): CheckBlackhole,
	RouteTag(ClassRemoteBlock):         CheckRemoteBlock,
}

// ChecksFor are the lab checks a step highlighting tags relies on, in a
// stable order.
func ChecksFor(tags []string) []string {
	var out []string
	for _, t := range tags {
		if c, ok := checksByTag[Tag(t)]; ok && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// Verify runs every lab check on an analysed pair.
func Verify(p *Pair, a *Analysis) map[string]Verdict {
	f := &p.Facts
	own := ownNode(f)
	out := map[string]Verdict{}
	add := func(check, format string, args ...any) {
		v := out[check]
		v.Check = check
		v.Missing = append(v.Missing, fmt.Sprintf(format, args...))
		out[check] = v
	}
	for _, c := range []string{CheckPod, CheckVeth, CheckGateway, CheckNodeRoutes, CheckLocalPods, CheckBlackhole, CheckRemoteBlock} {
		out[c] = Verdict{Check: c}
	}

	// The pod.
	pod := f.Pod.Namespace + "/" + f.Pod.Name
	if f.Pod.Name == "" {
		pod = "the pod"
	}
	if f.Pod.Phase != "" && f.Pod.Phase != "Running" {
		add(CheckPod, "%s is %s, not Running", pod, f.Pod.Phase)
	}
	podIf := podVeth(&p.Pod)
	switch {
	case podIf == nil:
		add(CheckPod, "%s has no veth (eth0)", pod)
	case f.Pod.IP.IsValid() && !hasAddr(&p.Pod, podIf.Index, f.Pod.IP):
		add(CheckPod, "%s's %s does not hold its address %s", pod, podIf.Name, f.Pod.IP)
	}

	// The veth pair.
	if !a.Veth.Agree {
		add(CheckVeth, "the veth pair does not agree: %s", a.Veth.Reason)
	}

	// The gateway.
	g := &a.Gateway
	if !g.DefaultRoute {
		add(CheckGateway, "the pod has no default route via %s", CalicoGateway)
	}
	if !g.LinkRoute {
		add(CheckGateway, "the pod has no scope-link route to %s", CalicoGateway)
	}
	if !g.HostProxyARP {
		add(CheckGateway, "proxy_arp is not 1 on the host end %s, so nothing answers for %s", cmp.Or(a.Veth.HostIf, "(not found)"), CalicoGateway)
	}
	if r, ok := Lookup(&p.Host, CalicoGateway); !ok || r.Type == "blackhole" {
		add(CheckGateway, "the node has no route covering %s, so proxy ARP will not answer", CalicoGateway)
	}

	// The node's own routes, by class. The lesson's are IPv4: a
	// dual-stack node's IPv6 default or fe80::/64 routes stand in for
	// none of them.
	byDst := map[string]RouteClass{}
	has := map[Class]bool{}
	for _, rc := range a.Routes {
		if rc.Side == SideHost {
			byDst[rc.Dst] = rc
			has[rc.Class] = has[rc.Class] || rc.Route == nil || !routeDst(rc.Route).Addr().Is6()
		}
	}
	if !has[ClassDefault] {
		add(CheckNodeRoutes, "the node has no default route")
	}
	if !has[ClassConnected] {
		add(CheckNodeRoutes, "the node has no route to the network it sits on (proto kernel scope link)")
	}

	// A /32 into each local pod, and a /128 into each with IPv6.
	var local []PodFact
	if own != "" {
		for _, pf := range f.Pods {
			if pf.Node == own && pf.IP.IsValid() {
				local = append(local, pf)
			}
		}
	}
	if f.Pod.IP.IsValid() && !slices.ContainsFunc(local, func(x PodFact) bool { return x.IP == f.Pod.IP }) {
		local = append(local, f.Pod)
	}
	for _, pf := range local {
		name := pf.Namespace + "/" + pf.Name
		shown := pf.IP == f.Pod.IP
		for _, ip := range []netip.Addr{pf.IP, pf.IP6} {
			if !ip.IsValid() {
				continue
			}
			rc, ok := byDst[ip.String()]
			switch {
			case !ok || rc.Class != ClassLocalPod:
				add(CheckLocalPods, "no route %s dev %s… scope link for pod %s", ip, f.Prefix(), name)
			case shown && a.Veth.HostIf != "" && rc.Dev != a.Veth.HostIf:
				add(CheckLocalPods, "the route to %s goes to %s, not the pod's host end %s", ip, rc.Dev, a.Veth.HostIf)
			}
		}
	}

	// The blackhole and the remote blocks; BIRD writes both in bgp mode.
	bird := f.Mode == "" || f.Mode == ModeBGP || f.Mode == ModeIPIP
	ownBlocks, remote := 0, 0
	for _, b := range f.Blocks {
		rc, ok := byDst[b.CIDR.String()]
		isOwn := own != "" && b.Node == own
		switch {
		case isOwn && (!ok || rc.Class != ClassLocalBlockBlackhole):
			add(CheckBlackhole, "no blackhole for %s's block %s", own, b.CIDR)
		case isOwn && bird && rc.Route != nil && rc.Route.Protocol != ProtoBird:
			add(CheckBlackhole, "the blackhole for %s is proto %s, not bird: BIRD did not write it", b.CIDR, ProtoName(rc.Route.Protocol))
		case !isOwn && (!ok || rc.Class != ClassRemoteBlock):
			add(CheckRemoteBlock, "no route to %s's block %s", b.Node, b.CIDR)
		case !isOwn && bird && rc.Route != nil && rc.Route.Protocol != ProtoBird:
			add(CheckRemoteBlock, "the route to %s's block %s is proto %s, not bird: BIRD did not learn it", b.Node, b.CIDR, ProtoName(rc.Route.Protocol))
		}
		if isOwn {
			ownBlocks++
		} else {
			remote++
		}
	}
	// Without IPAM facts, the classes alone say whether the pieces exist.
	if ownBlocks == 0 && !has[ClassLocalBlockBlackhole] {
		add(CheckBlackhole, "no blackhole for this node's block")
	}
	if remote == 0 && !has[ClassRemoteBlock] {
		add(CheckRemoteBlock, "no route to another node's block")
	}
	return out
}

func hasAddr(s *Snapshot, index int, ip netip.Addr) bool {
	for _, a := range s.AddrsOf(index) {
		if a.Prefix.Addr() == ip {
			return true
		}
	}
	return false
}
