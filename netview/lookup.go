package netview

import "net/netip"

// Lookup returns the main-table route dst takes: the longest prefix that
// covers it, blackholes included, the lower metric on a tie.
func Lookup(s *Snapshot, dst netip.Addr) (Route, bool) {
	if s == nil || !dst.IsValid() {
		return Route{}, false
	}
	dst = dst.Unmap()
	best, found := -1, false
	for i := range s.Routes {
		r := &s.Routes[i]
		if r.Table != TableMain && r.Table != 0 {
			continue
		}
		p := routeDst(r)
		if !p.IsValid() || p.Addr().Is4() != dst.Is4() || !p.Contains(dst) {
			continue
		}
		if !found {
			best, found = i, true
			continue
		}
		bp := routeDst(&s.Routes[best])
		if p.Bits() > bp.Bits() || (p.Bits() == bp.Bits() && r.Metric < s.Routes[best].Metric) {
			best = i
		}
	}
	if !found {
		return Route{}, false
	}
	return s.Routes[best], true
}

// routeDst is the route's destination, reading an unset one as the
// default route of its family.
func routeDst(r *Route) netip.Prefix {
	if r.Dst.IsValid() {
		return netip.PrefixFrom(r.Dst.Addr().Unmap(), r.Dst.Bits()).Masked()
	}
	switch r.Family {
	case 4:
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	case 6:
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	return netip.Prefix{}
}
