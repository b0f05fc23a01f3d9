package ui

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"podlab/netview"
)

// viewAt is the model sized and loaded with the lesson recording, at the
// first step of a section, the way a student gets there.
func viewAt(t *testing.T, w, h, section int, noColor bool, keys ...string) Model {
	t.Helper()
	var m tea.Model = New(Options{Source: recordingSource(t), NoColor: noColor, Section: section, Now: fixedNow})
	m, _ = m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	m, _ = m.Update(collectedMsg{id: 1, pair: lessonRecording(t), at: fixedNow()})
	for _, k := range keys {
		m, _ = m.Update(keyMsg(k))
	}
	return m.(Model)
}

// goldenSteps are one step per section: the step that section is about.
var goldenSteps = []struct {
	name    string
	section int
	keys    []string
}{
	{"s2-link", 2, []string{"n", "n", "n", "tab"}},
	{"s3-host-end", 3, []string{"n", "tab", "tab"}},
	{"s4-blackhole", 4, []string{"n", "n", "n", "n", "tab", "tab"}},
	{"s3-map", 3, []string{"n", "m"}},
	{"s4-map", 4, []string{"n", "n", "m", "tab"}},
}

// m puts the map where there is room: in place of the panes on a small
// terminal, under them on a large one; m again takes it away.
func TestMapPlace(t *testing.T) {
	tests := []struct {
		w, h int
		want mapPlace
	}{
		{80, 24, mapFull},
		{120, 30, mapFull},
		{160, 48, mapBelow},
		{200, 60, mapBelow},
	}
	for _, tt := range tests {
		t.Run(itoa(tt.w)+"x"+itoa(tt.h), func(t *testing.T) {
			m := viewAt(t, tt.w, tt.h, 3, true, "n")
			if m.lay.mapAt != mapOff || strings.Contains(m.content(), " map: ") {
				t.Fatalf("the map shows before m")
			}
			m = press(m, "m")
			if m.lay.mapAt != tt.want {
				t.Errorf("map at %v, want %v", m.lay.mapAt, tt.want)
			}
			out := ansi.Strip(m.content())
			if !strings.Contains(out, "9: caliea2aa288365@if3") || !strings.Contains(out, " map: ") {
				t.Errorf("no map on the screen:\n%s", out)
			}
			if rows := strings.Count(out, "\n") + 1; rows > tt.h {
				t.Errorf("%d rows on a %d-row terminal", rows, tt.h)
			}
			if tt.want == mapBelow && !strings.Contains(out, "node1 $ ip -c link show up") {
				t.Errorf("the panes are gone:\n%s", out)
			}
			m = press(m, "m")
			if m.lay.mapAt != mapOff || strings.Contains(m.content(), " map: ") {
				t.Errorf("m does not take the map away")
			}
		})
	}
}

func press(m Model, k string) Model {
	next, _ := m.Update(keyMsg(k))
	return next.(Model)
}

// At 80 columns the header keeps every section's title whole: the step's
// title gives way first.
func TestHeaderKeepsTheSection(t *testing.T) {
	m := viewAt(t, 80, 24, 1, true)
	for i := range m.course.steps {
		m.cur = i
		m.enterStep()
		st, _ := m.step()
		title := ""
		for _, s := range m.course.sections {
			if s.Number == st.Section {
				title = s.Title
			}
		}
		h := ansi.Strip(m.header())
		if !strings.Contains(h, title) {
			t.Errorf("step %s: header %q cuts the section's title %q", st.ID(), h, title)
		}
		if w := ansi.StringWidth(h); w > 80 {
			t.Errorf("step %s: header is %d wide", st.ID(), w)
		}
	}
}

func TestGoldenViews(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		for _, g := range goldenSteps {
			t.Run(g.name+"-"+itoa(size[0])+"x"+itoa(size[1]), func(t *testing.T) {
				m := viewAt(t, size[0], size[1], g.section, true, g.keys...)
				out := m.content()
				if sgrColour.MatchString(out) {
					t.Errorf("NoColor output has colours")
				}
				golden.RequireEqual(t, ansi.Strip(out)+"\n")
			})
		}
	}
	t.Run("s4-blackhole-colour-160x48", func(t *testing.T) {
		m := viewAt(t, 160, 48, 4, false, "n", "n", "n", "n", "tab", "tab")
		golden.RequireEqual(t, m.content()+"\n")
	})
}

