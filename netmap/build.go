// Package netmap draws the lab as a picture: the pod's namespace as a box,
// the veth pair as a cable into its node, the node's own routes, and the
// other nodes its blocks lead to. It reads an analysed pair and returns
// lines of tagged spans, as netview's views do, so the UI and `podlab
// show` light the same parts. It does no I/O.
package netmap

import (
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
