package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"podlab/prose"
)

// typedCommand is one command of a step, with where it is typed.
type typedCommand struct{ where, text string }

// lessonDoc is what the lesson pane shows for a step.
type lessonDoc struct {
	commands []typedCommand
	markdown string
}

// maxProse is the widest the lesson's text is wrapped: longer lines are
// hard to read.
const maxProse = 100

// unwrap joins the lines of each paragraph and list item, which the
// lesson's files wrap at 72 columns, so the text can be wrapped to the
// pane instead; code (fenced or indented by four) is left alone.
func unwrap(md string) string {
	var out []string
	fence := false
	for _, line := range strings.Split(md, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "```") {
			fence = !fence
			out = append(out, line)
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		joinable := !fence && t != "" && indent < 4 && !startsBlock(t) && len(out) > 0
		if joinable {
			prev := out[len(out)-1]
			pt := strings.TrimSpace(prev)
			pIndent := len(prev) - len(strings.TrimLeft(prev, " "))
			if pt != "" && pIndent < 4 && !strings.HasPrefix(pt, "```") && !strings.HasPrefix(pt, "#") {
				out[len(out)-1] = prev + " " + t
				continue
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// startsBlock says whether a line opens a list item, heading or quote.
func startsBlock(t string) bool {
	if strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* ") || strings.HasPrefix(t, "#") || strings.HasPrefix(t, ">") || strings.HasPrefix(t, "|") {
		return true
	}
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	return i > 0 && i+1 < len(t) && (t[i] == '.' || t[i] == ')') && t[i+1] == ' '
}

// lessonPane shows the step's commands and its text.
type lessonPane struct {
	sh      *shared
	vp      viewport.Model
	width   int
	height  int
	focused bool
	doc     lessonDoc
	rows    int // rendered rows of the current step
	// hintRow: the pane's last row is the hint that the text goes on
	// (drawn by the model, which knows the focus), not text.
	hintRow bool
}

func newLessonPane(sh *shared) lessonPane {
	vp := viewport.New()
	vp.FillHeight = true
	return lessonPane{sh: sh, vp: vp}
}

func (l *lessonPane) setSize(w, h int) {
	changed := w != l.width
	l.width, l.height = max(w, 1), max(h, 1)
	l.vp.SetWidth(l.width)
	if l.hintRow {
		l.vp.SetHeight(l.height - 1)
	} else {
		l.vp.SetHeight(l.height)
	}
	if changed {
		l.refresh(false)
	}
}

func (l *lessonPane) setDoc(d lessonDoc, top bool) {
	l.doc = d
	l.refresh(top)
}

func (l *lessonPane) refresh(top bool) {
	if l.width <= 1 {
		return
	}
	t := l.sh.theme
	var rows []string
	if len(l.doc.commands) > 0 {
		ww := 0
		for _, c := range l.doc.commands {
			ww = max(ww, ansi.StringWidth(c.where))
		}
		for _, c := range l.doc.commands {
			lead := " " + padRight(c.where, ww) + " $ "
			body := ansi.Wrap(c.text, max(l.width-len(lead), 10), "")
			for i, r := range strings.Split(body, "\n") {
				if i == 0 {
					rows = append(rows, t.Where.Render(lead)+t.Command.Render(r))
				} else {
					rows = append(rows, strings.Repeat(" ", len(lead))+t.Command.Render(r))
				}
			}
		}
	}
	md := prose.Render(unwrap(l.doc.markdown), min(max(l.width-1, 10), maxProse), t.Prose)
	if md != "" {
		rows = append(rows, strings.Split(md, "\n")...)
	}
	for i, r := range rows {
		rows[i] = ansi.Truncate(r, l.width, "")
	}
	l.rows = len(rows)
	l.vp.SetContentLines(rows)
	if top {
		l.vp.SetYOffset(0)
	}
}

// Update scrolls the lesson.
func (l lessonPane) Update(msg tea.Msg) (lessonPane, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		scroll(&l.vp, l.sh.keys, k)
	}
	return l, nil
}

// scroll moves a viewport by the arrow and page keys.
func scroll(vp *viewport.Model, keys keyMap, k tea.KeyPressMsg) {
	switch {
	case key.Matches(k, keys.Up):
		vp.ScrollUp(1)
	case key.Matches(k, keys.Down):
		vp.ScrollDown(1)
	case key.Matches(k, keys.PageUp):
		vp.PageUp()
	case key.Matches(k, keys.PageDown):
		vp.PageDown()
	}
}

// View is the lesson, exactly height rows, less the hint's row.
func (l lessonPane) View() string { return l.vp.View() }

// more says whether the lesson goes on below the pane.
func (l lessonPane) more() bool { return !l.vp.AtBottom() }
