package ui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// The presenter view (--present), for a projector: the step's title as a
// banner, the lesson text given more of the screen, and the step's
// speaker notes beside it (on a key on a small terminal), with the
// question's answer behind another key so the class does not see it
// before it is asked.

// bannerRows is how many rows the title banner takes.
func (m Model) bannerRows() int {
	if !m.opts.Present {
		return 0
	}
	return 2
}

// banner is the step's title, large as a terminal allows: capitals,
// bold, spaced, over a rule.
func (m Model) banner(w int) []string {
	t := m.sh.theme
	st, _ := m.step()
	title := strings.ToUpper(st.Title)
	if spaced := strings.Join(strings.Split(title, ""), " "); ansi.StringWidth(spaced)+4 <= w {
		title = spaced
	}
	line := ansi.Truncate("  "+title, w, "…")
	return []string{t.Header.Bold(true).Render(line), t.Muted.Render(strings.Repeat("━", w))}
}

// notesBeside says the notes have a column of their own; notesInPlace
// that they take the lesson's place (a small terminal, on N).
func (m Model) notesBeside() bool  { return m.opts.Present && !m.narrow && !m.notesKey }
func (m Model) notesInPlace() bool { return m.opts.Present && m.narrow && m.notesKey }

// notesWidth is the width of the notes column beside the lesson.
func notesWidth(w int) int { return w / 3 }

// notesLines are the speaker notes wrapped to w, h rows at most: each
// paragraph, then the question and its answer, hidden until A.
func (m Model) notesLines(w, h int) []string {
	t := m.sh.theme
	st, _ := m.step()
	keys := "N hides"
	if m.narrow {
		keys = "N back to the lesson"
	}
	out := []string{t.Prompt.Render(ansi.Truncate(" speaker notes ("+keys+")", w, "…"))}
	add := func(s string, style func(...string) string) {
		for _, l := range strings.Split(ansi.Wrap(s, max(w-2, 10), ""), "\n") {
			out = append(out, style(" "+l))
		}
	}
	for _, n := range st.Notes {
		add("• "+n, t.Explain.Render)
	}
	if q := st.Question(m.vars()); q != "" {
		add("? "+q, t.Prompt.Render)
		switch a, ok := st.Answer(m.vars()); {
		case !m.showAnswer:
			add("answer hidden: A shows it", t.Muted.Render)
		case ok:
			add("answer: "+a, t.StatusChange.Render)
		default:
			add("answer: not known until the lab is read", t.Muted.Render)
		}
	}
	if len(out) > h {
		out = out[:h]
	}
	for len(out) < h {
		out = append(out, "")
	}
	return out
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
