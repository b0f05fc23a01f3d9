package ui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"podlab/content"
	"podlab/progress"
)

// Saver keeps a self-paced student's progress; main hands the program
// one that writes a file. Save runs in a tea.Cmd, one at a time, and is
// handed a Progress that nothing changes afterwards.
type Saver interface {
	Save(p *progress.Progress) error
}

// savedMsg is the end of one save.
type savedMsg struct{ err error }

func saveCmd(s Saver, p *progress.Progress) tea.Cmd {
	return func() tea.Msg { return savedMsg{err: s.Save(p)} }
}

// checkState is the verdict on the last answer given at this step.
type checkState struct {
	ok     bool
	hint   string
	reveal string // the answer, once the student has missed it enough
}

// selfPaced says whether the program checks steps and keeps progress.
func (m Model) selfPaced() bool { return m.self.prog != nil }

// stepIDs are every step's ID, in order.
func (m Model) stepIDs() []string {
	ids := make([]string, len(m.course.steps))
	for i, s := range m.course.steps {
		ids[i] = s.ID()
	}
	return ids
}

func (m Model) doneCount() int { return m.self.prog.Count(m.stepIDs()) }

// resume puts the program at the step the student left, or their first
// unfinished one, and says so.
func (m *Model) resume() {
	if m.self.prog.Empty() || len(m.course.steps) == 0 {
		return
	}
	at := -1
	for i, s := range m.course.steps {
		if s.ID() == m.self.prog.Last {
			at = i
		}
	}
	if at < 0 {
		at = 0
		for i, s := range m.course.steps {
			if !m.self.prog.Done(s.ID()) {
				at = i
				break
			}
		}
	}
	m.cur = at
	m.self.note = fmt.Sprintf("resumed at %s — %d/%d done", m.course.steps[at].ID(), m.doneCount(), len(m.course.steps))
}

// asks says whether the current step has a question podlab can check in
// this lab; known is false until the lab has been read.
func (m Model) asks() (st content.Step, checkable, known bool) {
	st, ok := m.step()
	if !ok || !m.selfPaced() || !st.Asks() {
		return st, false, false
	}
	if m.lab() == nil {
		return st, true, false
	}
	_, has := st.Answer(m.vars())
	return st, has, true
}

// unanswered says whether the step's question still waits for an answer.
func (m Model) unanswered() bool {
	st, checkable, _ := m.asks()
	return checkable && !m.self.prog.Done(st.ID())
}

// visit records the current step as the last one seen, done when it asks
// nothing podlab can check.
func (m *Model) visit() {
	if !m.selfPaced() {
		return
	}
	if _, ok := m.step(); !ok {
		return
	}
	st, checkable, known := m.asks()
	done := !st.Asks() || known && !checkable
	p := m.self.prog.Clone() // copy on write: an older model may be read still
	before := m.doneCount()
	if p.Visit(st.ID(), done) {
		m.setProgress(p, before)
	}
}

// setProgress takes a changed progress and has it saved.
func (m *Model) setProgress(p *progress.Progress, before int) {
	m.self.prog = p
	m.self.savePending = true
	if n := m.doneCount(); n == len(m.course.steps) && before < n {
		m.self.note = ""
	}
}

// saveIfNeeded starts a save when progress changed and none is running;
// one save at a time, so an older one never lands after a newer.
func (m *Model) saveIfNeeded() tea.Cmd {
	if !m.self.savePending || m.self.saving {
		return nil
	}
	m.self.savePending = false
	if m.opts.Saver == nil {
		return nil
	}
	m.self.saving = true
	return saveCmd(m.opts.Saver, m.self.prog)
}

func (m Model) saved(msg savedMsg) (tea.Model, tea.Cmd) {
	m.self.saving = false
	m.self.saveErr = msg.err
	if m.self.quitting && !m.self.savePending {
		return m, tea.Quit
	}
	return m, nil
}

// quit ends the program once the progress is saved.
func (m Model) quit() (tea.Model, tea.Cmd) {
	if (m.self.saving || m.self.savePending) && !m.self.quitting && m.opts.Saver != nil {
		m.self.quitting = true
		return m, nil
	}
	return m, tea.Quit
}

