package ui

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"podlab/netview"
)

// shared is what the root hands its children: the size of the terminal,
// the styles and the keys. It is replaced, never changed in place.
type shared struct {
	width, height int
	theme         Theme
	keys          keyMap
}

// commandOf is the command a student types to see a view.
func commandOf(v netview.View) string {
	switch v {
	case netview.ViewAddr:
		return "ip addr"
	case netview.ViewLink:
		return "ip -c link show up"
	case netview.ViewRoute:
		return "ip route"
	case netview.ViewNeigh:
		return "ip neigh"
	}
	return "ip " + string(v)
}

type itemKind int

const (
	itemLine    itemKind = iota // a rendered line; the cursor stops here
	itemHeader                  // "$ ip route" between two views
	itemRemoved                 // a line gone since the last refresh
	itemNote                    // a message in place of a view
)

type paneItem struct {
	kind  itemKind
	text  string
	line  netview.Line
	added bool
}

// paneInput is what a pane shows: views of one side of the current pair,
// and the previous pair to mark what changed.
type paneInput struct {
	who   string
	views []netview.View
	cur   *netview.Snapshot
	curA  *netview.Analysis
	prev  *netview.Snapshot
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
	vp     viewport.Model
	// counts are the rows each item takes at width countsW.
	counts  []int
	countsW int
	// rendered are the lines of the last setData's snapshots; replaced,
	// never changed.
	rendered map[renderKey][]netview.Line
	// routes draws the route view of the snapshots shown, one after
	// another, remembering the lines of the last.
	routes *netview.Renderer
}

type renderKey struct {
	snap *netview.Snapshot
	view netview.View
}

func newNetPane(sh *shared, side netview.Side) netPane {
	vp := viewport.New()
	vp.FillHeight = true
	return netPane{sh: sh, side: side, vp: vp, routes: &netview.Renderer{}}
}

func (p *netPane) setSize(w, h int) {
	p.width, p.height = max(w, 1), max(h, 1)
	p.vp.SetWidth(p.width)
	p.vp.SetHeight(p.height)
	p.refresh()
}

func (p *netPane) setFocus(f bool) {
	p.focused = f
	p.refresh()
}

// setData rebuilds the pane's lines.
func (p *netPane) setData(in paneInput) {
	var keep string
	if it, ok := p.selected(); ok && in.keepCursor {
		keep = it.line.String()
	}
	p.who, p.views, p.hi = in.who, in.views, in.hi
	p.items = nil // fresh: an older model may still hold the old slice
	p.counts = nil
	if in.cur == nil || len(in.views) == 0 {
		msg := in.empty
		if in.cur == nil {
			msg = "waiting for the lab…"
		}
		p.items = append(p.items, paneItem{kind: itemNote, text: msg})
	}
	// The snapshot shown now is the one the next refresh compares with,
	// and a new step shows it again: keep its lines (an analysis is a
	// function of its snapshots, so the snapshot names the lines). The
	// previous snapshot's are let go: at tens of thousands of routes a
	// set of lines is megabytes, and only a change of step needs them
	// again.
	cache := make(map[renderKey][]netview.Line, len(in.views))
	render := func(s *netview.Snapshot, a *netview.Analysis, v netview.View) []netview.Line {
		k := renderKey{s, v}
		lines, ok := p.rendered[k]
		switch {
		case ok:
		case s == in.cur && v == netview.ViewRoute && p.routes != nil:
			lines = p.routes.Render(p.side, v, s, a) // unchanged routes' lines again
		default:
			lines = netview.Render(p.side, v, s, a)
		}
		if s == in.cur {
			cache[k] = lines
		}
		return lines
	}
	defer func() { p.rendered = cache }()
	if in.cur != nil {
		for i, v := range in.views {
			if i > 0 {
				p.items = append(p.items, paneItem{kind: itemHeader, text: "$ " + commandOf(v)})
			}
			lines := render(in.cur, in.curA, v)
			var added []bool
			var removed []string
			if in.prev != nil {
				// A line's text does not hang on the analysis, only
				// its tags: the old lines need none.
				added, removed = diffLines(render(in.prev, nil, v), lines)
			}
			// Grown once: a node's route view is tens of thousands.
			p.items = slices.Grow(p.items, len(lines)+len(removed)+len(in.views))
			for i, l := range lines {
				p.items = append(p.items, paneItem{kind: itemLine, line: l, added: added != nil && added[i]})
			}
			for _, r := range removed {
				p.items = append(p.items, paneItem{kind: itemRemoved, text: "- " + strings.TrimSpace(r)})
			}
		}
	}
	p.sel = make([]int, 0, len(p.items))
	for i, it := range p.items {
		if it.kind == itemLine {
			p.sel = append(p.sel, i)
		}
	}
	p.cursor = 0
	found := false
	if keep != "" {
		for k, i := range p.sel {
			if p.items[i].line.String() == keep {
				p.cursor, found = k, true
				break
			}
		}
	}
	if !found {
		p.cursor = p.firstHighlighted(in.order)
		p.vp.SetYOffset(0)
		p.settle = true
	}
	p.refresh()
}