// sgrColour matches an SGR sequence that sets a colour.
var sgrColour = regexp.MustCompile(`\x1b\[[0-9;]*(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])[;m]`)

func TestThemeTags(t *testing.T) {
	for _, dark := range []bool{true, false} {
		th := NewTheme(dark, false)
		fg := func(tag netview.Tag) any { return th.TagStyle(tag, false).GetForeground() }
		if fg(netview.TagVethPod) != fg(netview.TagVethHost) {
			t.Errorf("dark=%v: the two veth ends differ in colour", dark)
		}
		if fg(netview.TagVethPod) == fg(netview.TagGateway) {
			t.Errorf("dark=%v: the gateway has the veth's colour", dark)
		}
		seen := map[any]netview.Class{}
		for _, c := range []netview.Class{netview.ClassLocalPod, netview.ClassLocalBlockBlackhole, netview.ClassRemoteBlock,
			netview.ClassRemotePod, netview.ClassDefault, netview.ClassConnected, netview.ClassOther} {
			col := fg(netview.RouteTag(c))
			if col == nil {
				t.Errorf("dark=%v: class %s has no colour", dark, c)
			}
			if o, ok := seen[col]; ok {
				t.Errorf("dark=%v: classes %s and %s share a colour", dark, c, o)
			}
			seen[col] = c
		}
		if !th.TagStyle(netview.TagVethPod, true).GetBold() {
			t.Errorf("a highlighted tag is not bold")
		}
	}
	nc := NewTheme(true, true)
	for _, tag := range []netview.Tag{netview.TagVethPod, netview.TagGateway, netview.RouteTag(netview.ClassLocalPod)} {
		s := nc.TagStyle(tag, true)
		if s.GetForeground() != nil && s.GetForeground() != (nc.TagStyle(netview.TagNone, false).GetForeground()) {
			t.Errorf("NoColor: %s has a colour", tag)
		}
		if !s.GetBold() && !s.GetUnderline() {
			t.Errorf("NoColor: highlighted %s is neither bold nor underlined", tag)
		}
	}
}

func TestColourGoldenUsesTagStyles(t *testing.T) {
	m := viewAt(t, 160, 48, 4, false, "n", "n", "n", "n")
	out := m.content()
	th := m.sh.theme
	st, _ := m.step()
	for _, c := range []netview.Class{netview.ClassLocalPod, netview.ClassLocalBlockBlackhole, netview.ClassRemoteBlock} {
		tag := netview.RouteTag(c)
		want := th.TagStyle(tag, slices.Contains(st.Highlight, string(tag))).Render("X")
		seq := want[:strings.Index(want, "X")]
		if seq == "" {
			t.Fatalf("%s has no style to look for", c)
		}
		if !strings.Contains(out, seq) {
			t.Errorf("no span styled as %s (%q)", c, seq)
		}
	}
}

func TestStaleCollectDropped(t *testing.T) {
	m := viewAt(t, 80, 24, 4, true)
	var mm tea.Model = m
	mm, _ = mm.Update(keyMsg("r")) // asks with id 2
	mm, _ = mm.Update(collectedMsg{id: 1, err: errors.New("stale")})
	if mm.(Model).col.err != nil {
		t.Fatal("a stale answer was applied")
	}
	mm, _ = mm.Update(collectedMsg{id: 2, err: errors.New("fresh")})
	if mm.(Model).col.err == nil {
		t.Fatal("the current answer was dropped")
	}
}

