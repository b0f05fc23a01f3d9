package netview

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// View is one of the ip commands the lesson runs.
type View string

// The views.
const (
	ViewAddr  View = "addr"
	ViewLink  View = "link"
	ViewRoute View = "route"
	ViewNeigh View = "neigh"
	// ViewRoute6 is ip -6 route: a dual-stack pod's and node's IPv6 routes.
	ViewRoute6 View = "route6"
	// ViewAddr6 is ip -6 addr: the links with IPv6 addresses, and those.
	ViewAddr6 View = "addr6"
)

// Command is what a student types to see the view.
func (v View) Command() string {
	switch v {
	case ViewAddr:
		return "ip addr"
	case ViewLink:
		return "ip -c link show up"
	case ViewRoute:
		return "ip route"
	case ViewNeigh:
		return "ip neigh"
	case ViewRoute6:
		return "ip -6 route"
	case ViewAddr6:
		return "ip -6 addr"
	}
	if c := extraCommand(v); c != "" {
		return c
	}
	return "ip " + string(v)
}

// Render lays a snapshot out as iproute2 prints the view, trailing spaces
// included, so it can be held against a terminal. With an analysis the
// spans are tagged with what they mean; without one only with structure.
func Render(side Side, v View, s *Snapshot, a *Analysis) []Line {
	if s == nil {
		return nil
	}
	if v == ViewRoute || v == ViewRoute6 {
		rv := NewRouteView(side, s, a)
		if v == ViewRoute6 {
			rv = NewRouteView6(side, s, a)
		}
		out := make([]Line, rv.Len())
		for i := range out {
			out[i] = rv.Line(i)
		}
		return out
	}
	c := newRenderCtx(side, s, a)
	switch v {
	case ViewAddr:
		return c.links(false)
	case ViewAddr6:
		return c.links6()
	case ViewLink:
		return c.links(true)
	case ViewNeigh:
		return c.neighs()
	}
	return nil
}

type renderCtx struct {
	side    Side
	s       *Snapshot
	a       *Analysis
	veth    int // index of this side's veth end, 0 if unknown
	vethTag Tag
	gateway netip.Addr
	gwText  string // gateway as text, "" when unknown
	// analysed says the lines are tagged by an analysis.
	analysed bool
	vethIf   string // this side's veth end's name, "" if unknown
	// toks and scratch are reused from line to line.
	toks     routeTokens
	scratch  []byte
	podIPs   []netip.Addr
	neighMAC string
}

func newRenderCtx(side Side, s *Snapshot, a *Analysis) *renderCtx {
	c := &renderCtx{side: side, s: s, a: a, analysed: a != nil}
	if a == nil {
		return c
	}
	c.gateway = a.Gateway.Address
	if c.gateway.IsValid() {
		c.gwText = c.gateway.String()
	}
	if side == SidePod {
		c.veth, c.vethTag, c.vethIf = a.Veth.PodIndex, TagVethPod, a.Veth.PodIf
		for _, ad := range s.AddrsOf(c.veth) {
			if ad.Scope == "global" || ad.Scope == "" {
				c.podIPs = append(c.podIPs, ad.Prefix.Addr())
			}
		}
		c.neighMAC = a.Gateway.NeighMAC
	} else {
		c.veth, c.vethTag, c.vethIf = a.Veth.HostIndex, TagVethHost, a.Veth.HostIf
		for _, rc := range a.Routes {
			if rc.Side == SideHost && rc.Class == ClassLocalPod && rc.Dev == a.Veth.HostIf && a.Veth.HostIf != "" {
				if rc.Route != nil {
					c.podIPs = append(c.podIPs, routeDst(rc.Route).Addr())
				}
			}
		}
	}
	return c
}

// lineBuilder appends spans, merging neighbours with the same tag.
type lineBuilder struct {
	key string
	buf []byte // the line's text
	// ends are where each span ends in buf, tags their tags; the spans
	// are cut from one string when the line is done (a node's route view
	// has tens of thousands of lines: two allocations each, not one a
	// span).
	ends  [12]int
	tags  [12]Tag
	n     int
	more  []Span // spans past the twelfth, rare
	start int    // where the span being built starts
	tag   Tag
}

func (b *lineBuilder) add(text string, tag Tag) {
	if text == "" {
		return
	}
	if tag != b.tag && len(b.buf) > b.start {
		b.flush()
	}
	b.tag = tag
	b.buf = append(b.buf, text...)
}

func (b *lineBuilder) addBytes(text []byte, tag Tag) {
	if len(text) == 0 {
		return
	}
	if tag != b.tag && len(b.buf) > b.start {
		b.flush()
	}
	b.tag = tag
	b.buf = append(b.buf, text...)
}

func (b *lineBuilder) flush() {
	if b.n < len(b.ends) {
		b.ends[b.n], b.tags[b.n] = len(b.buf), b.tag
		b.n++
	} else {
		b.more = append(b.more, Span{Text: string(b.buf[b.start:]), Tag: b.tag})
	}
	b.start = len(b.buf)
}

