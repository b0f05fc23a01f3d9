package ui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"podlab/netview"
)

// layout sizes the children for the terminal and the open parts.
// onePane says the step of a pack beyond the pod shows one pane only: it
// takes the whole width (a node's NAT rules need it), as on a narrow
// terminal. The first lesson keeps its two panes side by side.
func (m *Model) onePane() bool {
	st, ok := m.step()
	return ok && st.LeftPane() != "pod" && (len(st.PodViews) == 0 || len(st.HostViews) == 0)
}

func (m *Model) layout() {
	w, h := m.sh.width, m.sh.height
	if w < MinWidth || h < MinHeight {
		return
	}
	m.lay.narrow = w < wideWidth || h < wideHeight || m.onePane()
	m.help.SetWidth(w)
	footer := explainRows + 1 /* legend */ + 1 /* status */ + m.helpRows()
	switch {
	case m.mode == modeLookup:
		footer++
	case m.look.res != nil:
		footer += len(m.lookupRows())
	}
	footer += len(m.checkRows())
	body := h - 1 - footer - m.bannerRows()
	m.lay.mapAt = mapOff
	// The presenter view gives the lesson more room, and on a wide
	// terminal a third of its width to the notes.
	lw, share := w, 2
	if m.opts.Present {
		share = 3
	}
	if m.notesBeside() {
		lw = w - notesWidth(w) - 1
	}
	if m.lay.narrow {
		lh := m.lessonHeight(lw, 3, max(body*share/(share+3), 3), false)
		ph := max(body-lh-1, 1)
		m.pod.setSize(w, ph)
		m.host.setSize(w, ph)
		if m.mapv.open {
			// The whole lab on one screen: the lesson folds to its first
			// row, and the map, drawn to fit, takes the tab bar's row and
			// the explanation's (of a line in a pane not shown).
			m.lay.mapAt = mapFull
			m.lesson.setSize(lw, 1)
			m.mapv.setSize(w, body-1+explainRows, true)
		}
		m.setFocus(m.focus)
		return
	}
	lh := m.lessonHeight(lw, 6, max(body*share/(share+2), 6), true)
	ph := max(body-lh-1, 1)
	if m.mapv.open {
		m.lay.mapAt = mapFull
		if mh := m.mapv.rowsAt(w); ph-mh >= minPaneRows {
			m.lay.mapAt = mapBelow
			ph -= mh
			m.mapv.setSize(w, mh, false)
		} else {
			m.mapv.setSize(w, ph, false)
		}
	}
	pw := (w - 1) / 2
	m.pod.setSize(pw, ph)
	m.host.setSize(w-1-pw, ph)
	m.setFocus(m.focus)
}

// mapFolds: the map is open on a small terminal, the lesson folded to
// one row and no line explained, so that the whole lab shows at once.
func (m Model) mapFolds() bool { return m.lay.narrow && m.lay.mapAt == mapFull }

// lessonHeight sizes the lesson to its text, between lo and hi rows, so
// the panes get what the lesson does not need. With hintRow, a text
// longer than that gives its last row to the hint that it goes on,
// rather than have the hint cover a line of it.
func (m *Model) lessonHeight(w, lo, hi int, hintRow bool) int {
	m.lesson.hintRow = false
	m.lesson.setSize(w, hi)
	h := min(max(m.lesson.rows, lo), hi)
	m.lesson.hintRow = hintRow && m.lesson.rows > h && h > 1
	m.lesson.setSize(w, h)
	return h
}

func (m Model) helpRows() int {
	if !m.help.ShowAll {
		return 1
	}
	return strings.Count(m.helpView(), "\n") + 1
}

// helpView is the help bar: the lookup prompt's own keys while it is open.
func (m Model) helpView() string {
	if m.mode == modeLookup {
		return m.help.View(promptKeys{m.sh.keys})
	}
	return m.help.View(m.sh.keys)
}

// View draws the program.
func (m Model) View() tea.View {
	v := tea.NewView(m.content())
	v.AltScreen = true
	v.WindowTitle = "podlab"
	return v
}

func (m Model) content() string {
	w, h := m.sh.width, m.sh.height
	t := m.sh.theme
	if w == 0 || h == 0 {
		return ""
	}
	if w < MinWidth || h < MinHeight {
		return t.StatusErr.Render(tooSmall(w, h))
	}
	if m.course.err != nil || len(m.course.steps) == 0 {
		return t.StatusErr.Render(ansi.Wrap(fmt.Sprintf("podlab: the lesson could not be loaded: %v (press q to quit)", m.course.err), w, ""))
	}
	if m.mode == modeRoster && m.opts.Presenter != nil {
		return m.rosterScreen(w, h)
	}
	return m.lessonScreen(w, h)
}

