package ui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// TestLookupPromptTakesEveryPrintableKey: letters typed into the open
// lookup box are the box's, never commands (h used to close it and step
// back); esc and ←/→ in an empty box still leave it.
func TestLookupPromptTakesEveryPrintableKey(t *testing.T) {
	h := startProgram(t, Options{Source: recordingSource(t)}, 80, 24)
	h.waitFor("the recording", loaded)
	gotoSection(t, h, 3)
	h.press("n")
	at := h.waitFor("step 3.2", func(m Model) bool { st, _ := m.step(); return st.ID() == "3.2" }).cur
	h.press("/")
	h.waitFor("the prompt", func(m Model) bool { return m.mode.prompting() })
	h.tm.Type("hello n p q ? l m r 1 4")
	m := h.waitFor("the text in the box", func(m Model) bool { return m.prompt.Value() == "hello n p q ? l m r 1 4" })
	if m.cur != at || !m.mode.prompting() || m.help.ShowAll || m.mapv.open || m.self.quitting {
		t.Fatalf("typing moved the lesson or acted: step %d (want %d), prompt %v, help %v, map %v", m.cur, at, m.mode.prompting(), m.help.ShowAll, m.mapv.open)
	}
	if sc := screen(m); !strings.Contains(sc, "enter look up") || !strings.Contains(sc, "esc close") {
		t.Errorf("the help bar does not say how to leave the box:\n%s", sc)
	}
	h.press("esc")
	h.waitFor("the box closed", func(m Model) bool { return !m.mode.prompting() && m.cur == at })
	h.press("/", "right")
	h.waitFor("→ in the empty box: the next step", func(m Model) bool { return m.cur == at+1 && !m.mode.prompting() })
}

// TestLookupOfACIDRAt80: a prefix as the lesson writes routes is looked
// up by its address, and at 80 columns the answer wraps at a word, or is
// cut with an ellipsis: never cut mid-word without a mark.
func TestLookupOfACIDRAt80(t *testing.T) {
	for _, tt := range []struct {
		in, want string
	}{
		{"198.19.21.70/32", "route to 198.19.21.70 → 198.19.21.64/26 via 198.19.0.3"},
		{"198.19.22.150", "route to 198.19.22.150 → blackhole 198.19.22.128/26"},
		{"198.19.22.132/26", "route to 198.19.22.132 → 198.19.22.132 dev caliea2aa288365"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			h := startProgram(t, Options{Source: routerSource{recordingSource(t)}}, 80, 24)
			h.waitFor("the recording", loaded)
			gotoSection(t, h, 2)
			h.press("/")
			h.waitFor("the prompt", func(m Model) bool { return m.mode.prompting() })
			h.tm.Type(tt.in)
			h.press("enter")
			m := h.waitFor("the answer with the kernel's", func(m Model) bool { return m.look.res != nil && m.look.res.hasKern })
			rows := m.lookupRows()
			var plain []string
			for _, r := range rows {
				if w := ansi.StringWidth(r); w > 80 {
					t.Errorf("an answer row is %d cells wide: %q", w, ansi.Strip(r))
				}
				plain = append(plain, strings.TrimSpace(ansi.Strip(r)))
			}
			full := ansi.Strip(m.lookupLine())
			got := strings.Join(plain, " ")
			if !strings.Contains(got, tt.want) {
				t.Errorf("answer %q lacks %q", got, tt.want)
			}
			// Either every word of the answer is there, whole, or the
			// last row ends in an ellipsis.
			if got != strings.Join(strings.Fields(full), " ") && !strings.HasSuffix(got, "…") {
				t.Errorf("the answer was cut without a mark:\n got  %q\n full %q", got, full)
			}
			sc := screen(m)
			for _, p := range plain {
				if !strings.Contains(sc, p) {
					t.Errorf("the screen lacks the answer row %q:\n%s", p, sc)
				}
			}
			if strings.Count(sc, "\n") != 23 {
				t.Errorf("the view has %d rows, want 24:\n%s", strings.Count(sc, "\n")+1, sc)
			}
		})
	}
}

// TestMoreHintSaysWhatWorks: where the lesson's text goes on below its
// pane, the hint names the keys that scroll it from where the focus is,
// and pressing exactly those scrolls it; on the wide layout the hint has
// a row of its own and no line of the text is hidden under it (there, in
// the presenter's view, where the notes beside take a third of the width).
func TestMoreHintSaysWhatWorks(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 30}} {
		for _, tabs := range []int{0, 1, 2} { // focus on the lesson, the pod pane, the host pane
			t.Run(itoa(size[0])+"x"+itoa(size[1])+"/focus"+itoa(tabs), func(t *testing.T) {
				h := startProgram(t, Options{Source: recordingSource(t), Present: size[0] >= wideWidth}, size[0], size[1])
				m := h.waitFor("the recording", loaded)
				// The first step whose text does not fit.
				for i := 0; !m.lesson.more(); i++ {
					if i == len(m.course.steps)-1 {
						t.Fatal("every step's text fits at this size; the test needs one that does not")
					}
					h.press("right")
					m = h.waitFor("the next step", func(m Model) bool { return m.cur == i+1 })
				}
				for range tabs {
					h.press("tab")
				}
				m = h.waitFor("the focus", func(m Model) bool { return int(m.focus) == tabs })
				sc := screen(m)
				var hint string
				for _, l := range strings.Split(sc, "\n") {
					if i := strings.Index(l, "▲ more"); i >= 0 {
						hint = l[i:]
					} else if i := strings.Index(l, "▼ the text goes on"); i >= 0 {
						hint = l[i:]
					}
				}
				if hint == "" {
					t.Fatalf("no hint that the text goes on:\n%s", sc)
				}
				if !m.lay.narrow {
					// Every row of the text is on the screen, none under the hint.
					for _, r := range strings.Split(ansi.Strip(m.lesson.View()), "\n") {
						if r = strings.TrimSpace(r); r != "" && !strings.Contains(sc, r) {
							t.Errorf("the lesson's row %q is not on the screen:\n%s", r, sc)
						}
					}
				}
				for _, f := range strings.Fields(strings.NewReplacer(",", " ", ":", " ").Replace(hint)) {
					switch f {
					case "tab":
						h.press("tab")
					case "shift+tab":
						h.tm.Send(tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift})
					case "↓":
						h.press("down")
					}
				}
				m = h.waitFor("the keys handled", func(m Model) bool { return true })
				if m.lesson.vp.YOffset() == 0 {
					t.Errorf("pressing what the hint %q says did not scroll the lesson (focus now %d):\n%s", hint, m.focus, screen(m))
				}
			})
		}
	}
}
