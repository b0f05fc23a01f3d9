package ui

import (
	"slices"

	tea "charm.land/bubbletea/v2"

	"podlab/content"
	"podlab/netview"
)

// goStep goes to step i (an index into course.steps), noting a question
// left unanswered behind.
func (m Model) goStep(i int) (tea.Model, tea.Cmd) {
	if i < 0 || i >= len(m.course.steps) || i == m.cur {
		return m, nil
	}
	m.self.note = ""
	if i > m.cur && m.unanswered() {
		m.self.note = m.course.steps[m.cur].ID() + "'s question is not answered yet: come back to it to finish the lesson"
	}
	m.cur = i
	m.enterStep()
	if m.mode.prompting() {
		return m, m.prompt.Focus()
	}
	return m, nil
}

// enterStep sets up a step freshly: panes, cursor, lookup state.
func (m *Model) enterStep() {
	m.look.res, m.look.hostRoutes = nil, false
	m.self.check = nil
	m.closePrompt()
	m.setLookupPrompt()
	if st, ok := m.step(); ok {
		m.lay.tab = mainSide(st)
		if st.Extra == "lookup" && m.mode != modeRoster {
			m.mode = modeLookup
			m.prompt.SetValue("")
		}
	}
	m.visit()
	if m.focus != focusLesson {
		m.focus = focusPod
		if m.lay.tab == netview.SideHost {
			m.focus = focusHost
		}
	}
	m.rebuild(false)
	m.layout()
}

// mainSide is the pane a step is mostly about: the left one when the
// student types where it reads (in the pod, or on host1 for host1's and
// the cluster's views), or when the right one shows nothing.
func mainSide(st content.Step) netview.Side {
	where := st.LeftPane()
	if where == "cluster" {
		where = "host1"
	}
	if len(st.HostViews) > 0 && (len(st.PodViews) == 0 || st.Where != where) {
		return netview.SideHost
	}
	return netview.SidePod
}

// shown is the pane of the current tab: the one the narrow layout shows,
// and the one the explanation speaks of. setFocus keeps the tab on the
// focused pane.
func (m Model) shown() netPane {
	if m.lay.tab == netview.SideHost {
		return m.host
	}
	return m.pod
}

func (m *Model) setFocus(f focusArea) {
	m.focus = f
	switch f {
	case focusPod:
		m.lay.tab = netview.SidePod
	case focusHost:
		m.lay.tab = netview.SideHost
	}
	m.pod.setFocus(f == focusPod)
	m.host.setFocus(f == focusHost)
	m.mapv.focused = f != focusLesson && m.lay.mapAt == mapFull
	m.lesson.focused = f == focusLesson
}

func (m Model) step() (content.Step, bool) {
	if m.cur < 0 || m.cur >= len(m.course.steps) {
		return content.Step{}, false
	}
	return m.course.steps[m.cur], true
}

// rebuild renders the step's lesson text and views from the current pair;
// keep holds the panes' cursors (a refresh) instead of resetting them.
func (m *Model) rebuild(keep bool) {
	st, ok := m.step()
	if !ok {
		return
	}
	vars := m.vars()
	var doc lessonDoc
	for _, c := range st.RenderCommands(vars) {
		doc.commands = append(doc.commands, typedCommand{where: whereName(c.Where, vars), text: c.Text})
	}
	if m.unanswered() {
		doc.markdown = st.RenderAsking(vars)
	} else {
		doc.markdown = st.Render(vars)
	}
	m.lesson.setDoc(doc, !keep)

	hi := map[netview.Tag]bool{}
	var order []netview.Tag
	for _, h := range st.Highlight {
		hi[netview.Tag(h)] = true
		order = append(order, netview.Tag(h))
	}
	hostViews := toViews(st.HostViews)
	if m.look.hostRoutes && !slices.Contains(hostViews, netview.ViewRoute) {
		hostViews = append([]netview.View{netview.ViewRoute}, hostViews...)
	}
	podWho, node := m.paneTitles()
	left, empty := netview.Place(st.LeftPane()), "This step shows nothing inside the pod."
	if left != netview.PlacePod {
		podWho, empty = string(left), "This step shows nothing on "+string(left)+"."
	}
	// Every pane and the map are handed the same refresh.
	lab := m.lab()
	m.pod.setData(paneInput{who: podWho, place: left, views: toViews(st.PodViews), lab: lab,
		hi: hi, order: order, keepCursor: keep, empty: empty})
	m.host.setData(paneInput{who: node, place: netview.PlaceHost, views: hostViews, lab: lab,
		hi: hi, order: order, keepCursor: keep, empty: "This step shows nothing on the node."})
	if st.Extra == "delete" && !keep && vars.DeleteIP.IsValid() {
		// Start on the /32 of the pod the step's command deletes, not on
		// the first pod's.
		m.host.selectWhere(func(l netview.Line) bool { return routeLineMatches(l, vars.DeleteIP.String()) })
	}
	if m.mapv.open { // a hidden map is not drawn: at 20,000 routes that costs
		m.mapv.setData(lab, hi, order, keep)
	}
	if m.mapv.open {
		m.layout() // the map's height decides the panes'
	}
	m.setFocus(m.focus)
}

func toViews(s []string) []netview.View {
	out := make([]netview.View, 0, len(s))
	for _, v := range s {
		out = append(out, netview.View(v))
	}
	return out
}

// goneAddr is, on a step that invites deleting a pod, the address of a
// local pod whose /32 the last refresh no longer has and that is not
// already looked up; "" otherwise.
func (m Model) goneAddr() string {
	st, ok := m.step()
	if !ok || st.Extra != "delete" || m.mode.prompting() || m.lab() == nil || len(m.lab().Gone) == 0 {
		return ""
	}
	if gone := m.lab().Gone[0]; m.look.res == nil || m.look.res.input != gone {
		return gone
	}
	return ""
}
