package netview

import (
	"hash/maphash"
	"net/netip"
	"slices"
)

// Analyzer is Analyze with a memory of its last answer. A live node with
// tens of thousands of routes changes a few at a time, and working out
// each route's class and words again is most of an analysis: a route
// seen last time, under the same facts, takes its class from then. The
// zero value is ready; an Analyzer is not safe for concurrent use, and
// the pairs it is given must not change after it has seen them.
type Analyzer struct {
	// What a remembered class depends on besides its own route.
	facts  Facts
	hostIf string
	defGw  netip.Addr
	valid  bool

	memo routeMemo
}

// Analyze is Analyze(p), reusing the last call's classes where they still
// hold.
func (z *Analyzer) Analyze(p *Pair) Analysis {
	return analyze(p, z)
}

// reuse starts a new analysis: it says whether the classes remembered
// still hold for these facts, host end and default route, and records
// them for the next.
func (z *Analyzer) reuse(f *Facts, hostIf *Link, def *Route) bool {
	name := ""
	if hostIf != nil {
		name = hostIf.Name
	}
	var gw netip.Addr
	if def != nil {
		gw = def.Gw
	}
	same := z.valid && factsEqual(&z.facts, f) && z.hostIf == name && z.defGw == gw
	z.facts, z.hostIf, z.defGw, z.valid = *f, name, gw, true
	return same
}

func factsEqual(a, b *Facts) bool {
	return a.Pod == b.Pod && a.Node == b.Node && a.Mode == b.Mode && a.InterfacePrefix == b.InterfacePrefix &&
		a.BlockSize == b.BlockSize && a.ClusterCIDR == b.ClusterCIDR &&
		slices.Equal(a.Pods, b.Pods) && slices.Equal(a.Nodes, b.Nodes) && slices.Equal(a.Blocks, b.Blocks)
}

// routeMemo finds a route's class in the last analysis by a hash of the
// route, checked against the route itself (a collision only costs a
// recomputation).
type routeMemo struct {
	seed  maphash.Seed
	prev  []RouteClass
	index map[uint64]int32
	next  map[uint64]int32
	// hits counts the routes whose class came from the memo (for tests).
	hits int
}

// begin readies the memo for an analysis of n routes; keep false forgets
// the last one.
func (m *routeMemo) begin(n int, keep bool) {
	if m.index == nil && m.next == nil {
		m.seed = maphash.MakeSeed()
	}
	if !keep {
		m.prev, m.index = nil, nil
	}
	m.next = make(map[uint64]int32, n)
}

// find is the class the last analysis gave a node route equal to r.
func (m *routeMemo) find(h uint64, r *Route) (RouteClass, bool) {
	i, ok := m.index[h]
	if !ok {
		return RouteClass{}, false
	}
	rc := m.prev[i]
	if rc.Side != SideHost || rc.Route == nil || !routeEqual(rc.Route, r) {
		return RouteClass{}, false
	}
	m.hits++
	return rc, true
}

// end makes the routes just classed the ones the next analysis looks in.
func (m *routeMemo) end(routes []RouteClass) {
	m.prev, m.index, m.next = routes, m.next, nil
}

func (m *routeMemo) hash(r *Route) uint64 {
	var h maphash.Hash
	h.SetSeed(m.seed)
	var b [8]byte
	put := func(v int) {
		for i := range b {
			b[i] = byte(v >> (8 * i))
		}
		h.Write(b[:])
	}
	put(r.Family)
	put(r.Table)
	put(r.DevIndex)
	put(r.Protocol)
	put(r.Metric)
	h.WriteString(r.Type)
	h.WriteByte(0)
	h.WriteString(r.Dev)
	h.WriteByte(0)
	h.WriteString(r.Scope)
	h.WriteByte(0)
	for _, a := range [...]netip.Addr{r.Dst.Addr(), r.Gw, r.Src} {
		x := a.As16()
		h.Write(x[:])
		h.WriteByte(byte(a.BitLen()))
		h.WriteString(a.Zone())
	}
	put(r.Dst.Bits())
	for _, f := range r.Flags {
		h.WriteString(f)
		h.WriteByte(0)
	}
	return h.Sum64()
}

// routeEqual is whether two routes are the same in every field.
func routeEqual(a, b *Route) bool {
	return a.Family == b.Family && a.Table == b.Table && a.Type == b.Type && a.Dst == b.Dst && a.Gw == b.Gw &&
		a.Dev == b.Dev && a.DevIndex == b.DevIndex && a.Scope == b.Scope && a.Protocol == b.Protocol &&
		a.Src == b.Src && a.Metric == b.Metric && slices.Equal(a.Flags, b.Flags)
}
