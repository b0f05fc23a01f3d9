package netview

import (
	"net/netip"
	"strconv"
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
func dstText(r *Route) string { return string(appendDst(nil, r)) }

// appendDst appends dstText(r) to b.
func appendDst(b []byte, r *Route) []byte {
	switch d := routeDst(r); {
	case !d.IsValid() || d.Bits() == 0:
		return append(b, "default"...)
	case hostLen(d):
		return d.Addr().AppendTo(b)
	default:
		return d.AppendTo(b)
	}
}

// ipRouteText is the route as one line of `ip route`, without the
// trailing space ip leaves; a multipath route's next hops follow on the
// same line, as `ip route add` takes them.
func ipRouteText(r *Route) string {
	var tk routeTokens
	tk.of(r, nil)
	b := tk.appendText(nil, false)
	for i := range r.NextHops {
		tk.ofHop(&r.NextHops[i], nil, "nexthop")
		b = append(b, ' ')
		b = tk.appendText(b, false)
	}
	return string(b)
}

// routeTokens are a route's words as ip prints them, cut from one buffer
// that is used again from route to route: drawing a node's tens of
// thousands of route lines makes no string per word.
type routeTokens struct {
	buf  []byte
	toks []routeToken
	// noTrail: the last word has no space after it (an IPv6 route's
	// pref, which iproute2 prints last and on its own).
	noTrail bool
}

type routeToken struct {
	from, to int
	kind     string // "dst", "gw", "dev" or ""
}

func (t *routeTokens) text(i int) []byte { return t.buf[t.toks[i].from:t.toks[i].to] }

func (t *routeTokens) word(kind string, s string) {
	from := len(t.buf)
	t.buf = append(t.buf, s...)
	t.toks = append(t.toks, routeToken{from, len(t.buf), kind})
}

func (t *routeTokens) end(kind string, from int) {
	t.toks = append(t.toks, routeToken{from, len(t.buf), kind})
}

// appendText appends the words, each followed by a space as ip leaves
// it (trailing, without the last).
func (t *routeTokens) appendText(b []byte, trailing bool) []byte {
	for i := range t.toks {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, t.text(i)...)
	}
	if trailing && len(t.toks) > 0 && !t.noTrail {
		b = append(b, ' ')
	}
	return b
}

// of follows iproute2's print_route: type, dst, via, dev, table, proto
// (not boot), scope (not universe), src, metric, flags.
func (t *routeTokens) of(r *Route, s *Snapshot) {
	t.buf, t.toks, t.noTrail = t.buf[:0], t.toks[:0], false
	if typ := routeType(r); typ != "unicast" {
		t.word("", typ)
	}
	from := len(t.buf)
	t.buf = appendDst(t.buf, r)
	t.end("dst", from)
	if r.Gw.IsValid() {
		t.word("", "via")
		from := len(t.buf)
		t.buf = r.Gw.AppendTo(t.buf)
		t.end("gw", from)
	}
	dev := r.Dev
	if dev == "" && r.DevIndex != 0 && s != nil {
		if l := s.LinkByIndex(r.DevIndex); l != nil {
			dev = l.Name
		}
	}
	if dev != "" {
		t.word("", "dev")
		t.word("dev", dev)
	}
	if !isMain(r) {
		t.word("", "table")
		if r.Table == TableLocal {
			t.word("", "local")
		} else {
			from := len(t.buf)
			t.buf = strconv.AppendInt(t.buf, int64(r.Table), 10)
			t.end("", from)
		}
	}
	if r.Protocol != ProtoBoot {
		t.word("", "proto")
		if n, ok := protoNames[r.Protocol]; ok {
			t.word("", n)
		} else {
			from := len(t.buf)
			t.buf = strconv.AppendInt(t.buf, int64(r.Protocol), 10)
			t.end("", from)
		}
	}
	if !isUniverse(r.Scope) {
		t.word("", "scope")
		t.word("", r.Scope)
	}
	if r.Src.IsValid() {
		t.word("", "src")
		from := len(t.buf)
		t.buf = r.Src.AppendTo(t.buf)
		t.end("", from)
	}
	if r.Metric != 0 {
		t.word("", "metric")
		from := len(t.buf)
		t.buf = strconv.AppendInt(t.buf, int64(r.Metric), 10)
		t.end("", from)
	}
	for _, f := range r.Flags {
		t.word("", f)
	}
	if routeDst(r).Addr().Is6() {
		// The kernel gives every IPv6 route a router preference; only a
		// route learned from a router advertisement may have one but
		// medium, and the snapshot does not keep it.
		t.word("", "pref")
		t.word("", "medium")
		t.noTrail = true
	}
}

// ofHop follows iproute2's print_rta_multipath for one next hop: lead
// ("nexthop", or "\tnexthop" to start a line of its own as ip does),
// then via, dev, weight and the hop's flags.
func (t *routeTokens) ofHop(h *NextHop, s *Snapshot, lead string) {
	t.buf, t.toks, t.noTrail = t.buf[:0], t.toks[:0], false
	t.word("", lead)
	if h.Gw.IsValid() {
		t.word("", "via")
		from := len(t.buf)
		t.buf = h.Gw.AppendTo(t.buf)
		t.end("gw", from)
	}
	dev := h.Dev
	if dev == "" && h.DevIndex != 0 && s != nil {
		if l := s.LinkByIndex(h.DevIndex); l != nil {
			dev = l.Name
		}
	}
	if dev != "" {
		t.word("", "dev")
		t.word("dev", dev)
	}
	t.word("", "weight")
	from := len(t.buf)
	t.buf = strconv.AppendInt(t.buf, int64(max(h.Weight, 1)), 10)
	t.end("", from)
	for _, f := range h.Flags {
		t.word("", f)
	}
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
