package netview

import "net/netip"

// LabFacts are what a lesson pack's lab checks read of an analysed pair
// besides the values its text shows: the pod's state, the node's routes
// by destination, the blocks and the local pods' addresses. The checks
// themselves, and their words, are the pack's.
type LabFacts struct {
	PodPhase string // "" when the facts do not say
	// PodVeth is the pod's veth (eth0), "" when it has none.
	PodVeth string
	// PodHoldsIP: the veth holds the pod's address, or the address is not
	// known.
	PodHoldsIP bool
	// NodeCoversGateway: the node has a route covering CalicoGateway that
	// is not a blackhole, so proxy ARP answers for it.
	NodeCoversGateway bool
	// Routes are the node's classed routes by destination as ip prints
	// it; the last of equal destinations wins.
	Routes map[string]RouteFact
	// HasClass4 says a class has a route on the node that is IPv4 (or not
	// known to be IPv6): the lesson's routes are IPv4.
	HasClass4 map[Class]bool
	Blocks    []BlockFact
	// LocalAddrs are the addresses of the pods on the node (the shown pod
	// always among them), IPv4 and IPv6.
	LocalAddrs []LocalAddr
}

// RouteFact is one classed node route.
type RouteFact struct {
	Class  Class
	Dev    string
	Proto  string // as ip names it; "" when the route itself is not known
	Family int    // 4 or 6; 0 when not known
}

// BlockFact is one IPAM block; Own says it is the node's own.
type BlockFact struct {
	CIDR netip.Prefix
	Node string
	Own  bool
}

// LocalAddr is one address of a pod on the node.
type LocalAddr struct {
	IP  netip.Addr
	Pod string // "namespace/name"
	// Shown: it is the shown pod's.
	Shown bool
}

// FactsForChecks gathers LabFacts from a pair and its analysis.
func FactsForChecks(p *Pair, a *Analysis) *LabFacts {
	f := &p.Facts
	own := ownNode(f)
	lf := &LabFacts{
		PodPhase:   f.Pod.Phase,
		Routes:     map[string]RouteFact{},
		HasClass4:  map[Class]bool{},
		PodHoldsIP: true,
	}
	if v := podVeth(&p.Pod); v != nil {
		lf.PodVeth = v.Name
		if f.Pod.IP.IsValid() {
			lf.PodHoldsIP = hasAddr(&p.Pod, v.Index, f.Pod.IP)
		}
	}
	if r, ok := Lookup(&p.Host, CalicoGateway); ok && r.Type != "blackhole" {
		lf.NodeCoversGateway = true
	}
	for _, rc := range a.Routes {
		if rc.Side != SideHost {
			continue
		}
		rf := RouteFact{Class: rc.Class, Dev: rc.Dev}
		if rc.Route != nil {
			rf.Proto = ProtoName(rc.Route.Protocol)
			rf.Family = 4
			if routeDst(rc.Route).Addr().Is6() {
				rf.Family = 6
			}
		}
		lf.Routes[rc.Dst] = rf
		lf.HasClass4[rc.Class] = lf.HasClass4[rc.Class] || rf.Family != 6
	}
	for _, b := range f.Blocks {
		lf.Blocks = append(lf.Blocks, BlockFact{CIDR: b.CIDR, Node: b.Node, Own: own != "" && b.Node == own})
	}
	var local []PodFact
	if own != "" {
		for _, pf := range f.Pods {
			if pf.Node == own && pf.IP.IsValid() {
				local = append(local, pf)
			}
		}
	}
	shownListed := false
	for _, pf := range local {
		shownListed = shownListed || pf.IP == f.Pod.IP
	}
	if f.Pod.IP.IsValid() && !shownListed {
		local = append(local, f.Pod)
	}
	for _, pf := range local {
		for _, ip := range []netip.Addr{pf.IP, pf.IP6} {
			if ip.IsValid() {
				lf.LocalAddrs = append(lf.LocalAddrs, LocalAddr{IP: ip, Pod: pf.Namespace + "/" + pf.Name, Shown: pf.IP == f.Pod.IP})
			}
		}
	}
	return lf
}

func hasAddr(s *Snapshot, index int, ip netip.Addr) bool {
	for _, a := range s.AddrsOf(index) {
		if a.Prefix.Addr() == ip {
			return true
		}
	}
	return false
}
