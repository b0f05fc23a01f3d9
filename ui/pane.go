package ui

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"podlab/content"
	"podlab/netview"
)

// shared is what the root hands its children: the size of the terminal,
// the styles and the keys. It is replaced, never changed in place.
type shared struct {
	width, height int
	theme         Theme
	keys          keyMap
}

type itemKind uint8

const (
	itemLine    itemKind = iota // a drawn line; the cursor stops here
	itemRoute                   // a line of the route view, drawn when shown; the cursor stops here
	itemRoute6                  // a line of the ip -6 route view, likewise
	itemHeader                  // "$ ip route" between two views
	itemRemoved                 // a line gone since the last refresh
	itemNote                    // a message in place of a view
)

// paneItem is one line of a pane. A node's route view has tens of
// thousands: an item is small, and a route line is drawn only when it is
// shown or looked at.
type paneItem struct {
	kind  itemKind
	added bool
	// n is, for itemLine, the line's index in the pane's lines; for
	// itemRoute and itemRoute6, in its route view.
	n    int32
	text string
}

// isLine says whether the cursor stops on the item.
func (it paneItem) isLine() bool { return it.kind == itemLine || it.isRoute() }

// isRoute says whether the item is a route view's line.
func (it paneItem) isRoute() bool { return it.kind == itemRoute || it.kind == itemRoute6 }

// paneInput is what a pane shows: views of its side of the last refresh,
// marking what changed since the pair it is compared with.
type paneInput struct {
	who string
	// place is where the pane's views read: the pod or host (its side
	// of the pair), host1 or the cluster (what the lab read beyond it).
	place netview.Place
	views []netview.View
	lab   *content.Lab // nil while the lab is being read
	hi    map[netview.Tag]bool
	// order is the step's highlights, main one first: the cursor starts
	// on the first line with the first of them.
	order []netview.Tag
	empty string
	// keepCursor keeps the selected line (a refresh); otherwise the cursor
	// goes to the first line the step is about.
	keepCursor bool
}

// netPane shows the pod's or the host's views, with a cursor over lines.
type netPane struct {
	sh      *shared
	side    netview.Side
	place   netview.Place
	extra   *netview.Extra // what the views beyond the pair read
	who     string
	views   []netview.View
	items   []paneItem
	sel     []int // indices of items the cursor can stop on
	cursor  int   // index into sel
	hi      map[netview.Tag]bool
	focused bool
	// settle asks the next refresh to put the cursor a third of the way
	// down, so what follows the selected line shows too.
	settle bool
	width  int
	height int // rows for the lines, without the title
	// top is the first row on screen and shown the rows from there, at
	// most height of them: a pane scrolls itself, so that a key at the
	// end of twenty thousand lines builds a screenful, not a row for
	// each. shown is replaced by each refresh, never changed in place.
	top   int
	shown []string
	// counts are the rows each item takes at width countsW.
	counts  []int
	countsW int
	// scratch holds a route line's text while it is measured.
	scratch []byte
	// lines are the drawn lines of the views other than the route view,
	// and routes the route view, whose lines are drawn when shown (drawn
	// keeps those); all replaced by setData, never changed.
	lines           []netview.Line
	routes, routes6 *netview.RouteView
	// drawn is keyed by n, and by -1-n for routes6's lines.
	drawn map[int32]netview.Line
	// classes are the route classes the route view shows.
	classes map[netview.Class]bool
}

func newNetPane(sh *shared, side netview.Side) netPane {
	return netPane{sh: sh, side: side}
}

