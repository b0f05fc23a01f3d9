package ui

import (
	"strings"
	"testing"
)

// TestPresentView: the presenter view shows the step's title as a
// banner and its speaker notes, beside the lesson on a large terminal
// and on N on a small one; the question's answer only on A; the live
// panes stay.
func TestPresentView(t *testing.T) {
	tests := []struct {
		name    string
		w, h    int
		notesOn []string // keys that bring the notes
	}{
		{"projector 160x48", 160, 48, nil},
		{"small 80x24", 80, 24, []string{"N"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startProgram(t, Options{Source: recordingSource(t), Present: true, Section: 2}, tt.w, tt.h)
			h.waitFor("the recording", loaded)
			h.press("n", "n", "n", "n")
			m := h.waitFor("2.5", at("2.5"))
			sc := screen(m)
			if !strings.Contains(sc, "T H E   P O D ' S   R O U T E S") {
				t.Errorf("no banner:\n%s", sc)
			}
			if got := strings.Contains(sc, "speaker notes"); got != (tt.notesOn == nil) {
				t.Errorf("notes shown before a key: %v:\n%s", got, sc)
			}
			h.press(tt.notesOn...)
			m = h.waitFor("the notes", func(m Model) bool { return strings.Contains(screen(m), "speaker notes") })
			sc = screen(m)
			for _, want := range []string{"169.254.1.1 exists on no interface", "? Which address does the pod's default route send", "answer hidden: A shows it", "default via 169.254.1.1 dev eth0"} {
				if !strings.Contains(sc, want) {
					t.Errorf("lacks %q:\n%s", want, sc)
				}
			}
			if strings.Contains(sc, "answer: 169.254.1.1") {
				t.Errorf("the answer shows before A:\n%s", sc)
			}
			h.press("A")
			m = h.waitFor("the answer", func(m Model) bool { return strings.Contains(screen(m), "answer: 169.254.1.1") })
			if n := strings.Count(screen(m), "\n") + 1; n > tt.h {
				t.Errorf("%d rows on a %d-row terminal", n, tt.h)
			}
			// The notes follow the step.
			h.press("n")
			m = h.waitFor("2.6", at("2.6"))
			if !strings.Contains(screen(m), "which MAC did the pod learn") {
				t.Errorf("the notes did not follow the step:\n%s", screen(m))
			}
		})
	}
}

// TestAnswersOnlyOnA: the notes a projector shows hold no answer (2.3's
// notes answer their own question); A shows the answers, opening the
// notes when they are hidden, and they stay with their step. On a step
// with nothing to reveal, A does nothing.
func TestAnswersOnlyOnA(t *testing.T) {
	const answer = "Calico gives each pod one address"
	tests := []struct {
		name string
		w, h int
		hide []string // keys that hide the notes
	}{
		{"projector 160x48, notes hidden", 160, 48, []string{"N"}},
		{"small 80x24", 80, 24, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startProgram(t, Options{Source: recordingSource(t), Present: true, Section: 2}, tt.w, tt.h)
			h.waitFor("the recording", loaded)
			h.press("n", "n")
			m := h.waitFor("2.3", at("2.3"))
			if tt.hide != nil && !strings.Contains(screen(m), "speaker notes") {
				t.Fatalf("the projector shows no notes:\n%s", screen(m))
			}
			if strings.Contains(screen(m), answer) {
				t.Errorf("the notes show the answer before A:\n%s", screen(m))
			}
			h.press(tt.hide...)
			m = h.waitFor("the notes hidden", func(m Model) bool { return !strings.Contains(screen(m), "speaker notes") })
			h.press("A")
			m = h.waitFor("the answer", func(m Model) bool { return strings.Contains(screen(m), answer) })
			if !strings.Contains(screen(m), "speaker notes") {
				t.Errorf("A showed the answer without the notes:\n%s", screen(m))
			}
			h.press("n")
			m = h.waitFor("2.4", at("2.4"))
			if strings.Contains(screen(m), "answer: ") {
				t.Errorf("the next step's answer shows without A:\n%s", screen(m))
			}
		})
	}
	t.Run("nothing to reveal", func(t *testing.T) {
		h := startProgram(t, Options{Source: recordingSource(t), Present: true, Section: 2}, 80, 24)
		h.waitFor("the recording", loaded)
		h.press("n")
		m := h.waitFor("2.2", at("2.2"))
		before := screen(m)
		h.press("A", "r")
		m = h.waitFor("a redraw", func(m Model) bool { return true })
		if strings.Contains(screen(m), "speaker notes") || m.pres.answerAt != 0 || strings.Contains(before, "speaker notes") {
			t.Errorf("A on a step without answers changed the screen:\n%s", screen(m))
		}
	})
}
