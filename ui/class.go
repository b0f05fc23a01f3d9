package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
	Show(at content.StepID)
	Following() int
	RosterEach(fn func(name string, at content.StepID, answered []string, since, seen time.Time))
	// Refused calls fn for each reason clients were refused of late,
	// with how many.
	Refused(fn func(reason string, n int))
	// At is the class's step: a resumed class starts there.
	At() content.StepID
	// FollowURL is what students give --follow.
	FollowURL() string
}

// Leader is the presenter a student follows (--follow). update gets each
// step the presenter shows (section > 0) and each change of the link in
// words (section 0); live says the link is up.
type Leader interface {
	Follow(ctx context.Context, update func(at content.StepID, status string, live bool))
}

// Reporter takes the student's step and answered questions for the
// presenter's roster; it must not block.
type Reporter interface {
	Report(at content.StepID, answered []string)
}

// classTick refreshes the follower count and the roster.
const classTick = time.Second

// stuckAfter is how long a student sits at an unanswered question before
// the roster calls them stuck.
const stuckAfter = 3 * time.Minute

// leadMsg is an update from the presenter: a step (at.Section > 0) or
// a change of the link.
type leadMsg struct {
	at     content.StepID
	status string
	live   bool
}

type classTickMsg struct{}

// follow is a follower's state.
type follow struct {
	ch     chan leadMsg
	at     content.StepID // the presenter's step, zero before the first
	status string
	live   bool
	away   bool // browsing on one's own
}

func classTickCmd() tea.Cmd {
	return tea.Tick(classTick, func(time.Time) tea.Msg { return classTickMsg{} })
}