// line is item i's line, drawn if it is a route's.
func (p *netPane) line(i int) netview.Line {
	it := p.items[i]
	switch it.kind {
	case itemLine:
		return p.lines[it.n]
	case itemRoute, itemRoute6:
		key := it.n
		if it.kind == itemRoute6 {
			key = -1 - it.n
		}
		if l, ok := p.drawn[key]; ok {
			return l
		}
		l := p.routeView(it).Line(int(it.n))
		// ip starts a next hop's line with a tab: a terminal would jump
		// to its next tab stop past the pane's edge.
		if len(l.Spans) > 0 && strings.HasPrefix(l.Spans[0].Text, "\t") {
			l.Spans = slices.Clone(l.Spans)
			l.Spans[0].Text = "        " + l.Spans[0].Text[1:]
		}
		if len(p.drawn) >= 4096 { // a few screens; scrolling far draws again
			clear(p.drawn)
		}
		p.drawn[key] = l
		return l
	}
	return netview.Line{}
}

// routeView is the route view a route item is a line of.
func (p *netPane) routeView(it paneItem) *netview.RouteView {
	if it.kind == itemRoute6 {
		return p.routes6
	}
	return p.routes
}

// hasTag is line(i).HasTag(t), without drawing a route's line where it
// need not.
func (p *netPane) hasTag(i int, t netview.Tag) bool {
	if it := p.items[i]; it.isRoute() {
		return p.routeView(it).HasTag(int(it.n), t)
	}
	return p.line(i).HasTag(t)
}

// appendText appends item i's line's text.
func (p *netPane) appendText(b []byte, i int) []byte {
	if it := p.items[i]; it.isRoute() {
		return p.routeView(it).AppendText(b, int(it.n))
	}
	return appendText(b, p.line(i))
}

func (p *netPane) setSize(w, h int) {
	p.width, p.height = max(w, 1), max(h, 1)
	p.refresh()
}

func (p *netPane) setFocus(f bool) {
	p.focused = f
	p.refresh()
}

// setData rebuilds the pane's lines.
func (p *netPane) setData(in paneInput) {
	var keep []byte
	keepAt := -1
	if _, ok := p.selected(); ok && in.keepCursor {
		keep, keepAt = p.appendText(nil, p.sel[p.cursor]), p.cursor
	}
	views := in.views
	if in.lab != nil && in.place != netview.PlaceHost1 {
		views = in.lab.Views(p.side, views)
	}
	p.who, p.views, p.hi, p.place, p.extra = in.who, views, in.hi, in.place, nil
	if in.lab != nil {
		p.extra = in.lab.Pair.Extra
	}
	// The route view shown is the previous one of the next refresh.
	last, last6 := p.routes, p.routes6
	// Fresh: an older model may still hold the old ones.
	p.items, p.counts, p.lines, p.routes, p.routes6 = nil, nil, nil, nil, nil
	p.drawn, p.classes = map[int32]netview.Line{}, map[netview.Class]bool{}
	var cur, prev *netview.Snapshot
	var curA *netview.Analysis
	var extra, prevExtra *netview.Extra
	if in.lab != nil {
		cur, curA, prev = in.lab.Pair.Side(p.side), in.lab.Analysis, in.lab.Prev.Side(p.side)
		extra, prevExtra = in.lab.Extra()
		if in.place == netview.PlaceHost1 {
			cur, curA, prev = nil, nil, nil
			if extra != nil && extra.Host1 != nil {
				cur = extra.Host1
				if in.lab.Host1 != nil {
					curA = in.lab.Host1.Analysis()
				}
			}
			if prevExtra != nil {
				prev = prevExtra.Host1
			}
		}
	}
	if in.lab == nil || len(views) == 0 {
		msg := in.empty
		if in.lab == nil {
			msg = "waiting for the lab…"
		}
		p.items = append(p.items, paneItem{kind: itemNote, text: msg})
	}
	if in.lab != nil {
		for i, v := range views {
			if i > 0 {
				p.items = append(p.items, paneItem{kind: itemHeader, text: "$ " + v.CommandIn(extra)})
			}
			if slices.Contains(netview.ExtraViews(), v) {
				lines := netview.RenderExtra(in.place, v, extra, prevExtra)
				if len(lines) == 0 {
					p.items = append(p.items, paneItem{kind: itemNote, text: "this lab does not read " + v.Command()})
				}
				p.addLines(lines, nil, nil)
				continue
			}
			if cur == nil {
				why := "this lab does not read host1"
				if extra != nil && extra.Unread[netview.PartHost1] != "" {
					why = "host1 not read: " + extra.Unread[netview.PartHost1]
				}
				p.items = append(p.items, paneItem{kind: itemNote, text: why})
				continue
			}
			if v == netview.ViewRoute || v == netview.ViewRoute6 {
				p.addRoutes(cur, curA, prev, len(views), last, last6, v == netview.ViewRoute6)
				continue
			}
			// A line's text does not hang on the analysis, only its
			// tags: the old lines need none.
			lines := netview.Render(p.drawSide(), v, cur, curA)
			var added []bool
			var removed []string
			if prev != nil {
				added, removed = netview.DiffLines(netview.Render(p.drawSide(), v, prev, nil), lines)
			}
			p.addLines(lines, added, removed)
		}
	}
	p.sel = make([]int, 0, len(p.items))
	for i, it := range p.items {
		if it.isLine() {
			p.sel = append(p.sel, i)
		}
	}
	p.cursor = 0
	found := false
	if keep != nil {
		p.cursor, found = p.find(keep, keepAt)
	}
	if !found {
		p.cursor = p.firstHighlighted(in.order)
		p.top = 0
		p.settle = true
	}
	p.refresh()
}