// rosterScreen is the presenter's roster in place of the lesson.
func (m Model) rosterScreen(w, h int) string {
	rows := []string{m.header()}
	rows = append(rows, m.rosterRows(w, h-3-m.helpRows())...)
	rows = append(rows, m.statusLine(), m.help.View(m.sh.keys))
	for i := range rows {
		rows[i] = ansi.Truncate(rows[i], w, "")
	}
	return strings.Join(rows[:min(len(rows), h)], "\n")
}

// lessonScreen is the lesson, its panes and the map, and the lines
// under them.
func (m Model) lessonScreen(w, h int) string {
	t := m.sh.theme
	rows := []string{m.header()}
	rows = append(rows, m.banner(w)...)
	lesson := strings.Split(m.lesson.View(), "\n")
	if m.lesson.hintRow {
		lesson = append(lesson, t.Muted.Render(" "+m.moreHint(false)))
	}
	rows = append(rows, m.withNotes(lesson, w)...)
	rows = append(rows, m.checkRows()...)
	switch {
	case m.lay.mapAt == mapFull:
		rows = append(rows, strings.Split(m.mapv.View(), "\n")...)
	case m.lay.narrow:
		rows = append(rows, m.tabBar())
		rows = append(rows, strings.Split(m.shown().body(), "\n")...)
	default:
		left := strings.Split(m.pod.View(), "\n")
		right := strings.Split(m.host.View(), "\n")
		for i := 0; i < max(len(left), len(right)); i++ {
			var l, r string
			if i < len(left) {
				l = left[i]
			}
			if i < len(right) {
				r = right[i]
			}
			rows = append(rows, padRight(l, m.pod.width)+" "+r)
		}
		if m.lay.mapAt == mapBelow {
			rows = append(rows, strings.Split(m.mapv.View(), "\n")...)
		}
	}
	if !m.mapFolds() {
		rows = append(rows, m.explainLines(explainRows)...)
	}
	rows = append(rows, m.legend())
	if m.mode == modeLookup {
		rows = append(rows, m.prompt.View())
	} else if m.look.res != nil {
		rows = append(rows, m.lookupRows()...)
	}
	rows = append(rows, m.statusLine())
	if m.help.ShowAll {
		rows = append(rows, strings.Split(m.helpView(), "\n")...)
	} else {
		rows = append(rows, m.helpView())
	}
	for i := range rows {
		rows[i] = ansi.Truncate(rows[i], w, "")
	}
	if len(rows) > h {
		rows = rows[:h]
	}
	return strings.Join(rows, "\n")
}

// header names the section and the step and shows the progress; when
// the line is short, podlab's name goes first, then the step's title is
// cut, and the section's title only when nothing else is left: a student
// must always see which section they are in. The numbers are never cut.
func (m Model) header() string {
	t := m.sh.theme
	st, _ := m.step()
	secTitle := ""
	nInSec := 0
	for _, s := range m.course.sections {
		if s.Number == st.Section {
			secTitle, nInSec = s.Title, len(s.Steps)
		}
	}
	total := len(m.course.steps)
	done := m.cur + 1
	of := ""
	if m.selfPaced() {
		done, of = m.doneCount(), " done"
	}
	const barW = 12
	fill := barW * done / max(total, 1)
	bar := t.Progress.Render(strings.Repeat("█", fill)) + t.ProgressEmpty.Render(strings.Repeat("░", barW-fill))
	if t.NoColor {
		bar = "[" + strings.Repeat("#", fill) + strings.Repeat(".", barW-fill) + "]"
	}
	right := fmt.Sprintf("%s %d/%d%s ", bar, done, total, of)
	room := m.sh.width - ansi.StringWidth(right) - 1
	brand := " podlab  "
	sec := fmt.Sprintf("%d/%d ", st.Section, len(m.course.sections))
	step := fmt.Sprintf("  ·  step %d/%d ", st.Index, nInSec)
	if m.self.prog.Done(st.ID()) {
		step += "✓ "
	}
	stepTitle := st.Title
	over := func() int { return ansi.StringWidth(brand+sec+secTitle+step+stepTitle) - room }
	if over() > 0 {
		brand = " "
	}
	if o := over(); o > 0 {
		// Fewer than minTitle cells of a title tell nothing: drop it.
		const minTitle = 8
		if keep := ansi.StringWidth(stepTitle) - o; keep >= minTitle {
			stepTitle = ansi.Truncate(stepTitle, keep, "…")
		} else {
			stepTitle = ""
			step = strings.TrimRight(step, " ")
		}
	}
	if o := over(); o > 0 {
		secTitle = ansi.Truncate(secTitle, max(ansi.StringWidth(secTitle)-o, 1), "…")
	}
	left := t.Header.Render(brand+sec+secTitle) + t.HeaderDim.Render(step+stepTitle)
	left = ansi.Truncate(left, room, "…")
	gap := m.sh.width - ansi.StringWidth(left) - ansi.StringWidth(right)
	return left + strings.Repeat(" ", max(gap, 1)) + right
}

