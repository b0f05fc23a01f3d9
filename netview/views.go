package netview

import (
	"podlab/kubeproxy"
	"strings"
	"unicode/utf8"
)

// The views of what a lesson reads beyond the pair (Extra): each laid out
// as the tool a student would run prints it, its lines tagged and
// explained (Line.Label, Line.Why).
const (
	ViewBird      View = "bird"      // birdc show protocols (the BGP sessions)
	ViewNAT       View = "nat"       // kube-proxy's NAT chains for the lesson's services
	ViewPools     View = "pools"     // calicoctl get ippools -o wide
	ViewPeers     View = "peers"     // calicoctl get bgppeers
	ViewBGP       View = "bgp"       // calicoctl get bgpconfiguration default -o yaml (the fields the lesson reads)
	ViewServices  View = "services"  // kubectl get svc -n NS -o wide
	ViewEndpoints View = "endpoints" // kubectl get endpointslices -n NS
)

// ExtraViews are the views RenderExtra lays out.
func ExtraViews() []View {
	return []View{ViewBird, ViewNAT, ViewPools, ViewPeers, ViewBGP, ViewServices, ViewEndpoints}
}

func extraCommand(v View) string {
	switch v {
	case ViewBird:
		return "birdc show protocols"
	case ViewNAT:
		return "iptables -t nat -L -v -n"
	case ViewPools:
		return "calicoctl get ippools -o wide"
	case ViewPeers:
		return "calicoctl get bgppeers"
	case ViewBGP:
		return "calicoctl get bgpconfiguration default -o yaml"
	case ViewServices:
		return "kubectl get svc -n " + DefaultNamespace + " -o wide"
	case ViewEndpoints:
		return "kubectl get endpointslices -n " + DefaultNamespace
	}
	return ""
}

// CommandIn is what a student types to see the view of e: the NAT
// view of kube-proxy's nftables mode is nft's listing of its table.
func (v View) CommandIn(e *Extra) string {
	if v == ViewNAT && e != nil && e.NAT != nil && e.NAT.Mode == kubeproxy.ModeNFTables {
		return "nft list table ip " + kubeproxy.NFTTable
	}
	return v.Command()
}

// Place is where a pane's views read: the pod, its node (host), host1,
// the cluster.
type Place string

// The places.
const (
	PlacePod     Place = "pod"
	PlaceHost    Place = "host"
	PlaceHost1   Place = "host1"
	PlaceCluster Place = "cluster"
)

// RenderExtra lays out a view of Extra at a place, tagged and explained;
// prev is the previous refresh's Extra (nil at first) for marking NAT
// counters that moved. host1's route and addr views are not here: its
// snapshot renders with Render and Host1Analysis. bird at PlaceHost1 is
// e.Host1Bird, elsewhere e.Bird. A part absent with a reason in e.Unread
// renders one line saying it. Every string it lays out comes from e, which
// its reader sanitised: nothing here cleans again.
func RenderExtra(p Place, v View, e, prev *Extra) []Line {
	if e == nil {
		return nil
	}
	switch v {
	case ViewBird:
		ps, part := e.Bird, PartBird
		if p == PlaceHost1 {
			ps, part = e.Host1Bird, PartHost1Bird
		}
		if ps == nil {
			return unreadLine(e, part, v)
		}
		return renderBird(p, ps, e)
	case ViewNAT:
		if p == PlaceHost1 {
			return []Line{noteLine("nat:host1", "host1 is outside the cluster",
				"host1 runs no kube-proxy: the NAT rules that turn a Service into its endpoints are on the nodes",
				"# host1 runs no kube-proxy: its nat table holds none of the cluster's rules")}
		}
		if e.NAT == nil {
			return unreadLine(e, PartNAT, v)
		}
		var pt *Extra
		if prev != nil && prev.NAT != nil {
			pt = prev
		}
		return renderNAT(e, pt)
	case ViewPools, ViewPeers, ViewBGP, ViewServices, ViewEndpoints:
		if e.Resources == nil && e.Host1Facts != nil {
			// host1's analysis carries the pools and the BGP
			// configuration: a lesson that reads host1 without the
			// cluster's objects still shows them.
			with := *e
			with.Resources = &e.Host1Facts.Resources
			e = &with
		}
		if e.Resources == nil {
			return unreadLine(e, PartResources, v)
		}
		if l, ok := resourceGap(e.Resources, v); ok {
			return []Line{l}
		}
		switch v {
		case ViewPools:
			return renderPools(p, e)
		case ViewPeers:
			return renderPeers(e)
		case ViewBGP:
			return renderBGPConfig(e)
		case ViewServices:
			return renderServices(e)
		case ViewEndpoints:
			return renderEndpointSlices(e)
		}
	}
	return nil
}

// unreadLine says why a part was not read, or nothing when it was not
// asked for.
func unreadLine(e *Extra, part string, v View) []Line {
	why, ok := e.Unread[part]
	if !ok {
		return nil
	}
	return []Line{noteLine("unread:"+part, "not read", why, v.Command()+": not read: "+why)}
}

// resourceKinds are the resources each view reads, as a ResourceGap names
// them (before the group).
var resourceKinds = map[View]string{
	ViewPools: "ippools", ViewPeers: "bgppeers", ViewBGP: "bgpconfigurations",
	ViewServices: "services", ViewEndpoints: "endpointslices",
}

// resourceGap is the line of a kind the lab could not read.
func resourceGap(r *Resources, v View) (Line, bool) {
	kind := resourceKinds[v]
	for _, g := range r.Unreadable {
		name, _, _ := strings.Cut(g.Resource, ".")
		if name == kind {
			return noteLine("unread:"+kind, "not read", g.Reason, v.Command()+": not read: "+g.Reason), true
		}
	}
	return Line{}, false
}

// noteLine is a line of podlab's own words, muted.
func noteLine(key, label, why, text string) Line {
	return Line{Key: key, Label: label, Why: why, Spans: []Span{{Text: text, Tag: TagMuted}}}
}

// cell is one cell of a table a tool prints through Go's tabwriter.
type cell struct {
	text string
	tag  Tag
}

// row is a table's row with what its line says.
type row struct {
	key, label, why string
	cells           []cell
}

// tabulate lays rows out as text/tabwriter does with cells separated by
// tabs: a column is as wide as its widest cell plus padding, at least
// minWidth; with terminated, the last cell is padded too (calicoctl ends
// every cell with a tab, kubectl does not). Widths count runes, as
// tabwriter does.
func tabulate(rows []row, minWidth, padding int, terminated bool) []Line {
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r.cells))
	}
	width := make([]int, cols)
	for _, r := range rows {
		for i, c := range r.cells {
			if i == len(r.cells)-1 && !terminated {
				continue
			}
			width[i] = max(width[i], minWidth, utf8.RuneCountInString(c.text)+padding)
		}
	}
	out := make([]Line, 0, len(rows))
	for _, r := range rows {
		b := lineBuilder{key: r.key}
		for i, c := range r.cells {
			b.add(c.text, c.tag)
			if i < len(r.cells)-1 || terminated {
				b.add(strings.Repeat(" ", width[i]-utf8.RuneCountInString(c.text)), TagNone)
			}
		}
		l := b.line()
		l.Label, l.Why = r.label, r.why
		out = append(out, l)
	}
	return out
}

// header is a table's row of column names.
func header(key string, names ...string) row {
	r := row{key: key, label: "column headers"}
	for _, n := range names {
		r.cells = append(r.cells, cell{text: n})
	}
	return r
}
