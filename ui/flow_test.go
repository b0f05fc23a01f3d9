package ui

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"podlab/netview"
)

// probeMsg asks the running program for its model (see startProgram).
type probeMsg struct{ ch chan Model }

// harness drives a real program through teatest.
type harness struct {
	t  *testing.T
	tm *teatest.TestModel
}

func startProgram(t *testing.T, opts Options, w, h int) *harness {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	filter := func(m tea.Model, msg tea.Msg) tea.Msg {
		if p, ok := msg.(probeMsg); ok {
			p.ch <- m.(Model)
			return nil
		}
		return msg
	}
	tm := teatest.NewTestModel(t, New(opts), teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithFilter(filter), tea.WithColorProfile(colorprofile.TrueColor)))
	hs := &harness{t: t, tm: tm}
	t.Cleanup(func() {
		_ = tm.Quit()
		tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	})
	return hs
}

// model is the program's model once every message sent so far is handled.
func (h *harness) model() Model {
	h.t.Helper()
	ch := make(chan Model, 1)
	h.tm.Send(probeMsg{ch: ch})
	select {
	case m := <-ch:
		return m
	case <-time.After(5 * time.Second):
		h.t.Fatal("the program did not answer")
	}
	return Model{}
}

// waitFor waits until cond holds for the model.
func (h *harness) waitFor(what string, cond func(Model) bool) Model {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		m := h.model()
		if cond(m) {
			return m
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("waiting for %s; the screen is:\n%s", what, screen(m))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *harness) press(keys ...string) {
	for _, k := range keys {
		h.tm.Send(keyMsg(k))
	}
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	}
	r := []rune(k)
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// screen is what the terminal shows, without styles.
func screen(m Model) string { return ansi.Strip(m.content()) }

func loaded(m Model) bool { return m.lab() != nil }

// visibleLines are the rendered lines of the panes the step shows.
func visibleLines(m Model) []netview.Line {
	var out []netview.Line
	for _, p := range []netPane{m.pod, m.host} {
		for _, i := range p.sel {
			out = append(out, p.line(i))
		}
	}
	return out
}

func TestWalkLesson(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		t.Run(itoa(size[0])+"x"+itoa(size[1]), func(t *testing.T) {
			h := startProgram(t, Options{Source: recordingSource(t)}, size[0], size[1])
			m := h.waitFor("the recording", loaded)
			seen := map[int]string{} // section → every pane's text, all steps
			classes := map[netview.Class]bool{}
			for i := range m.course.steps {
				if i > 0 {
					k := []string{"n", "space", "right", "l"}[i%4]
					if prev, _ := m.step(); prev.Extra == "lookup" {
						k = "right" // the lookup step's open box takes letters and space
					}
					h.press(k)
				}
				m = h.waitFor("step "+itoa(i+1), func(m Model) bool { return m.cur == i })
				st, _ := m.step()
				lines := visibleLines(m)
				var text strings.Builder
				for _, l := range lines {
					text.WriteString(l.String() + "\n")
				}
				seen[st.Section] += text.String()
				// The step's highlighted tags are on screen.
				for _, tag := range st.Highlight {
					if strings.HasPrefix(tag, "route-") {
						continue // checked per section below
					}
					found := false
					for _, l := range lines {
						found = found || l.HasTag(netview.Tag(tag))
					}
					if !found {
						t.Errorf("step %d.%d %q highlights %s but no pane line has it:\n%s", st.Section, st.Index, st.Title, tag, screen(m))
					}
				}
				if st.Section == 4 {
					for _, l := range lines {
						if c, ok := netview.LineClass(l); ok {
							classes[c] = true
						}
					}
					if len(m.host.views) > 0 {
						sc := screen(m)
						for c := range classes {
							if m.host.hasRouteView() && !strings.Contains(sc, legendName(m, c)) {
								t.Errorf("step %d.%d: legend lacks %s:\n%s", st.Section, st.Index, c, sc)
							}
						}
					}
				}
				if sc := screen(m); strings.Count(sc, "\n") != size[1]-1 {
					t.Errorf("step %d.%d: the view has %d rows, want %d", st.Section, st.Index, strings.Count(sc, "\n")+1, size[1])
				}
			}
			for _, want := range []string{"eth0@if9", "169.254.1.1"} {
				if !strings.Contains(seen[2], want) {
					t.Errorf("section 2 never shows %q", want)
				}
			}
			if !strings.Contains(seen[3], "9: caliea2aa288365@if3") {
				t.Errorf("section 3 never shows the host end 9: caliea2aa288365@if3:\n%s", seen[3])
			}
			for _, c := range []netview.Class{netview.ClassLocalPod, netview.ClassLocalBlockBlackhole,
				netview.ClassRemoteBlock, netview.ClassDefault, netview.ClassConnected} {
				if !classes[c] {
					t.Errorf("section 4 never shows a %s route", c)
				}
			}
			// Past the last step nothing moves; back works.
			last := len(m.course.steps) - 1
			h.press("n")
			h.waitFor("still the last step", func(m Model) bool { return m.cur == last })
			h.press("p")
			h.waitFor("one step back", func(m Model) bool { return m.cur == last-1 })
			h.press("esc", "2") // the lookup step's prompt takes digits
			h.waitFor("section 2", func(m Model) bool { st, _ := m.step(); return st.Section == 2 && st.Index == 1 })
		})
	}
}

