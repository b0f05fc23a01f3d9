package netmap

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"podlab/netview"
)

// Render draws the pair's map within width columns.
func Render(p *netview.Pair, a *netview.Analysis, width int) []netview.Line {
	return Build(p, a).Draw(width)
}

// The shapes the map is drawn with.
const (
	cableW  = 12 // the veth cable between the pod's box and the node's
	linkW   = 8  // the lines from the node to the other nodes
	gap     = 2  // between boxes side by side
	minBox  = 24 // no box is drawn narrower than this
	cableIn = 2  // where the vertical cable leaves a box in the stacked layout
)

// RenderIn is Render for a screen of height rows: when the map is taller,
// the compact layout, if it is shorter.
func RenderIn(p *netview.Pair, a *netview.Analysis, width, height int) []netview.Line {
	return Build(p, a).DrawIn(width, height)
}

// DrawIn is Draw for a screen of height rows (0: any): a map taller than
// that is drawn compact when that is shorter, so that a small terminal
// (80x24) shows the whole lab at once.
func (m Map) DrawIn(width, height int) []netview.Line {
	lines := m.Draw(width)
	if height <= 0 || len(lines) <= height {
		return lines
	}
	if c := m.drawCompact(width); len(c) < len(lines) {
		return c
	}
	return lines
}

// Draw lays the map out within width columns: in one row when it fits,
// the other nodes below when only the pod and its node fit side by side,
// else everything stacked. Lines never pass width (unless width is below
// the narrowest box, minBox).
func (m Map) Draw(width int) []netview.Line {
	if m.Pod.Rows == nil && m.Node.Rows == nil {
		return nil
	}
	width = max(width, minBox)
	podW, nodeW := m.Pod.natural(), m.Node.natural()
	remW := 0
	for _, r := range m.Remotes {
		remW = max(remW, r.natural())
	}
	var out block
	switch {
	case podW+cableW+nodeW+linkW+remW <= width && len(m.Remotes) > 0:
		out = m.wide(podW, nodeW, remW)
	case podW+cableW+nodeW <= width:
		top, nodeX := m.paired(podW, nodeW)
		out = vcat(top, m.below(width, nodeX))
	default:
		out = vcat(m.stacked(width), m.below(width, cableIn))
	}
	return m.finish(out, width)
}

// finish adds the notes under a layout and makes it lines.
func (m Map) finish(out block, width int) []netview.Line {
	out = vcat(out, m.notes(width))
	lines := make([]netview.Line, len(out.lines))
	for i, l := range out.lines {
		lines[i] = trimmed(netview.Line{Spans: merge(l)})
	}
	return lines
}

// block is a rectangle of text: every line is w cells wide.
type block struct {
	w     int
	lines [][]netview.Span
}

func blank(w, h int) block {
	b := block{w: w}
	for range h {
		b.lines = append(b.lines, []netview.Span{span(strings.Repeat(" ", w), netview.TagNone)})
	}
	return b
}

// hcat puts blocks side by side, their tops aligned.
func hcat(bs ...block) block {
	h := 0
	for _, b := range bs {
		h = max(h, len(b.lines))
	}
	out := block{lines: make([][]netview.Span, h)}
	for _, b := range bs {
		for i := range h {
			if i < len(b.lines) {
				out.lines[i] = append(out.lines[i], b.lines[i]...)
			} else {
				out.lines[i] = append(out.lines[i], span(strings.Repeat(" ", b.w), netview.TagNone))
			}
		}
		out.w += b.w
	}
	return out
}

// vcat puts blocks one under the other, padding them to one width.
func vcat(bs ...block) block {
	out := block{}
	for _, b := range bs {
		out.w = max(out.w, b.w)
	}
	for _, b := range bs {
		for _, l := range b.lines {
			out.lines = append(out.lines, pad(l, out.w))
		}
	}
	return out
}

// shift moves a block right by x cells.
func shift(b block, x int) block {
	if x <= 0 {
		return b
	}
	return hcat(blank(x, len(b.lines)), b)
}

// down moves a block down by y lines.
func down(b block, y int) block {
	if y <= 0 {
		return b
	}
	return vcat(blank(b.w, y), b)
}

func pad(l []netview.Span, w int) []netview.Span {
	if d := w - width(l); d > 0 {
		return append(l, span(strings.Repeat(" ", d), netview.TagNone))
	}
	return l
}

func width(sp []netview.Span) int {
	n := 0
	for _, s := range sp {
		n += stringWidth(s.Text)
	}
	return n
}