func (b *lineBuilder) line() Line {
	if len(b.buf) > b.start {
		b.flush()
	}
	text := string(b.buf[:b.ends[max(b.n-1, 0)]])
	spans := make([]Span, 0, b.n+len(b.more))
	from := 0
	for i := range b.n {
		spans = append(spans, Span{Text: text[from:b.ends[i]], Tag: b.tags[i]})
		from = b.ends[i]
	}
	spans = append(spans, b.more...)
	if len(spans) == 0 {
		spans = nil
	}
	return Line{Key: b.key, Spans: spans}
}

func (c *renderCtx) semantic(t Tag) Tag {
	if c.a == nil {
		return TagNone
	}
	return t
}

func (c *renderCtx) isPodIP(a netip.Addr) bool {
	return slices.Contains(c.podIPs, a)
}

func (c *renderCtx) ifTag(index int) Tag {
	if c.a != nil && index != 0 && index == c.veth {
		return c.vethTag
	}
	return TagIfName
}

// links renders `ip addr` (every link, with addresses) or `ip link show
// up` (links that are up, with "mode DEFAULT").
func (c *renderCtx) links(linkView bool) []Line {
	var out []Line
	for i := range c.s.Links {
		l := &c.s.Links[i]
		if linkView && !l.HasFlag("UP") {
			continue
		}
		key := "link:" + strconv.Itoa(l.Index)
		out = append(out, c.linkHeader(l, key, linkView), c.linkLayer(l, key))
		if linkView {
			continue
		}
		addrs := c.s.AddrsOf(l.Index)
		// ip lists a link's IPv4 addresses before its IPv6 ones.
		for _, v4 := range []bool{true, false} {
			for j := range addrs {
				if addrs[j].Prefix.Addr().Is4() == v4 {
					out = append(out, c.addrLines(l, &addrs[j])...)
				}
			}
		}
	}
	return out
}

// links6 is `ip -6 addr`: each link with an IPv6 address, under a header
// made of what the kernel's IPv6 link dump carries (no qdisc, group,
// master or link layer), then its IPv6 addresses.
func (c *renderCtx) links6() []Line {
	var out []Line
	for i := range c.s.Links {
		l := &c.s.Links[i]
		addrs := c.s.AddrsOf(l.Index)
		if !slices.ContainsFunc(addrs, func(a Addr) bool { return a.Prefix.Addr().Is6() }) {
			continue
		}
		key := "link:" + strconv.Itoa(l.Index)
		b := lineBuilder{key: key}
		tag := c.ifTag(l.Index)
		b.add(strconv.Itoa(l.Index)+": ", TagNone)
		b.add(l.Name, tag)
		// The IPv6 dump gives the peer's index without its namespace, and
		// only when it differs from the link's own: ip names it from this
		// namespace's links, rightly or not.
		if l.ParentIndex != 0 && l.ParentIndex != l.Index {
			peer := "@if" + strconv.Itoa(l.ParentIndex)
			if p := c.s.LinkByIndex(l.ParentIndex); p != nil {
				peer = "@" + p.Name
			}
			b.add(peer, tag)
		}
		b.add(": ", TagNone)
		b.add("<"+strings.Join(l.Flags, ",")+">", TagFlags)
		b.add(" mtu "+strconv.Itoa(l.MTU)+" ", TagNone)
		b.add("state "+cmp.Or(l.OperState, "UNKNOWN"), TagState)
		rest := " "
		if l.TxQLen > 0 {
			rest += "qlen " + strconv.Itoa(l.TxQLen)
		}
		b.add(rest, TagNone)
		out = append(out, b.line())
		for j := range addrs {
			if addrs[j].Prefix.Addr().Is6() {
				out = append(out, c.addrLines(l, &addrs[j])...)
			}
		}
	}
	return out
}

func (c *renderCtx) linkHeader(l *Link, key string, linkView bool) Line {
	b := lineBuilder{key: key}
	tag := c.ifTag(l.Index)
	b.add(strconv.Itoa(l.Index)+": ", TagNone)
	b.add(l.Name, tag)
	if peer := c.peerText(l); peer != "" {
		b.add(peer, tag)
	}
	b.add(": ", TagNone)
	b.add("<"+strings.Join(l.Flags, ",")+">", TagFlags)
	var rest strings.Builder
	rest.WriteString(" mtu " + strconv.Itoa(l.MTU) + " ")
	if l.Qdisc != "" {
		rest.WriteString("qdisc " + l.Qdisc + " ")
	}
	if l.MasterIndex != 0 {
		name := "if" + strconv.Itoa(l.MasterIndex)
		if m := c.s.LinkByIndex(l.MasterIndex); m != nil {
			name = m.Name
		}
		rest.WriteString("master " + name + " ")
	}
	b.add(rest.String(), TagNone)
	b.add("state "+cmp.Or(l.OperState, "UNKNOWN"), TagState)
	rest.Reset()
	rest.WriteString(" ")
	if linkView {
		rest.WriteString("mode DEFAULT ")
	}
	rest.WriteString("group " + cmp.Or(l.Group, "default") + " ")
	if l.TxQLen > 0 {
		rest.WriteString("qlen " + strconv.Itoa(l.TxQLen))
	}
	b.add(rest.String(), TagNone)
	return b.line()
}