// firstHighlighted is where the cursor starts: on the first line with
// the step's main highlight, preferring one that carries another of its
// highlights too (the customer pod's own /32, which also names its veth
// end, over another pod's); failing the main one, the next.
func (p *netPane) firstHighlighted(order []netview.Tag) int {
	for n, tag := range order {
		first := -1
		for k, i := range p.sel {
			l := p.items[i].line
			if !l.HasTag(tag) {
				continue
			}
			if first < 0 {
				first = k
			}
			for _, other := range order[n+1:] {
				if l.HasTag(other) {
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
func (p netPane) selected() (paneItem, bool) {
	if p.cursor < 0 || p.cursor >= len(p.sel) {
		return paneItem{}, false
	}
	return p.items[p.sel[p.cursor]], true
}

// selectWhere moves the cursor to the first line match accepts.
func (p *netPane) selectWhere(match func(netview.Line) bool) bool {
	for k, i := range p.sel {
		if match(p.items[i].line) {
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
	return p.who + " $ " + commandOf(p.views[0])
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

// body is the pane without its title.
func (p netPane) body() string { return p.vp.View() }

// hasRouteView says whether a class code column is needed.
func (p netPane) hasRouteView() bool { return slices.Contains(p.views, netview.ViewRoute) }

// refresh lays the rows out in the viewport and keeps the cursor in
// view. Only the rows on screen are styled: a node's route view has tens
// of thousands of lines, and styling them all on each key is what made a
// large lab slow. The others are blank stand-ins that only keep the
// viewport's scrolling right (nothing else scrolls it).
func (p *netPane) refresh() {
	if p.width <= 0 {
		return
	}
	t := p.sh.theme
	codeW := 0
	if t.NoColor && p.hasRouteView() {
		codeW = 3
	}
	gutter := 2 + codeW
	textW := max(p.width-gutter, 8)
	if len(p.counts) != len(p.items) || p.countsW != textW {
		// Fresh slices: an older model may still hold the old ones.
		p.counts, p.countsW = make([]int, len(p.items)), textW
		for i := range p.items {
			p.counts[i] = p.rowCount(&p.items[i], textW)
		}
	}
	total := 0
	curStart, curEnd := -1, -1
	selItem := -1
	if p.cursor >= 0 && p.cursor < len(p.sel) {
		selItem = p.sel[p.cursor]
	}
	for i, n := range p.counts {
		if i == selItem {
			curStart, curEnd = total, total+n-1
		}
		total += n
	}
	rows := make([]string, total)
	p.vp.SetContentLines(rows)
	if p.settle && curStart >= 0 && p.height > 1 {
		p.settle = false
		if curStart >= p.height*2/3 {
			p.vp.SetYOffset(curStart - p.height/3)
		}
	}
	if curStart >= 0 {
		y := p.vp.YOffset()
		if curStart < y {
			p.vp.SetYOffset(curStart)
		} else if curEnd >= y+p.height {
			p.vp.SetYOffset(curEnd - p.height + 1)
		}
	}
	top, bottom := p.vp.YOffset(), p.vp.YOffset()+p.height
	row := 0
	for i := range p.items {
		n := p.counts[i]
		if row+n > top && row < bottom {
			copy(rows[row:row+n], p.itemRows(i, selItem, codeW, textW))
		}
		row += n
		if row >= bottom {
			break
		}
	}
	p.vp.SetContentLines(rows)
}

// rowCount is how many rows an item takes at width textW.
func (p *netPane) rowCount(it *paneItem, textW int) int {
	switch it.kind {
	case itemNote:
		return strings.Count(ansi.Wrap(it.text, textW, ""), "\n") + 1
	case itemHeader:
		return 1
	case itemRemoved:
		return strings.Count(ansi.Hardwrap(it.text, textW, true), "\n") + 1
	case itemLine:
		if n, ok := asciiWidth(it.line.Spans); ok && n <= textW {
			return 1 // most lines, measured without cutting them up
		}
		return len(wrapSpans(it.line.Spans, textW))
	}
	return 0
}

// itemRows are the styled rows of item i; as many as rowCount says.
func (p *netPane) itemRows(i, selItem, codeW, textW int) []string {
	t := p.sh.theme
	gutter := 2 + codeW
	pad := strings.Repeat(" ", gutter)
	var rows []string
	it := p.items[i]
	switch it.kind {
	case itemNote:
		for _, r := range strings.Split(ansi.Wrap(it.text, textW, ""), "\n") {
			rows = append(rows, pad+t.Muted.Render(r))
		}
	case itemHeader:
		rows = append(rows, ansi.Truncate(t.Command.Render(it.text), p.width, "…"))
	case itemRemoved:
		for _, r := range strings.Split(ansi.Hardwrap(it.text, textW, true), "\n") {
			rows = append(rows, pad+t.Removed.Render(r))
		}
	case itemLine:
		isSel := i == selItem
		mark := " "
		if isSel {
			mark = "▸"
			if t.NoColor {
				mark = ">"
			}
		}
		chg := " "
		if it.added {
			chg = t.Added.Render("+")
		}
		code := ""
		if codeW > 0 {
			code = "   "
			if c, ok := lineClass(it.line); ok {
				code = classCode[c] + " "
			}
		}
		for r, spans := range wrapSpans(it.line.Spans, textW) {
			var b strings.Builder
			if r == 0 {
				b.WriteString(mark + chg + code)
			} else {
				b.WriteString(pad)
			}
			w := 0
			for _, s := range spans {
				st := t.TagStyle(s.Tag, p.hi[s.Tag])
				if isSel && p.focused {
					st = st.Inherit(t.Selected)
				}
				b.WriteString(st.Render(s.Text))
				w += ansi.StringWidth(s.Text)
			}
			if isSel && p.focused && w < textW {
				b.WriteString(t.Selected.Render(strings.Repeat(" ", textW-w)))
			}
			rows = append(rows, b.String())
		}
	}
	return rows
}

// lineClass is the route class a line is tagged with.
func lineClass(l netview.Line) (netview.Class, bool) {
	for _, s := range l.Spans {
		if c, ok := strings.CutPrefix(string(s.Tag), "route-"); ok {
			return netview.Class(c), true
		}
	}
	return "", false
}

// wrapSpans breaks a line of spans into rows of at most width cells,
// at spaces where it can; rows after the first are indented by four, as
// a terminal reader expects a continued line to be.
func wrapSpans(spans []netview.Span, width int) [][]netview.Span {
	const indent = "    "
	if n, ok := asciiWidth(spans); ok && n <= width {
		return [][]netview.Span{spans} // most lines: no need to look closer
	}
	text := netview.Line{Spans: spans}.String()
	if ansi.StringWidth(text) <= width || width <= len(indent)+4 {
		return [][]netview.Span{spans}
	}
	// Rows as [from, to) rune offsets into text.
	runes := []rune(text)
	type span struct{ from, to int }
	var ranges []span
	start, limit := 0, width
	for len(runes)-start > limit {
		cut := -1
		for i := start + limit; i > start; i-- {
			if runes[i] == ' ' {
				cut = i
				break
			}
		}
		if cut <= start {
			cut = start + limit
		}
		ranges = append(ranges, span{start, cut})
		start = cut
		for start < len(runes) && runes[start] == ' ' {
			start++
		}
		limit = width - len(indent)
	}
	ranges = append(ranges, span{start, len(runes)})
	rows := make([][]netview.Span, 0, len(ranges))
	for r, rg := range ranges {
		var row []netview.Span
		if r > 0 {
			row = append(row, netview.Span{Text: indent})
		}
		pos := 0
		for _, s := range spans {
			rs := []rune(s.Text)
			a, b := max(rg.from, pos), min(rg.to, pos+len(rs))
			if a < b {
				row = append(row, netview.Span{Text: string(rs[a-pos : b-pos]), Tag: s.Tag})
			}
			pos += len(rs)
		}
		rows = append(rows, row)
	}
	return rows
}

// asciiWidth is the cells spans take when they are printable ASCII, which
// is one cell a byte; ok false otherwise.
func asciiWidth(spans []netview.Span) (n int, ok bool) {
	for _, s := range spans {
		for i := 0; i < len(s.Text); i++ {
			if c := s.Text[i]; c < 0x20 || c >= 0x7f {
				return 0, false
			}
		}
		n += len(s.Text)
	}
	return n, true
}

// padRight pads s to w cells.
func padRight(s string, w int) string {
	if d := w - lipgloss.Width(s); d > 0 {
		return s + strings.Repeat(" ", d)
	}
	return s
}

// diffLines compares the lines of a view before and after, by their text:
// added[i] says cur[i] is new (nil when none is), and removed are the old
// lines cur no longer has. A refresh of a route view of tens of thousands
// of lines changes a few of them, in place: only what lies between the
// common head and tail is looked for on the other side, and no line's
// text is built as a string to do it.
func diffLines(old, cur []netview.Line) (added []bool, removed []string) {
	var a, b []byte
	same := func(x, y netview.Line) bool {
		a, b = appendText(a[:0], x), appendText(b[:0], y)
		return string(a) == string(b)
	}
	head := 0
	for head < len(old) && head < len(cur) && same(old[head], cur[head]) {
		head++
	}
	tail := 0
	for tail < len(old)-head && tail < len(cur)-head && same(old[len(old)-1-tail], cur[len(cur)-1-tail]) {
		tail++
	}
	// absent says which lines of mid the lines of all lack.
	absent := func(mid, all []netview.Line) []bool {
		idx := make(map[string]int, len(mid))
		for i, l := range mid {
			idx[l.String()] = i
		}
		seen := make([]bool, len(mid))
		for _, l := range all {
			a = appendText(a[:0], l)
			if i, ok := idx[string(a)]; ok {
				seen[i] = true
			}
		}
		out := make([]bool, len(mid))
		for i, l := range mid {
			out[i] = !seen[idx[l.String()]]
		}
		return out
	}
	if mid := cur[head : len(cur)-tail]; len(mid) > 0 {
		added = make([]bool, len(cur))
		copy(added[head:], absent(mid, old))
	}
	if mid := old[head : len(old)-tail]; len(mid) > 0 {
		for i, gone := range absent(mid, cur) {
			if gone {
				removed = append(removed, mid[i].String())
			}
		}
	}
	return added, removed
}

// appendText appends a line's text to b.
func appendText(b []byte, l netview.Line) []byte {
	for _, s := range l.Spans {
		b = append(b, s.Text...)
	}
	return b
}
