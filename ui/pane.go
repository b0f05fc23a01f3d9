package ui

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
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

type itemKind uint8

const (
	itemLine    itemKind = iota // a drawn line; the cursor stops here
	itemRoute                   // a line of the route view, drawn when shown; the cursor stops here
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
	// itemRoute, in its route view.
	n    int32
	text string
}

// isLine says whether the cursor stops on the item.
func (it paneItem) isLine() bool { return it.kind == itemLine || it.kind == itemRoute }

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
	lines  []netview.Line
	routes *netview.RouteView
	drawn  map[int32]netview.Line
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
	case itemRoute:
		if l, ok := p.drawn[it.n]; ok {
			return l
		}
		l := p.routes.Line(int(it.n))
		// ip starts a next hop's line with a tab: a terminal would jump
		// to its next tab stop past the pane's edge.
		if len(l.Spans) > 0 && strings.HasPrefix(l.Spans[0].Text, "\t") {
			l.Spans = slices.Clone(l.Spans)
			l.Spans[0].Text = "        " + l.Spans[0].Text[1:]
		}
		if len(p.drawn) >= 4096 { // a few screens; scrolling far draws again
			clear(p.drawn)
		}
		p.drawn[it.n] = l
		return l
	}
	return netview.Line{}
}

// hasTag is line(i).HasTag(t), without drawing a route's line where it
// need not.
func (p *netPane) hasTag(i int, t netview.Tag) bool {
	if it := p.items[i]; it.kind == itemRoute {
		return p.routes.HasTag(int(it.n), t)
	}
	return p.line(i).HasTag(t)
}

