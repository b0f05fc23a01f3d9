// Package netmap draws the lab as a picture: the pod's namespace as a box,
// the veth pair as a cable into its node, the node's own routes, and the
// other nodes its blocks lead to. It reads an analysed pair and returns
// lines of tagged spans, as netview's views do, so the UI and `podlab
// show` light the same parts. It does no I/O.
package netmap

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"podlab/netview"
)

// Map is the picture before it is laid out.
type Map struct {
	Pod   Box
	Cable Cable
	Node  Box
	// Remotes are the other nodes, each with the blocks and borrowed
	// addresses the node routes to it.
	Remotes []Box
	// MoreRemotes counts the nodes left out to keep the map readable.
	MoreRemotes, MoreRemoteRoutes int
	// Link says how the node reaches the others: "BGP (proto bird)".
	Link string
	// Notes label what is drawn dashed: what the analysis could not prove.
	Notes []string
}

// Box is a namespace drawn as a box.
type Box struct {
	Title []netview.Span
	Rows  []Row
	// Dashed: the box itself is not proven (a next hop no node owns).
	Dashed bool
}

// Row is one line inside a box.
type Row struct {
	Spans []netview.Span
	// Dashed: this piece is missing or not proven.
	Dashed bool
	// Anchor: the cable is attached at this row.
	Anchor bool
}

// Cable is the veth pair.
type Cable struct {
	PodEnd, HostEnd string // "eth0@if9", "caliea2aa288365@if3"
	Agree           bool
}

// Limits that keep a big node readable: what is past them is counted.
const (
	maxOtherPods     = 2 // local pods listed besides the lesson's, else summed up
	maxRemoteRoutes  = 4 // routes listed per other node
	maxRemoteNodes   = 6
	maxUplinkAddrs   = 2
	maxUnknownDashed = 1
)

func span(text string, tag netview.Tag) netview.Span { return netview.Span{Text: text, Tag: tag} }

func row(spans ...netview.Span) Row { return Row{Spans: spans} }

func dashed(text string) Row {
	return Row{Spans: []netview.Span{span(text, netview.TagMuted)}, Dashed: true}
}

// Build works out what the map shows from the pair and its analysis.
func Build(p *netview.Pair, a *netview.Analysis) Map {
	var m Map
	if p == nil || a == nil {
		return m
	}
	podRoutes := routeLines(netview.Render(netview.SidePod, netview.ViewRoute, &p.Pod, a))
	hostRoutes := routeLines(netview.Render(netview.SideHost, netview.ViewRoute, &p.Host, a))
	m.Pod = podBox(p, a, podRoutes, &m.Notes)
	m.Cable = Cable{
		PodEnd:  ifAt(a.Veth.PodIf, a.Veth.PodPeerIndex),
		HostEnd: ifAt(a.Veth.HostIf, a.Veth.HostPeerIndex),
		Agree:   a.Veth.Agree,
	}
	if !a.Veth.Agree {
		m.Notes = append(m.Notes, "veth pair: "+a.Veth.Reason)
	}
	m.Node = nodeBox(p, a, hostRoutes, &m.Notes)
	m.remotes(p, a, hostRoutes)
	if cuts := p.Cuts(); len(cuts) > 0 {
		m.Notes = append(m.Notes, CutNote(cuts))
	}
	return m
}

// ifAt is how ip names a veth end: eth0@if9.
func ifAt(name string, peer int) string {
	if name == "" {
		return "?"
	}
	if peer == 0 {
		return name
	}
	return name + "@if" + strconv.Itoa(peer)
}

// routeLine is one `ip route` line as netview renders it, with its class.
type routeLine struct {
	class netview.Class
	line  netview.Line
}

func routeLines(lines []netview.Line) []routeLine {
	out := make([]routeLine, 0, len(lines))
	for _, l := range lines {
		out = append(out, routeLine{class: classOf(l), line: trimmed(l)})
	}
	return out
}

func classOf(l netview.Line) netview.Class {
	for _, s := range l.Spans {
		if c, ok := strings.CutPrefix(string(s.Tag), "route-"); ok {
			return netview.Class(c)
		}
	}
	return ""
}

// trimmed drops the trailing blanks iproute2 prints.
func trimmed(l netview.Line) netview.Line {
	sp := slices.Clone(l.Spans)
	for len(sp) > 0 {
		last := &sp[len(sp)-1]
		last.Text = strings.TrimRight(last.Text, " ")
		if last.Text != "" {
			break
		}
		sp = sp[:len(sp)-1]
	}
	return netview.Line{Key: l.Key, Spans: sp}
}