func legendName(m Model, c netview.Class) string {
	if m.sh.theme.NoColor {
		return classCode[c] + " " + classShort[c]
	}
	return classShort[c]
}

func itoa(i int) string { return strconv.Itoa(i) }

func gotoSection(t *testing.T, h *harness, n int) Model {
	t.Helper()
	h.press(itoa(n))
	return h.waitFor("section "+itoa(n), func(m Model) bool { st, _ := m.step(); return st.Section == n })
}

func TestRouteLookupBlackhole(t *testing.T) {
	for _, kernel := range []bool{false, true} {
		name := "snapshot"
		if kernel {
			name = "kernel"
		}
		t.Run(name, func(t *testing.T) {
			var src Source = recordingSource(t)
			if kernel {
				src = routerSource{recordingSource(t)}
			}
			h := startProgram(t, Options{Source: src}, 160, 48)
			h.waitFor("the recording", loaded)
			gotoSection(t, h, 2) // the host pane shows no routes here
			h.press("/")
			h.waitFor("the prompt", func(m Model) bool { return m.mode.prompting() })
			h.tm.Type("198.19.22.150")
			h.press("enter")
			m := h.waitFor("the answer", func(m Model) bool { return m.look.res != nil && !m.look.res.asking })
			sc := screen(m)
			if !strings.Contains(sc, "route to 198.19.22.150 → blackhole 198.19.22.128/26") {
				t.Errorf("the lookup does not show the blackhole:\n%s", sc)
			}
			if !strings.Contains(sc, string(netview.ClassLocalBlockBlackhole)) {
				t.Errorf("the lookup does not name the class:\n%s", sc)
			}
			l, ok := m.host.selected()
			if !ok || !strings.HasPrefix(l.String(), "blackhole 198.19.22.128/26") || m.focus != focusHost {
				t.Errorf("the host pane does not select the blackhole: %q (focus %d)", l.String(), m.focus)
			}
			if kernel && !strings.Contains(sc, "the kernel agrees") {
				t.Errorf("the kernel's answer is missing:\n%s", sc)
			}
			// A pod's own address takes its /32; esc closes the answer.
			h.press("/")
			h.tm.Type("198.19.22.132")
			h.press("enter")
			m = h.waitFor("the answer", func(m Model) bool { return m.look.res != nil && m.look.res.input == "198.19.22.132" })
			if !strings.Contains(screen(m), "route to 198.19.22.132 → 198.19.22.132 dev caliea2aa288365") {
				t.Errorf("lookup of the pod:\n%s", screen(m))
			}
			h.press("/")
			h.tm.Type("198.19.300.1")
			h.press("enter")
			m = h.waitFor("the error", func(m Model) bool { return m.look.res != nil && m.look.res.err != "" })
			if !strings.Contains(screen(m), "is not an IP address") {
				t.Errorf("bad input:\n%s", screen(m))
			}
			h.press("esc")
			h.waitFor("the answer closed", func(m Model) bool { return m.look.res == nil })
		})
	}
}

func TestLookupStepOpensPrompt(t *testing.T) {
	h := startProgram(t, Options{Source: recordingSource(t)}, 80, 24)
	h.waitFor("the recording", loaded)
	m := h.model()
	for i, st := range m.course.steps {
		if st.Extra == "lookup" {
			for range i {
				h.press("n")
			}
			h.waitFor("the lookup step", func(m Model) bool { return m.cur == i && m.mode.prompting() })
			return
		}
	}
	t.Fatal("no step of the lesson opens the route lookup")
}

