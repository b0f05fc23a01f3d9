package netview

import (
	"fmt"
	"net/netip"
	"strings"
)

// Gateway6 is the pod's IPv6 next hop and what confirms it.
type Gateway6 struct {
	// Address is the next hop of the pod's IPv6 default route;
	// fe80::ecee:eeff:feee:eeee when it has none.
	Address netip.Addr `json:"address"`
	// DefaultRoute: the pod's IPv6 default route goes via Address.
	DefaultRoute bool `json:"default_route"`
	// HostOwns: the host end of the pod's veth holds Address itself, so
	// it answers the pod's neighbour solicitations for it (Calico also
	// sets proxy_ndp=1 on it, which this does not need).
	HostOwns bool `json:"host_owns"`
	// NeighMAC is the pod's neighbour entry for Address, if resolved.
	NeighMAC   string `json:"neigh_mac,omitempty"`
	NeighState string `json:"neigh_state,omitempty"`
	// Confirmed lists, in words, what confirmed the gateway.
	Confirmed []string `json:"confirmed"`
}

// defaultRoute6 is the main table's IPv6 default route.
func defaultRoute6(s *Snapshot) *Route {
	for i := range s.Routes {
		r := &s.Routes[i]
		if d := routeDst(r); isMain(r) && routeType(r) == "unicast" && d.Bits() == 0 && d.Addr().Is6() {
			return r
		}
	}
	return nil
}

// firstGw is a route's gateway, or its first next hop's.
func firstGw(r *Route) (netip.Addr, string) {
	if !r.Gw.IsValid() && len(r.NextHops) > 0 {
		return r.NextHops[0].Gw, r.NextHops[0].Dev
	}
	return r.Gw, r.Dev
}

// podAddrs6 are the pod's own IPv6 addresses on its veth (not its
// link-local one).
func podAddrs6(s *Snapshot, podIf *Link) []netip.Addr {
	if podIf == nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range s.AddrsOf(podIf.Index) {
		if ip := a.Prefix.Addr(); ip.Is6() && !ip.Is4In6() && !ip.IsLinkLocalUnicast() {
			out = append(out, ip)
		}
	}
	return out
}

// gateway6Of works out the pod's IPv6 gateway; nil when the pod has no
// IPv6 to speak of.
func gateway6Of(p *Pair, podIf, hostIf *Link) *Gateway6 {
	def := defaultRoute6(&p.Pod)
	if def == nil && len(podAddrs6(&p.Pod, podIf)) == 0 {
		return nil
	}
	g := &Gateway6{Address: CalicoLinkLocal}
	podName := "eth0"
	if podIf != nil {
		podName = podIf.Name
	}
	if def != nil {
		gw, dev := firstGw(def)
		if gw.IsValid() {
			g.Address = gw
		}
		if gw.IsValid() && (dev == "" || dev == podName) {
			g.DefaultRoute = true
			g.Confirmed = append(g.Confirmed, fmt.Sprintf("the pod's IPv6 default route goes via %s dev %s", g.Address, podName))
		}
	}
	bare := g.Address.WithZone("")
	if hostIf != nil {
		read := false
		for _, a := range p.Host.AddrsOf(hostIf.Index) {
			if a.Prefix.Addr().Is6() {
				read = true
			}
			if a.Prefix.Addr().WithZone("") == bare {
				g.HostOwns = true
			}
		}
		switch {
		case g.HostOwns:
			g.Confirmed = append(g.Confirmed, fmt.Sprintf("%s is the host end %s's own link-local address: the host end answers the pod's neighbour solicitation for it itself", bare, hostIf.Name))
		case !read && bare == CalicoLinkLocal && strings.EqualFold(hostIf.MAC, CalicoMAC):
			g.Confirmed = append(g.Confirmed, fmt.Sprintf("the host end %s has MAC %s, from which the kernel makes its link-local address %s (its addresses were not read)", hostIf.Name, CalicoMAC, CalicoLinkLocal))
		}
	}
	for _, n := range p.Pod.Neighs {
		if n.IP.WithZone("") != bare || (n.Dev != "" && n.Dev != podName) {
			continue
		}
		g.NeighMAC, g.NeighState = n.MAC, strings.Join(n.State, " ")
		if n.MAC != "" && hostIf != nil && strings.EqualFold(n.MAC, hostIf.MAC) {
			g.Confirmed = append(g.Confirmed, fmt.Sprintf("the pod resolved %s to %s (%s), the MAC of the host end %s", bare, n.MAC, g.NeighState, hostIf.Name))
		}
		break
	}
	return g
}

// problems6 are the things on the pod's IPv6 side that do not look as
// Calico makes them.
func problems6(p *Pair, g *Gateway6, podIf, hostIf *Link, add func(format string, args ...any)) {
	if g == nil {
		return
	}
	if !g.DefaultRoute {
		add("the pod has IPv6 but no IPv6 default route via the host end's link-local address (%s as Calico sets it)", CalicoLinkLocal)
	}
	if hostIf == nil {
		return
	}
	read := false
	for _, a := range p.Host.AddrsOf(hostIf.Index) {
		read = read || a.Prefix.Addr().Is6()
	}
	if g.DefaultRoute && read && !g.HostOwns {
		add("the pod's IPv6 default route goes via %s, which is not an address of the host end %s", g.Address, hostIf.Name)
	}
	for _, ip := range podAddrs6(&p.Pod, podIf) {
		if r, ok := Lookup(&p.Host, ip); !ok || r.Dev != hostIf.Name || !hostLen(routeDst(&r)) {
			add("the host has no route %s dev %s for the pod's IPv6 address", ip, hostIf.Name)
		}
	}
}