// peerText is ip's @…: @ifN for a peer in another namespace, the peer's
// name for one in this namespace.
func (c *renderCtx) peerText(l *Link) string {
	if l.ParentIndex == 0 {
		return ""
	}
	if l.LinkNetNSID >= 0 {
		return "@if" + strconv.Itoa(l.ParentIndex)
	}
	if p := c.s.LinkByIndex(l.ParentIndex); p != nil {
		return "@" + p.Name
	}
	return "@if" + strconv.Itoa(l.ParentIndex)
}

func (c *renderCtx) linkLayer(l *Link, key string) Line {
	b := lineBuilder{key: key}
	b.add("    link/"+cmp.Or(l.LinkType, "ether")+" ", TagNone)
	if l.MAC != "" {
		tag := TagNone
		if c.a != nil && (l.Index == c.veth || strings.EqualFold(l.MAC, CalicoMAC)) {
			tag = TagMAC
		}
		b.add(l.MAC, tag)
		if l.Broadcast != "" {
			b.add(" brd "+l.Broadcast, TagNone)
		}
	}
	if l.LinkNetNSID >= 0 {
		b.add(" ", TagNone)
		if n := netnsName(c.s, l.LinkNetNSID); n != "" {
			b.add("link-netns "+n, TagNetnsID)
		} else {
			b.add("link-netnsid "+strconv.Itoa(l.LinkNetNSID), TagNetnsID)
		}
	}
	return b.line()
}

func (c *renderCtx) addrLines(l *Link, a *Addr) []Line {
	key := "addr:" + strconv.Itoa(l.Index)
	b := lineBuilder{key: key}
	v4 := a.Prefix.Addr().Is4()
	fam := "inet6 "
	if v4 {
		fam = "inet "
	}
	b.add("    "+fam, TagNone)
	tag := TagNone
	if c.a != nil && c.isPodIP(a.Prefix.Addr()) {
		tag = TagPodIP
	}
	var rest strings.Builder
	rest.WriteString(" ")
	if a.Peer.IsValid() {
		// ip gives the prefix length to the peer, not the local address.
		b.add(a.Prefix.Addr().String(), tag)
		rest.WriteString("peer " + prefixText(a.Peer) + " ")
	} else {
		b.add(prefixText(a.Prefix), tag)
	}
	if a.Broadcast.IsValid() {
		rest.WriteString("brd " + a.Broadcast.String() + " ")
	}
	rest.WriteString("scope " + cmp.Or(a.Scope, "global") + " ")
	for _, f := range addrFlagWords(a.Flags) {
		rest.WriteString(f + " ")
	}
	b.add(rest.String(), TagNone)
	if v4 {
		b.add(cmp.Or(a.Label, l.Name), c.ifTag(l.Index))
	}
	lft := lineBuilder{key: key}
	lft.add("       valid_lft "+lifetime(a.ValidLft)+" preferred_lft "+lifetime(a.PreferredLft), TagMuted)
	return []Line{b.line(), lft.line()}
}

// neighs renders `ip neigh`: IPv4 entries, then IPv6.
func (c *renderCtx) neighs() []Line {
	var out []Line
	for _, v4 := range []bool{true, false} {
		for i := range c.s.Neighs {
			if n := &c.s.Neighs[i]; n.IP.Is4() == v4 {
				out = append(out, c.neighLine(n))
			}
		}
	}
	return out
}

func (c *renderCtx) neighLine(n *Neigh) Line {
	b := lineBuilder{key: "neigh:" + n.IP.String()}
	isGw := c.a != nil && n.IP == c.gateway
	ipTag := TagNone
	switch {
	case isGw:
		ipTag = TagGateway
	case c.a != nil && c.isPodIP(n.IP):
		ipTag = TagPodIP
	}
	b.add(n.IP.String(), ipTag)
	b.add(" dev ", TagNone)
	b.add(n.Dev, c.ifTag(n.Index))
	b.add(" ", TagNone)
	if n.MAC != "" {
		b.add("lladdr ", TagNone)
		macTag := TagNone
		if isGw {
			macTag = TagGateway
		}
		b.add(n.MAC, macTag)
		b.add(" ", TagNone)
	}
	for _, f := range n.Flags {
		b.add(f+" ", TagNone)
	}
	for _, st := range n.State {
		b.add(st, TagState)
		b.add(" ", TagNone)
	}
	return b.line()
}
