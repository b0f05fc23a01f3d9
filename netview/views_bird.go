package netview

import (
	"fmt"
	"net/netip"
	"strings"
)

// renderBird lays out `birdc show protocols`: BIRD's own columns (a
// printf of fixed widths a longer value pushes on, not a table), its BGP
// sessions tagged up or down and explained with the peer each is.
// calico-node runs BIRD 1, whose widths and header differ from BIRD 2's
// (the sandbox's).
func renderBird(p Place, ps BirdProtocols, e *Extra) []Line {
	out := make([]Line, 0, len(ps)+1)
	hdr := lineBuilder{key: "bird:header"}
	layout := bird2Layout
	if birdV1(ps) {
		layout = bird1Layout
		hdr.add("name     proto    table    state  since       info", TagNone)
	} else {
		hdr.add(layout.row("Name", "Proto", "Table", "State", "Since", "Info"), TagNone)
	}
	h := hdr.line()
	h.Label = "column headers"
	out = append(out, h)
	self, peerOf := birdSelf(p, e), birdPeerNamer(e)
	for i := range ps {
		pr := &ps[i]
		b := lineBuilder{key: "bird:" + pr.Name}
		info := pr.Info
		if pr.IsBGP() && !strings.EqualFold(pr.State, "down") {
			// BIRD pads the session's state to 14 before the error.
			first, rest, _ := strings.Cut(info, " ")
			info = fmt.Sprintf("%-14s%s", first, rest)
		}
		cells := []string{pr.Name, pr.Proto, pr.Table, pr.State, pr.Since}
		if !pr.IsBGP() {
			b.add(layout.row(append(cells, info)...), TagNone)
			l := b.line()
			l.Label = "BIRD protocol " + pr.Name
			l.Why = fmt.Sprintf("a %s protocol, not a session: %s", pr.Proto, birdProtoWords(pr.Proto))
			out = append(out, l)
			continue
		}
		state := TagSessionDown
		if pr.Established() {
			state = TagSessionUp
		}
		// The name is the peer; the state and the info say how the
		// session is; the padding between carries no tag.
		tags := []Tag{TagPeer, TagNone, TagNone, state, TagNone}
		for j, c := range cells {
			b.add(c, tags[j])
			b.add(strings.Repeat(" ", max(0, layout.widths[j]-len(c)))+layout.seps[j], TagNone)
		}
		b.add(info, state)
		l := b.line()
		peer := peerOf(pr)
		l.Label = "BGP session with " + peer.name
		l.Why = birdWhy(pr, self, peer)
		out = append(out, l)
	}
	return out
}

// birdLayout is how a BIRD prints a row of show protocols: each of the
// first five columns padded to its width, then its separator.
type birdLayout struct {
	widths [5]int
	seps   [5]string
}

// BIRD 2 prints "%-10s %-10s %-10s %-6s %-12s  %s", BIRD 1.6 (calico-node's)
// "%-8s %-8s %-8s %-5s %-10s %s".
var (
	bird2Layout = birdLayout{[5]int{10, 10, 10, 6, 12}, [5]string{" ", " ", " ", " ", "  "}}
	bird1Layout = birdLayout{[5]int{8, 8, 8, 5, 10}, [5]string{" ", " ", " ", " ", " "}}
)

func (bl birdLayout) row(cells ...string) string {
	var b strings.Builder
	for j, c := range cells {
		b.WriteString(c)
		if j < len(bl.widths) {
			b.WriteString(strings.Repeat(" ", max(0, bl.widths[j]-len(c))) + bl.seps[j])
		}
	}
	return b.String()
}

// birdV1 says whether the protocols are BIRD 1's: one table per
// protocol, no named channels (BIRD 2 gives a BGP protocol the table
// "---" and its channels names).
func birdV1(ps BirdProtocols) bool {
	for i := range ps {
		if ps[i].Table == "---" {
			return false
		}
		for _, c := range ps[i].Channels {
			if c.Name != "" {
				return false
			}
		}
	}
	for i := range ps {
		if ps[i].Table == "master" {
			return true
		}
	}
	return false
}