// startFollowCmd starts following; the updates feed ch, read by
// nextLeadCmd.
func startFollowCmd(ctx context.Context, l Leader, ch chan leadMsg) tea.Cmd {
	return func() tea.Msg {
		go l.Follow(ctx, func(at content.StepID, status string, live bool) {
			select {
			case ch <- leadMsg{at, status, live}:
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
	if m.class.fol != nil {
		cmds = append(cmds, startFollowCmd(m.env.ctx, m.opts.Leader, m.class.fol.ch), nextLeadCmd(m.class.fol.ch))
	}
	if m.opts.Presenter != nil {
		cmds = append(cmds, classTickCmd())
	}
	return cmds
}

// led applies an update from the presenter.
func (m Model) led(msg leadMsg) (tea.Model, tea.Cmd) {
	f := *m.class.fol
	f.status, f.live = msg.status, msg.live
	if msg.at.Section > 0 {
		f.at = msg.at
	}
	m.class.fol = &f
	next := nextLeadCmd(f.ch)
	if msg.at.Section == 0 || f.away {
		return m, next
	}
	i := m.stepIndex(f.at)
	if i < 0 {
		return m, next
	}
	nm, cmd := m.goStep(i)
	return nm, tea.Batch(cmd, next)
}

// stepIndex is the index of the step id names; -1 when the lesson has
// none such.
func (m Model) stepIndex(id content.StepID) int {
	return slices.IndexFunc(m.course.steps, func(s content.Step) bool { return s.Pos() == id })
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
	f := *m.class.fol
	f.away = false
	m.class.fol = &f
	if i := m.stepIndex(f.at); i >= 0 {
		return m.goStep(i)
	}
	return m, nil
}

// stepAway leaves the presenter to browse; f rejoins.
func (m *Model) stepAway() {
	if m.class.fol != nil && !m.class.fol.away {
		f := *m.class.fol
		f.away = true
		m.class.fol = &f
	}
}

// teller passes the step shown to the class server, or the student's
// step and answers to the reporter, from commands: they may run out of
// order, so each is numbered as it is made (on the program's goroutine,
// in order) and one older than the last passed on is dropped.
type teller struct {
	made atomic.Uint64
	mu   sync.Mutex
	last uint64
}

// tell runs fn unless a later call already ran.
func (t *teller) tell(seq uint64, fn func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if seq <= t.last {
		return
	}
	t.last = seq
	fn()
}

// tellCmd tells the class where the student is now; nil outside a class.
// Show and Report only note the latest in memory and never block.
func (m Model) tellCmd() tea.Cmd {
	st, ok := m.step()
	p, r := m.opts.Presenter, m.opts.Reporter
	if !ok || p == nil && r == nil {
		return nil
	}
	var answered []string
	if r != nil {
		for _, s := range m.course.steps {
			if s.Asks() && m.self.prog.Done(s.ID()) {
				answered = append(answered, s.ID())
			}
		}
	}
	t := m.class.teller
	seq := t.made.Add(1)
	return func() tea.Msg {
		t.tell(seq, func() {
			if p != nil {
				p.Show(st.Pos())
			}
			if r != nil {
				r.Report(st.Pos(), answered)
			}
		})
		return nil
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
	case m.class.fol == nil:
		return "", false
	case !m.class.fol.live:
		if m.class.fol.status == "" {
			return "connecting to the presenter…", false
		}
		return m.class.fol.status, true
	case m.class.fol.away:
		return fmt.Sprintf("on your own (presenter at %s; f rejoins)", m.class.fol.at), false
	}
	return m.class.fol.status + " (f: on your own)", false
}

// rosterRows draws the roster: each student with their step, how many
// questions they answered, and whether they seem stuck; the stuck first,
// then in step order, then by name.
func (m Model) rosterRows(w, h int) []string {
	t := m.sh.theme
	type row struct {
		name     string
		at       content.StepID
		answered int
		stuck    string
		seen     time.Time
	}
	var rows []row
	now := m.env.now()
	m.opts.Presenter.RosterEach(func(name string, at content.StepID, answered []string, since, seen time.Time) {
		r := row{name: name, at: at, answered: len(answered), seen: seen}
		if i := m.stepIndex(r.at); i >= 0 {
			if st := m.course.steps[i]; st.Asks() && !slices.Contains(answered, st.ID()) && now.Sub(since) >= stuckAfter {
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
		if a.at.Section != b.at.Section {
			return a.at.Section - b.at.Section
		}
		return a.at.Step - b.at.Step
	})
	here := ""
	if st, ok := m.step(); ok {
		here = st.ID()
	}
	atHere, stuck, nameW := 0, 0, 4
	for _, r := range rows {
		nameW = max(nameW, ansi.StringWidth(r.name))
		if r.at.String() == here {
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
	off := min(m.class.roster.off, max(len(rows)-body, 0))
	for i := off; i < len(rows) && len(out) < h-len(tail); i++ {
		r := rows[i]
		id := r.at.String()
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

// rosterView is the roster screen's own state: how far it is scrolled.
type rosterView struct {
	sh  *shared
	off int
}

// Update scrolls the roster; rows past its end are clamped as drawn.
func (r rosterView) Update(msg tea.Msg) (rosterView, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return r, nil
	}
	switch {
	case key.Matches(k, r.sh.keys.Down):
		r.off++
	case key.Matches(k, r.sh.keys.Up):
		r.off = max(r.off-1, 0)
	}
	return r, nil
}

// rosterKey handles the keys of the open roster; ok says it took the key.
func (m Model) rosterKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd, bool) {
	keys := m.sh.keys
	switch {
	case key.Matches(k, keys.Down, keys.Up):
		var cmd tea.Cmd
		m.class.roster, cmd = m.class.roster.Update(k)
		return m, cmd, true
	case key.Matches(k, keys.Cancel):
		m.mode = modeLesson
		return m, nil, true
	}
	return m, nil, false
}

// keyClass handles the class's keys; ok says it took the key.
func (m Model) keyClass(k tea.KeyPressMsg) (tea.Model, tea.Cmd, bool) {
	switch {
	case key.Matches(k, m.sh.keys.Roster):
		if m.mode == modeRoster {
			m.mode = modeLesson
		} else {
			m.closePrompt()
			m.mode = modeRoster
		}
		m.class.roster.off = 0
		return m, nil, true
	case key.Matches(k, m.sh.keys.Notes):
		m.pres.notesKey = !m.pres.notesKey
		m.layout()
		return m, nil, true
	case key.Matches(k, m.sh.keys.Reveal):
		return m.reveal(), nil, true
	case key.Matches(k, m.sh.keys.Follow):
		if m.class.fol.away {
			nm, cmd := m.rejoin()
			return nm, cmd, true
		}
		m.stepAway()
		return m, nil, true
	}
	return m, nil, false
}