func TestTickChain(t *testing.T) {
	var m tea.Model = New(Options{Source: recordingSource(t), Refresh: 1, Now: fixedNow})
	m, cmd := m.Update(collectedMsg{id: 1, pair: lessonRecording(t)})
	if cmd == nil {
		t.Fatal("no tick after a collection with Refresh set")
	}
	gen := m.(Model).col.tickGen
	if _, c := m.Update(tickMsg{gen: gen - 1}); c != nil {
		t.Error("a tick of an old chain started a collection")
	}
	m, c := m.Update(tickMsg{gen: gen})
	if c == nil || !m.(Model).col.inFlight {
		t.Error("the current tick did not collect")
	}
	if _, c := m.Update(tickMsg{gen: gen}); c != nil {
		t.Error("a tick during a collection started another")
	}
}

func TestWrapSpans(t *testing.T) {
	sp := []netview.Span{{Text: "9: "}, {Text: "caliea2aa288365@if3", Tag: netview.TagVethHost}, {Text: ": <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1410 qdisc noqueue state UP"}}
	tests := []struct {
		width int
		want  []string
	}{
		{200, []string{"9: caliea2aa288365@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1410 qdisc noqueue state UP"}},
		{40, []string{"9: caliea2aa288365@if3:", "    <BROADCAST,MULTICAST,UP,LOWER_UP>", "    mtu 1410 qdisc noqueue state UP"}},
		{12, []string{"9:", "    caliea2a", "    a288365@", "    if3:", "    <BROADCA", "    ST,MULTI", "    CAST,UP,", "    LOWER_UP", "    > mtu", "    1410", "    qdisc", "    noqueue", "    state UP"}},
	}
	for _, tc := range tests {
		t.Run(itoa(tc.width), func(t *testing.T) {
			rows := wrapSpans(sp, tc.width)
			var got []string
			for _, r := range rows {
				s := netview.Line{Spans: r}.String()
				if ansi.StringWidth(s) > tc.width {
					t.Errorf("row %q is wider than %d", s, tc.width)
				}
				got = append(got, s)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
			// The veth tag stays on its text.
			for _, r := range rows {
				for _, s := range r {
					if strings.Contains(s.Text, "cali") && s.Tag != netview.TagVethHost {
						t.Errorf("span %q lost its tag", s.Text)
					}
				}
			}
		})
	}
}

func TestRunNeedsTerminal(t *testing.T) {
	// go test's stdin is not a terminal.
	if err := Run(t.Context(), Options{Source: recordingSource(t)}); !errors.Is(err, ErrNoTerminal) {
		t.Fatalf("Run without a terminal: %v", err)
	}
}

// However small the terminal, the message fits it: no line wider, no more
// lines than it has, and it starts by saying what is wrong.
func TestTooSmallFits(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{59, 16}, {60, 15}, {20, 5}, {12, 3}, {5, 2}, {1, 1}} {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			s := tooSmall(sz.w, sz.h)
			lines := strings.Split(s, "\n")
			if len(lines) > sz.h {
				t.Errorf("%d lines on a terminal of %d:\n%s", len(lines), sz.h, s)
			}
			for _, l := range lines {
				if w := ansi.StringWidth(l); w > sz.w {
					t.Errorf("line %q is %d wide on a terminal of %d", l, w, sz.w)
				}
			}
			// Cut or not, what shows is the message's beginning.
			squash := func(s string) string { return strings.Join(strings.Fields(s), "") }
			full := squash(tooSmallMsg(sz.w, sz.h))
			if got := squash(s); got == "" || !strings.HasPrefix(full, got) || !strings.HasPrefix(full, "terminaltoosmall") {
				t.Errorf("the message is not the start of %q:\n%s", full, s)
			}
		})
	}
}

// A pane's body is exactly its size, whatever its rows: fewer rows are
// filled with blanks, and a row wider than the pane is cut, not wrapped
// onto the next (which would push the rows below it down).
func TestPaneBodyKeepsItsSize(t *testing.T) {
	tests := []struct {
		name  string
		w, h  int
		shown []string
		want  []string
	}{
		{"fewer rows", 6, 3, []string{"ab"}, []string{"ab    ", "      ", "      "}},
		{"too wide", 4, 2, []string{"abcdefgh", "xy"}, []string{"abcd", "xy  "}},
		{"wide runes", 5, 1, []string{"路由表路由"}, []string{"路由 "}},
		{"styled", 3, 1, []string{"\x1b[1mbold\x1b[m"}, []string{"bol"}},
		{"no size", 0, 0, []string{"ab"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := netPane{width: tt.w, height: tt.h, shown: tt.shown}
			body := p.body()
			if tt.want == nil {
				if body != "" {
					t.Fatalf("body = %q, want nothing", body)
				}
				return
			}
			got := strings.Split(body, "\n")
			for i := range got {
				if w := ansi.StringWidth(got[i]); w != tt.w {
					t.Errorf("row %d %q is %d wide, want %d", i, got[i], w, tt.w)
				}
				got[i] = ansi.Strip(got[i])
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("body = %q, want %q", got, tt.want)
			}
		})
	}
}