// appendText appends item i's line's text.
func (p *netPane) appendText(b []byte, i int) []byte {
	if it := p.items[i]; it.kind == itemRoute {
		return p.routes.AppendText(b, int(it.n))
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
	p.who, p.views, p.hi = in.who, in.views, in.hi
	// The route view shown is the previous one of the next refresh.
	last := p.routes
	// Fresh: an older model may still hold the old ones.
	p.items, p.counts, p.lines, p.routes = nil, nil, nil, nil
	p.drawn, p.classes = map[int32]netview.Line{}, map[netview.Class]bool{}
	if in.cur == nil || len(in.views) == 0 {
		msg := in.empty
		if in.cur == nil {
			msg = "waiting for the lab…"
		}
		p.items = append(p.items, paneItem{kind: itemNote, text: msg})
	}
	if in.cur != nil {
		for i, v := range in.views {
			if i > 0 {
				p.items = append(p.items, paneItem{kind: itemHeader, text: "$ " + v.Command()})
			}
			if v == netview.ViewRoute {
				p.addRoutes(in, last)
				continue
			}
			// A line's text does not hang on the analysis, only its
			// tags: the old lines need none.
			lines := netview.Render(p.side, v, in.cur, in.curA)
			var added []bool
			var removed []string
			if in.prev != nil {
				added, removed = diffLines(netview.Render(p.side, v, in.prev, nil), lines)
			}
			for i, l := range lines {
				p.items = append(p.items, paneItem{kind: itemLine, n: int32(len(p.lines)), added: added != nil && added[i]})
				p.lines = append(p.lines, l)
			}
			p.addRemoved(removed)
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

// addRoutes adds the route view's items, marking what changed since the
// previous snapshot. Its lines are drawn when shown.
func (p *netPane) addRoutes(in paneInput, last *netview.RouteView) {
	rv := netview.NewRouteView(p.side, in.cur, in.curA)
	p.routes = rv
	for i := range rv.Len() {
		if rc := rv.Class(i); rc != nil {
			p.classes[rc.Class] = true
		}
	}
	var added []bool
	var removed []string
	if in.prev != nil {
		old := last
		if old == nil || old.Snapshot() != in.prev {
			old = netview.NewRouteView(p.side, in.prev, nil)
		}
		added, removed = diffRoutes(old, rv)
	}
	// Grown once: a node's route view is tens of thousands.
	p.items = slices.Grow(p.items, rv.Len()+len(removed)+len(in.views))
	for i := range rv.Len() {
		p.items = append(p.items, paneItem{kind: itemRoute, n: int32(i), added: added != nil && added[i]})
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
	return p.who + " $ " + p.views[0].Command()
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

// refresh keeps the cursor in view and styles the rows on screen. Only
// those are styled: a node's route view has tens of thousands of lines,
// and styling them all on each key is what made a large lab slow.
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
			p.counts[i] = p.rowCount(i, textW)
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
	// The last screenful is as far down as the pane scrolls.
	scrollTo := func(y int) { p.top = min(max(y, 0), max(total-p.height, 0)) }
	scrollTo(p.top)
	if p.settle && curStart >= 0 && p.height > 1 {
		p.settle = false
		if curStart >= p.height*2/3 {
			scrollTo(curStart - p.height/3)
		}
	}
	if curStart >= 0 {
		if curStart < p.top {
			scrollTo(curStart)
		} else if curEnd >= p.top+p.height {
			scrollTo(curEnd - p.height + 1)
		}
	}
	top, bottom := p.top, p.top+p.height
	shown := make([]string, 0, p.height)
	row := 0
	for i := range p.items {
		n := p.counts[i]
		if row+n > top && row < bottom {
			rs := p.itemRows(i, selItem, codeW, textW)
			for k := max(top-row, 0); k < min(n, bottom-row); k++ {
				r := ""
				if k < len(rs) {
					r = rs[k]
				}
				shown = append(shown, r)
			}
		}
		row += n
		if row >= bottom {
			break
		}
	}
	p.shown = shown
}

// rowCount is how many rows item i takes at width textW.
func (p *netPane) rowCount(i int, textW int) int {
	it := &p.items[i]
	switch it.kind {
	case itemNote:
		return strings.Count(ansi.Wrap(it.text, textW, ""), "\n") + 1
	case itemHeader:
		return 1
	case itemRemoved:
		return strings.Count(ansi.Hardwrap(it.text, textW, true), "\n") + 1
	case itemRoute:
		if p.scratch = p.routes.AppendText(p.scratch[:0], int(it.n)); asciiLen(p.scratch) <= textW {
			return 1 // most lines, measured without drawing them
		}
		return len(wrapSpans(p.line(i).Spans, textW))
	case itemLine:
		l := p.lines[it.n]
		if n, ok := asciiWidth(l.Spans); ok && n <= textW {
			return 1 // most lines, measured without cutting them up
		}
		return len(wrapSpans(l.Spans, textW))
	}
	return 0
}

// asciiLen is the cells b takes when it is printable ASCII, one a byte;
// past any width otherwise.
func asciiLen(b []byte) int {
	for _, c := range b {
		if c < 0x20 || c >= 0x7f {
			return 1 << 30
		}
	}
	return len(b)
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
	case itemLine, itemRoute:
		line := p.line(i)
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
			if c, ok := lineClass(line); ok {
				code = classCode[c] + " "
			}
		}
		for r, spans := range wrapSpans(line.Spans, textW) {
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
// lines cur no longer has.
func diffLines(old, cur []netview.Line) (added []bool, removed []string) {
	var a, b []byte
	texts := func(lines []netview.Line) map[string]bool {
		m := make(map[string]bool, len(lines))
		for _, l := range lines {
			m[l.String()] = true
		}
		return m
	}
	var inOld, inCur map[string]bool
	return diffTexts(len(old), len(cur), func(i, j int) bool {
		a, b = appendText(a[:0], old[i]), appendText(b[:0], cur[j])
		return string(a) == string(b)
	}, func(i int) bool {
		if inCur == nil {
			inCur = texts(cur)
		}
		return inCur[old[i].String()]
	}, func(j int) bool {
		if inOld == nil {
			inOld = texts(old)
		}
		return inOld[cur[j].String()]
	}, func(i int) string { return old[i].String() })
}

// diffRoutes is diffLines for two route views, drawing no line whose
// route is unchanged.
func diffRoutes(old, cur *netview.RouteView) (added []bool, removed []string) {
	return diffTexts(old.Len(), cur.Len(), func(i, j int) bool { return old.SameLine(i, cur, j) },
		func(i int) bool { return cur.Has(old, i) }, func(j int) bool { return old.Has(cur, j) },
		func(i int) string { return string(old.AppendText(nil, i)) })
}

// diffTexts compares n old lines with m current ones: same says whether
// old line i reads as current line j; inCur whether old line i reads as
// some current line, inOld the other way round; oldText is old line i's
// text. A refresh of a route view of tens of thousands of lines changes
// a few of them, in place: only what lies between the common head and
// tail is looked for on the other side.
func diffTexts(n, m int, same func(i, j int) bool, inCur, inOld func(int) bool, oldText func(int) string) (added []bool, removed []string) {
	head := 0
	for head < n && head < m && same(head, head) {
		head++
	}
	tail := 0
	for tail < n-head && tail < m-head && same(n-1-tail, m-1-tail) {
		tail++
	}
	for j := head; j < m-tail; j++ {
		if !inOld(j) {
			if added == nil {
				added = make([]bool, m)
			}
			added[j] = true
		}
	}
	for i := head; i < n-tail; i++ {
		if !inCur(i) {
			removed = append(removed, oldText(i))
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
