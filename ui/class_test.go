package ui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"podlab/content"
)

// fakeLeader hands the program the updates a test sends.
type fakeLeader struct{ ch chan leadMsg }

func (f fakeLeader) Follow(ctx context.Context, update func(at content.StepID, status string, live bool)) {
	for {
		select {
		case <-ctx.Done():
			return
		case u := <-f.ch:
			update(u.at, u.status, u.live)
		}
	}
}

// fakeReporter keeps the last report.
type fakeReporter struct {
	mu   sync.Mutex
	last string
}

func (r *fakeReporter) Report(at content.StepID, answered []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last = at.String() + " " + strings.Join(answered, ",")
}

func (r *fakeReporter) get() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

func at(id string) func(Model) bool {
	return func(m Model) bool { st, _ := m.step(); return st.ID() == id }
}

func TestFollowMode(t *testing.T) {
	lead := fakeLeader{ch: make(chan leadMsg)}
	rep := &fakeReporter{}
	h := startProgram(t, Options{Source: recordingSource(t), Leader: lead, Reporter: rep}, 120, 40)
	h.waitFor("the recording", loaded)
	send := func(u leadMsg) {
		t.Helper()
		select {
		case lead.ch <- u:
		case <-time.After(5 * time.Second):
			t.Fatal("the program does not follow")
		}
	}
	send(leadMsg{content.StepID{Section: 0, Step: 0}, "following 127.0.0.1:1", true})
	send(leadMsg{content.StepID{Section: 2, Step: 3}, "following 127.0.0.1:1", true})
	m := h.waitFor("2.3", at("2.3"))
	if !strings.Contains(screen(m), "following 127.0.0.1:1 (f: on your own)") {
		t.Errorf("the status line does not say it follows:\n%s", screen(m))
	}
	if got := rep.get(); got != "2.3 " {
		t.Errorf("reported %q, want 2.3", got)
	}

	// A move steps away: the presenter's next step does not take the student.
	h.press("n")
	h.waitFor("2.4", at("2.4"))
	send(leadMsg{content.StepID{Section: 3, Step: 1}, "following 127.0.0.1:1", true})
	m = h.waitFor("the presenter's step noted", func(m Model) bool { return m.class.fol.at.Section == 3 })
	if st, _ := m.step(); st.ID() != "2.4" || !strings.Contains(screen(m), "on your own (presenter at 3.1; f rejoins)") {
		t.Errorf("at %s:\n%s", st.ID(), screen(m))
	}
	h.press("f")
	h.waitFor("rejoined at 3.1", at("3.1"))

	// The link goes down: said, in the error style, and the step stays.
	send(leadMsg{content.StepID{Section: 0, Step: 0}, "lost the presenter; trying again in 1s", false})
	m = h.waitFor("the link down", func(m Model) bool { return !m.class.fol.live })
	if st, _ := m.step(); st.ID() != "3.1" || !strings.Contains(screen(m), "lost the presenter; trying again in 1s") {
		t.Errorf("at %s:\n%s", st.ID(), screen(m))
	}
}

// fakePresenter is a class server with a fixed roster.
type fakePresenter struct {
	mu    sync.Mutex
	shown []string
	names []string
	since time.Time
	// at is the class's step; refused how many were refused.
	at      [2]int
	refused int
}

func (p *fakePresenter) Show(at content.StepID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.shown = append(p.shown, at.String())
}
func (p *fakePresenter) Following() int     { return 7 }
func (p *fakePresenter) At() content.StepID { return content.StepID{Section: p.at[0], Step: p.at[1]} }
func (p *fakePresenter) Refused(fn func(string, int)) {
	if p.refused > 0 {
		fn("wrong token", p.refused)
	}
}
func (p *fakePresenter) FollowURL() string { return "http://127.0.0.1:1/?token=t" }
func (p *fakePresenter) RosterEach(fn func(string, content.StepID, []string, time.Time, time.Time)) {
	for i, n := range p.names {
		switch i % 3 {
		case 0:
			fn(n, content.StepID{Section: 2, Step: 1}, nil, p.since, fixedNow()) // 2.1 asks a question
		case 1:
			fn(n, content.StepID{Section: 2, Step: 1}, []string{"2.1"}, p.since, fixedNow())
		default:
			fn(n, content.StepID{Section: 1, Step: 1}, nil, p.since, fixedNow())
		}
	}
}