// merge joins neighbouring spans of one tag, so a line has few spans.
func merge(sp []netview.Span) []netview.Span {
	var out []netview.Span
	for _, s := range sp {
		if s.Text == "" {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Tag == s.Tag {
			out[n-1].Text += s.Text
			continue
		}
		out = append(out, s)
	}
	return out
}

// natural is the box's width when nothing has to wrap.
func (b Box) natural() int {
	w := width(b.Title) + 6 // "┌─ " title " ─┐"
	for _, r := range b.Rows {
		w = max(w, width(r.Spans)+4)
	}
	return max(w, minBox)
}

// joints are where lines leave a box: a cable row on either side, a
// column on the top or bottom border.
type joints struct {
	left, right int // a row, -1 for none
	top, bottom int // a column inside the box, -1 for none
	// Heavy joints meet the veth cable; light ones the lines to other
	// nodes or a cable whose ends disagree.
	leftHeavy, rightHeavy, vHeavy bool
}

func noJoints() joints { return joints{left: -1, right: -1, top: -1, bottom: -1} }

// anchor is the row the cable is attached at, counted from the box's
// top border; it moves down when the title has to go inside.
func (b Box) anchor(w int) int {
	y := 1
	if width(b.Title)+6 > w {
		y += len(wrap(b.Title, w-4))
	}
	for _, r := range b.Rows {
		if r.Anchor {
			return y
		}
		y += len(wrap(r.Spans, w-4))
	}
	return 1
}

// draw draws the box w cells wide, wrapping what does not fit.
func (b Box) draw(w int, j joints) block {
	inner := w - 4
	hz, vt := "─", "│"
	if b.Dashed {
		hz, vt = "┄", "┆"
	}
	border := netview.TagNone
	if b.Dashed {
		border = netview.TagMuted
	}
	out := block{w: w}
	// The top border, with the title in it when it fits, after the
	// joint a cable comes in at.
	lead := hz
	if j.top >= 0 {
		lead = strings.Repeat(hz, j.top+1) + jointOf(j.vHeavy, "┸", "┴") + hz
	}
	top := []netview.Span{span("┌"+lead, border)}
	var titleRows [][]netview.Span
	if tw, used := width(b.Title), 1+ansi.StringWidth(lead); used+tw+4 <= w {
		top = append(top, span(" ", border))
		top = append(top, b.Title...)
		top = append(top, span(" "+strings.Repeat(hz, w-used-tw-3)+"┐", border))
	} else {
		top = append(top, span(strings.Repeat(hz, w-1-ansi.StringWidth(lead)-1)+"┐", border))
		titleRows = wrap(b.Title, inner)
	}
	out.lines = append(out.lines, top)

	side := func(sp []netview.Span, dash bool) {
		l, r := vt, vt
		if dash {
			l, r = "┆", "┆"
		}
		y := len(out.lines)
		switch {
		case y == j.left && j.leftHeavy:
			l = "┥"
		case y == j.left:
			l = "┤"
		}
		switch {
		case y == j.right && j.rightHeavy:
			r = "┝"
		case y == j.right:
			r = "├"
		}
		line := []netview.Span{span(l+" ", border)}
		line = append(line, pad(sp, inner)...)
		line = append(line, span(" "+r, border))
		out.lines = append(out.lines, line)
	}
	for _, t := range titleRows {
		side(t, b.Dashed)
	}
	for _, r := range b.Rows {
		for _, sp := range wrap(r.Spans, inner) {
			side(sp, b.Dashed || r.Dashed)
		}
	}
	bottom := "└" + strings.Repeat(hz, w-2) + "┘"
	if j.bottom >= 0 && j.bottom+2 < w-1 {
		bottom = "└" + strings.Repeat(hz, j.bottom+1) + jointOf(j.vHeavy, "┰", "┬") + strings.Repeat(hz, w-j.bottom-4) + "┘"
	}
	out.lines = append(out.lines, []netview.Span{span(bottom, border)})
	return out
}

func jointOf(heavy bool, h, l string) string {
	if heavy {
		return h
	}
	return l
}

// cable draws the veth pair between two boxes, at line y.
func (m Map) cable(y int) block {
	b := blank(cableW, y+2)
	half := cableW / 2
	line, mark := "━", "agree"
	if !m.Cable.Agree {
		line, mark = "┄", "disagree"
	}
	b.lines[y-1] = []netview.Span{span(center("veth", cableW), netview.TagMuted)}
	b.lines[y] = []netview.Span{
		span(strings.Repeat(line, half), netview.TagVethPod),
		span(strings.Repeat(line, cableW-half), netview.TagVethHost),
	}
	b.lines[y+1] = []netview.Span{span(center(mark, cableW), netview.TagMuted)}
	return b
}

func center(s string, w int) string {
	d := w - ansi.StringWidth(s)
	if d <= 0 {
		return s
	}
	return strings.Repeat(" ", d/2) + s + strings.Repeat(" ", d-d/2)
}

// paired draws the pod, the cable and the node in one row; it returns
// the node box's column.
func (m Map) paired(podW, nodeW int) (block, int) {
	pa, na := m.Pod.anchor(podW), m.Node.anchor(nodeW)
	y := max(pa, na)
	pj, nj := noJoints(), noJoints()
	pj.right, nj.left = pa, na
	pj.rightHeavy, nj.leftHeavy = m.Cable.Agree, m.Cable.Agree
	pod := down(m.Pod.draw(podW, pj), y-pa)
	node := down(m.Node.draw(nodeW, nj), y-na)
	return hcat(pod, m.cable(y), node), podW + cableW
}

// wide draws everything in one row: pod, cable, node, and the other nodes
// stacked to the right, each joined to the node.
func (m Map) wide(podW, nodeW, remW int) block {
	pa, na := m.Pod.anchor(podW), m.Node.anchor(nodeW)
	y := max(pa, na)
	pj, nj := noJoints(), noJoints()
	pj.right, nj.left, nj.right = pa, na, na
	pj.rightHeavy, nj.leftHeavy = m.Cable.Agree, m.Cable.Agree
	pod := down(m.Pod.draw(podW, pj), y-pa)
	node := down(m.Node.draw(nodeW, nj), y-na)

	// The other nodes stacked, each joined at its first row.
	var col block
	var joins []int
	for _, r := range m.Remotes {
		rj := noJoints()
		rj.left = 1
		joins = append(joins, len(col.lines)+1)
		col = vcat(col, r.draw(remW, rj))
	}
	if more := m.moreRemotes(); more != nil {
		col = vcat(col, block{w: width(more), lines: [][]netview.Span{more}})
	}
	col = down(col, y-1)
	for i := range joins {
		joins[i] += y - 1
	}
	link := blank(linkW, len(col.lines))
	tag := netview.RouteTag(netview.ClassRemoteBlock)
	label := m.linkLabel()
	link.lines[max(y-1, 0)] = []netview.Span{span(center(label, linkW), netview.TagMuted)}
	last := joins[len(joins)-1]
	for i := y; i <= last; i++ {
		cell := " "
		switch {
		case i == y && i == last:
			cell = "─"
		case i == y:
			cell = "┬"
		case i == last:
			cell = "└"
		case contains(joins, i):
			cell = "├"
		default:
			cell = "│"
		}
		lead := strings.Repeat(" ", 3)
		if i == y {
			lead = strings.Repeat("─", 3)
		}
		tail := strings.Repeat(" ", linkW-4)
		if contains(joins, i) {
			tail = strings.Repeat("─", linkW-4)
		}
		link.lines[i] = []netview.Span{span(lead+cell+tail, tag)}
	}
	return hcat(pod, m.cable(y), node, link, col)
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// linkLabel is the first word of Link, short enough for the link column.
func (m Map) linkLabel() string {
	l, _, _ := strings.Cut(m.Link, " ")
	if ansi.StringWidth(l) > linkW {
		return ansi.Truncate(l, linkW, "")
	}
	return l
}

func (m Map) moreRemotes() []netview.Span {
	if m.MoreRemotes == 0 {
		return nil
	}
	return []netview.Span{span("+"+strconv.Itoa(m.MoreRemotes)+" more nodes, "+strconv.Itoa(m.MoreRemoteRoutes)+" routes", netview.RouteTag(netview.ClassRemoteBlock))}
}

// below draws the other nodes under the pod and its node: a line down
// from column x, then the boxes side by side as far as they fit.
func (m Map) below(maxW, x int) block {
	if len(m.Remotes) == 0 {
		return block{}
	}
	tag := netview.RouteTag(netview.ClassRemoteBlock)
	head := []netview.Span{span(strings.Repeat(" ", x+cableIn)+"▼ ", tag), span(m.Link+": the other nodes' blocks", netview.TagMuted)}
	var out block
	for _, l := range wrap(head, maxW) {
		out = vcat(out, block{w: width(l), lines: [][]netview.Span{l}})
	}
	total := 0
	for _, r := range m.Remotes {
		total += r.natural() + gap
	}
	at := 0
	if x+total-gap <= maxW {
		at = x
	}
	var row block
	flush := func() {
		if row.lines != nil {
			out = vcat(out, shift(row, at))
			row = block{}
		}
	}
	for _, r := range m.Remotes {
		w := min(r.natural(), maxW-at)
		b := r.draw(w, noJoints())
		if row.lines != nil && at+row.w+gap+w > maxW {
			flush()
		}
		if row.lines == nil {
			row = b
		} else {
			row = hcat(row, blank(gap, 0), b)
		}
	}
	flush()
	if more := m.moreRemotes(); more != nil {
		out = vcat(out, block{w: width(more), lines: [][]netview.Span{more}})
	}
	return out
}

// stacked draws the pod over its node, the cable running down between.
func (m Map) stacked(w int) block {
	podW, nodeW := min(m.Pod.natural(), w), min(m.Node.natural(), w)
	pj, nj := noJoints(), noJoints()
	pj.bottom, nj.top = cableIn, cableIn
	pj.vHeavy, nj.vHeavy = m.Cable.Agree, m.Cable.Agree
	line, mark := "┃", "both ends agree"
	if !m.Cable.Agree {
		line, mark = "╎", "the ends disagree"
	}
	lead := strings.Repeat(" ", cableIn+2)
	cable := block{lines: [][]netview.Span{
		{span(lead, netview.TagNone), span(line, netview.TagVethPod), span(" veth: ", netview.TagMuted), span(m.Cable.PodEnd, netview.TagVethPod), span(" ↔ ", netview.TagMuted), span(m.Cable.HostEnd, netview.TagVethHost)},
		{span(lead, netview.TagNone), span(line, netview.TagVethHost), span(" "+mark, netview.TagMuted)},
	}}
	for i, l := range cable.lines {
		if width(l) > w {
			cable.lines[i] = wrap(l, w)[0]
		}
		cable.w = max(cable.w, width(cable.lines[i]))
	}
	return vcat(m.Pod.draw(podW, pj), cable, m.Node.draw(nodeW, nj))
}

// drawCompact is the stacked layout in fewer rows: the cable on one row,
// the other nodes beside the pod when they fit there, else under the
// node as in Draw.
func (m Map) drawCompact(w int) []netview.Line {
	w = max(w, minBox)
	podW, nodeW := min(m.Pod.natural(), w), min(m.Node.natural(), w)
	pj, nj := noJoints(), noJoints()
	pj.bottom, nj.top = cableIn, cableIn
	pj.vHeavy, nj.vHeavy = m.Cable.Agree, m.Cable.Agree
	top := m.Pod.draw(podW, pj)
	col, beside := m.column(w - podW - gap)
	if beside {
		top = hcat(top, blank(gap, 0), col)
	}
	line, mark := "┃", "both ends agree"
	if !m.Cable.Agree {
		line, mark = "╎", "the ends disagree"
	}
	cable := []netview.Span{span(strings.Repeat(" ", cableIn+2), netview.TagNone), span(line, netview.TagVethPod),
		span(" veth: ", netview.TagMuted), span(m.Cable.PodEnd, netview.TagVethPod), span(" ↔ ", netview.TagMuted),
		span(m.Cable.HostEnd, netview.TagVethHost), span(" · "+mark, netview.TagMuted)}
	if width(cable) > w {
		cable = wrap(cable, w)[0]
	}
	out := vcat(top, block{w: width(cable), lines: [][]netview.Span{cable}}, m.Node.draw(nodeW, nj))
	if !beside {
		out = vcat(out, m.below(w, cableIn))
	}
	return m.finish(out, w)
}

// column is the other nodes stacked under a line that says how they are
// reached, if they fit in room columns.
func (m Map) column(room int) (block, bool) {
	if len(m.Remotes) == 0 {
		return block{}, false
	}
	remW := 0
	for _, r := range m.Remotes {
		remW = max(remW, r.natural())
	}
	head := []netview.Span{span(m.Link+": the other nodes", netview.TagMuted)}
	if width(head) > room {
		head = []netview.Span{span(m.Link+":", netview.TagMuted)}
	}
	more := m.moreRemotes()
	if remW > room || width(head) > room || width(more) > room {
		return block{}, false
	}
	col := block{w: width(head), lines: [][]netview.Span{head}}
	for _, r := range m.Remotes {
		col = vcat(col, r.draw(remW, noJoints()))
	}
	if more != nil {
		col = vcat(col, block{w: width(more), lines: [][]netview.Span{more}})
	}
	return col, true
}

// notes label the dashed pieces, under the map.
func (m Map) notes(w int) block {
	var out block
	for _, n := range m.Notes {
		for _, r := range wrap([]netview.Span{span("┄ "+n, netview.TagMuted)}, w) {
			out = vcat(out, block{w: width(r), lines: [][]netview.Span{r}})
		}
	}
	return out
}
