package netview

import (
	"net/netip"
	"strconv"
	"strings"
)

// protoNames is iproute2's rt_protos table.
var protoNames = map[int]string{
	0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static",
	8: "gated", 9: "ra", 10: "mrt", 11: "zebra", 12: "bird", 13: "dnrouted",
	14: "xorp", 15: "ntk", 16: "dhcp", 18: "keepalived", 42: "babel",
	99: "openr", 186: "bgp", 187: "isis", 188: "ospf", 189: "rip", 192: "eigrp",
}

// ProtoName is how ip names a route protocol: bird for 12, the number for
// one it has no name for (Felix's 80).
func ProtoName(p int) string {
	if n, ok := protoNames[p]; ok {
		return n
	}
	return strconv.Itoa(p)
}

// dstText is the destination as ip prints it: "default", a bare address
// for a host route, else the prefix.
func dstText(r *Route) string {
	d := routeDst(r)
	switch {
	case !d.IsValid():
		return "default"
	case d.Bits() == 0:
		return "default"
	case hostLen(d):
		return d.Addr().String()
	}
	return d.String()
}

// ipRouteText is the route as one line of `ip route`, without the
// trailing space ip leaves.
func ipRouteText(r *Route) string {
	var b strings.Builder
	for _, t := range routeTokens(nil, r, nil) {
		b.WriteString(t.text)
		b.WriteByte(' ')
	}
	return strings.TrimSuffix(b.String(), " ")
}

type routeToken struct {
	text string
	kind string // "dst", "gw", "dev" or ""
}

// routeTokens follows iproute2's print_route: type, dst, via, dev, table,
// proto (not boot), scope (not universe), src, metric, flags.
func routeTokens(out []routeToken, r *Route, s *Snapshot) []routeToken {
	if t := routeType(r); t != "unicast" {
		out = append(out, routeToken{text: t})
	}
	out = append(out, routeToken{text: dstText(r), kind: "dst"})
	if r.Gw.IsValid() {
		out = append(out, routeToken{text: "via"}, routeToken{text: r.Gw.String(), kind: "gw"})
	}
	dev := r.Dev
	if dev == "" && r.DevIndex != 0 && s != nil {
		if l := s.LinkByIndex(r.DevIndex); l != nil {
			dev = l.Name
		}
	}
	if dev != "" {
		out = append(out, routeToken{text: "dev"}, routeToken{text: dev, kind: "dev"})
	}
	if !isMain(r) {
		t := strconv.Itoa(r.Table)
		if r.Table == TableLocal {
			t = "local"
		}
		out = append(out, routeToken{text: "table"}, routeToken{text: t})
	}
	if r.Protocol != ProtoBoot {
		out = append(out, routeToken{text: "proto"}, routeToken{text: ProtoName(r.Protocol)})
	}
	if !isUniverse(r.Scope) {
		out = append(out, routeToken{text: "scope"}, routeToken{text: r.Scope})
	}
	if r.Src.IsValid() {
		out = append(out, routeToken{text: "src"}, routeToken{text: r.Src.String()})
	}
	if r.Metric != 0 {
		out = append(out, routeToken{text: "metric"}, routeToken{text: strconv.Itoa(r.Metric)})
	}
	for _, f := range r.Flags {
		out = append(out, routeToken{text: f})
	}
	return out
}

func lifetime(v uint32) string {
	if v == LifetimeForever {
		return "forever"
	}
	return strconv.FormatUint(uint64(v), 10) + "sec"
}

// addrFlagOrder is iproute2's order for address flags; it prints
// "dynamic" where "permanent" is missing.
var addrFlagOrder = []string{"secondary", "temporary", "nodad", "optimistic", "dadfailed", "home",
	"deprecated", "tentative", "permanent", "mngtmpaddr", "noprefixroute", "autojoin", "stable-privacy"}

func addrFlagWords(flags []string) []string {
	var out []string
	has := func(f string) bool {
		for _, x := range flags {
			if x == f {
				return true
			}
		}
		return false
	}
	for _, f := range addrFlagOrder {
		switch {
		case f == "permanent":
			if !has(f) {
				out = append(out, "dynamic")
			}
		case has(f):
			out = append(out, f)
		}
	}
	for _, f := range flags {
		known := false
		for _, k := range addrFlagOrder {
			known = known || k == f
		}
		if !known {
			out = append(out, f)
		}
	}
	return out
}

func prefixText(p netip.Prefix) string {
	return p.Addr().String() + "/" + strconv.Itoa(p.Bits())
}