func podBox(p *netview.Pair, a *netview.Analysis, routes []routeLine, notes *[]string) Box {
	title := "pod"
	if f := p.Facts.Pod; f.Name != "" {
		title += " " + qualified(f.Namespace, f.Name)
	} else if p.Pod.NS.Name != "" {
		title += " " + p.Pod.NS.Name
	}
	b := Box{Title: []netview.Span{span(title, netview.TagNone)}}
	v := a.Veth
	if v.PodIndex == 0 {
		b.Rows = append(b.Rows, Row{Spans: dashed("eth0: no veth found").Spans, Dashed: true, Anchor: true})
		*notes = append(*notes, "pod: no veth interface found in the pod's namespace")
	} else {
		r := Row{Anchor: true, Spans: []netview.Span{span(strconv.Itoa(v.PodIndex)+": "+ifAt(v.PodIf, v.PodPeerIndex), netview.TagVethPod)}}
		if l := p.Pod.LinkByIndex(v.PodIndex); l != nil && l.MTU > 0 {
			r.Spans = append(r.Spans, span(" mtu "+strconv.Itoa(l.MTU), netview.TagNone))
		}
		b.Rows = append(b.Rows, r)
		for _, ad := range p.Pod.AddrsOf(v.PodIndex) {
			if ad.Prefix.Addr().Is4() && (ad.Scope == "global" || ad.Scope == "") {
				b.Rows = append(b.Rows, row(span("inet ", netview.TagNone), span(ad.Prefix.String(), netview.TagPodIP)))
			}
		}
	}
	want := []struct {
		class   netview.Class
		missing string
	}{
		{netview.ClassPodDefault, "no default route via " + netview.CalicoGateway.String()},
		{netview.ClassPodGateway, "no scope-link route to " + netview.CalicoGateway.String()},
	}
	for _, w := range want {
		found := false
		for _, r := range routes {
			if r.class == w.class {
				b.Rows = append(b.Rows, row(r.line.Spans...))
				found = true
			}
		}
		if !found {
			b.Rows = append(b.Rows, dashed(w.missing))
			*notes = append(*notes, "pod: "+w.missing)
		}
	}
	g := a.Gateway
	switch {
	case g.Address.IsValid() && g.NeighMAC != "":
		b.Rows = append(b.Rows, row(span(g.Address.String(), netview.TagGateway), span(" is at ", netview.TagNone), span(g.NeighMAC, netview.TagMAC)))
	case g.Address.IsValid():
		b.Rows = append(b.Rows, row(span(g.Address.String(), netview.TagGateway), span(" not resolved yet", netview.TagMuted)))
	}
	return b
}

func nodeBox(p *netview.Pair, a *netview.Analysis, routes []routeLine, notes *[]string) Box {
	node := p.Facts.Node
	if node == "" {
		node = p.Host.NS.Name
	}
	title := "node"
	if node != "" {
		title += " " + node
	}
	if ip := nodeIP(p, node); ip.IsValid() {
		title += " · " + ip.String()
	}
	b := Box{Title: []netview.Span{span(title, netview.TagNone)}}
	v := a.Veth
	if v.HostIndex == 0 {
		b.Rows = append(b.Rows, Row{Spans: dashed("no host end of the pod's veth found").Spans, Dashed: true, Anchor: true})
		*notes = append(*notes, "node: the host end of the pod's veth was not found")
	} else {
		r := Row{Anchor: true, Spans: []netview.Span{span(strconv.Itoa(v.HostIndex)+": "+ifAt(v.HostIf, v.HostPeerIndex), netview.TagVethHost)}}
		if l := p.Host.LinkByIndex(v.HostIndex); l != nil && l.MTU > 0 {
			r.Spans = append(r.Spans, span(" mtu "+strconv.Itoa(l.MTU), netview.TagNone))
		}
		b.Rows = append(b.Rows, r)
		g := a.Gateway
		gw := g.Address.String()
		if !g.Address.IsValid() {
			gw = netview.CalicoGateway.String()
		}
		if g.HostProxyARP {
			var sp []netview.Span
			if g.HostMAC != "" {
				sp = append(sp, span(g.HostMAC, netview.TagMAC), span(" ", netview.TagNone))
			}
			sp = append(sp, span("proxy_arp=1 answers for ", netview.TagNone), span(gw, netview.TagGateway))
			b.Rows = append(b.Rows, row(sp...))
		} else {
			b.Rows = append(b.Rows, dashed("proxy_arp is not 1: nothing answers "+gw))
			*notes = append(*notes, "node: proxy_arp is not 1 on "+v.HostIf+", so nothing answers the pod's ARP for "+gw)
		}
	}

	var mine, others []routeLine
	for _, r := range routes {
		if r.class != netview.ClassLocalPod {
			continue
		}
		if v.HostIf != "" && lineHasText(r.line, v.HostIf) {
			mine = append(mine, r)
		} else {
			others = append(others, r)
		}
	}
	for _, r := range mine {
		b.Rows = append(b.Rows, row(append(r.line.Spans, span(" ← this pod", netview.TagMuted))...))
	}
	if len(others) <= maxOtherPods {
		for _, r := range others {
			b.Rows = append(b.Rows, row(r.line.Spans...))
		}
	} else {
		b.Rows = append(b.Rows, row(span(otherPods(others), netview.RouteTag(netview.ClassLocalPod))))
	}

	blackholes := 0
	for _, r := range routes {
		if r.class == netview.ClassLocalBlockBlackhole {
			b.Rows = append(b.Rows, row(append(r.line.Spans, span(" ← own block", netview.TagMuted))...))
			blackholes++
		}
	}
	if blackholes == 0 {
		b.Rows = append(b.Rows, dashed("no blackhole: the node's own block is not known"))
		*notes = append(*notes, "node: no blackhole route, so its own block is not known")
	}

	b.Rows = append(b.Rows, uplinks(p)...)
	b.Rows = append(b.Rows, tunnels(p)...)
	for _, rc := range a.Routes {
		if rc.Side == netview.SideHost && rc.Class == netview.ClassDefault {
			tag := netview.RouteTag(netview.ClassDefault)
			sp := []netview.Span{span("⇒ exit: default", tag)}
			if rc.Gateway != "" {
				sp = append(sp, span(" via "+rc.Gateway, tag))
			}
			if rc.Dev != "" {
				sp = append(sp, span(" dev "+rc.Dev, tag))
			}
			b.Rows = append(b.Rows, row(sp...))
		}
	}
	return b
}

