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
	ViewAddr  View = "addr"  // ip addr
	ViewLink  View = "link"  // ip -c link show up
	ViewRoute View = "route" // ip route
	ViewNeigh View = "neigh" // ip neigh
)

// Render lays a snapshot out as iproute2 prints the view, trailing spaces
// included, so it can be held against a terminal. With an analysis the
// spans are tagged with what they mean; without one only with structure.
func Render(side Side, v View, s *Snapshot, a *Analysis) []Line {
	return render(side, v, s, a, nil)
}

// Renderer is Render with a memory of the route lines it drew last time:
// a refresh of a node of tens of thousands of routes changes a few, and
// the others' lines, equal, are used again. The zero value is ready; a
// Renderer is not safe for concurrent use, and the snapshots it is given
// must not change after.
type Renderer struct {
	ctx   lineCtx
	lines []memoLine
	// reused counts the lines taken from the last render (for tests).
	reused int
}

// lineCtx is what a route's line hangs on besides the route and its tag.
type lineCtx struct {
	side           Side
	analysed       bool
	gwText, vethIf string
	vethTag        Tag
}

type memoLine struct {
	r    *Route
	tag  Tag
	line Line
}

// Render is Render, drawing again only the route lines that changed.
func (rd *Renderer) Render(side Side, v View, s *Snapshot, a *Analysis) []Line {
	return render(side, v, s, a, rd)
}

func render(side Side, v View, s *Snapshot, a *Analysis, rd *Renderer) []Line {
	if s == nil {
		return nil
	}
	c := newRenderCtx(side, s, a)
	c.memo = rd
	switch v {
	case ViewAddr:
		return c.links(false)
	case ViewLink:
		return c.links(true)
	case ViewRoute:
		return c.routes()
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
	vethIf  string // this side's veth end's name, "" if unknown
	// scratch and toks are reused from line to line.
	scratch  []byte
	toks     []routeToken
	podIPs   []netip.Addr
	neighMAC string
	// memo, when set, holds the route lines of the last render.
	memo *Renderer
}

func newRenderCtx(side Side, s *Snapshot, a *Analysis) *renderCtx {
	c := &renderCtx{side: side, s: s, a: a}
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

// routeClasses are the classes of rs, the snapshot's routes that the
// analysis classes, in the snapshot's order; ok false for a route it has
// none for. An analysis of this very snapshot lists them in the same
// order, so they pair up one by one; only an analysis of another (a
// caller's mix) needs them looked up.
func (c *renderCtx) routeClasses(rs []*Route) []routeClass {
	out := make([]routeClass, len(rs))
	for i, r := range rs {
		out[i].r = r
	}
	j, aligned := 0, true
	for i := range c.a.Routes {
		rc := &c.a.Routes[i]
		if rc.Side != c.side {
			continue
		}
		if j >= len(rs) || rc.Route == nil || !routeEqual(rc.Route, rs[j]) {
			aligned = false
			break
		}
		out[j].class, out[j].ok = rc.Class, true
		j++
	}
	if aligned && j == len(rs) {
		return out
	}
	classes := make(map[routeKey]Class, len(c.a.Routes))
	for i := range c.a.Routes {
		if rc := &c.a.Routes[i]; rc.Side == c.side && rc.Route != nil {
			classes[keyOf(rc.Route)] = rc.Class
		}
	}
	for i, r := range rs {
		out[i].class, out[i].ok = classes[keyOf(r)]
	}
	return out
}

type routeClass struct {
	r     *Route
	class Class
	ok    bool
}

// routeKey identifies a route within a snapshot, to find its class.
type routeKey struct {
	table, metric, proto int
	typ, dev             string
	dst                  netip.Prefix
	gw                   netip.Addr
}

func keyOf(r *Route) routeKey {
	return routeKey{table: r.Table, metric: r.Metric, proto: r.Protocol, typ: routeType(r), dev: r.Dev, dst: routeDst(r), gw: r.Gw}
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
		if c.a != nil && (l.Index == c.veth || strings.EqualFold(l.MAC, calicoMAC)) {
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

// routes renders `ip route`: the main table's IPv4 routes in the
// kernel's order: by address, the longer prefix first, then the lower
// metric.
func (c *renderCtx) routes() []Line {
	rs := make([]*Route, 0, len(c.s.Routes))
	for i := range c.s.Routes {
		r := &c.s.Routes[i]
		if isMain(r) && routeDst(r).Addr().Is4() {
			rs = append(rs, r)
		}
	}
	var cls []routeClass
	if c.a != nil {
		cls = c.routeClasses(rs)
	} else {
		cls = make([]routeClass, len(rs))
		for i, r := range rs {
			cls[i].r = r
		}
	}
	order := func(x, y routeClass) int {
		dx, dy := routeDst(x.r), routeDst(y.r)
		if n := dx.Addr().Compare(dy.Addr()); n != 0 {
			return n
		}
		if n := dy.Bits() - dx.Bits(); n != 0 {
			return n
		}
		return x.r.Metric - y.r.Metric
	}
	// A dump lists the main table in this order already.
	if !slices.IsSortedFunc(cls, order) {
		slices.SortStableFunc(cls, order)
	}
	out := make([]Line, 0, len(rs))
	var last follower[memoLine]
	var next []memoLine
	if rd := c.memo; rd != nil {
		ctx := c.lineCtx()
		if rd.ctx == ctx {
			last.prev = rd.lines
		}
		next = make([]memoLine, 0, len(cls))
		defer func() { rd.ctx, rd.lines = ctx, next }()
	}
	for _, rc := range cls {
		tag := TagNone
		if rc.ok {
			tag = RouteTag(rc.class)
		}
		var l Line
		// A route without a device name takes it from the links: it is
		// drawn afresh.
		if m, ok := last.find(func(m *memoLine) bool { return m.tag == tag && routeEqual(m.r, rc.r) }); ok && rc.r.Dev != "" {
			l = m.line
			c.memo.reused++
		} else {
			l = c.routeLine(rc.r, tag)
		}
		out = append(out, l)
		if c.memo != nil {
			next = append(next, memoLine{rc.r, tag, l})
		}
	}
	return out
}

func (c *renderCtx) lineCtx() lineCtx {
	return lineCtx{side: c.side, analysed: c.a != nil, gwText: c.gwText, vethIf: c.vethIf, vethTag: c.vethTag}
}

func (c *renderCtx) routeLine(r *Route, tag Tag) Line {
	c.toks = routeTokens(c.toks[:0], r, c.s)
	dst := c.toks[0].text
	if c.toks[0].kind != "dst" {
		dst = c.toks[1].text // after the type
	}
	b := lineBuilder{key: "route:" + dst, buf: c.scratch[:0]}
	defer func() { c.scratch = b.buf[:0] }()
	for _, t := range c.toks {
		tt := tag
		switch t.kind {
		case "dst", "gw":
			if c.a != nil && t.text == c.gwText && c.gwText != "" {
				tt = TagGateway
			}
		case "dev":
			if c.vethIf != "" && t.text == c.vethIf {
				tt = c.vethTag
			}
		}
		b.add(t.text, tt)
		b.add(" ", tag)
	}
	return b.line()
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
