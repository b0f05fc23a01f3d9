package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"podlab/content"
)

// Presenter is the class server of the presenter's podlab (--serve): it
// is told each step shown (Show must not block), and says who follows
// and where they are.
type Presenter interface {
	Show(section, step int)
	Following() int
	RosterEach(fn func(name string, section, step int, answered []string, since, seen time.Time))
	// Refused calls fn for each reason clients were refused of late,
	// with how many.
	Refused(fn func(reason string, n int))
	// At is the class's step: a resumed class starts there.
	At() (section, step int)
	// FollowURL is what students give --follow.
	FollowURL() string
}

// Leader is the presenter a student follows (--follow). update gets each
// step the presenter shows (section > 0) and each change of the link in
// words (section 0); live says the link is up.
type Leader interface {
	Follow(ctx context.Context, update func(section, step int, status string, live bool))
}

// Reporter takes the student's step and answered questions for the
// presenter's roster; it must not block.
type Reporter interface {
	Report(section, step int, answered []string)
}

// classTick refreshes the follower count and the roster.
const classTick = time.Second

// stuckAfter is how long a student sits at an unanswered question before
// the roster calls them stuck.
const stuckAfter = 3 * time.Minute

type leadMsg struct {
	section, step int
	status        string
	live          bool
}

type classTickMsg struct{}

// follow is a follower's state.
type follow struct {
	ch            chan leadMsg
	section, step int // the presenter's step, 0 before the first
	status        string
	live          bool
	away          bool // browsing on one's own
}

func classTickCmd() tea.Cmd {
	return tea.Tick(classTick, func(time.Time) tea.Msg { return classTickMsg{} })
}

// startFollowCmd starts following; the updates feed ch, read by
// nextLeadCmd.
func startFollowCmd(ctx context.Context, l Leader, ch chan leadMsg) tea.Cmd {
	return func() tea.Msg {
		go l.Follow(ctx, func(section, step int, status string, live bool) {
			select {
			case ch <- leadMsg{section, step, status, live}:
			case <-ctx.Done():
			}
		})
		return nil
	}
}

func nextLeadCmd(ch chan leadMsg) tea.Cmd {
	return func() tea.Msg { return <-ch }
}

// classCmds are what Init starts for a class.
func (m Model) classCmds() []tea.Cmd {
	var cmds []tea.Cmd
	if m.fol != nil {
		cmds = append(cmds, startFollowCmd(m.ctx, m.opts.Leader, m.fol.ch), nextLeadCmd(m.fol.ch))
	}
	if m.opts.Presenter != nil {
		cmds = append(cmds, classTickCmd())
	}
	return cmds
}

// led applies an update from the presenter.
func (m Model) led(msg leadMsg) (tea.Model, tea.Cmd) {
	f := *m.fol
	f.status, f.live = msg.status, msg.live
	if msg.section > 0 {
		f.section, f.step = msg.section, msg.step
	}
	m.fol = &f
	next := nextLeadCmd(f.ch)
	if msg.section == 0 || f.away {
		return m, next
	}
	i := m.stepIndex(f.section, f.step)
	if i < 0 {
		return m, next
	}
	nm, cmd := m.goStep(i)
	return nm, tea.Batch(cmd, next)
}

func (m Model) stepIndex(section, step int) int {
	return slices.IndexFunc(m.steps, func(s content.Step) bool { return s.Section == section && s.Index == step })
}

// resumeClass starts a presenter at the class's step, which a restarted
// presenter kept; --section says otherwise.
func (m *Model) resumeClass() {
	if m.opts.Presenter == nil || m.opts.Section > 1 {
		return
	}
	if i := m.stepIndex(m.opts.Presenter.At()); i >= 0 {
		m.cur = i
	}
}

// refused says who the class server refused of late, by reason:
// "2 refused: wrong token".
func (m Model) refused() string {
	var parts []string
	m.opts.Presenter.Refused(func(reason string, n int) {
		parts = append(parts, fmt.Sprintf("%d refused: %s", n, reason))
	})
	return strings.Join(parts, ", ")
}

// rejoin goes back to following, at the presenter's step.
func (m Model) rejoin() (tea.Model, tea.Cmd) {
	f := *m.fol
	f.away = false
	m.fol = &f
	if i := m.stepIndex(f.section, f.step); i >= 0 {
		return m.goStep(i)
	}
	return m, nil
}

// stepAway leaves the presenter to browse; f rejoins.
func (m *Model) stepAway() {
	if m.fol != nil && !m.fol.away {
		f := *m.fol
		f.away = true
		m.fol = &f
	}
}

// tellClass tells the class server the step shown, or the reporter the
// student's step and answers. Both only note the latest in memory and
// never block, so they are called in order here rather than from
// commands, which could run out of order.
func (m Model) tellClass() {
	st, ok := m.step()
	if !ok {
		return
	}
	if p := m.opts.Presenter; p != nil {
		p.Show(st.Section, st.Index)
	}
	if r := m.opts.Reporter; r != nil {
		var answered []string
		for _, s := range m.steps {
			if s.CheckKind != "" && m.prog.Done(s.ID()) {
				answered = append(answered, s.ID())
			}
		}
		r.Report(st.Section, st.Index, answered)
	}
}

