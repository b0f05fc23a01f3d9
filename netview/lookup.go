package netview

import "net/netip"

// Lookup returns the main-table route dst takes: the longest prefix that
// covers it, blackholes included, the lower metric on a tie. An
// IPv4-mapped address is IPv6 here, as in the kernel's IPv6 table
// (where unreachable ::ffff:0.0.0.0/96 refuses it).
func Lookup(s *Snapshot, dst netip.Addr) (Route, bool) {
	if s == nil || !dst.IsValid() {
		return Route{}, false
	}
	dst = dst.WithZone("")
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
// default route of its family. An IPv4 prefix handed over in its
// IPv4-mapped form is read as IPv4; an IPv6 route's stays IPv6, the
// kernel's unreachable ::ffff:0.0.0.0/96 among them.
func routeDst(r *Route) netip.Prefix {
	if d := r.Dst; d.IsValid() {
		if a := d.Addr(); a.Is4In6() && r.Family != 6 {
			switch {
			case d.Bits() <= 32: // the address in 16 bytes, the mask in 4
				return netip.PrefixFrom(a.Unmap(), d.Bits()).Masked()
			case d.Bits() >= 96 && r.Family == 4: // both in 16
				return netip.PrefixFrom(a.Unmap(), d.Bits()-96).Masked()
			}
		}
		return d.Masked()
	}
	switch r.Family {
	case 4:
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	case 6:
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	return netip.Prefix{}
}