func TestRefreshShowsChange(t *testing.T) {
	full := lessonRecording(t)
	less := withoutRoute(t, full, "198.19.22.131")
	for _, auto := range []bool{false, true} {
		name := "key-r"
		if auto {
			name = "auto"
		}
		t.Run(name, func(t *testing.T) {
			seen := make(chan struct{})
			src := &scriptSource{answers: []answer{{pair: full}, {pair: less}, {pair: less, after: seen}}}
			opts := Options{Source: src}
			if auto {
				opts.Refresh = 20 * time.Millisecond
			}
			h := startProgram(t, opts, 160, 48)
			h.waitFor("the recording", loaded)
			gotoSection(t, h, 4)
			if !auto {
				h.press("r")
			}
			m := h.waitFor("the change", func(m Model) bool { return m.changed() != "" })
			close(seen)
			sc := screen(m)
			if !strings.Contains(sc, "changed: route 198.19.22.131 removed") {
				t.Errorf("the status line does not say what changed:\n%s", sc)
			}
			if !strings.Contains(sc, "- 198.19.22.131 dev calif0a98285df9") {
				t.Errorf("the host pane does not list the removed route:\n%s", sc)
			}
			if auto {
				// The next refresh brings the same answer: the marks go.
				m = h.waitFor("the next refresh", func(m Model) bool { return m.changed() == "" })
				if strings.Contains(screen(m), "- 198.19.22.131") {
					t.Errorf("the removed route is still listed a refresh later")
				}
			}
		})
	}
}

func TestRefreshMarksAdded(t *testing.T) {
	full := lessonRecording(t)
	less := withoutRoute(t, full, "198.19.22.131")
	src := &scriptSource{answers: []answer{{pair: less}, {pair: full}}}
	h := startProgram(t, Options{Source: src, NoColor: true}, 160, 48)
	h.waitFor("the recording", loaded)
	gotoSection(t, h, 4)
	h.press("r")
	m := h.waitFor("the change", func(m Model) bool { return m.changed() != "" })
	if !strings.Contains(screen(m), " +LP 198.19.22.131") && !strings.Contains(screen(m), "+LP 198.19.22.131") {
		t.Errorf("the new route is not marked +:\n%s", screen(m))
	}
}