// classStatus is the class's part of the status line, and whether it is
// bad news.
func (m Model) classStatus() (string, bool) {
	switch {
	case m.opts.Presenter != nil:
		n := m.opts.Presenter.Following()
		s := fmt.Sprintf("%d following", n)
		if r := m.refused(); r != "" {
			return s + ", " + r + " (w: roster)", true
		}
		if n == 0 {
			return "0 following (w: roster and the follow URL)", false
		}
		return s, false
	case m.fol == nil:
		return "", false
	case !m.fol.live:
		if m.fol.status == "" {
			return "connecting to the presenter…", false
		}
		return m.fol.status, true
	case m.fol.away:
		return fmt.Sprintf("on your own (presenter at %d.%d; f rejoins)", m.fol.section, m.fol.step), false
	}
	return m.fol.status + " (f: on your own)", false
}

// rosterRows draws the roster: each student with their step, how many
// questions they answered, and whether they seem stuck; the stuck first,
// then in step order, then by name.
func (m Model) rosterRows(w, h int) []string {
	t := m.sh.theme
	type row struct {
		name          string
		section, step int
		answered      int
		stuck         string
		seen          time.Time
	}
	var rows []row
	now := m.now()
	m.opts.Presenter.RosterEach(func(name string, section, step int, answered []string, since, seen time.Time) {
		r := row{name: name, section: section, step: step, answered: len(answered), seen: seen}
		if i := m.stepIndex(section, step); i >= 0 {
			if st := m.steps[i]; st.CheckKind != "" && !slices.Contains(answered, st.ID()) && now.Sub(since) >= stuckAfter {
				r.stuck = fmt.Sprintf("stuck on %s's question for %dm", st.ID(), int(now.Sub(since).Minutes()))
			}
		}
		rows = append(rows, r)
	})
	// The stuck first, then in step order; by name within (RosterEach's).
	slices.SortStableFunc(rows, func(a, b row) int {
		if (a.stuck == "") != (b.stuck == "") {
			if a.stuck != "" {
				return -1
			}
			return 1
		}
		if a.section != b.section {
			return a.section - b.section
		}
		return a.step - b.step
	})
	here := ""
	if st, ok := m.step(); ok {
		here = st.ID()
	}
	atHere, stuck, nameW := 0, 0, 4
	for _, r := range rows {
		nameW = max(nameW, ansi.StringWidth(r.name))
		if fmt.Sprintf("%d.%d", r.section, r.step) == here {
			atHere++
		}
		if r.stuck != "" {
			stuck++
		}
	}
	head := t.Prompt.Render(fmt.Sprintf(" roster: %d students, %d at %s with you, %d stuck", len(rows), atHere, here, stuck))
	if r := m.refused(); r != "" {
		head += t.StatusErr.Render("; " + r)
	}
	if hint := t.Muted.Render("  (w closes, ↑/↓ scroll)"); ansi.StringWidth(head+hint) <= w {
		head += hint // the counts first: the hint goes when both do not fit
	}
	out := []string{
		ansi.Truncate(head, w, "…"),
		t.Muted.Render(fmt.Sprintf(" %s  %-5s  %-8s", padRight("NAME", nameW), "STEP", "ANSWERED")),
	}
	// The follow URL is always shown, whole (wrapped, never cut: a cut
	// token is no token).
	var tail []string
	for _, l := range strings.Split(ansi.Wrap("students follow with: podlab --follow '"+m.opts.Presenter.FollowURL()+"'", max(w-2, 10), ""), "\n") {
		tail = append(tail, t.Muted.Render(" "+l))
	}
	tail = append([]string{""}, tail...)
	if len(out)+len(tail) >= h {
		tail = nil
	}
	body := h - len(out) - len(tail)
	off := min(m.rosterOff, max(len(rows)-body, 0))
	for i := off; i < len(rows) && len(out) < h-len(tail); i++ {
		r := rows[i]
		id := fmt.Sprintf("%d.%d", r.section, r.step)
		line := fmt.Sprintf(" %s  %-5s  %-8d  ", padRight(r.name, nameW), id, r.answered)
		switch {
		case r.stuck != "":
			line = t.StatusErr.Render(line + r.stuck)
		case now.Sub(r.seen) > 2*time.Minute:
			line = t.Muted.Render(line + fmt.Sprintf("not heard from for %dm", int(now.Sub(r.seen).Minutes())))
		case id == here:
			line = t.StatusChange.Render(line + "here")
		}
		out = append(out, ansi.Truncate(line, w, "…"))
	}
	if len(rows) == 0 && len(out) < h-len(tail) {
		out = append(out, t.Muted.Render(" nobody has reported yet: followers appear here as they join"))
	}
	for len(out) < h-len(tail) {
		out = append(out, "")
	}
	return append(out, tail...)
}

// keyClass handles the class's keys; ok says it took the key.
func (m Model) keyClass(k tea.KeyPressMsg) (tea.Model, tea.Cmd, bool) {
	switch {
	case key.Matches(k, m.sh.keys.Roster):
		m.showRoster = !m.showRoster
		m.rosterOff = 0
		return m, nil, true
	case m.showRoster && (k.String() == "down" || k.String() == "j"):
		m.rosterOff++
		return m, nil, true
	case m.showRoster && (k.String() == "up" || k.String() == "k"):
		m.rosterOff = max(m.rosterOff-1, 0)
		return m, nil, true
	case m.showRoster && k.String() == "esc":
		m.showRoster = false
		return m, nil, true
	case key.Matches(k, m.sh.keys.Notes):
		m.notesKey = !m.notesKey
		m.layout()
		return m, nil, true
	case key.Matches(k, m.sh.keys.Reveal):
		return m.reveal(), nil, true
	case key.Matches(k, m.sh.keys.Follow):
		if m.fol.away {
			nm, cmd := m.rejoin()
			return nm, cmd, true
		}
		m.stepAway()
		return m, nil, true
	}
	return m, nil, false
}
