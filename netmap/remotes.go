package netmap

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"podlab/netview"
)

// remotes groups the routes to other nodes by the node they lead to.
func (m *Map) remotes(p *netview.Pair, a *netview.Analysis, routes []routeLine) {
	type group struct {
		key    string // the node's name, else the next hop
		known  bool
		ip     netip.Addr
		blocks []netview.RouteClass
	}
	var groups []*group
	byKey := map[string]*group{}
	var kinds []linkKind
	for _, rc := range a.Routes {
		if rc.Side != netview.SideHost || (rc.Class != netview.ClassRemoteBlock && rc.Class != netview.ClassRemotePod) {
			continue
		}
		kinds = addLinkKind(kinds, rc)
		for _, t := range targets(rc) {
			g := byKey[t.key]
			if g == nil {
				g = &group{key: t.key, known: t.known}
				if t.known {
					g.ip = nodeIP(p, t.key)
				}
				if !g.ip.IsValid() {
					g.ip, _ = netip.ParseAddr(t.gateway)
				}
				byKey[t.key] = g
				groups = append(groups, g)
			}
			g.blocks = append(g.blocks, rc)
		}
	}
	if len(groups) == 0 {
		return
	}
	slices.SortStableFunc(groups, func(x, y *group) int {
		if x.known != y.known {
			if x.known {
				return -1
			}
			return 1
		}
		return cmp.Compare(x.key, y.key)
	})
	m.Link = linkName(kinds)
	unknown := 0
	for i, g := range groups {
		if i == maxRemoteNodes {
			for _, g := range groups[i:] {
				m.MoreRemotes++
				m.MoreRemoteRoutes += len(g.blocks)
			}
			break
		}
		title := g.key
		if g.known && g.ip.IsValid() {
			title += " · " + g.ip.String()
		}
		b := Box{Title: []netview.Span{span(title, netview.TagNone)}}
		if !g.known {
			b.Dashed = true
			b.Title = []netview.Span{span(title+" · no node known", netview.TagMuted)}
			if unknown < maxUnknownDashed {
				m.Notes = append(m.Notes, "routes lead to "+g.key+", which no node of the cluster is known to own")
			}
			unknown++
		}
		slices.SortStableFunc(g.blocks, func(x, y netview.RouteClass) int {
			if x.Class != y.Class { // blocks before borrowed /32s
				return cmp.Compare(rank(x.Class), rank(y.Class))
			}
			return 0
		})
		for j, rc := range g.blocks {
			if j == maxRemoteRoutes {
				b.Rows = append(b.Rows, row(span(fmt.Sprintf("+%d more", len(g.blocks)-j), netview.RouteTag(netview.ClassRemoteBlock))))
				break
			}
			tag := netview.RouteTag(rc.Class)
			if rc.Class == netview.ClassRemotePod {
				sp := []netview.Span{span(rc.Dst, tag), span(" borrowed", netview.TagNone)}
				if pf := podAt(p, rc.Dst); pf != "" {
					sp = append(sp, span(" by "+pf, netview.TagNone))
				}
				b.Rows = append(b.Rows, row(append(sp, ecmp(rc)...)...))
				continue
			}
			b.Rows = append(b.Rows, row(append([]netview.Span{span(rc.Dst, tag), span(" block", netview.TagNone)}, ecmp(rc)...)...))
		}
		m.Remotes = append(m.Remotes, b)
	}
}

// target is a node a route leads to: its name when known, else the
// next hop's address or device.
type target struct {
	key, gateway string
	known        bool
}

// targets are the nodes a route leads to: one, or for a multipath route
// each of its next hops' nodes, once.
func targets(rc netview.RouteClass) []target {
	one := func(peer, gw, dev string) target {
		if peer != "" {
			return target{peer, gw, true}
		}
		if gw != "" {
			return target{gw, gw, false}
		}
		return target{"dev " + dev, gw, false}
	}
	hops := rc.Hops()
	if len(hops) == 0 {
		return []target{one(rc.Peer, rc.Gateway, rc.Dev)}
	}
	var out []target
	for _, h := range hops {
		t := one(h.Peer, h.Gateway, h.Dev)
		if !slices.ContainsFunc(out, func(x target) bool { return x.key == t.key }) {
			out = append(out, t)
		}
	}
	return out
}

// ecmp names every node a multipath route leads to, in its next hops'
// order, on the route's row in each of those nodes' boxes; nothing for a
// route with one next hop.
func ecmp(rc netview.RouteClass) []netview.Span {
	if len(rc.Hops()) == 0 {
		return nil
	}
	var names []string
	for _, t := range targets(rc) {
		names = append(names, t.key)
	}
	return []netview.Span{span(" · ECMP over "+strings.Join(names, ", "), netview.TagNone)}
}

func rank(c netview.Class) int {
	if c == netview.ClassRemoteBlock {
		return 0
	}
	return 1
}

// podAt names the pod that holds a borrowed address, when facts say.
func podAt(p *netview.Pair, dst string) string {
	ad, err := netip.ParseAddr(strings.TrimSuffix(dst, "/32"))
	if err != nil {
		return ""
	}
	if pf := p.Facts.PodByIP(ad); pf != nil {
		return qualified(pf.Namespace, pf.Name)
	}
	return ""
}

// linkKind is one way the node's routes reach the others: wrapped in
// encap ("" for none), and whether BIRD wrote every such route.
type linkKind struct {
	encap string
	bird  bool
}

func addLinkKind(kinds []linkKind, rc netview.RouteClass) []linkKind {
	bird := rc.Proto == "bird"
	for i := range kinds {
		if kinds[i].encap == rc.Encap {
			kinds[i].bird = kinds[i].bird && bird
			return kinds
		}
	}
	return append(kinds, linkKind{rc.Encap, bird})
}

// linkName says how the node reaches the others' blocks: by what its
// routes are (VXLAN, IPIP, plain), never by a protocol number, which
// differs between Felix's versions; BIRD is named when it wrote them
// all. Cross-subnet mode has two kinds side by side.
func linkName(kinds []linkKind) string {
	var names []string
	for _, k := range kinds {
		name := strings.ToUpper(k.encap)
		switch {
		case name == "" && k.bird:
			name = "BGP"
		case name == "":
			name = "direct"
		}
		if k.bird {
			name += " (proto bird)"
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return "routes"
	}
	return strings.Join(names, " + ")
}
