package netview

import (
	"fmt"
	"strings"
)

// What changed between two refreshes is worked out here, once: the routes
// and links that came and went (Changes), and which drawn lines are new
// or gone (DiffLines, DiffRoutes).

// RouteKey is what a refresh's routes are compared by: two lists of them
// are kept, so they are small (a node may have tens of thousands).
type RouteKey struct {
	Dst      string
	Host     bool // the node's route, not the pod's
	LocalPod bool // of class local-pod
}

// routeKeys are an analysis's classed routes as a refresh compares them.
func routeKeys(a *Analysis) []RouteKey {
	out := make([]RouteKey, len(a.Routes))
	for i, rc := range a.Routes {
		out[i] = RouteKey{rc.Dst, rc.Side == SideHost, rc.Class == ClassLocalPod}
	}
	return out
}

// Changes are the routes and the node's links that came or went between
// two refreshes.
type Changes struct {
	RemovedRoutes, AddedRoutes []RouteKey
	RemovedLinks, AddedLinks   []string
}

// diffPairs compares two refreshes: a and b are their route keys.
func diffPairs(a, b []RouteKey, pa, pb *Pair) Changes {
	var c Changes
	c.RemovedRoutes, c.AddedRoutes = changedRoutes(a, b)
	links := func(s *Snapshot) map[string]bool {
		m := map[string]bool{}
		for _, l := range s.Links {
			m[l.Name] = true
		}
		return m
	}
	lb, la := links(&pa.Host), links(&pb.Host)
	for _, l := range pa.Host.Links {
		if !la[l.Name] {
			c.RemovedLinks = append(c.RemovedLinks, l.Name)
		}
	}
	for _, l := range pb.Host.Links {
		if !lb[l.Name] {
			c.AddedLinks = append(c.AddedLinks, l.Name)
		}
	}
	return c
}

// String says what changed, in the lesson's terms: "route 10.0.0.5
// removed, link cali… added"; four at most, then how many more.
func (c Changes) String() string {
	var out []string
	for _, rc := range c.RemovedRoutes {
		out = append(out, "route "+rc.Dst+" removed")
	}
	for _, rc := range c.AddedRoutes {
		out = append(out, "route "+rc.Dst+" added")
	}
	for _, l := range c.RemovedLinks {
		out = append(out, "link "+l+" removed")
	}
	for _, l := range c.AddedLinks {
		out = append(out, "link "+l+" added")
	}
	if len(out) > 4 {
		out = append(out[:4], fmt.Sprintf("and %d more", len(out)-4))
	}
	return strings.Join(out, ", ")
}

// changedRoutes are the routes of a whose side and destination b does not
// have, and those of b that a does not. A refresh of a node with tens of
// thousands of routes changes a few, in place: only what lies between the
// lists' common head and tail is looked for in the other list.
func changedRoutes(a, b []RouteKey) (removed, added []RouteKey) {
	type key struct {
		host bool
		dst  string
	}
	same := func(x, y *RouteKey) bool { return x.Host == y.Host && x.Dst == y.Dst }
	head := 0
	for head < len(a) && head < len(b) && same(&a[head], &b[head]) {
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && same(&a[len(a)-1-tail], &b[len(b)-1-tail]) {
		tail++
	}
	// missing are the routes of mid whose key all lacks.
	missing := func(mid, all []RouteKey) []RouteKey {
		if len(mid) == 0 {
			return nil
		}
		found := make(map[key]bool, len(mid))
		for _, rc := range mid {
			found[key{rc.Host, rc.Dst}] = false
		}
		for _, rc := range all {
			k := key{rc.Host, rc.Dst}
			if _, ok := found[k]; ok {
				found[k] = true
			}
		}
		var out []RouteKey
		for _, rc := range mid {
			if !found[key{rc.Host, rc.Dst}] {
				out = append(out, rc)
			}
		}
		return out
	}
	return missing(a[head:len(a)-tail], b), missing(b[head:len(b)-tail], a)
}

// DiffLines compares the lines of a view before and after, by their text:
// added[i] says cur[i] is new (nil when none is), and removed are the old
// lines cur no longer has.
func DiffLines(old, cur []Line) (added []bool, removed []string) {
	var a, b []byte
	texts := func(lines []Line) map[string]bool {
		m := make(map[string]bool, len(lines))
		for _, l := range lines {
			m[l.String()] = true
		}
		return m
	}
	var inOld, inCur map[string]bool
	return diffTexts(len(old), len(cur), func(i, j int) bool {
		a, b = appendLine(a[:0], old[i]), appendLine(b[:0], cur[j])
		return string(a) == string(b)
	}, func(i int) bool {
		if inCur == nil {
			inCur = texts(cur)
		}
		return inCur[old[i].String()]
	}, func(j int) bool {
		if inOld == nil {
			inOld = texts(old)
		}
		return inOld[cur[j].String()]
	}, func(i int) string { return old[i].String() })
}

// DiffRoutes is DiffLines for two route views, drawing no line whose
// route is unchanged.
func DiffRoutes(old, cur *RouteView) (added []bool, removed []string) {
	return diffTexts(old.Len(), cur.Len(), func(i, j int) bool { return old.SameLine(i, cur, j) },
		func(i int) bool { return cur.Has(old, i) }, func(j int) bool { return old.Has(cur, j) },
		func(i int) string { return string(old.AppendText(nil, i)) })
}

// diffTexts compares n old lines with m current ones: same says whether
// old line i reads as current line j; inCur whether old line i reads as
// some current line, inOld the other way round; oldText is old line i's
// text. A refresh of a route view of tens of thousands of lines changes
// a few of them, in place: only what lies between the common head and
// tail is looked for on the other side.
func diffTexts(n, m int, same func(i, j int) bool, inCur, inOld func(int) bool, oldText func(int) string) (added []bool, removed []string) {
	head := 0
	for head < n && head < m && same(head, head) {
		head++
	}
	tail := 0
	for tail < n-head && tail < m-head && same(n-1-tail, m-1-tail) {
		tail++
	}
	for j := head; j < m-tail; j++ {
		if !inOld(j) {
			if added == nil {
				added = make([]bool, m)
			}
			added[j] = true
		}
	}
	for i := head; i < n-tail; i++ {
		if !inCur(i) {
			removed = append(removed, oldText(i))
		}
	}
	return added, removed
}

// appendLine appends a line's text to b.
func appendLine(b []byte, l Line) []byte {
	for _, s := range l.Spans {
		b = append(b, s.Text...)
	}
	return b
}
