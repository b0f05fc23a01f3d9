package ui

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"podlab/internal/hostile"
	"podlab/netview"
)

// hostilePair is the lesson's recording with escape sequences in every
// string, read back as podlab reads a recording.
func hostilePair(t *testing.T) *netview.Pair {
	t.Helper()
	rec := &netview.Recording{Pair: *lessonRecording(t)}
	hostile.Taint(rec)
	rec.Schema = netview.Schema
	var buf bytes.Buffer
	if err := netview.WriteRecording(&buf, rec); err != nil {
		t.Fatal(err)
	}
	back, err := netview.ReadRecording(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return &back.Pair
}

// The lesson's views, at every step, show the names' escape sequences
// escaped: nothing but the program's own SGR styling reaches the terminal.
func TestViewHostileNames(t *testing.T) {
	p := hostilePair(t)
	for _, noColor := range []bool{true, false} {
		for _, size := range [][2]int{{80, 24}, {160, 48}} {
			name := "colour"
			if noColor {
				name = "nocolor"
			}
			t.Run(name+"-"+itoa(size[0])+"x"+itoa(size[1]), func(t *testing.T) {
				src := &scriptSource{answers: []answer{{pair: p}}}
				var m tea.Model = New(Options{Source: src, NoColor: noColor, Section: 1, Now: fixedNow})
				m, _ = m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
				m, _ = m.Update(collectedMsg{id: 1, pair: p, at: fixedNow()})
				escaped := false
				for step := 0; step < 60; step++ {
					for _, k := range []string{"", "tab", "tab", "m", "m"} {
						if k != "" {
							m, _ = m.Update(keyMsg(k))
						}
						out := m.(Model).content()
						if err := hostile.Check(out, true); err != nil {
							t.Fatalf("step %d: %v", step, err)
						}
						if strings.Contains(out, "\x1b[2J") || strings.Contains(out, "\x1b]") {
							t.Fatalf("step %d: a name's escape sequence is on screen", step)
						}
						escaped = escaped || strings.Contains(out, `\x1b]52;`)
					}
					m, _ = m.Update(keyMsg("n"))
				}
				if !escaped {
					t.Error("no view showed a hostile name (escaped): the test saw none of them")
				}
			})
		}
	}
}

// hostileDescribe is a lab whose description and errors carry escape
// sequences, as a node's or a pod's output quoted in an error would.
type hostileDescribe struct{ *scriptSource }

func (hostileDescribe) Describe() string { return "lab \x1b]0;title\x07 on \x1b[2Jnode1" }

// The status line shows a lab's description and error escaped.
func TestStatusHostileError(t *testing.T) {
	src := hostileDescribe{&scriptSource{answers: []answer{{err: errors.New("ssh node1 failed: \x1b]52;c;eA==\x07 \x9b31m")}}}}
	for _, noColor := range []bool{true, false} {
		var m tea.Model = New(Options{Source: src, NoColor: noColor, Section: 1, Now: fixedNow})
		m, _ = m.Update(tea.WindowSizeMsg{Width: 200, Height: 40})
		m, _ = m.Update(collectedMsg{id: 1, err: errors.New("ssh node1 failed: \x1b]52;c;eA==\x07 \x9b31m"), at: fixedNow()})
		out := m.(Model).content()
		if err := hostile.Check(out, true); err != nil {
			t.Fatalf("noColor=%v: %v", noColor, err)
		}
		if !strings.Contains(out, `\x1b]52;`) || !strings.Contains(out, `\x1b]0;title`) {
			t.Errorf("noColor=%v: the error or the description is not shown escaped:\n%s", noColor, out)
		}
	}
}
