package netview

import (
	"net/netip"
	"podlab/termtext"
	"slices"
	"strings"
)

// Clean makes text from outside safe to print (termtext.Clean).
func Clean(s string) string { return termtext.Clean(s) }

// IsClean reports whether s holds nothing Clean would escape.
func IsClean(s string) bool { return termtext.IsClean(s) }

// Sanitize cleans every string in the pair (names, kinds, flags, facts,
// map keys, the zones of IPv6 addresses) and cuts each to the length its
// kind can have (textCaps): every lab calls it on what it produces,
// before anything is rendered. The fields are listed by hand, type by
// type below: a node's tens of thousands of routes made a walk by
// reflection cost more than reading them. TestSanitizeReachesEveryString
// sets every string of every type by reflection, so a field added later
// and not listed here fails it.
func (p *Pair) Sanitize() { p.each(sanitize) }

// Sanitize cleans and cuts every string in the recording, its note included.
func (r *Recording) Sanitize() {
	f := visit(sanitize)
	f.at(&r.Schema, kindWord)
	f.at(&r.Lab, kindWord)
	f.at(&r.Note, kindText)
	r.Pair.Sanitize()
}

// Sanitize cleans and cuts every string in the snapshot.
func (s *Snapshot) Sanitize() { s.each(sanitize) }

// Sanitize cleans and cuts every string in the route.
func (r *Route) Sanitize() { r.each(sanitize) }

// Sanitize cleans and cuts every string in the facts.
func (f *Facts) Sanitize() { f.each(sanitize) }

// visit is handed each string of a value with its kind, and says what
// it becomes (changed: whether that differs). Strings go in and out by
// value: a pointer to a local handed to a func value would escape, an
// allocation per route.
type visit func(s string, k textKind) (out string, changed bool)

// at visits *s and stores what it becomes.
func (f visit) at(s *string, k textKind) {
	if v, ok := f(*s, k); ok {
		*s = v
	}
}

func (p *Pair) each(f visit) {
	p.Pod.each(f)
	p.Host.each(f)
	p.Facts.each(f)
	p.Extra.each(f)
}

func (s *Snapshot) each(f visit) {
	f.at(&s.NS.Name, kindNetNS)
	f.at(&s.NS.Path, kindPath)
	for id, name := range s.NS.NSIDs {
		if n, ok := f(name, kindNetNS); ok {
			s.NS.NSIDs[id] = n
		}
	}
	for i := range s.Links {
		s.Links[i].each(f)
	}
	for i := range s.Addrs {
		a := &s.Addrs[i]
		f.at(&a.Dev, kindIfName)
		zone(f, &a.Broadcast)
		f.at(&a.Scope, kindWord)
		f.at(&a.Label, kindIfName)
		all(f, a.Flags, kindWord)
	}
	for i := range s.Routes {
		s.Routes[i].each(f)
	}
	for i := range s.Neighs {
		n := &s.Neighs[i]
		f.at(&n.Dev, kindIfName)
		zone(f, &n.IP)
		f.at(&n.MAC, kindHWAddr)
		all(f, n.State, kindWord)
		all(f, n.Flags, kindWord)
	}
	keys(f, s.Sysctls)
}

func (l *Link) each(f visit) {
	f.at(&l.Name, kindIfName)
	f.at(&l.Kind, kindWord)
	all(f, l.Flags, kindWord)
	f.at(&l.Qdisc, kindWord)
	f.at(&l.OperState, kindWord)
	f.at(&l.Group, kindWord)
	f.at(&l.LinkType, kindWord)
	f.at(&l.MAC, kindHWAddr)
	f.at(&l.Broadcast, kindHWAddr)
	keys(f, l.Sysctls)
}

func (r *Route) each(f visit) {
	f.at(&r.Type, kindWord)
	zone(f, &r.Gw)
	f.at(&r.Dev, kindIfName)
	f.at(&r.Scope, kindWord)
	zone(f, &r.Src)
	all(f, r.Flags, kindWord)
	for i := range r.NextHops {
		h := &r.NextHops[i]
		zone(f, &h.Gw)
		f.at(&h.Dev, kindIfName)
		all(f, h.Flags, kindWord)
	}
}

func (f *Facts) each(v visit) {
	f.Pod.each(v)
	v.at(&f.Node, kindK8sName)
	v.at((*string)(&f.Mode), kindWord)
	v.at(&f.InterfacePrefix, kindIfName)
	for i := range f.Pods {
		f.Pods[i].each(v)
	}
	for i := range f.Nodes {
		v.at(&f.Nodes[i].Name, kindK8sName)
		zone(v, &f.Nodes[i].InternalIP)
		zone(v, &f.Nodes[i].InternalIP6)
	}
	for i := range f.Blocks {
		v.at(&f.Blocks[i].Node, kindK8sName)
	}
}

func (p *PodFact) each(f visit) {
	f.at(&p.Namespace, kindK8sLabel)
	f.at(&p.Name, kindK8sName)
	zone(f, &p.IP)
	zone(f, &p.IP6)
	f.at(&p.Node, kindK8sName)
	f.at(&p.Phase, kindWord)
}

// zone visits the zone of an IPv6 address (fe80::1%eth0): text from
// outside too, which a recording or `ip -j` output can carry, and which
// rendering prints with the address. (A prefix holds no zone.)
func zone(f visit, a *netip.Addr) {
	if z := a.Zone(); z != "" {
		if v, ok := f(z, kindIfName); ok {
			*a = a.WithZone(v)
		}
	}
}

func all(f visit, l []string, k textKind) {
	for i := range l {
		f.at(&l[i], k)
	}
}

// keys visits the keys of m. A key changed into one that is already a
// key replaces it.
func keys[V any](f visit, m map[string]V) {
	var changed [][2]string
	for k := range m {
		if n, ok := f(k, kindWord); ok {
			changed = append(changed, [2]string{k, n})
		}
	}
	// Two keys may clean to one: a clean key keeps its value, and of the
	// others the one that sorts first wins, whatever the map's order.
	slices.SortFunc(changed, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	vals := make([]V, len(changed))
	for i, c := range changed {
		vals[i] = m[c[0]]
		delete(m, c[0])
	}
	for i, c := range changed {
		if _, taken := m[c[1]]; !taken {
			m[c[1]] = vals[i]
		}
	}
}

// sanitize cleans s and cuts it to its kind's cap; a clean string
// within it (nearly all) is left as it is.
func sanitize(s string, k textKind) (string, bool) {
	if len(s) <= textCaps[k].max && IsClean(s) {
		return s, false
	}
	return Cut(s, textCaps[k].max), true
}

// FirstLine is s's first line, trimmed (termtext.FirstLine).
func FirstLine(s string) string { return termtext.FirstLine(s) }