func birdProtoWords(kind string) string {
	switch strings.ToLower(kind) {
	case "device":
		return "it tells BIRD which interfaces are up"
	case "direct":
		return "it gives BIRD the directly connected networks"
	case "kernel":
		return "it syncs BIRD's table with the kernel's: what the sessions learn becomes routes, proto bird"
	case "static":
		return "routes written in BIRD's configuration"
	}
	return "one of BIRD's own, no peer behind it"
}

// birdPeer is who a session's neighbour is.
type birdPeer struct {
	name  string // "host1 (198.19.15.254)", "node2 (198.19.0.3)"
	short string // "host1", "node2"
	kind  string // "node", "peer"
}

// birdSelf names whose BIRD this is, for the sentences.
func birdSelf(p Place, e *Extra) string {
	if p == PlaceHost1 {
		return "host1"
	}
	if e.Host1Facts != nil && e.Host1Facts.Facts.Node != "" {
		return e.Host1Facts.Facts.Node
	}
	return "this node"
}

// birdPeerNamer names a session's neighbour from the BGPPeers and the
// nodes Extra carries, or from Calico's protocol names (Mesh_198_19_0_3,
// Global_198_19_15_254, Node_…) when BIRD's details are missing.
func birdPeerNamer(e *Extra) func(*BirdProtocol) birdPeer {
	names := map[netip.Addr]birdPeer{}
	if e.Host1Facts != nil {
		for _, n := range e.Host1Facts.Facts.Nodes {
			if n.InternalIP.IsValid() {
				names[n.InternalIP] = birdPeer{name: n.Name, short: n.Name, kind: "node"}
			}
		}
	}
	if e.Resources != nil {
		for _, pe := range e.Resources.Peers {
			if pe.PeerIP.IsValid() {
				names[pe.PeerIP] = birdPeer{name: pe.Name, short: pe.Name, kind: "peer"}
			}
		}
	}
	return func(pr *BirdProtocol) birdPeer {
		var addr netip.Addr
		if pr.BGP != nil {
			addr = pr.BGP.NeighborAddr
		}
		if !addr.IsValid() {
			if _, tail, ok := strings.Cut(pr.Name, "_"); ok {
				addr, _ = netip.ParseAddr(strings.ReplaceAll(tail, "_", "."))
			}
		}
		if !addr.IsValid() {
			return birdPeer{name: pr.Name, short: pr.Name, kind: "peer"}
		}
		if n, ok := names[addr]; ok {
			return birdPeer{name: n.name + " (" + addr.String() + ")", short: n.short, kind: n.kind}
		}
		return birdPeer{name: addr.String(), short: addr.String(), kind: "peer"}
	}
}

// birdWhy explains a session: its state, and what passes over it in
// the lesson's terms.
func birdWhy(pr *BirdProtocol, self string, peer birdPeer) string {
	state := pr.Info
	if pr.BGP != nil && pr.BGP.State != "" {
		state = pr.BGP.State
	}
	first, _, _ := strings.Cut(state, " ")
	if !pr.Established() {
		why := fmt.Sprintf("%s since %s: the session is not up, so no routes pass between %s and %s", first, pr.Since, self, peer.short)
		lastErr := ""
		if pr.BGP != nil {
			lastErr = pr.BGP.LastError
		}
		if _, rest, ok := strings.Cut(pr.Info, " "); ok && lastErr == "" {
			lastErr = rest
		}
		if lastErr != "" {
			why += " (BIRD's last error: " + lastErr + ")"
		}
		return why
	}
	imp, exp := pr.Routes.Imported, pr.Routes.Exported
	learns := fmt.Sprintf("%s learns nothing from %s", self, peer.short)
	if imp > 0 {
		learns = fmt.Sprintf("%s learns %s from %s", self, plural(imp, "route"), peer.short)
	}
	gives := peer.short + " learns nothing from " + self
	if exp > 0 {
		gives = fmt.Sprintf("%s learns %s from %s", peer.short, plural(exp, "route"), self)
		switch {
		case self == "host1":
		case peer.kind == "node":
			gives += " (the blocks " + self + " owns)"
		default:
			gives += " (the blocks " + self + " owns, and the service ranges when advertised)"
		}
	}
	return fmt.Sprintf("Established since %s, %d imported, %d exported: %s, %s", pr.Since, imp, exp, learns, gives)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
