package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// key routes a key press: the mode says who takes it.
func (m Model) key(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	keys := m.sh.keys
	switch {
	case m.mode.prompting() && !m.navInPrompt(k):
		return m.promptKey(k)
	case m.mode.prompting():
		// A navigation key leaves the prompt.
		m.closePrompt()
		m.layout()
	case m.mode == modeRoster:
		if nm, cmd, ok := m.rosterKey(k); ok {
			return nm, cmd
		}
	}
	if nm, cmd, ok := m.keyClass(k); ok {
		return nm, cmd
	}
	if key.Matches(k, keys.Next, keys.Prev, keys.Section) {
		m.stepAway() // a follower who moves browses on their own
	}
	switch {
	case key.Matches(k, keys.Quit):
		return m.quit()
	case key.Matches(k, keys.Answer):
		if st, _, _ := m.asks(); st.Asks() {
			return m, m.openAnswer()
		}
	case key.Matches(k, keys.Help):
		m.help.ShowAll = !m.help.ShowAll
		m.layout()
	case key.Matches(k, keys.Cancel):
		m.help.ShowAll = false
		if m.look.res != nil {
			m.look.res, m.look.hostRoutes = nil, false
			m.rebuild(true)
		}
		m.self.check = nil
		m.layout()
	case key.Matches(k, keys.Next):
		return m.goStep(m.cur + 1)
	case key.Matches(k, keys.Prev):
		return m.goStep(m.cur - 1)
	case key.Matches(k, keys.Section):
		n := int(k.Code - '0')
		for i, s := range m.course.steps {
			if s.Section == n {
				return m.goStep(i)
			}
		}
	case key.Matches(k, keys.Focus):
		m.setFocus((m.focus + 1) % 3)
	case key.Matches(k, keys.FocusBack):
		m.setFocus((m.focus + 2) % 3)
	case key.Matches(k, keys.Refresh):
		var cmd tea.Cmd
		m.col, cmd = m.col.resync()
		return m, cmd
	case key.Matches(k, keys.Lookup):
		return m, m.openPrompt()
	case key.Matches(k, keys.Map):
		m.mapv.open = !m.mapv.open
		if m.mapv.open {
			m.mapv.settle = true // open on what the step is about
			m.rebuild(true)
		}
		m.layout()
	case key.Matches(k, keys.Up, keys.Down, keys.PageUp, keys.PageDown):
		var cmd tea.Cmd
		switch {
		case m.focus == focusLesson:
			m.lesson, cmd = m.lesson.Update(k)
		case m.lay.mapAt == mapFull:
			m.mapv, cmd = m.mapv.Update(k)
		case m.focus == focusPod:
			m.pod, cmd = m.pod.Update(k)
		case m.focus == focusHost:
			m.host, cmd = m.host.Update(k)
		}
		return m, cmd
	}
	return m, nil
}

// navInPrompt says whether a key pressed at the lookup prompt leaves it
// to navigate: tab and shift+tab, and ←/→ while the box is empty. Every
// printable key is the box's: a student who types "hello" there must
// not move the lesson. An answer's prompt keeps even those: only esc
// leaves it.
func (m Model) navInPrompt(k tea.KeyPressMsg) bool {
	keys := m.sh.keys
	switch {
	case m.mode == modeAnswer:
		return false
	case key.Matches(k, keys.Focus, keys.FocusBack):
		return true
	case key.Matches(k, promptStep):
		return m.prompt.Value() == ""
	}
	return false
}

// promptKey is a key the open prompt takes: typed into it, or one that
// submits or closes it.
func (m Model) promptKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	keys := m.sh.keys
	switch {
	case key.Matches(k, keys.Interrupt):
		return m.quit()
	case key.Matches(k, keys.Cancel):
		m.closePrompt()
		m.layout()
		return m, nil
	case key.Matches(k, keys.Submit) && m.mode == modeAnswer:
		return m.submitAnswer()
	case key.Matches(k, keys.Submit):
		return m.runLookup()
	}
	var cmd tea.Cmd
	m.prompt, cmd = m.prompt.Update(k)
	return m, cmd
}

// closePrompt gives the keys back to the lesson, if the prompt had them.
func (m *Model) closePrompt() {
	if m.mode.prompting() {
		m.mode = modeLesson
	}
	m.prompt.Blur()
}

func (m *Model) openPrompt() tea.Cmd {
	m.setLookupPrompt()
	m.mode = modeLookup
	m.prompt.SetValue("")
	m.layout()
	return m.prompt.Focus()
}
