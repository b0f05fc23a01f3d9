package cli

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"slices"

	"podlab/content"
	"podlab/netview"
)

// packShowsBeyond says whether the pack's panes read beyond the pod and
// its node's namespaces: show then prints its views, not the first
// lesson's.
func packShowsBeyond(pk *content.Pack) bool {
	if pk.LeftPane() != "pod" {
		return true
	}
	for _, sec := range pk.Sections {
		for _, st := range sec.Steps {
			for _, v := range slices.Concat(st.PodViews, st.HostViews) {
				if slices.Contains(netview.ExtraViews(), netview.View(v)) {
					return true
				}
			}
		}
	}
	return false
}

// packPaneViews are the views the pack's steps show in each pane, the
// namespaces' first (in show's order), then the rest in netview's.
func packPaneViews(pk *content.Pack) (left, host []netview.View) {
	var l, h []string
	for _, sec := range pk.Sections {
		for _, st := range sec.Steps {
			l, h = append(l, st.PodViews...), append(h, st.HostViews...)
		}
	}
	for _, v := range slices.Concat(viewOrder, netview.ExtraViews()) {
		if slices.Contains(l, string(v)) {
			left = append(left, v)
		}
		if slices.Contains(h, string(v)) {
			host = append(host, v)
		}
	}
	return left, host
}

// writeShowPack is show of a pack that reads beyond the pod: each pane's
// views as its steps show them, then what their lines mean.
func writeShowPack(w io.Writer, src source, p *netview.Pair, a *netview.Analysis, pk *content.Pack, pal palette) error {
	b := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(b, "%s\n\n", pal.heading("lab: "+netview.Clean(src.Describe())))
	e := p.Extra
	var h1 *netview.Host1Analysis
	if e != nil && e.Host1 != nil && e.Host1Facts != nil {
		x := netview.AnalyzeHost1(e.Host1, e.Host1Facts)
		h1 = &x
	}
	left, host := packPaneViews(pk)
	place := netview.Place(pk.LeftPane())
	node := p.Facts.NodeName()
	if node == "" {
		node = "node"
	}
	var explained []netview.Line
	seen := map[string]bool{}
	show := func(who string, v netview.View, lines []netview.Line) {
		fmt.Fprintf(b, "%s\n", pal.heading(who+" $ "+v.CommandIn(e)))
		for _, l := range lines {
			b.WriteString(pal.line(l))
			b.WriteByte('\n')
			if l.Why != "" && !seen[l.Label+"\x00"+l.Why] {
				seen[l.Label+"\x00"+l.Why] = true
				explained = append(explained, l)
			}
		}
		b.WriteByte('\n')
	}
	for _, v := range left {
		switch {
		case slices.Contains(netview.ExtraViews(), v):
			show(string(place), v, netview.RenderExtra(place, v, e, nil))
		case place == netview.PlaceHost1:
			lines := []netview.Line{{Spans: []netview.Span{{Text: "# this lab does not read host1", Tag: netview.TagMuted}}}}
			if e != nil && e.Unread[netview.PartHost1] != "" {
				lines[0].Spans[0].Text = "# host1 not read: " + e.Unread[netview.PartHost1]
			}
			if e != nil && e.Host1 != nil {
				var ha *netview.Analysis
				if h1 != nil {
					ha = h1.Analysis()
				}
				lines = netview.Render(netview.SideHost, v, e.Host1, ha)
			}
			show(string(place), v, lines)
		default:
			show(p.Facts.Pod.Name, v, netview.Render(netview.SidePod, v, &p.Pod, a))
		}
	}
	for _, v := range host {
		if slices.Contains(netview.ExtraViews(), v) {
			show(node, v, netview.RenderExtra(netview.PlaceHost, v, e, nil))
		} else {
			show(node, v, netview.Render(netview.SideHost, v, &p.Host, a))
		}
	}
	fmt.Fprintf(b, "%s\n", pal.heading("What this shows"))
	if h1 != nil && slices.Contains(left, netview.ViewRoute) {
		for _, r := range h1.Routes {
			fmt.Fprintf(b, "- host1 route %s is %s: %s\n", r.Dst, pal.tagged(string(r.Class), netview.RouteTag(r.Class)), r.Reason)
		}
		for _, x := range h1.Absent {
			fmt.Fprintf(b, "- absent: %s\n", x)
		}
	}
	for _, l := range explained {
		fmt.Fprintf(b, "- %s: %s\n", l.Label, l.Why)
	}
	if e != nil {
		for _, part := range slices.Sorted(maps.Keys(e.Unread)) {
			fmt.Fprintf(b, "- not read: %s: %s\n", part, e.Unread[part])
		}
	}
	return b.Flush()
}
