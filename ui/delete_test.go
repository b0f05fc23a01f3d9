package ui

import (
	"strings"
	"testing"
)

// liveSource is a script that says it is a live lab.
type liveSource struct{ *scriptSource }

func (liveSource) Kind() string { return "sandbox" }

// TestDeleteStepNamesALivePod: step 4.8's command names a pod on the node
// that exists now, not a fixed one, and the node's table starts on that
// pod's /32; on a recording the step says nothing there can change.
func TestDeleteStepNamesALivePod(t *testing.T) {
	tests := []struct {
		name      string
		src       func(t *testing.T) Source
		pod, ip   string
		recording bool
	}{
		{"the recording", func(t *testing.T) Source { return recordingSource(t) },
			"yaobank/summary-6c9b8f7d5b-k2x8w", "198.19.22.131", true},
		{"a live lab whose summary pod is gone", func(t *testing.T) Source {
			return liveSource{&scriptSource{answers: []answer{{pair: withoutRoute(t, lessonRecording(t), "198.19.22.131")}}}}
		}, "calico-system/calico-kube-controllers-7c5b6c8f4d-qj2mz", "198.19.22.130", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startProgram(t, Options{Source: tt.src(t)}, 160, 48)
			h.waitFor("the lab", loaded)
			m := gotoSection(t, h, 4)
			for {
				st, _ := m.step()
				if st.Extra == "delete" {
					break
				}
				at := m.cur
				h.press("right") // → also leaves the lookup step's empty box
				m = h.waitFor("the next step", func(m Model) bool { return m.cur == at+1 })
			}
			sc := screen(m)
			if want := "sudo podlab sandbox delete-pod " + tt.pod; !strings.Contains(sc, want) {
				t.Errorf("the command is not %q:\n%s", want, sc)
			}
			if got := strings.Contains(sc, "nothing here changes when you run it"); got != tt.recording {
				t.Errorf("says it is a recording: %v, want %v:\n%s", got, tt.recording, sc)
			}
			if l, ok := m.host.selected(); !ok || !strings.HasPrefix(l.String(), tt.ip+" dev ") {
				t.Errorf("the node's table starts on %q, want the /32 of %s (%s)", l.String(), tt.pod, tt.ip)
			}
		})
	}
}