// A lab that changed while it was being read, or just after, is read
// again after a pause, not at once: a burst of changes is read a few
// times, not once per change. r during the pause reads it at once, and
// the pause then starts nothing.
func TestBurstIsReadAfterAPause(t *testing.T) {
	var m tea.Model = New(Options{Source: recordingSource(t), Refresh: time.Hour, Now: fixedNow})
	mm := m.(Model)
	mm.col.watching, mm.col.watchFirst = true, false
	m, _ = mm.Update(changedMsg{ch: make(chan struct{})})
	if !m.(Model).col.inFlight {
		t.Fatal("a change did not start a read")
	}
	m, _ = m.Update(changedMsg{ch: make(chan struct{})}) // during the read
	m, cmd := m.Update(collectedMsg{id: m.(Model).col.id, pair: lessonRecording(t)})
	if !m.(Model).col.inFlight || m.(Model).col.dirty {
		t.Fatalf("after a read the lab changed under: in flight %v, dirty %v; want a read pending", m.(Model).col.inFlight, m.(Model).col.dirty)
	}
	var burst *burstMsg
	for _, msg := range runCmds(cmd) {
		switch msg := msg.(type) {
		case burstMsg:
			burst = &msg
		case collectedMsg:
			t.Fatal("the lab was read again at once")
		}
	}
	if burst == nil || burst.id != m.(Model).col.id {
		t.Fatalf("no pause before the next read: %+v", burst)
	}
	m, _ = m.Update(changedMsg{ch: make(chan struct{})}) // during the pause
	m2, c := m.Update(*burst)
	if c == nil || !m2.(Model).col.inFlight || m2.(Model).col.dirty {
		t.Fatal("the pause's end did not read the lab, or left it to be read again")
	}
	m3, _ := m.Update(tea.KeyPressMsg{Code: 'r', Text: "r"})
	if _, c := m3.Update(*burst); c != nil {
		t.Error("the pause started a read after r had read the lab")
	}
	// A change just after a read is also read after a pause: a lab that
	// keeps changing changes between reads too.
	m2, _ = m2.Update(collectedMsg{id: m2.(Model).col.id, pair: lessonRecording(t)})
	just := m2.(Model)
	just.col.startedAt = time.Now().Add(time.Hour) // "just": however slow this machine
	m2, cmd = just.Update(changedMsg{ch: make(chan struct{})})
	if !m2.(Model).col.inFlight {
		t.Fatal("a change just after a read neither started nor awaited a read")
	}
	for _, msg := range runCmds(cmd) {
		if _, ok := msg.(collectedMsg); ok {
			t.Fatal("a change just after a read was read at once")
		}
	}
}

// runCmds runs cmd and the commands of the batches it returns, each on
// its own goroutine, and gives the messages that come within two
// seconds: commands that wait on a channel or a long tick give none.
func runCmds(cmd tea.Cmd) []tea.Msg {
	var out []tea.Msg
	for queue := []tea.Cmd{cmd}; len(queue) > 0; queue = queue[1:] {
		c := queue[0]
		if c == nil {
			continue
		}
		done := make(chan tea.Msg, 1)
		go func() { done <- c() }()
		select {
		case msg := <-done:
			if b, ok := msg.(tea.BatchMsg); ok {
				queue = append(queue, b...)
			} else if msg != nil {
				out = append(out, msg)
			}
		case <-time.After(2 * time.Second):
		}
	}
	return out
}
