package ui

import (
	"cmp"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"podlab/netview"
)

// routeText is a route on one line, the way ip route prints it.
func routeText(r netview.Route) string {
	var b []string
	if r.Type != "" && r.Type != "unicast" {
		b = append(b, r.Type)
	}
	b = append(b, netview.DstString(r.Dst))
	if r.Gw.IsValid() {
		b = append(b, "via", r.Gw.String())
	}
	if r.Dev != "" {
		b = append(b, "dev", r.Dev)
	}
	if r.Protocol != netview.ProtoUnspec && r.Protocol != netview.ProtoBoot {
		b = append(b, "proto", netview.ProtoName(r.Protocol))
	}
	if r.Scope != "" && r.Scope != "universe" && r.Scope != "global" {
		b = append(b, "scope", r.Scope)
	}
	if r.Src.IsValid() {
		b = append(b, "src", r.Src.String())
	}
	if r.Metric != 0 {
		b = append(b, "metric", strconv.Itoa(r.Metric))
	}
	b = append(b, r.Flags...)
	return strings.Join(b, " ")
}

// routeLineMatches says whether a rendered route line is the route to dst
// ("198.19.22.132", "198.19.22.128/26", "default").
func routeLineMatches(l netview.Line, dst string) bool {
	if l.Key == "route:"+dst {
		return true
	}
	f := strings.Fields(l.String())
	if len(f) == 0 {
		return false
	}
	switch f[0] {
	case "blackhole", "unreachable", "prohibit", "throw", "local", "broadcast", "multicast":
		f = f[1:]
	}
	return len(f) > 0 && f[0] == dst
}

// explanation says what the selected line means and why.
func (m Model) explanation() (string, string) {
	p := m.shown()
	l, ok := p.selected()
	if !ok || m.lab() == nil {
		return "", ""
	}
	a := m.lab().Analysis
	if l.Why != "" {
		return l.Label, l.Why
	}
	if rc := p.selectedClass(); rc != nil {
		label := string(rc.Class)
		if rc.Peer != "" {
			label += " → " + rc.Peer
		}
		return label, rc.Reason
	}
	if m.lay.tab == netview.SideHost && (strings.HasPrefix(l.Key, "link:") || strings.HasPrefix(l.Key, "addr:")) {
		if up := m.lab().Uplink; up != nil {
			if i := strconv.Itoa(up.Link.Index); l.Key == "link:"+i || l.Key == "addr:"+i {
				return "node uplink " + up.Name(), up.Why()
			}
		}
	}
	switch {
	case l.HasTag(netview.TagVethPod) || l.HasTag(netview.TagVethHost):
		label := "veth pair"
		if a.Veth.PodIf != "" && a.Veth.HostIf != "" {
			label = fmt.Sprintf("veth pair %s@if%d ↔ %d: %s@if%d", a.Veth.PodIf, a.Veth.PodPeerIndex, a.Veth.HostIndex, a.Veth.HostIf, a.Veth.HostPeerIndex)
		}
		return label, a.Veth.Reason
	case l.HasTag(netview.TagGateway):
		return "gateway " + a.Gateway.Address.String(), strings.Join(a.Gateway.Confirmed, "; ")
	case l.HasTag(netview.TagNetnsID):
		return "link-netns", "the namespace where the other end of this veth lives, as this namespace numbers or names it"
	case l.HasTag(netview.TagPodIP):
		return "pod IP", "the pod's own address, the one kubectl get pods shows"
	}
	return "", ""
}

// explainLines are n rows explaining the selection.
func (m Model) explainLines(n int) []string {
	t := m.sh.theme
	w := m.sh.width
	label, why := m.explanation()
	var text string
	if label == "" {
		text = t.Muted.Render(" tab to a pane, ↑/↓ to select a line and see why it is there")
	} else {
		text = " " + t.ExplainKey.Render(label+":") + " " + t.Explain.Render(why)
	}
	rows := strings.Split(ansi.Wrap(text, w-1, ""), "\n")
	for i := 1; i < len(rows); i++ {
		rows[i] = " " + rows[i]
	}
	if len(rows) > n {
		rows = rows[:n]
		rows[n-1] = ansi.Truncate(rows[n-1], w-2, "") + "…"
	}
	for len(rows) < n {
		rows = append(rows, "")
	}
	return rows
}

// tagShort names the marks of the views beyond the pair in a legend.
var tagShort = map[netview.Tag]string{
	netview.TagSessionUp: "Established", netview.TagSessionDown: "not Established",
	netview.TagPoolExternal: "external pool", netview.TagServiceRange: "advertised range",
	netview.TagService: "Service", netview.TagKubeServices: "KUBE-SERVICES", netview.TagKubeSVC: "KUBE-SVC",
	netview.TagKubeSEP: "KUBE-SEP", netview.TagDNAT: "DNAT", netview.TagCounterMoved: "counters moved",
	netview.TagNodePort: "node port",
}

