package netview

import (
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
		a.BlockSize6 == b.BlockSize6 && a.ClusterCIDR6 == b.ClusterCIDR6 &&
		slices.Equal(a.Pods, b.Pods) && slices.Equal(a.Nodes, b.Nodes) && slices.Equal(a.Blocks, b.Blocks)
}

// follower walks what was made last time beside what is being made now,
// both in the snapshot's order: a refresh of a large node changes a few
// routes, so the next entry is usually the one wanted. Up to
// followLookahead entries gone are stepped over; an entry not found is
// made afresh, and the walk keeps its place.
type follower[T any] struct {
	prev []T
	pos  int // in prev: where the next entry is looked for
}

// followLookahead is how many entries may be gone between two that
// remain, for the walk to keep its place.
const followLookahead = 8

// find is the next entry of prev that match accepts, within reach.
func (f *follower[T]) find(match func(*T) bool) (*T, bool) {
	for i := f.pos; i < len(f.prev) && i <= f.pos+followLookahead; i++ {
		if match(&f.prev[i]) {
			f.pos = i + 1
			return &f.prev[i], true
		}
	}
	return nil, false
}

// routeMemo finds a node route's class in the last analysis.
type routeMemo struct {
	follower[RouteClass]
	// hits counts the routes whose class came from the memo (for tests).
	hits int
}

// begin readies the memo for an analysis; keep false forgets the last.
func (m *routeMemo) begin(keep bool) {
	if !keep {
		m.prev = nil
	}
	// The pod's few routes come first.
	m.pos = 0
	for m.pos < len(m.prev) && m.prev[m.pos].Side != SideHost {
		m.pos++
	}
}

// find is the class the last analysis gave a node route equal to r. A
// nil memo finds nothing.
func (m *routeMemo) find(r *Route) (RouteClass, bool) {
	if m == nil {
		return RouteClass{}, false
	}
	rc, ok := m.follower.find(func(rc *RouteClass) bool {
		return rc.Side == SideHost && rc.Route != nil && routeEqual(rc.Route, r)
	})
	if !ok {
		return RouteClass{}, false
	}
	return *rc, true
}

// end makes the routes just classed the ones the next analysis looks in.
func (m *routeMemo) end(routes []RouteClass) { m.prev = routes }

// routeEqual is whether two routes are the same in every field.
func routeEqual(a, b *Route) bool {
	return a.Family == b.Family && a.Table == b.Table && a.Type == b.Type && a.Dst == b.Dst && a.Gw == b.Gw &&
		a.Dev == b.Dev && a.DevIndex == b.DevIndex && a.Scope == b.Scope && a.Protocol == b.Protocol &&
		a.Src == b.Src && a.Metric == b.Metric && slices.Equal(a.Flags, b.Flags) &&
		slices.EqualFunc(a.NextHops, b.NextHops, hopEqual)
}

func hopEqual(a, b NextHop) bool {
	return a.Gw == b.Gw && a.Dev == b.Dev && a.DevIndex == b.DevIndex && a.Weight == b.Weight && slices.Equal(a.Flags, b.Flags)
}
