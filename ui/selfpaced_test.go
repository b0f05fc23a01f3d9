package ui

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"podlab/progress"
)

// fakeSaver keeps what the program saves; block, when set, holds every
// save until it is closed.
type fakeSaver struct {
	mu    sync.Mutex
	saves []*progress.Progress
	block chan struct{}
	err   error
}

func (f *fakeSaver) Save(p *progress.Progress) error {
	if f.block != nil {
		<-f.block
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.saves = append(f.saves, p.Clone())
	return f.err
}

func (f *fakeSaver) last() *progress.Progress {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.saves) == 0 {
		return nil
	}
	return f.saves[len(f.saves)-1]
}

// waitSaved waits until the saver holds a progress for which cond holds.
func waitSaved(t *testing.T, f *fakeSaver, what string, cond func(*progress.Progress) bool) *progress.Progress {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if p := f.last(); p != nil && cond(p) {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for a save with %s; last saved %+v", what, f.last())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// gotoStep moves to a step by its ID, the way a student does.
func gotoStep(t *testing.T, h *harness, id string) Model {
	t.Helper()
	m := h.model()
	sec := int(id[0] - '0')
	h.press(id[:1])
	m = h.waitFor("section "+id[:1], func(m Model) bool { st, _ := m.step(); return st.Section == sec })
	for {
		st, _ := m.step()
		if st.ID() == id {
			return m
		}
		cur := m.cur
		h.press("n")
		m = h.waitFor("the next step", func(m Model) bool { return m.cur == cur+1 })
	}
}

func answerWith(h *harness, text string) {
	h.press("a")
	h.waitFor("the answer prompt", func(m Model) bool { return m.mode == modeAnswer })
	h.tm.Type(text)
	h.press("enter")
}

func TestSelfPacedAnswer(t *testing.T) {
	saver := &fakeSaver{}
	h := startProgram(t, Options{Source: recordingSource(t), SelfPaced: true, Saver: saver}, 80, 24)
	h.waitFor("the recording", loaded)
	m := gotoStep(t, h, "2.4")
	sc := screen(m)
	if !strings.Contains(sc, "? On eth0's line, what number follows @if?") || !strings.Contains(sc, "a or enter: answer") {
		t.Errorf("the question is not shown:\n%s", sc)
	}
	if strings.Contains(m.lesson.doc.markdown, "number **9**") || !strings.Contains(m.lesson.doc.markdown, "number **?**") {
		t.Errorf("the lesson text answers its own question:\n%s", m.lesson.doc.markdown)
	}
	if m.self.prog.Done("2.4") {
		t.Fatal("2.4 done before it was answered")
	}

	// Wrong: eth0's own index. A hint, not the answer, not done.
	answerWith(h, "3")
	m = h.waitFor("the verdict", func(m Model) bool { return m.self.check != nil })
	sc = screen(m)
	if m.self.check.ok || m.self.prog.Done("2.4") || !strings.Contains(sc, "✗ that is eth0's own number") || strings.Contains(sc, "the answer is") {
		t.Errorf("after a wrong answer:\n%s", sc)
	}
	waitSaved(t, saver, "one answer", func(p *progress.Progress) bool { return p.Answers("2.4") == 1 && !p.Done("2.4") })

	// A second miss shows the answer.
	answerWith(h, "if8")
	m = h.waitFor("the second verdict", func(m Model) bool { return m.self.prog.Answers("2.4") == 2 })
	if sc = screen(m); !strings.Contains(sc, "the answer is 9") {
		t.Errorf("after two wrong answers the answer is not shown:\n%s", sc)
	}

	// Right, in the form the terminal prints it.
	answerWith(h, "eth0@if9")
	m = h.waitFor("done", func(m Model) bool { return m.self.prog.Done("2.4") })
	sc = screen(m)
	if !strings.Contains(sc, "✓ correct") || !strings.Contains(sc, "step 4/7 ✓") {
		t.Errorf("after the right answer:\n%s", sc)
	}
	if !strings.Contains(m.lesson.doc.markdown, "number **9**") {
		t.Errorf("the lesson text still hides the answer once it is given")
	}
	p := waitSaved(t, saver, "2.4 done", func(p *progress.Progress) bool { return p.Done("2.4") })
	if p.Answers("2.4") != 3 || p.Last != "2.4" {
		t.Errorf("saved %+v", p)
	}
	// Steps without a question were done by visiting them.
	for _, id := range []string{"1.1", "2.2", "2.3"} {
		if !p.Done(id) {
			t.Errorf("visited step %s is not done: %+v", id, p)
		}
	}
	// 2.1 asks a question and was passed over: not done.
	if p.Done("2.1") {
		t.Errorf("2.1 is done though its question was never answered")
	}
	if n := p.Count(m.stepIDs()); !strings.Contains(screen(m), itoa(n)+"/22 done") {
		t.Errorf("the header does not count %d done:\n%s", n, screen(m))
	}
}

func TestSelfPacedSkipReminds(t *testing.T) {
	h := startProgram(t, Options{Source: recordingSource(t), SelfPaced: true}, 80, 24)
	h.waitFor("the recording", loaded)
	gotoStep(t, h, "2.1")
	h.press("n")
	m := h.waitFor("2.2", func(m Model) bool { st, _ := m.step(); return st.ID() == "2.2" })
	if sc := screen(m); !strings.Contains(sc, "2.1's question is not answered yet") {
		t.Errorf("moving past an unanswered question does not remind:\n%s", sc)
	}
	h.press("n")
	m = h.waitFor("2.3", func(m Model) bool { st, _ := m.step(); return st.ID() == "2.3" })
	if strings.Contains(screen(m), "not answered yet") {
		t.Errorf("the reminder stays on the next step:\n%s", screen(m))
	}
	// Esc closes an answer prompt without answering; letters go into it.
	gotoStep(t, h, "3.1")
	h.press("a")
	h.tm.Type("qnode1")
	m = h.waitFor("the typed answer", func(m Model) bool { return m.prompt.Value() == "qnode1" })
	h.press("esc")
	m = h.waitFor("the prompt closed", func(m Model) bool { return !m.mode.prompting() })
	if m.self.prog.Answers("3.1") != 0 {
		t.Error("esc counted an answer")
	}
}

func TestSelfPacedResume(t *testing.T) {
	prev := &progress.Progress{}
	for _, id := range []string{"1.1", "2.1", "2.2", "2.3", "2.4"} {
		prev.Visit(id, true)
	}
	prev.Visit("3.2", false)
	saver := &fakeSaver{}
	h := startProgram(t, Options{Source: recordingSource(t), SelfPaced: true, Progress: prev, Saver: saver}, 80, 24)
	m := h.waitFor("the recording", loaded)
	st, _ := m.step()
	if st.ID() != "3.2" {
		t.Fatalf("resumed at %s, want 3.2", st.ID())
	}
	if sc := screen(m); !strings.Contains(sc, "resumed at 3.2 — 5/22 done") || !strings.Contains(sc, "? What is the name of interface 9 on node1") {
		t.Errorf("the resume is not told:\n%s", sc)
	}
	if prev.Steps["3.2"].Done || len(prev.Steps) != 5 {
		t.Errorf("the program changed the Progress it was handed: %+v", prev)
	}
	answerWith(h, "caliea2aa288365")
	waitSaved(t, saver, "3.2 done", func(p *progress.Progress) bool { return p.Done("3.2") && p.Count(m.stepIDs()) == 6 })
	// The note goes once the student moves on.
	h.press("n")
	m = h.waitFor("3.3", func(m Model) bool { st, _ := m.step(); return st.ID() == "3.3" })
	if strings.Contains(screen(m), "resumed") {
		t.Errorf("the resume note stays:\n%s", screen(m))
	}

	// Without a last step: the first unfinished one.
	h2 := startProgram(t, Options{Source: recordingSource(t), SelfPaced: true,
		Progress: &progress.Progress{Steps: map[string]progress.Step{"1.1": {Done: true}}}}, 80, 24)
	m = h2.waitFor("the recording", loaded)
	if st, _ := m.step(); st.ID() != "2.1" {
		t.Errorf("resumed at %s, want the first unfinished 2.1", st.ID())
	}
	// --section wins over the resume.
	h3 := startProgram(t, Options{Source: recordingSource(t), SelfPaced: true, Progress: prev, Section: 4}, 80, 24)
	m = h3.waitFor("the recording", loaded)
	if st, _ := m.step(); st.ID() != "4.1" || strings.Contains(screen(m), "resumed") {
		t.Errorf("with a section asked for: at %s\n%s", st.ID(), screen(m))
	}
}

func TestSelfPacedComplete(t *testing.T) {
	all := &progress.Progress{Last: "4.8"}
	m := New(Options{SelfPaced: true})
	for _, id := range m.stepIDs() {
		if id != "4.9" {
			all.Visit(id, true)
		}
	}
	all.Last = "4.8"
	h := startProgram(t, Options{Source: recordingSource(t), SelfPaced: true, Progress: all}, 160, 48)
	h.waitFor("the recording", loaded)
	h.press("esc", "n") // esc closes a prompt, if one is open
	m = h.waitFor("the last step", func(m Model) bool { return m.cur == len(m.course.steps)-1 })
	if sc := screen(m); !strings.Contains(sc, "all 22 steps done") || !strings.Contains(sc, "22/22 done") {
		t.Errorf("no closing message:\n%s", sc)
	}
}

func TestSelfPacedQuitWaitsForSave(t *testing.T) {
	saver := &fakeSaver{block: make(chan struct{}), err: errors.New("disk full")}
	h := startProgram(t, Options{Source: recordingSource(t), SelfPaced: true, Saver: saver}, 80, 24)
	h.waitFor("the recording", loaded)
	h.press("n")
	h.press("q")
	m := h.waitFor("quitting", func(m Model) bool { return m.self.quitting })
	if !m.self.saving {
		t.Fatal("quitting while no save runs")
	}
	close(saver.block)
	h.tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if saver.last() == nil || saver.last().Last == "" {
		t.Errorf("the last change was not saved: %+v", saver.last())
	}
}

func TestSelfPacedSaveError(t *testing.T) {
	saver := &fakeSaver{err: errors.New("read-only file system")}
	h := startProgram(t, Options{Source: recordingSource(t), SelfPaced: true, Saver: saver}, 80, 24)
	h.waitFor("the recording", loaded)
	h.press("n")
	m := h.waitFor("the error", func(m Model) bool { return m.self.saveErr != nil })
	if !strings.Contains(screen(m), "progress not saved: read-only file system") {
		t.Errorf("a failed save is not shown:\n%s", screen(m))
	}
}

func TestInstructorAsksNothing(t *testing.T) {
	m := viewAt(t, 80, 24, 2, true, "n", "n", "n", "a")
	if m.self.prog != nil || m.mode.prompting() || len(m.checkRows()) != 0 {
		t.Errorf("instructor mode asks: prog %v, prompt %v", m.self.prog, m.mode.prompting())
	}
	if sc := screen(m); strings.Contains(sc, "What number follows") || strings.Contains(sc, "done") {
		t.Errorf("instructor mode shows self-paced parts:\n%s", sc)
	}
}

func TestGoldenQuestion(t *testing.T) {
	var mm tea.Model = New(Options{Source: recordingSource(t), NoColor: true, Section: 2, Now: fixedNow, SelfPaced: true})
	mm, _ = mm.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	mm, _ = mm.Update(collectedMsg{id: 1, pair: lessonRecording(t), at: fixedNow()})
	for _, k := range []string{"n", "n", "n", "a", "3", "enter"} {
		mm, _ = mm.Update(keyMsg(k))
	}
	out := mm.(Model).content()
	if sgrColour.MatchString(out) {
		t.Errorf("NoColor output has colours")
	}
	if n := strings.Count(out, "\n"); n != 23 {
		t.Errorf("the view has %d rows, want 24", n+1)
	}
	golden.RequireEqual(t, ansi.Strip(out)+"\n")
}