// legend names the styles of what the panes show: the veth ends, the
// gateway, and each class of route in a visible route view.
func (m Model) legend() string {
	t := m.sh.theme
	var parts []string
	st, _ := m.step()
	if st.LeftPane() != "pod" {
		// A pack beyond the pod: the step's own marks, not the veth's.
		for _, h := range st.Highlight {
			if tag := netview.Tag(h); netview.TagDoc(tag) != "" {
				parts = append(parts, t.Swatch(tag, cmp.Or(tagShort[tag], h)))
			}
		}
	} else if m.lay.narrow && (m.pod.hasRouteView() || m.host.hasRouteView()) {
		// No room for both: the route classes matter more here.
	} else if t.NoColor {
		parts = append(parts, t.TagStyle(netview.TagVethPod, false).Render("veth ends")+" underlined", t.TagStyle(netview.TagGateway, false).Render("gateway")+" bold")
	} else {
		parts = append(parts, t.Swatch(netview.TagVethPod, "veth ends"), t.Swatch(netview.TagGateway, netview.CalicoGateway.String()))
	}
	present := map[netview.Class]bool{}
	for _, p := range []netPane{m.pod, m.host} {
		if !p.hasRouteView() {
			continue
		}
		for c := range p.classes {
			present[c] = true
		}
	}
	for _, c := range classOrder {
		if !present[c] {
			continue
		}
		if t.NoColor {
			parts = append(parts, classCode[c]+" "+classShort[c])
		} else {
			parts = append(parts, t.Swatch(netview.RouteTag(c), classShort[c]))
		}
	}
	return " " + strings.Join(parts, "  ")
}

// runLookup answers the prompt: the route the node takes to an address.
func (m Model) runLookup() (tea.Model, tea.Cmd) {
	in := strings.TrimSpace(m.prompt.Value())
	m.closePrompt()
	return m.lookup(in)
}

// lookup shows the route the node takes to the address in, and asks the
// kernel for its own answer.
func (m Model) lookup(in string) (tea.Model, tea.Cmd) {
	m.look.id++
	res := &lookupResult{id: m.look.id, input: in}
	m.look.res = res
	addr, err := lookupAddr(in)
	switch {
	case err != nil:
		res.err = fmt.Sprintf("%q is not an IP address; press / and type one, e.g. 198.19.22.150 or 198.19.22.150/32", in)
	case m.lab() == nil:
		res.err = "no snapshot of the node yet: wait until the lab has been read, then press / again"
	}
	if res.err != "" {
		m.layout()
		return m, nil
	}
	res.dst = addr
	res.route, res.class, res.found = m.lab().Lookup(addr)
	m.look.hostRoutes = true
	m.rebuild(true)
	if res.found {
		dst := netview.DstString(res.route.Dst)
		m.host.selectWhere(func(l netview.Line) bool { return routeLineMatches(l, dst) })
	}
	m.setFocus(focusHost)
	m.layout()
	if r, isRouter := m.opts.Source.(Router); isRouter {
		res.asking = true
		return m, kernelRouteCmd(m.env.ctx, m.env.io, r, res.id, addr)
	}
	return m, nil
}

// lookupAddr is the address a lookup is for: an address, or a prefix
// written as the lesson writes routes (198.19.21.70/32), whose address
// is looked up.
func lookupAddr(in string) (netip.Addr, error) {
	if strings.Contains(in, "/") {
		p, err := netip.ParsePrefix(in)
		return p.Addr(), err
	}
	return netip.ParseAddr(in)
}

// lookupLine is the answer to a lookup on one line; see lookupParts.
func (m Model) lookupLine() string {
	return " " + strings.Join(m.lookupParts(), " ")
}

// lookupParts is the answer to a lookup, in the pieces it may wrap
// between: the route, its class (the explanation line gives the reason,
// as the line is selected) and the kernel's own answer when the lab can
// ask it.
func (m Model) lookupParts() []string {
	t := m.sh.theme
	r := m.look.res
	if r.err != "" {
		return []string{t.Bad.Render(r.err)}
	}
	parts := []string{t.Prompt.Render("route to " + r.dst.String() + " →")}
	if !r.found {
		parts = append(parts, t.Bad.Render("no route on "+m.vars().Node+": the node would answer unreachable"))
	} else {
		tag := netview.TagNone
		if r.class != nil {
			tag = netview.RouteTag(r.class.Class)
		}
		parts = append(parts, t.TagStyle(tag, true).Render(routeText(r.route)))
		if r.class != nil {
			parts = append(parts, t.Explain.Render("["+string(r.class.Class)+"]"))
		}
	}
	switch {
	case r.asking:
		parts = append(parts, t.Muted.Render("· kernel: asking…"))
	case r.hasKern && r.kernelErr != "":
		parts = append(parts, t.Bad.Render("· kernel: "+r.kernelErr))
	case r.hasKern && r.found && netview.SameWay(r.route, r.kernel):
		parts = append(parts, t.Muted.Render("· the kernel agrees"))
	case r.hasKern:
		parts = append(parts, t.StatusChange.Render("· the kernel says: "+routeText(r.kernel)))
	}
	return parts
}

// maxLookupRows is how many rows a lookup's answer may wrap to.
const maxLookupRows = 2

// lookupRows is the answer fitted to the screen's width: wrapped between
// its pieces (a route or a class name is never split), and what does not
// fit in maxLookupRows is cut with an ellipsis, never silently.
func (m Model) lookupRows() []string {
	w := max(m.sh.width, 2)
	var rows []string
	row := ""
	for _, p := range m.lookupParts() {
		switch {
		case row == "":
			row = " " + p
		case ansi.StringWidth(row)+1+ansi.StringWidth(p) <= w:
			row += " " + p
		default:
			rows = append(rows, row)
			row = " " + p
		}
	}
	rows = append(rows, row)
	if len(rows) > maxLookupRows {
		rest := strings.Join(rows[maxLookupRows-1:], "")
		rows = append(rows[:maxLookupRows-1], rest)
	}
	for i, r := range rows {
		rows[i] = ansi.Truncate(r, w, "…")
	}
	return rows
}
