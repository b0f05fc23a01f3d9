package ui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"podlab/netview"
)

// The presenter view (--present), for a projector: the step's title as a
// banner, the lesson text given more of the screen, and the step's
// speaker notes beside it (on a key on a small terminal), with the
// answers behind another key so the class does not see them before it
// is asked.

// bannerRows is how many rows the banners take: the notices of the
// first screen, and the presenter's title.
func (m Model) bannerRows() int {
	n := len(m.noticeRows(m.sh.width))
	if m.opts.Present {
		n += 2
	}
	return n
}

// maxNoticeRows bounds the first screen's notices, so the lesson keeps
// its room on a small terminal.
const maxNoticeRows = 8

// noticeRows are the notices wrapped to w, until the first key.
func (m Model) noticeRows(w int) []string {
	if len(m.pres.notices) == 0 || w <= 4 {
		return nil
	}
	t := m.sh.theme
	var out []string
	for _, n := range m.pres.notices {
		for i, l := range strings.Split(ansi.Wrap(netview.Clean(n), w-3, " "), "\n") {
			lead := " › "
			if i > 0 {
				lead = "   "
			}
			out = append(out, t.StatusChange.Render(lead+l))
		}
	}
	if len(out) > maxNoticeRows-1 {
		out = append(out[:maxNoticeRows-2], t.StatusChange.Render("   …"))
	}
	return append(out, t.Muted.Render("   (any key hides this)"))
}

// banner is the first screen's notices, then the presenter's step
// title, large as a terminal allows: capitals, bold, spaced, over a rule.
func (m Model) banner(w int) []string {
	out := m.noticeRows(w)
	if !m.opts.Present {
		return out
	}
	t := m.sh.theme
	st, _ := m.step()
	title := strings.ToUpper(st.Title)
	if spaced := strings.Join(strings.Split(title, ""), " "); ansi.StringWidth(spaced)+4 <= w {
		title = spaced
	}
	line := ansi.Truncate("  "+title, w, "…")
	return append(out, t.Header.Bold(true).Render(line), t.Muted.Render(strings.Repeat("━", w)))
}

// notesBeside says the notes have a column of their own; notesInPlace
// that they take the lesson's place (a small terminal, on N).
func (m Model) notesBeside() bool  { return m.opts.Present && !m.lay.narrow && !m.pres.notesKey }
func (m Model) notesInPlace() bool { return m.opts.Present && m.lay.narrow && m.pres.notesKey }

// notesWidth is the width of the notes column beside the lesson.
func notesWidth(w int) int { return w / 3 }

// notesLines are the speaker notes wrapped to w, h rows at most: each
// paragraph, the question, and the answers (the notes' and the
// question's) only on A, so a projector never shows them unasked.
func (m Model) notesLines(w, h int) []string {
	t := m.sh.theme
	st, _ := m.step()
	keys := "N hides"
	if m.lay.narrow {
		keys = "N back to the lesson"
	}
	out := []string{t.Prompt.Render(ansi.Truncate(" speaker notes ("+keys+")", w, "…"))}
	add := func(s string, style func(...string) string) {
		for _, l := range strings.Split(ansi.Wrap(s, max(w-2, 10), ""), "\n") {
			out = append(out, style(" "+l))
		}
	}
	revealed := m.answersShown()
	for _, n := range st.SpokenNotes() {
		add("• "+n, t.Explain.Render)
	}
	if revealed {
		for _, a := range st.NoteAnswers() {
			add("answer: "+a, t.StatusChange.Render)
		}
	}
	q := st.Question(m.vars())
	if q != "" {
		add("? "+q, t.Prompt.Render)
	}
	switch a, ok := st.Answer(m.vars()); {
	case !m.hasAnswers():
	case !revealed:
		add("answer hidden: A shows it", t.Muted.Render)
	case q == "":
	case ok:
		add("answer: "+a, t.StatusChange.Render)
	default:
		add("answer: not known until the lab is read", t.Muted.Render)
	}
	if len(out) > h {
		out = out[:h]
	}
	for len(out) < h {
		out = append(out, "")
	}
	return out
}

// hasAnswers says whether the step has answers for A to reveal.
func (m Model) hasAnswers() bool {
	st, ok := m.step()
	return ok && (st.Question(m.vars()) != "" || len(st.NoteAnswers()) > 0)
}

// answersShown says whether A revealed this step's answers.
func (m Model) answersShown() bool { return m.pres.answerAt == m.cur+1 }

// reveal is A: the step's answers, shown in the notes (which it opens
// when they are hidden, so A is never a silent switch), or hidden
// again; on a step with nothing to reveal it does nothing.
func (m Model) reveal() Model {
	switch {
	case !m.hasAnswers():
	case m.answersShown():
		m.pres.answerAt = 0
	default:
		m.pres.answerAt = m.cur + 1
		if !m.notesBeside() && !m.notesInPlace() {
			m.pres.notesKey = !m.pres.notesKey
			m.layout()
		}
	}
	return m
}

// withNotes puts the notes beside or in place of the lesson's rows.
func (m Model) withNotes(lesson []string, w int) []string {
	switch {
	case m.notesBeside():
		nw := notesWidth(w)
		lw := w - nw - 1
		notes := m.notesLines(nw, len(lesson))
		out := make([]string, len(lesson))
		for i := range lesson {
			out[i] = padRight(ansi.Truncate(lesson[i], lw, ""), lw) + " " + notes[i]
		}
		return out
	case m.notesInPlace():
		return m.notesLines(w, len(lesson))
	}
	return lesson
}
