package ui

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"podlab/content"
	"podlab/netview"
)

// bigPane is the host pane's route view of the lesson's node grown to n
// routes.
func bigPane(t testing.TB, n int) (netPane, *netview.Pair) {
	t.Helper()
	p := lessonRecording(t)
	for i := 0; len(p.Host.Routes) < n; i++ {
		p.Host.Routes = append(p.Host.Routes, netview.Route{Family: 4, Table: netview.TableMain, Type: "unicast",
			Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(64 + i/1024), byte(i / 4), byte(i % 4 * 64)}), 26),
			Gw:  netip.MustParseAddr("198.51.100.1"), Dev: "eth0", Scope: "universe", Protocol: netview.ProtoBird})
	}
	var first *netview.Refresh
	lab := &content.Lab{Refresh: first.Next(&netview.Analyzer{}, p, false)}
	sh := &shared{theme: NewTheme(true, false), keys: defaultKeys()}
	pane := newNetPane(sh, netview.SideHost)
	pane.setSize(100, 30)
	pane.setFocus(true)
	pane.setData(paneInput{who: "node1", views: []netview.View{netview.ViewRoute}, lab: lab})
	return pane, p
}

// A pane of 20,000 routes shows the right rows wherever the cursor goes,
// though it styles only those on screen.
func TestPaneLargeRouteView(t *testing.T) {
	pane, p := bigPane(t, 20000)
	last := p.Host.Routes[len(p.Host.Routes)-1].Dst.String()
	tests := []struct {
		name string
		dst  string
	}{
		{"the last line", last},
		{"one in the middle", "10.73.200.0/26"},
		{"the first", "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !pane.selectWhere(func(l netview.Line) bool { return strings.HasPrefix(l.String(), tt.dst+" ") }) {
				t.Fatalf("no line for %s", tt.dst)
			}
			body := ansi.Strip(pane.body())
			rows := strings.Split(body, "\n")
			if len(rows) != 30 {
				t.Fatalf("%d rows, want 30", len(rows))
			}
			sel := ""
			for _, r := range rows {
				if strings.HasPrefix(r, "▸") {
					sel = r
				}
				if strings.TrimSpace(r) == "" {
					t.Errorf("a blank row on screen:\n%s", body)
					break
				}
			}
			if !strings.Contains(sel, tt.dst+" ") {
				t.Errorf("the selected row is %q, want %s:\n%s", sel, tt.dst, body)
			}
		})
	}
}

func BenchmarkPaneCursorScale(b *testing.B) {
	for _, n := range []int{1000, 20000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			pane, _ := bigPane(b, n)
			down := true
			b.ReportAllocs()
			for b.Loop() {
				if down {
					pane.cursor++
				} else {
					pane.cursor--
				}
				down = !down
				pane.refresh()
			}
		})
	}
}

// BenchmarkCollectedScale is what the program does with a new pair of a
// node with 20,000 routes, one route more or less than the last: analyse
// it, compare, lay the panes out.
func BenchmarkCollectedScale(b *testing.B) {
	_, p := bigPane(b, 20000)
	q := *p
	q.Host.Routes = append(append([]netview.Route(nil), p.Host.Routes...), netview.Route{Family: 4, Table: netview.TableMain, Type: "unicast",
		Dst: netip.MustParsePrefix("10.99.0.0/26"), Gw: netip.MustParseAddr("198.51.100.1"), Dev: "eth0", Scope: "universe", Protocol: netview.ProtoBird})
	// Section 4 opens on the node's routes.
	var m tea.Model = New(Options{Source: &scriptSource{answers: []answer{{pair: p}}}, Section: 4})
	m, _ = m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	m, _ = m.Update(collectedMsg{id: 1, pair: p})
	pairs := []*netview.Pair{&q, p}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		mm := m.(Model)
		mm.col.id++
		mm.col.inFlight = true
		// A new pair each time, as a live lab gives: nothing cached
		// for it yet.
		fresh := *pairs[i%2]
		m, _ = mm.Update(collectedMsg{id: mm.col.id, pair: &fresh})
	}
}

// The lesson's text names a few of a large node's remote blocks and
// counts the rest: it does not list twenty thousand.
func TestLessonVarsCountRemoteBlocks(t *testing.T) {
	_, p := bigPane(t, 20000)
	a := netview.Analyze(p)
	remote := 0
	for _, rc := range a.Routes {
		if rc.Side == netview.SideHost && rc.Class == netview.ClassRemoteBlock {
			remote++
		}
	}
	v := content.VarsOf(p, &a)
	listed := strings.Count(v.RemoteBlocks, " via ")
	if listed != content.MaxRemoteBlocks {
		t.Errorf("%d remote blocks listed, want %d: %.200s", listed, content.MaxRemoteBlocks, v.RemoteBlocks)
	}
	if want := fmt.Sprintf(" and %d more", remote-content.MaxRemoteBlocks); !strings.HasSuffix(v.RemoteBlocks, want) {
		t.Errorf("remote blocks end %q, want %q", v.RemoteBlocks[max(len(v.RemoteBlocks)-40, 0):], want)
	}
}
