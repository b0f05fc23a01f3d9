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
