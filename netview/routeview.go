package netview

import (
	"net/netip"
	"slices"
)

// routeOrder is what `ip route` prints: the main table's IPv4 routes in
// the kernel's order (by address, the longer prefix first, then the lower
// metric), with their classes. With v6, `ip -6 route`: the IPv6 routes in
// the dump's order, which is the kernel's walk of its IPv6 tree and no
// order of addresses.
func (c *renderCtx) routeOrder(v6 bool) []routeClass {
	n := 0
	for i := range c.s.Routes {
		if inRouteView(&c.s.Routes[i], v6) {
			n++
		}
	}
	cls := make([]routeClass, 0, n)
	for i := range c.s.Routes {
		if r := &c.s.Routes[i]; inRouteView(r, v6) {
			cls = append(cls, routeClass{r: r})
		}
	}
	if c.a != nil {
		c.routeClasses(cls, v6)
	}
	if v6 {
		return withHops(cls)
	}
	order := func(x, y routeClass) int {
		if n := cmpDst(routeDst(x.r), routeDst(y.r)); n != 0 {
			return n
		}
		return x.r.Metric - y.r.Metric
	}
	// A dump lists the main table in this order already.
	if !slices.IsSortedFunc(cls, order) {
		slices.SortStableFunc(cls, order)
	}
	return withHops(cls)
}

// inRouteView says whether r is a line of the ip route view of its
// family (v6: ip -6 route's).
func inRouteView(r *Route, v6 bool) bool {
	return isMain(r) && routeDst(r).IsValid() && routeDst(r).Addr().Is6() == v6
}

// withHops gives each multipath route a line for each of its next hops,
// after its own, as ip prints them.
func withHops(cls []routeClass) []routeClass {
	hops := 0
	for _, x := range cls {
		hops += len(x.r.NextHops)
	}
	if hops == 0 {
		return cls
	}
	out := make([]routeClass, 0, len(cls)+hops)
	for _, x := range cls {
		out = append(out, x)
		for k := range x.r.NextHops {
			out = append(out, routeClass{r: x.r, rc: x.rc, hop: k + 1})
		}
	}
	return out
}

// RouteView is `ip route` as Render draws it, one line at a time, drawn
// when asked for: a node's route view has tens of thousands of lines and
// a pane shows a few dozen. Not safe for concurrent use; its snapshot
// and analysis must not change after.
type RouteView struct {
	c   *renderCtx
	cls []routeClass
	v6  bool // ip -6 route: not in order of destination
}

// NewRouteView lays out the route view of a snapshot, tagged by the
// analysis when there is one.
func NewRouteView(side Side, s *Snapshot, a *Analysis) *RouteView {
	return newRouteView(side, s, a, false)
}

// NewRouteView6 is NewRouteView for `ip -6 route`.
func NewRouteView6(side Side, s *Snapshot, a *Analysis) *RouteView {
	return newRouteView(side, s, a, true)
}

func newRouteView(side Side, s *Snapshot, a *Analysis, v6 bool) *RouteView {
	if s == nil {
		return &RouteView{v6: v6}
	}
	c := newRenderCtx(side, s, a)
	v := &RouteView{c: c, cls: c.routeOrder(v6), v6: v6}
	// What the lines need of the analysis is in c now and in the classes:
	// the view holds no pointer to the analysis itself, which may be a
	// field of a value its holder would otherwise keep alive.
	c.analysed, c.a = a != nil, nil
	return v
}

// Len is the number of lines.
func (v *RouteView) Len() int { return len(v.cls) }

// Snapshot is the snapshot the view lays out; nil for a view of none.
func (v *RouteView) Snapshot() *Snapshot {
	if v.c == nil {
		return nil
	}
	return v.c.s
}

// Route is the route on line i; a multipath route is on each of its next
// hops' lines too.
func (v *RouteView) Route(i int) *Route { return v.cls[i].r }

// Class is the analysis of line i's route; nil when it has none.
func (v *RouteView) Class(i int) *RouteClass { return v.cls[i].rc }

// Line draws line i, as Render does.
func (v *RouteView) Line(i int) Line {
	rc := v.cls[i]
	tag := TagNone
	if rc.rc != nil {
		tag = RouteTag(rc.rc.Class)
	}
	return v.c.routeLine(rc, tag)
}

// AppendText appends line i's text, as Line(i).String() has it.
func (v *RouteView) AppendText(b []byte, i int) []byte {
	return v.c.tokens(v.cls[i]).appendText(b, true)
}

// tokens are the words of a line: a route's, or one of its next hops'
// after the tab that starts its line.
func (c *renderCtx) tokens(x routeClass) *routeTokens {
	t := &c.toks
	if x.hop == 0 {
		t.of(x.r, c.s)
		return t
	}
	t.ofHop(&x.r.NextHops[x.hop-1], c.s, "\tnexthop")
	return t
}

