package ui

import (
	"strings"
	"testing"
)

// A sandbox node's uplink (eth0@if4 … link-netnsid 0) has the shape of a
// pod's cable; its line in the node's pane says what it is, and that a
// real node's uplink is its NIC. A real node's eth0 keeps its own
// explanation.
func TestUplinkExplained(t *testing.T) {
	for _, veth := range []bool{true, false} {
		name := "nic"
		if veth {
			name = "veth"
		}
		t.Run(name, func(t *testing.T) {
			p := lessonRecording(t)
			if veth {
				l := p.Host.LinkByName("eth0")
				l.Kind, l.ParentIndex, l.LinkNetNSID = "veth", 4, 0
			}
			h := startProgram(t, Options{Source: &scriptSource{answers: []answer{{pair: p}}}}, 160, 48)
			h.waitFor("the recording", loaded)
			gotoSection(t, h, 3)
			h.press("n", "tab", "tab")
			m := h.waitFor("the node's ip link", func(m Model) bool {
				return m.focus == focusHost && strings.Contains(screen(m), "node1 $ ip -c link show up")
			})
			found := false
			for i, idx := range m.host.sel {
				if m.host.line(idx).Key != "link:2" {
					continue
				}
				found = true
				m.host.cursor = i
				label, why := m.explanation()
				if veth {
					if label != "node uplink eth0@if4" || !strings.Contains(why, "a veth into the fabric namespace. On a real node it is the NIC") {
						t.Errorf("the uplink's line explained as %q: %q", label, why)
					}
				} else if strings.HasPrefix(label, "node uplink") {
					t.Errorf("a NIC explained as a veth uplink: %q: %q", label, why)
				}
				break
			}
			if !found {
				t.Fatalf("no selectable line of link 2 in the node's pane:\n%s", screen(m))
			}
		})
	}
}

// A name cut where it entered (a 1 MB interface name) is said in the
// status line, and the map says which kind and why.
func TestCutNamesSaid(t *testing.T) {
	p := lessonRecording(t)
	for i := range p.Host.Links {
		if p.Host.Links[i].Name == "caliea2aa288365" {
			p.Host.Links[i].Name += strings.Repeat("x", 1<<20)
		}
	}
	p.Sanitize()
	h := startProgram(t, Options{Source: &scriptSource{answers: []answer{{pair: p}}}}, 160, 48)
	h.waitFor("the recording", loaded)
	h.press("m")
	m := h.waitFor("the map", func(m Model) bool { return m.lay.mapAt != mapOff })
	sc := screen(m)
	for _, want := range []string{"names ending in … were cut, too long", "caliea2aa288365…", "interface names to 15 bytes"} {
		if !strings.Contains(sc, want) {
			t.Errorf("the screen does not say %q:\n%s", want, sc)
		}
	}
}