// CutNote says that names ending in … are not whole, and why.
func CutNote(cuts []string) string {
	return "names ending in " + netview.CutMark + " were cut where podlab read them, longer than they can be: " + strings.Join(cuts, "; ")
}

func qualified(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

func lineHasText(l netview.Line, text string) bool {
	for _, s := range l.Spans {
		if s.Text == text {
			return true
		}
	}
	return false
}

// otherPods sums up the /32s of the node's other pods.
func otherPods(rs []routeLine) string {
	var lo, hi netip.Addr
	for _, r := range rs {
		pfx, err := netip.ParsePrefix(dstOf(r.line))
		if err != nil {
			if ad, err2 := netip.ParseAddr(dstOf(r.line)); err2 == nil {
				pfx = netip.PrefixFrom(ad, ad.BitLen())
			} else {
				continue
			}
		}
		ad := pfx.Addr()
		if !lo.IsValid() || ad.Less(lo) {
			lo = ad
		}
		if !hi.IsValid() || hi.Less(ad) {
			hi = ad
		}
	}
	s := fmt.Sprintf("+%d more local pods", len(rs))
	if lo.IsValid() {
		s += ", " + lo.String() + " … " + hi.String()
	}
	return s
}

// dstOf is the first word of a route line: its destination.
func dstOf(l netview.Line) string {
	s := l.String()
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i]
	}
	return s
}

// nodeIP is the node's address: the cluster's word for it, else the
// source address of its connected route.
func nodeIP(p *netview.Pair, node string) netip.Addr {
	for _, n := range p.Facts.Nodes {
		if n.Name == node && n.InternalIP.IsValid() {
			return n.InternalIP
		}
	}
	for _, r := range p.Host.Routes {
		if r.Table == netview.TableMain && r.Protocol == netview.ProtoKernel && r.Src.Is4() && !isTunnelOrVeth(p, r.Dev) {
			return r.Src
		}
	}
	return netip.Addr{}
}

// isTunnelOrVeth: links that are not the node's way out: pods' veths,
// tunnels, bridges, loopback. (A sandbox node's uplink is a veth too.)
func isTunnelOrVeth(p *netview.Pair, dev string) bool {
	l := p.Host.LinkByName(dev)
	if l == nil {
		return false
	}
	switch l.Kind {
	case "vxlan", "ipip", "bridge":
		return true
	case "veth":
		return strings.HasPrefix(l.Name, p.Facts.Prefix())
	}
	return l.LinkType == "loopback"
}

// uplinks are the node's own addressed interfaces: its way to the others.
// An uplink that is a veth (a sandbox node's) says so, lest it be taken
// for a pod's cable.
func uplinks(p *netview.Pair) []Row {
	var rows []Row
	up, _ := netview.HostUplink(p)
	marked := false
	for _, ad := range p.Host.Addrs {
		if !ad.Prefix.Addr().Is4() || ad.Scope == "host" || isTunnelOrVeth(p, ad.Dev) {
			continue
		}
		if len(rows) == maxUplinkAddrs {
			break
		}
		r := row(span(ad.Dev, netview.TagIfName), span(" "+ad.Prefix.String(), netview.TagNone))
		if up.Veth && ad.Dev == up.Link.Name && !marked {
			r.Spans = append(r.Spans, span(" · "+UplinkVethMark, netview.TagMuted))
			marked = true
		}
		rows = append(rows, r)
	}
	return rows
}

// UplinkVethMark follows a node's uplink on the map when it is a veth.
const UplinkVethMark = "a veth into the fabric, a NIC on a real node"

// tunnels are the VXLAN or IPIP devices Calico adds in those modes.
func tunnels(p *netview.Pair) []Row {
	var rows []Row
	for _, l := range p.Host.Links {
		var what string
		switch l.Kind {
		case "vxlan":
			what = " VXLAN tunnel"
		case "ipip":
			what = " IPIP tunnel"
		default:
			continue
		}
		sp := []netview.Span{span(l.Name, netview.TagIfName), span(what, netview.TagNone)}
		for _, ad := range p.Host.AddrsOf(l.Index) {
			if ad.Prefix.Addr().Is4() {
				sp = append(sp, span(" "+ad.Prefix.String(), netview.TagNone))
				break
			}
		}
		rows = append(rows, row(sp...))
	}
	return rows
}

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