func TestSourceErrorKeepsRunning(t *testing.T) {
	src := &scriptSource{answers: []answer{{pair: lessonRecording(t)}, {err: errors.New("ssh node1: connection refused")}}}
	h := startProgram(t, Options{Source: src}, 80, 24)
	h.waitFor("the recording", loaded)
	gotoSection(t, h, 3)
	h.press("r")
	m := h.waitFor("the error", func(m Model) bool { return m.col.err != nil })
	sc := screen(m)
	if !strings.Contains(sc, "error: ssh node1: connection refused") {
		t.Errorf("the status line does not show the error:\n%s", sc)
	}
	if !slices.ContainsFunc(visibleLines(m), func(l netview.Line) bool { return strings.Contains(l.String(), "caliea2aa288365@if3") }) {
		t.Errorf("the last good pair is gone:\n%s", sc)
	}
	h.press("n")
	h.waitFor("the next step", func(mm Model) bool { return mm.cur == m.cur+1 })
	h.press("q")
	h.tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

func TestFirstCollectFails(t *testing.T) {
	src := &scriptSource{answers: []answer{{err: errors.New("no cluster found")}}}
	h := startProgram(t, Options{Source: src}, 80, 24)
	m := h.waitFor("the error", func(m Model) bool { return m.col.err != nil })
	if sc := screen(m); !strings.Contains(sc, "error: no cluster found") || !strings.Contains(sc, "waiting for the lab") {
		t.Errorf("a first failure:\n%s", sc)
	}
}

func TestTooSmall(t *testing.T) {
	h := startProgram(t, Options{Source: recordingSource(t)}, 50, 12)
	m := h.waitFor("the recording", loaded)
	if sc := screen(m); !strings.Contains(sc, "terminal too small: need at least 60x16") || !strings.Contains(sc, "50x12") {
		t.Errorf("too small:\n%s", sc)
	}
	h.tm.Send(tea.WindowSizeMsg{Width: 80, Height: 24})
	m = h.waitFor("the resize", func(m Model) bool { return m.sh.width == 80 })
	if sc := screen(m); !strings.Contains(sc, "podlab") || strings.Contains(sc, "at least") {
		t.Errorf("after growing:\n%s", sc)
	}
}

func TestFocusAndScroll(t *testing.T) {
	h := startProgram(t, Options{Source: recordingSource(t)}, 80, 24)
	h.waitFor("the recording", loaded)
	gotoSection(t, h, 4)
	h.press("tab")
	m := h.waitFor("focus on the pod", func(m Model) bool { return m.focus == focusPod })
	h.press("tab")
	m = h.waitFor("focus on the host", func(m Model) bool { return m.focus == focusHost && m.lay.tab == netview.SideHost })
	before := m.host.cursor
	h.press("down", "j")
	m = h.waitFor("the cursor moves", func(m Model) bool { return m.host.cursor != before })
	label, why := m.explanation()
	if label == "" || why == "" {
		t.Errorf("the selected line is not explained:\n%s", screen(m))
	}
	h.press("?")
	m = h.waitFor("full help", func(m Model) bool { return m.help.ShowAll })
	if sc := screen(m); !strings.Contains(sc, "go to section") || strings.Count(sc, "\n") != 23 {
		t.Errorf("full help:\n%s", sc)
	}
}

// TestDeleteStepLooksUpTheGoneAddress: on the step that invites deleting
// a pod, a refresh that loses a local pod's /32 looks its address up at
// once: the node's blackhole and the kernel's own answer are shown.
func TestDeleteStepLooksUpTheGoneAddress(t *testing.T) {
	full := lessonRecording(t)
	less := withoutRoute(t, full, "198.19.22.131")
	src := routerSource{&scriptSource{answers: []answer{{pair: full}, {pair: less}}}}
	h := startProgram(t, Options{Source: src}, 160, 48)
	h.waitFor("the recording", loaded)
	gotoSection(t, h, 4)
	for i := 0; ; i++ {
		if st, _ := h.model().step(); st.Extra == "delete" {
			break
		}
		if i > 20 {
			t.Fatal("no step invites deleting a pod")
		}
		cur := h.model().cur
		h.press("esc", "n")
		h.waitFor("the next step", func(m Model) bool { return m.cur == cur+1 })
	}
	if h.model().look.res != nil {
		t.Fatal("a lookup before any pod went")
	}
	h.press("r")
	m := h.waitFor("the kernel's answer", func(m Model) bool { return m.look.res != nil && m.look.res.hasKern })
	if m.look.res.input != "198.19.22.131" || m.look.res.route.Type != "blackhole" || m.look.res.kernel.Type != "blackhole" {
		t.Errorf("looked up %q: %+v, kernel %+v; want 198.19.22.131 in the blackhole", m.look.res.input, m.look.res.route, m.look.res.kernel)
	}
	if sc := screen(m); !strings.Contains(sc, "route to 198.19.22.131 →") || !strings.Contains(sc, "blackhole 198.19.22.128/26") {
		t.Errorf("the screen does not show where the old address goes:\n%s", sc)
	}
}

// A lab that cannot be watched (its channel closed at once) is read at
// start all the same, not at the first refresh.
func TestUnwatchableLabLoadsAtOnce(t *testing.T) {
	ch := make(chan struct{})
	close(ch)
	src := watchSource{&scriptSource{answers: []answer{{pair: lessonRecording(t)}}}, ch}
	h := startProgram(t, Options{Source: src, Refresh: time.Hour}, 160, 48)
	// The collection the watch's start began may land before its closed
	// channel is noticed: wait for both, long before the hour's refresh.
	h.waitFor("the recording, and no watch", func(m Model) bool { return loaded(m) && !m.col.watching })
}

// Where the step points at the customer pod's own /32 ("Find
// 198.19.22.132 dev caliea2aa288365"), the cursor starts there, not on the
// first local pod's route: that line carries the host end's highlight too.
func TestCursorStartsOnTheStepsLine(t *testing.T) {
	h := startProgram(t, Options{Source: recordingSource(t)}, 160, 48)
	h.waitFor("the recording", loaded)
	gotoSection(t, h, 4)
	h.press("n")
	m := h.waitFor("step 4.2", func(m Model) bool { st, _ := m.step(); return st.Section == 4 && st.Index == 2 })
	l, ok := m.host.selected()
	if !ok || !strings.HasPrefix(l.String(), "198.19.22.132 dev caliea2aa288365") {
		t.Errorf("the node's cursor is on %q, want the customer pod's /32", l.String())
	}
}
