package netview

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// Clean makes text from outside safe to print: C0 controls, DEL, C1
// controls (U+0080-U+009F) and bytes that are not UTF-8 are shown as
// escapes (`\x1b`, `\u009b`), so that a name cannot move the cursor, set
// a title, write the clipboard or open a hyperlink. Clean(Clean(s)) is
// Clean(s): the escapes are printable.
func Clean(s string) string {
	if IsClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// IsClean reports whether s holds nothing Clean would escape.
func IsClean(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 || r >= 0x80 && r <= 0x9f {
			return false
		}
		i += size
	}
	return true
}

// Sanitize cleans every string in the pair (names, kinds, flags, facts,
// map keys, the zones of IPv6 addresses): every lab calls it on what it produces, before anything is
// rendered. The fields are listed by hand, type by type below: a node's
// tens of thousands of routes made a walk by reflection cost more than
// reading them. TestSanitizeReachesEveryString sets every string of
// every type by reflection, so a field added later and not listed here
// fails it.
func (p *Pair) Sanitize() {
	p.Pod.Sanitize()
	p.Host.Sanitize()
	p.Facts.Sanitize()
}

// Sanitize cleans every string in the recording, its note included.
func (r *Recording) Sanitize() {
	clean(&r.Schema)
	clean(&r.Lab)
	clean(&r.Note)
	r.Pair.Sanitize()
}

// Sanitize cleans every string in the snapshot.
func (s *Snapshot) Sanitize() {
	clean(&s.NS.Name)
	clean(&s.NS.Path)
	for id, name := range s.NS.NSIDs {
		if !IsClean(name) {
			s.NS.NSIDs[id] = Clean(name)
		}
	}
	for i := range s.Links {
		s.Links[i].sanitize()
	}
	for i := range s.Addrs {
		a := &s.Addrs[i]
		clean(&a.Dev)
		cleanZone(&a.Broadcast)
		clean(&a.Scope)
		clean(&a.Label)
		cleanAll(a.Flags)
	}
	for i := range s.Routes {
		s.Routes[i].Sanitize()
	}
	for i := range s.Neighs {
		n := &s.Neighs[i]
		clean(&n.Dev)
		cleanZone(&n.IP)
		clean(&n.MAC)
		cleanAll(n.State)
		cleanAll(n.Flags)
	}
	cleanKeys(s.Sysctls)
}

func (l *Link) sanitize() {
	clean(&l.Name)
	clean(&l.Kind)
	cleanAll(l.Flags)
	clean(&l.Qdisc)
	clean(&l.OperState)
	clean(&l.Group)
	clean(&l.LinkType)
	clean(&l.MAC)
	clean(&l.Broadcast)
	cleanKeys(l.Sysctls)
}

// Sanitize cleans every string in the route.
func (r *Route) Sanitize() {
	clean(&r.Type)
	cleanZone(&r.Gw)
	clean(&r.Dev)
	clean(&r.Scope)
	cleanZone(&r.Src)
	cleanAll(r.Flags)
	for i := range r.NextHops {
		h := &r.NextHops[i]
		cleanZone(&h.Gw)
		clean(&h.Dev)
		cleanAll(h.Flags)
	}
}

// Sanitize cleans every string in the facts.
func (f *Facts) Sanitize() {
	f.Pod.sanitize()
	clean(&f.Node)
	clean(&f.Mode)
	clean(&f.InterfacePrefix)
	for i := range f.Pods {
		f.Pods[i].sanitize()
	}
	for i := range f.Nodes {
		clean(&f.Nodes[i].Name)
		cleanZone(&f.Nodes[i].InternalIP)
		cleanZone(&f.Nodes[i].InternalIP6)
	}
	for i := range f.Blocks {
		clean(&f.Blocks[i].Node)
	}
}

func (p *PodFact) sanitize() {
	clean(&p.Namespace)
	clean(&p.Name)
	cleanZone(&p.IP)
	cleanZone(&p.IP6)
	clean(&p.Node)
	clean(&p.Phase)
}

// clean cleans *s in place; a clean string (nearly all) is left as it is.
func clean(s *string) {
	if !IsClean(*s) {
		*s = Clean(*s)
	}
}

// cleanZone cleans the zone of an IPv6 address (fe80::1%eth0): text
// from outside too, which a recording or `ip -j` output can carry, and
// which rendering prints with the address. (A prefix holds no zone.)
func cleanZone(a *netip.Addr) {
	if z := a.Zone(); z != "" && !IsClean(z) {
		*a = a.WithZone(Clean(z))
	}
}

func cleanAll(l []string) {
	for i := range l {
		clean(&l[i])
	}
}

// cleanKeys cleans the keys of m. A dirty key whose clean form is
// already a key replaces it.
func cleanKeys[V any](m map[string]V) {
	var dirty []string
	for k := range m {
		if !IsClean(k) {
			dirty = append(dirty, k)
		}
	}
	for _, k := range dirty {
		v := m[k]
		delete(m, k)
		m[Clean(k)] = v
	}
}