// drawSide is the side the pane's namespace is drawn as: host1's table
// reads as a node's, whatever pane shows it.
func (p *netPane) drawSide() netview.Side {
	if p.place == netview.PlaceHost1 {
		return netview.SideHost
	}
	return p.side
}

// addLines adds drawn lines, marking those added since the last refresh
// and listing those removed.
func (p *netPane) addLines(lines []netview.Line, added []bool, removed []string) {
	for i, l := range lines {
		p.items = append(p.items, paneItem{kind: itemLine, n: int32(len(p.lines)), added: added != nil && added[i]})
		p.lines = append(p.lines, l)
	}
	p.addRemoved(removed)
}

// addRoutes adds the route view's items (with v6, ip -6 route's),
// marking what changed since the previous snapshot. Its lines are drawn
// when shown.
func (p *netPane) addRoutes(cur *netview.Snapshot, curA *netview.Analysis, prev *netview.Snapshot, views int, last, last6 *netview.RouteView, v6 bool) {
	view, kind := netview.NewRouteView, itemRoute
	if v6 {
		view, kind, last = netview.NewRouteView6, itemRoute6, last6
	}
	rv := view(p.drawSide(), cur, curA)
	if v6 {
		p.routes6 = rv
	} else {
		// The legend's classes are the IPv4 view's, as they were.
		p.routes = rv
		for i := range rv.Len() {
			if rc := rv.Class(i); rc != nil {
				p.classes[rc.Class] = true
			}
		}
	}
	var added []bool
	var removed []string
	if prev != nil {
		old := last
		if old == nil || old.Snapshot() != prev {
			old = view(p.drawSide(), prev, nil)
		}
		added, removed = netview.DiffRoutes(old, rv)
	}
	// Grown once: a node's route view is tens of thousands.
	p.items = slices.Grow(p.items, rv.Len()+len(removed)+views)
	for i := range rv.Len() {
		p.items = append(p.items, paneItem{kind: kind, n: int32(i), added: added != nil && added[i]})
	}
	p.addRemoved(removed)
}

func (p *netPane) addRemoved(removed []string) {
	for _, r := range removed {
		p.items = append(p.items, paneItem{kind: itemRemoved, text: "- " + strings.TrimSpace(r)})
	}
}

