package ui

import (
	"bytes"
	"os"
	"path/filepath"
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
	f, err := os.Open(filepath.Join("..", "netview", "testdata", "lesson.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec, err := netview.ReadRecording(f)
	if err != nil {
		t.Fatal(err)
	}
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
					for _, k := range []string{"", "tab", "tab"} {
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
