package ui

import (
	"strings"

	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"podlab/content"
	"podlab/netmap"
	"podlab/netview"
)

// mapPlace is where the map is drawn, if at all.
type mapPlace int

const (
	mapOff   mapPlace = iota
	mapBelow          // under the panes, in the room they do not need
	mapFull           // in place of the panes
)

// minPaneRows is the least a pane keeps when the map shares the screen
// with it; with less, the map takes the panes' place.
const minPaneRows = 8

// mapPane draws the lab as a picture, lit by the step's highlights as the
// panes are.
type mapPane struct {
	sh *shared
	// open: the student asked for the map (m).
	open          bool
	pair          *netview.Pair
	an            *netview.Analysis
	hi            map[netview.Tag]bool
	order         []netview.Tag  // the step's highlights, main one first
	settle        bool           // scroll to what the step is about at the next draw
	lines         []netview.Line // the map at the pane's width
	width, height int            // height counts the title row
	// fit: the map has the screen to itself and is drawn to fit its
	// height (netmap's compact layout when that is shorter).
	fit     bool
	focused bool
	vp      viewport.Model
}

func newMapPane(sh *shared) mapPane {
	vp := viewport.New()
	vp.FillHeight = true
	return mapPane{sh: sh, vp: vp}
}

// setData gives the pane the last refresh (nil while the lab is being
// read) and the step's highlights; keep holds the scroll (a refresh),
// otherwise the map scrolls to the first piece the step is about.
func (p *mapPane) setData(lab *content.Lab, hi map[netview.Tag]bool, order []netview.Tag, keep bool) {
	p.pair, p.an = nil, nil
	if lab != nil {
		p.pair, p.an = lab.Pair, lab.Analysis
	}
	p.hi, p.order = hi, order
	if !keep {
		p.settle = true
	}
	p.draw()
}

// setSize gives the pane w by h cells; with fit, the map is drawn to
// fit them.
func (p *mapPane) setSize(w, h int, fit bool) {
	if w != p.width || fit != p.fit || fit && max(h, 2) != p.height {
		p.width = max(w, 1)
		p.height = max(h, 2)
		p.fit = fit
		p.draw()
	}
	p.width, p.height = max(w, 1), max(h, 2)
	p.vp.SetWidth(p.width)
	p.vp.SetHeight(p.height - 1)
	p.refresh()
}

// rowsAt is the height the map needs at width w, title row included.
func (p mapPane) rowsAt(w int) int {
	if p.pair == nil {
		return 2
	}
	if w == p.width && p.lines != nil && !p.fit {
		return len(p.lines) + 1
	}
	return len(netmap.Render(p.pair, p.an, w)) + 1
}

// stallMap, when set (only in a binary built for the tests of how
// podlab ends), makes drawing the map never end.
var stallMap func()

func (p *mapPane) draw() {
	p.lines = nil
	if p.pair != nil && p.width > 0 && stallMap != nil {
		stallMap()
	}
	if p.pair != nil && p.width > 0 {
		rows := 0
		if p.fit {
			rows = p.height - 1
		}
		p.lines = netmap.RenderIn(p.pair, p.an, p.width, rows)
	}
	p.refresh()
}

func (p *mapPane) refresh() {
	if p.sh == nil {
		return
	}
	t := p.sh.theme
	if p.pair == nil {
		p.vp.SetContentLines([]string{t.Muted.Render(" waiting for the lab…")})
		return
	}
	rows := make([]string, 0, len(p.lines))
	for _, l := range p.lines {
		var b strings.Builder
		for _, s := range l.Spans {
			b.WriteString(t.TagStyle(s.Tag, p.hi[s.Tag]).Render(s.Text))
		}
		rows = append(rows, b.String())
	}
	p.vp.SetContentLines(rows)
	if p.settle && len(p.lines) > 0 && p.vp.Height() > 0 {
		p.settle = false
		p.vp.SetYOffset(0)
		if y := p.firstLit(); y >= p.vp.Height()*2/3 {
			p.vp.SetYOffset(y - p.vp.Height()/3)
		}
	}
}

// firstLit is the first line holding the step's main highlight (or, if
// none does, any of them); -1 when there is none.
func (p mapPane) firstLit() int {
	for _, tag := range p.order {
		for i, l := range p.lines {
			if l.HasTag(tag) {
				return i
			}
		}
	}
	return -1
}

// Update scrolls a map taller than its pane.
func (p mapPane) Update(msg tea.Msg) (mapPane, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		scroll(&p.vp, p.sh.keys, k)
	}
	return p, nil
}

// View is the map under its title bar.
func (p mapPane) View() string {
	t := p.sh.theme
	st := t.Title
	if p.focused {
		st = t.TitleFocus
	}
	title := " map: the pod, its veth, its node and the other nodes' blocks (m hides it)"
	if p.vp.TotalLineCount() > p.vp.Height() {
		title += " ↑↓"
	}
	return st.Width(p.width).Render(ansi.Truncate(title, p.width, "…")) + "\n" + p.vp.View()
}
