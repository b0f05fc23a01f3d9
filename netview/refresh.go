package netview

import (
	"cmp"
	"net/netip"
	"podlab/kubeproxy"
	"strings"
)

// Refresh is what one read of the lab comes to, derived once: the pair,
// its analysis, and what changed since the refresh it is compared with.
// Every part of the program that shows the lab reads the same Refresh;
// it is never changed once made.
type Refresh struct {
	Pair     *Pair
	Analysis *Analysis
	// Prev is the pair this one is compared with; nil for the first.
	Prev *Pair
	// Changes is what came and went since Prev.
	Changes Changes
	// Gone are the addresses of the node's pods whose /32 Prev had and
	// Pair has not, in Prev's order.
	Gone []string
	// Cut: some names were cut where they entered, too long to be real
	// (Pair.Cuts says which).
	Cut bool
	// NATBase is the NAT table whose counters Pair's are held against:
	// the last one before they moved, so the rules a request moved stay
	// marked until the counters move again, not for one refresh only.
	NATBase *kubeproxy.Table
	// Uplink is the node's way out when it is a veth (a sandbox's node),
	// which the host's views would otherwise show as another pod's end;
	// nil otherwise.
	Uplink *Uplink

	// keys are Analysis's routes as compared, prevKeys Prev's: all that
	// is kept of Prev's analysis.
	keys, prevKeys []RouteKey
}

// Side is the snapshot of one side of the pair; nil for a nil pair.
func (p *Pair) Side(s Side) *Snapshot {
	switch {
	case p == nil:
		return nil
	case s == SideHost:
		return &p.Host
	}
	return &p.Pod
}

// DstString is a destination as ip prints it: "default", a bare address
// for a host route, else the prefix; "" for none.
func DstString(p netip.Prefix) string {
	switch {
	case !p.IsValid():
		return ""
	case p.Bits() == 0:
		return "default"
	case p.IsSingleIP():
		return p.Addr().String()
	}
	return p.String()
}

// NodeName is the node the pair was read on: the one the facts name,
// else the pod's.
func (f *Facts) NodeName() string {
	if f.Node != "" {
		return f.Node
	}
	return f.Pod.Node
}

// SameWay says whether the kernel's answer to a lookup sends a packet
// the way the snapshot's route does; the kernel answers with the
// address, not the prefix, so only the type, gateway and device are
// compared.
func SameWay(a, b Route) bool {
	ta, tb := cmp.Or(a.Type, "unicast"), cmp.Or(b.Type, "unicast")
	return ta == tb && a.Gw == b.Gw && a.Dev == b.Dev
}

// LineClass is the route class a drawn line is tagged with.
func LineClass(l Line) (Class, bool) {
	for _, s := range l.Spans {
		if c, ok := strings.CutPrefix(string(s.Tag), "route-"); ok {
			return Class(c), true
		}
	}
	return "", false
}

// Lookup is the route the node takes to dst in this refresh, and its
// class when the analysis has one.
func (r *Refresh) Lookup(dst netip.Addr) (rt Route, class *RouteClass, ok bool) {
	rt, ok = Lookup(&r.Pair.Host, dst)
	if !ok {
		return rt, nil, false
	}
	d := DstString(rt.Dst)
	for i := range r.Analysis.Routes {
		if rc := &r.Analysis.Routes[i]; rc.Side == SideHost && rc.Dst == d {
			return rt, rc, true
		}
	}
	return rt, nil, true
}

// Next derives the refresh of pair p after r (nil for the first), with
// a's memory of the last analysis. keepBase compares p with what r was
// compared with rather than with r: one change to a lab (a pod deleted)
// arrives as a burst of reads, and what changed stays shown across it.
func (r *Refresh) Next(a *Analyzer, p *Pair, keepBase bool) *Refresh {
	an := a.Analyze(p)
	n := &Refresh{Pair: p, Analysis: &an, keys: routeKeys(&an), Cut: len(p.Cuts()) > 0}
	if up, ok := HostUplink(p); ok && up.Veth {
		n.Uplink = &up
	}
	if r != nil {
		cur, last := pairNAT(p), pairNAT(r.Pair)
		n.NATBase = last
		if cur != nil && last != nil && sameCounters(cur, last) && r.NATBase != nil {
			n.NATBase = r.NATBase
		}
	}
	switch {
	case r == nil:
	case keepBase && r.Prev != nil:
		n.Prev, n.prevKeys = r.Prev, r.prevKeys
	default:
		n.Prev, n.prevKeys = r.Pair, r.keys
	}
	if n.Prev == nil {
		return n
	}
	n.Changes = diffPairs(n.prevKeys, n.keys, n.Prev, p)
	now := map[string]bool{}
	for _, rc := range an.Routes {
		if rc.Side == SideHost && rc.Class == ClassLocalPod {
			now[rc.Dst] = true
		}
	}
	for _, k := range n.prevKeys {
		if k.Host && k.LocalPod && !now[k.Dst] {
			n.Gone = append(n.Gone, k.Dst)
		}
	}
	return n
}

func pairNAT(p *Pair) *kubeproxy.Table {
	if p == nil || p.Extra == nil {
		return nil
	}
	return p.Extra.NAT
}

// sameCounters says no rule's packet counter differs between a and b
// (tables of the same chains and rules; any other difference counts as
// a move).
func sameCounters(a, b *kubeproxy.Table) bool {
	if len(a.Chains) != len(b.Chains) {
		return false
	}
	for i := range a.Chains {
		ca, cb := &a.Chains[i], &b.Chains[i]
		if ca.Name != cb.Name || len(ca.Rules) != len(cb.Rules) {
			return false
		}
		for j := range ca.Rules {
			if ca.Rules[j].Packets != cb.Rules[j].Packets {
				return false
			}
		}
	}
	return true
}

// DualStack says whether a namespace has an IPv6 address beyond the
// link-local and loopback ones every IPv6 link has: its IPv6 routes and
// addresses are then worth showing.
func (s *Snapshot) DualStack() bool {
	if s == nil {
		return false
	}
	for _, a := range s.Addrs {
		if ad := a.Prefix.Addr(); ad.Is6() && !ad.Is4In6() && !ad.IsLinkLocalUnicast() && !ad.IsLoopback() {
			return true
		}
	}
	return false
}

// Views is the views a step declares for a side, with, when that side
// is dual-stack in this refresh, the IPv6 view of each IPv4 route and
// address view right after it. The lesson's steps stay IPv4-first.
func (r *Refresh) Views(side Side, views []View) []View {
	if r == nil || !r.Pair.Side(side).DualStack() {
		return views
	}
	out := make([]View, 0, len(views)+2)
	for _, v := range views {
		out = append(out, v)
		switch v {
		case ViewRoute:
			out = append(out, ViewRoute6)
		case ViewAddr:
			out = append(out, ViewAddr6)
		}
	}
	return out
}