// openAnswer opens the prompt for the step's question.
func (m *Model) openAnswer() tea.Cmd {
	m.prompt.Prompt = "answer › "
	m.prompt.Placeholder = "what your terminal shows"
	m.mode = modeAnswer
	m.prompt.SetValue("")
	m.layout()
	return m.prompt.Focus()
}

// submitAnswer checks what the student typed.
func (m Model) submitAnswer() (tea.Model, tea.Cmd) {
	in := m.prompt.Value()
	m.closePrompt()
	st, checkable, known := m.asks()
	switch {
	case !known:
		m.self.check = &checkState{hint: "wait until the lab has been read, then answer"}
	case !checkable:
		m.self.check = &checkState{hint: "podlab cannot tell the answer from this lab; the step counts as done"}
	default:
		vars := m.vars()
		r := st.Check(vars, in)
		if strings.TrimSpace(in) == "" {
			m.self.check = &checkState{hint: r.Hint}
			break
		}
		wasDone := m.self.prog.Done(st.ID())
		p := m.self.prog.Clone()
		before := m.doneCount()
		p.Answer(st.ID(), r.OK)
		m.setProgress(p, before)
		m.self.check = &checkState{ok: r.OK, hint: r.Hint}
		if !r.OK && !wasDone && p.Answers(st.ID()) >= content.RevealAfter {
			m.self.check.reveal, _ = st.Answer(vars)
		}
		if r.OK {
			m.rebuild(true) // the text may name the answer now
		}
	}
	m.layout()
	return m, nil
}

// checkRows are the question of the step and what became of the answer,
// shown under the lesson text; none outside self-paced mode.
func (m Model) checkRows() []string {
	st, checkable, known := m.asks()
	if !st.Asks() || !m.selfPaced() {
		return nil
	}
	t := m.sh.theme
	w := m.sh.width
	q := ansi.Wrap(st.Question(m.vars()), max(w-3, 10), "")
	qs := strings.Split(q, "\n")
	if len(qs) > 2 {
		qs = qs[:2]
	}
	var rows []string
	for i, l := range qs {
		lead := "   "
		if i == 0 {
			lead = " ? "
		}
		rows = append(rows, t.Prompt.Render(lead)+t.Command.Render(l))
	}
	done := m.self.prog.Done(st.ID())
	var last string
	switch {
	case m.mode == modeAnswer:
		return append(rows, " "+m.prompt.View())
	case m.self.check != nil && m.self.check.ok:
		last = t.Good.Render("✓ correct")
		if m.self.check.hint != "" {
			last += t.Explain.Render(" — " + m.self.check.hint)
		}
	case m.self.check != nil && m.self.check.reveal != "":
		last = t.Bad.Render("✗ ") + t.Explain.Render("the answer is ") + t.Good.Render(m.self.check.reveal) + t.Explain.Render(": "+m.self.check.hint)
	case m.self.check != nil:
		last = t.Bad.Render("✗ ") + t.Explain.Render(m.self.check.hint+" (a: try again)")
	case known && !checkable:
		last = t.Muted.Render("podlab cannot tell the answer from this lab; this step counts as done")
	case done:
		last = t.Good.Render("✓ answered")
	default:
		last = t.Muted.Render("a or enter: answer · n: skip for now")
	}
	ls := strings.Split(ansi.Wrap(last, max(w-3, 10), ""), "\n")
	if len(ls) > 2 {
		ls = ls[:2]
	}
	for i, l := range ls {
		if i == 0 {
			rows = append(rows, " "+l)
		} else {
			rows = append(rows, "   "+l)
		}
	}
	return rows
}

// selfPacedNote is what the status line says about progress: a resume,
// a skipped question, the end of the lesson, or a failed save.
func (m Model) selfPacedNote() (string, bool) {
	switch {
	case !m.selfPaced():
		return "", false
	case m.self.saveErr != nil:
		return "progress not saved: " + m.self.saveErr.Error(), true
	case m.self.note != "":
		return m.self.note, false
	case m.doneCount() == len(m.course.steps) && len(m.course.steps) > 0:
		return fmt.Sprintf("✓ all %d steps done: the lesson is complete, well done", len(m.course.steps)), false
	}
	return "", false
}

// setLookupPrompt makes the prompt the route lookup's again.
func (m *Model) setLookupPrompt() {
	m.prompt.Prompt = "route lookup › "
	m.prompt.Placeholder = "an address, e.g. 198.19.22.150"
}
