package ui

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"podlab/netview"
)

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
	case itemRoute, itemRoute6:
		if p.scratch = p.routeView(*it).AppendText(p.scratch[:0], int(it.n)); asciiLen(p.scratch) <= textW {
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
	case itemLine, itemRoute, itemRoute6:
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
			if c, ok := netview.LineClass(line); ok {
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

// appendText appends a line's text to b.
func appendText(b []byte, l netview.Line) []byte {
	for _, s := range l.Spans {
		b = append(b, s.Text...)
	}
	return b
}