func (m Model) tabBar() string {
	t := m.sh.theme
	tab := func(name string, side netview.Side) string {
		label := " " + name + " "
		switch {
		case m.lay.tab != side:
			return t.Tab.Render(label)
		case m.focus != focusLesson:
			return t.TabActive.Render(label)
		}
		return t.Title.Render(label)
	}
	left := "pod"
	if st, ok := m.step(); ok {
		left = st.LeftPane()
	}
	bar := tab(left, netview.SidePod) + t.Tab.Render("│") + tab("host", netview.SideHost) + "  " + t.Command.Render(m.shown().command())
	if m.lesson.more() {
		more := t.Muted.Render(" " + m.moreHint(true))
		room := m.sh.width - ansi.StringWidth(more)
		bar = padRight(ansi.Truncate(bar, room, "…"), room) + more // more starts with a space
	}
	return bar
}

// moreHint says, when the lesson's text goes on below its pane, which
// keys scroll it from where the focus is now: short on the narrow
// layout's tab bar, whole on the wide layout's own row, which also says
// how to go back at the end of a text that was scrolled.
func (m Model) moreHint(short bool) string {
	reach := ""
	switch m.focus {
	case focusPod:
		reach = "shift+tab"
	case focusHost:
		reach = "tab"
	}
	switch {
	case short && reach != "":
		return "▲ more: " + reach + " ↓"
	case short:
		return "▲ more text: ↓"
	case !m.lesson.more() && m.lesson.vp.YOffset() > 0:
		return "▲ end of the step's text: ↑ scrolls back"
	case !m.lesson.more():
		return ""
	case reach != "":
		return "▼ the text goes on: " + reach + " to the lesson, then ↓"
	}
	return "▼ the text goes on: ↓ scrolls it"
}

// statusLine says which lab, pod and node, when it was refreshed, what
// changed and any error; what does not fit is dropped least useful first,
// and an error is never dropped.
func (m Model) statusLine() string {
	t := m.sh.theme
	type part struct {
		text string
		st   lipgloss.Style
		prio int // lower is dropped last
	}
	var parts []part
	if src := m.opts.Source; src != nil {
		parts = append(parts, part{src.Kind(), t.Status, 0}, part{netview.Clean(src.Describe()), t.Status, 5})
	} else {
		parts = append(parts, part{"no lab", t.Status, 0})
	}
	if m.col.err != nil {
		// A lab's error may quote what a node or pod printed.
		e := "error: " + netview.Clean(m.col.err.Error())
		if m.lab() != nil {
			e += " (showing " + m.col.lastAt.Format("15:04:05") + ")"
		}
		parts = append(parts, part{e, t.StatusErr, 0})
	}
	if note, bad := m.selfPacedNote(); bad {
		parts = append(parts, part{note, t.StatusErr, 0})
	} else if note != "" {
		parts = append(parts, part{note, t.StatusChange, 0})
	}
	if note, bad := m.classStatus(); bad {
		parts = append(parts, part{note, t.StatusErr, 0})
	} else if note != "" {
		parts = append(parts, part{note, t.StatusChange, 0})
	}
	if ch := m.changed(); ch != "" {
		parts = append(parts, part{"changed: " + ch, t.StatusChange, 1})
	}
	if m.lab() != nil && m.lab().Cut {
		parts = append(parts, part{"names ending in " + netview.CutMark + " were cut, too long", t.StatusErr, 1})
	}
	if m.lab() != nil {
		v := m.vars()
		who := v.PodName
		if v.PodNamespace != "" {
			who = v.PodNamespace + "/" + who
		}
		parts = append(parts, part{"pod " + who + " on " + v.Node, t.Status, 3})
		parts = append(parts, part{"refreshed " + m.col.lastAt.Format("15:04:05"), t.Status, 2})
	} else if m.col.inFlight {
		parts = append(parts, part{"collecting…", t.Status, 2})
	}
	fits := func(ps []part) bool {
		w := 1
		for _, p := range ps {
			w += ansi.StringWidth(p.text) + 3
		}
		return w-3 <= m.sh.width
	}
	for prio := 5; prio > 0 && !fits(parts); prio-- {
		kept := parts[:0:0]
		for _, p := range parts {
			if p.prio != prio {
				kept = append(kept, p)
			}
		}
		parts = kept
	}
	var b strings.Builder
	b.WriteString(" ")
	for i, p := range parts {
		if i > 0 {
			b.WriteString(t.Status.Render(" · "))
		}
		b.WriteString(p.st.Render(p.text))
	}
	return b.String()
}

// tooSmall is what a terminal below the minimum shows: one message,
// wrapped to its width and cut to its height, so that nothing spills or
// scrolls however small it gets.
func tooSmall(w, h int) string {
	lines := strings.Split(ansi.Wrap(tooSmallMsg(w, h), w, ""), "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	return strings.Join(lines, "\n")
}

func tooSmallMsg(w, h int) string {
	return fmt.Sprintf("terminal too small: need at least %dx%d (this is %dx%d; q quits)", MinWidth, MinHeight, w, h)
}