// find is the cursor on the line reading text, looked for near where
// it was first: a refresh of tens of thousands of lines moves a few.
func (p *netPane) find(text []byte, near int) (int, bool) {
	var b []byte
	is := func(k int) bool {
		b = p.appendText(b[:0], p.sel[k])
		return string(b) == string(text)
	}
	for d := 0; d < 64; d++ {
		for _, k := range []int{near - d, near + d} {
			if k >= 0 && k < len(p.sel) && is(k) {
				return k, true
			}
		}
	}
	for k := range p.sel {
		if is(k) {
			return k, true
		}
	}
	return 0, false
}

// firstHighlighted is where the cursor starts: on the first line with
// the step's main highlight, preferring one that carries another of its
// highlights too (the customer pod's own /32, which also names its veth
// end, over another pod's); failing the main one, the next.
func (p *netPane) firstHighlighted(order []netview.Tag) int {
	for n, tag := range order {
		first := -1
		for k, i := range p.sel {
			if !p.hasTag(i, tag) {
				continue
			}
			if first < 0 {
				first = k
			}
			for _, other := range order[n+1:] {
				if p.hasTag(i, other) {
					return k
				}
			}
		}
		if first >= 0 {
			return first
		}
	}
	return 0
}

// selected is the line under the cursor.
func (p netPane) selected() (netview.Line, bool) {
	if p.cursor < 0 || p.cursor >= len(p.sel) {
		return netview.Line{}, false
	}
	return p.line(p.sel[p.cursor]), true
}

// selectedClass is the analysis of the route under the cursor, nil when
// the cursor is not on a classed route.
func (p netPane) selectedClass() *netview.RouteClass {
	if p.cursor < 0 || p.cursor >= len(p.sel) {
		return nil
	}
	if it := p.items[p.sel[p.cursor]]; it.kind == itemRoute {
		return p.routes.Class(int(it.n))
	}
	return nil
}

// selectWhere moves the cursor to the first line match accepts.
func (p *netPane) selectWhere(match func(netview.Line) bool) bool {
	for k, i := range p.sel {
		if match(p.line(i)) {
			p.cursor = k
			p.refresh()
			return true
		}
	}
	return false
}

// command is what the pane shows, as typed: "node1 $ ip route".
func (p netPane) command() string {
	if len(p.views) == 0 {
		return p.who
	}
	return p.who + " $ " + p.views[0].CommandIn(p.extra)
}

// Update moves the cursor.
func (p netPane) Update(msg tea.Msg) (netPane, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok || len(p.sel) == 0 {
		return p, nil
	}
	keys := p.sh.keys
	switch {
	case key.Matches(k, keys.Up):
		p.cursor--
	case key.Matches(k, keys.Down):
		p.cursor++
	case key.Matches(k, keys.PageUp):
		p.cursor -= max(p.height-1, 1)
	case key.Matches(k, keys.PageDown):
		p.cursor += max(p.height-1, 1)
	default:
		return p, nil
	}
	p.cursor = min(max(p.cursor, 0), len(p.sel)-1)
	p.refresh()
	return p, nil
}

// View is the pane with its title bar.
func (p netPane) View() string {
	t := p.sh.theme
	st := t.Title
	if p.focused {
		st = t.TitleFocus
	}
	title := st.Width(p.width).Render(ansi.Truncate(" "+p.command(), p.width, "…"))
	return title + "\n" + p.body()
}

// body is the pane without its title: the rows on screen, each padded to
// the pane's width and cut to it, and blank rows below to its height.
func (p netPane) body() string {
	if p.width <= 0 || p.height <= 0 {
		return ""
	}
	rows := make([]string, p.height)
	copy(rows, p.shown)
	for i, r := range rows {
		if ansi.StringWidth(r) > p.width {
			rows[i] = ansi.Truncate(r, p.width, "")
		}
	}
	return lipgloss.NewStyle().Width(p.width).Height(p.height).Render(strings.Join(rows, "\n"))
}

// hasRouteView says whether a class code column is needed.
func (p netPane) hasRouteView() bool { return slices.Contains(p.views, netview.ViewRoute) }