// HasTag is Line(i).HasTag(t), drawing the line only when it must.
func (v *RouteView) HasTag(i int, t Tag) bool {
	rc := v.cls[i].rc
	switch {
	case rc != nil && t == RouteTag(rc.Class):
		return true // every space between words carries it
	case t == TagGateway || (t == v.c.vethTag && t != TagNone):
		return v.Line(i).HasTag(t)
	}
	return t == TagNone && rc == nil
}

// Has says whether a line here reads as line j of w does. The lines are
// in order of destination and a line's text names its destination: only
// the lines with j's destination are looked at.
func (v *RouteView) Has(w *RouteView, j int) bool {
	d := routeDst(w.cls[j].r)
	if v.v6 {
		for i := range v.cls {
			if routeDst(v.cls[i].r) == d && v.SameLine(i, w, j) {
				return true
			}
		}
		return false
	}
	i, _ := slices.BinarySearchFunc(v.cls, d, func(x routeClass, d netip.Prefix) int {
		return cmpDst(routeDst(x.r), d)
	})
	for ; i < len(v.cls) && routeDst(v.cls[i].r) == d; i++ {
		if v.SameLine(i, w, j) {
			return true
		}
	}
	return false
}

// cmpDst is the kernel's order of destinations: by address, the longer
// prefix first.
func cmpDst(x, y netip.Prefix) int {
	if n := x.Addr().Compare(y.Addr()); n != 0 {
		return n
	}
	return y.Bits() - x.Bits()
}

// SameLine says whether line i here and line j of w read the same,
// without drawing them when their routes are equal.
func (v *RouteView) SameLine(i int, w *RouteView, j int) bool {
	a, b := v.cls[i].r, w.cls[j].r
	if v.cls[i].hop == w.cls[j].hop && a.Dev != "" && b.Dev != "" && routeEqual(a, b) {
		return true
	}
	x := v.AppendText(nil, i)
	return string(x) == string(w.AppendText(nil, j))
}

func (c *renderCtx) routeLine(x routeClass, tag Tag) Line {
	var key []byte
	if x.hop > 0 {
		key = appendDst(append(c.scratch[:0], "route:"...), x.r) // the route's key, on each of its lines
	}
	t := c.tokens(x)
	if x.hop == 0 {
		dst := 0
		if t.toks[0].kind != "dst" {
			dst = 1 // after the type
		}
		key = append(append(c.scratch[:0], "route:"...), t.text(dst)...)
	}
	b := lineBuilder{key: string(key), buf: c.scratch[:0]}
	defer func() { c.scratch = b.buf[:0] }()
	for i, tok := range t.toks {
		tt := tag
		switch tok.kind {
		case "dst", "gw":
			if c.analysed && c.gwText != "" && string(t.text(i)) == c.gwText {
				tt = TagGateway
			}
		case "dev":
			if c.vethIf != "" && string(t.text(i)) == c.vethIf {
				tt = c.vethTag
			}
		}
		b.addBytes(t.text(i), tt)
		if i < len(t.toks)-1 || !t.noTrail {
			b.add(" ", tag)
		}
	}
	return b.line()
}

// routeClasses pairs rs, the snapshot's routes that the analysis
// classes, in the snapshot's order, with their classes (nil for a route
// it has none for). An analysis of this very snapshot lists them in the
// same order, so they pair up one by one, the other family's routes
// passed over; only an analysis of another (a caller's mix) needs them
// looked up, in a map as large as the table.
func (c *renderCtx) routeClasses(rs []routeClass, v6 bool) {
	j, aligned := 0, true
	for i := range c.a.Routes {
		rc := &c.a.Routes[i]
		if rc.Side != c.side || rc.Route != nil && !inRouteView(rc.Route, v6) {
			continue
		}
		if j >= len(rs) || rc.Route == nil || !routeEqual(rc.Route, rs[j].r) {
			aligned = false
			break
		}
		rs[j].rc = rc
		j++
	}
	if aligned && j == len(rs) {
		return
	}
	classes := make(map[routeKey]*RouteClass, len(c.a.Routes))
	for i := range c.a.Routes {
		if rc := &c.a.Routes[i]; rc.Side == c.side && rc.Route != nil {
			classes[keyOf(rc.Route)] = rc
		}
	}
	for i := range rs {
		rs[i].rc = classes[keyOf(rs[i].r)]
	}
}

// routeClass is a route and its class, nil when it has none. A
// multipath route has a line for each next hop after its own: hop k+1
// is next hop k's line, 0 the route's.
type routeClass struct {
	r   *Route
	rc  *RouteClass
	hop int
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