func (p *fakePresenter) lastShown() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.shown) == 0 {
		return ""
	}
	return p.shown[len(p.shown)-1]
}

func TestPresenterRoster(t *testing.T) {
	pr := &fakePresenter{since: fixedNow().Add(-10 * time.Minute)}
	for i := 0; i < 200; i++ {
		pr.names = append(pr.names, "s"+itoa(1000+i))
	}
	h := startProgram(t, Options{Source: recordingSource(t), Presenter: pr}, 80, 24)
	h.waitFor("the recording", loaded)
	m := h.waitFor("the count", func(m Model) bool { return strings.Contains(screen(m), "7 following") })
	if pr.lastShown() != "1.1" {
		t.Errorf("shown %q at the start, want 1.1", pr.lastShown())
	}
	h.press("2")
	h.waitFor("2.1", at("2.1"))
	// The class is told by a command of its own, after the screen moves.
	h.waitFor("the class told 2.1", func(Model) bool { return pr.lastShown() == "2.1" })
	h.press("w")
	m = h.waitFor("the roster", func(m Model) bool { return (m.mode == modeRoster) })
	sc := screen(m)
	for _, want := range []string{"roster: 200 students, 134 at 2.1 with you, 67 stuck", "s1000", "stuck on 2.1's question for 10m"} {
		if !strings.Contains(sc, want) {
			t.Errorf("the roster lacks %q:\n%s", want, sc)
		}
	}
	if n := strings.Count(sc, "\n") + 1; n > 24 {
		t.Errorf("the roster takes %d rows of 24", n)
	}
	h.press("w")
	h.waitFor("the lesson again", func(m Model) bool { return (m.mode != modeRoster) })
}

// TestFirstScreenNotices: what podlab decided at the start (the lab and
// why, the follow URL) is on the first screen, whole, until a key.
func TestFirstScreenNotices(t *testing.T) {
	why := "no cluster (no kubeconfig found) and no sandbox running; showing the built-in recording (for a live lab: sudo podlab sandbox up, or --lab cluster)"
	url := "students follow with: podlab --follow 'http://127.0.0.1:7788/?token=0123456789abcdef01234567'"
	h := startProgram(t, Options{Source: recordingSource(t), Notices: []string{why, url}}, 80, 24)
	m := h.waitFor("the recording", loaded)
	flat := strings.Join(strings.Fields(screen(m)), " ")
	for _, want := range []string{why, url} {
		if !strings.Contains(flat, strings.Join(strings.Fields(want), " ")) {
			t.Errorf("the first screen lacks %q:\n%s", want, screen(m))
		}
	}
	if n := strings.Count(screen(m), "\n") + 1; n > 24 {
		t.Errorf("%d rows on a 24-row terminal", n)
	}
	h.press("n")
	m = h.waitFor("2.1", at("2.1"))
	if strings.Contains(screen(m), "no sandbox running") {
		t.Errorf("the notices stay after a key:\n%s", screen(m))
	}
}

// TestPresenterResumesAndCountsRefused: a presenter whose class server
// resumed a class starts at the class's step (and tells it that step,
// not 1.1); the refused are counted in the status line and on the roster,
// where the follow URL stays whole at 80 columns.
func TestPresenterResumesAndCountsRefused(t *testing.T) {
	pr := &fakePresenter{at: [2]int{2, 5}, refused: 2, names: []string{"ana", "bo"}, since: fixedNow()}
	h := startProgram(t, Options{Source: recordingSource(t), Presenter: pr}, 80, 24)
	m := h.waitFor("the recording", loaded)
	if st, _ := m.step(); st.ID() != "2.5" || pr.lastShown() != "2.5" {
		t.Errorf("started at %s, told the class %q; want 2.5", st.ID(), pr.lastShown())
	}
	m = h.waitFor("the refused", func(m Model) bool { return strings.Contains(screen(m), "2 refused: wrong token") })
	h.press("w")
	m = h.waitFor("the roster", func(m Model) bool { return (m.mode == modeRoster) })
	sc := screen(m)
	if !strings.Contains(sc, "2 refused: wrong token") {
		t.Errorf("the roster does not count the refused:\n%s", sc)
	}
	if flat := strings.Join(strings.Fields(sc), ""); !strings.Contains(flat, "podlab--follow'"+pr.FollowURL()+"'") {
		t.Errorf("the roster lacks the whole follow URL:\n%s", sc)
	}
}
