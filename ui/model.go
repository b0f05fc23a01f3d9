// Package ui is podlab's terminal program: the lesson step by step beside
// the live views of the customer pod's namespace and its node's.
package ui

import (
	"context"
	"net/netip"
	"slices"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"podlab/content"
	"podlab/netview"
	"podlab/progress"
)

// Options configure the program.
type Options struct {
	Source Source
	// Refresh is how often a live lab is collected again; 0 collects once
	// (a recording) and then only on 'r'.
	Refresh time.Duration
	// NoColor keeps only bold, underline, reverse and markers (NO_COLOR).
	NoColor bool
	// Section is the section (1-4) to start at; 0 is the first.
	Section int
	// Now is the clock of the "refreshed" time; nil is time.Now.
	Now func() time.Time

	// SelfPaced checks the steps that ask a question and keeps the
	// student's progress; without it they navigate freely (an
	// instructor's class).
	SelfPaced bool
	// Progress is where a self-paced student left off; nil starts afresh.
	// The program resumes at its last step unless Section says otherwise.
	Progress *progress.Progress
	// Saver keeps the progress after each change; nil keeps it in memory.
	Saver Saver

	// Present is the presenter view for a projector (--present): a
	// banner title, a larger lesson, speaker notes (N) and answers (A).
	Present bool
	// Notices are what podlab decided at the start (which lab and why,
	// the URL students follow): shown on the first screen until a key.
	Notices []string

	// Presenter, with --serve, is told each step shown; w opens the roster.
	Presenter Presenter
	// Leader, with --follow, moves the program with the presenter; f
	// steps away and rejoins. Reporter then gets the student's step.
	Leader   Leader
	Reporter Reporter
}

// Sizes below which the program shows a message instead of the lesson.
const (
	MinWidth  = 60
	MinHeight = 16
	// wideWidth and wideHeight are where the panes go side by side.
	wideWidth  = 120
	wideHeight = 30
	// explainRows is the height of the explanation of the selected line.
	explainRows = 2
)

// mode is what has the keys and the screen: it routes Update and View.
type mode int

const (
	modeLesson mode = iota // the lesson, its panes and the map
	modeLookup             // the route lookup's prompt takes the keys
	modeAnswer             // the answer's prompt takes the keys
	modeRoster             // the presenter's roster fills the screen
)

// prompting says the one-line prompt is open and takes the keys.
func (md mode) prompting() bool { return md == modeLookup || md == modeAnswer }

type focusArea int

const (
	focusLesson focusArea = iota
	focusPod
	focusHost
)

// lookupResult is the last route lookup.
type lookupResult struct {
	id        int
	input     string
	dst       netip.Addr
	err       string
	route     netview.Route
	found     bool
	class     *netview.RouteClass
	kernel    netview.Route // the kernel's answer
	kernelErr string
	asking    bool
	hasKern   bool
}

// Model is the root of the program. mode routes the keys and the view;
// each group of state below belongs to one part of the program.
type Model struct {
	opts Options
	env  env
	sh   *shared
	mode mode

	course course
	cur    int // the step shown, an index into course.steps

	focus focusArea
	lay   layoutState

	lesson lessonPane
	pod    netPane
	host   netPane
	mapv   mapPane
	help   help.Model
	prompt textinput.Model
	look   lookupState

	// col reads the lab and derives each read once.
	col collector

	self  selfState  // self-paced mode
	class classroom  // a class, presenting or following
	pres  presenting // the presenter view, the first screen's notices
}

// course is the lesson as loaded.
type course struct {
	sections []content.Section
	steps    []content.Step // every section's, in order
	err      error          // why the lesson could not be loaded
}

// layoutState is what the last layout decided.
type layoutState struct {
	narrow bool
	// mapAt is where the layout found room for the map.
	mapAt mapPlace
	// tab is the pane shown in the narrow layout.
	tab netview.Side
}

// lookupState is the route lookup's.
type lookupState struct {
	res *lookupResult // the last lookup; nil none
	id  int           // the last lookup's id: a stale kernel answer is dropped
	// hostRoutes: a lookup shows the host's routes whatever the step.
	hostRoutes bool
}

// selfState is the self-paced mode's: prog is nil without it. prog is
// never changed in place (a save may be writing it): a change replaces
// it.
type selfState struct {
	prog        *progress.Progress
	check       *checkState
	note        string // resumed at, a skipped question
	saving      bool
	savePending bool
	quitting    bool
	saveErr     error
}

// classroom is a class's: fol is the follower's state (nil unless
// --follow); teller tells the class the step; rosterOff scrolls the
// presenter's roster.
type classroom struct {
	fol       *follow
	teller    *teller
	rosterOff int
}

// presenting is the presenter view's: notesKey flips the notes (shown
// beside the lesson on a wide terminal, in its place on a small one);
// answerAt is the step (its index + 1) whose answers A revealed, 0 none:
// a revealed answer stays with its step. notices are opts.Notices until
// the first key.
type presenting struct {
	notesKey bool
	answerAt int
	notices  []string
}

// New builds the program's model; Run runs it.
func New(opts Options) Model {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	keys := defaultKeys()
	keys.Answer.SetEnabled(opts.SelfPaced)
	keys.Roster.SetEnabled(opts.Presenter != nil)
	keys.Follow.SetEnabled(opts.Leader != nil)
	keys.Notes.SetEnabled(opts.Present)
	keys.Reveal.SetEnabled(opts.Present)
	sh := &shared{theme: NewTheme(true, opts.NoColor), keys: keys}
	e := env{ctx: context.Background(), now: now}
	m := Model{
		opts:   opts,
		env:    e,
		col:    newCollector(e, opts.Source, opts.Refresh),
		sh:     sh,
		lesson: newLessonPane(sh),
		pod:    newNetPane(sh, netview.SidePod),
		host:   newNetPane(sh, netview.SideHost),
		mapv:   newMapPane(sh),
		help:   help.New(),
		lay:    layoutState{tab: netview.SidePod},
		class:  classroom{teller: &teller{}},
	}
	m.help.Styles = sh.theme.Help
	m.prompt = textinput.New()
	m.prompt.CharLimit = 64
	m.course.sections, m.course.err = content.Lesson()
	for _, s := range m.course.sections {
		m.course.steps = append(m.course.steps, s.Steps...)
	}
	if opts.SelfPaced {
		m.self.prog = opts.Progress.Clone()
		if opts.Section <= 1 {
			m.resume()
		}
	}
	if opts.Section > 1 {
		for i, s := range m.course.steps {
			if s.Section == opts.Section {
				m.cur = i
				break
			}
		}
	}
	if opts.Leader != nil {
		m.class.fol = &follow{ch: make(chan leadMsg, 64)}
	}
	m.pres.notices = opts.Notices
	m.resumeClass()
	m.enterStep()
	return m
}

// Init asks for the terminal's background and the first snapshots.
func (m Model) Init() tea.Cmd {
	cmds := []tea.Cmd{tea.RequestBackgroundColor, m.col.Init()}
	if m.mode.prompting() {
		cmds = append(cmds, m.prompt.Focus())
	}
	cmds = append(cmds, m.classCmds()...)
	cmds = append(cmds, m.tellCmd())
	return tea.Batch(cmds...)
}

// Update handles one message, then saves the progress if it changed.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	next, cmd := m.update(msg)
	nm := next.(Model)
	if nm.cur != m.cur || nm.self.prog != m.self.prog {
		cmd = tea.Batch(cmd, nm.tellCmd())
	}
	if save := nm.saveIfNeeded(); save != nil {
		cmd = tea.Batch(cmd, save)
	}
	return nm, cmd
}

func (m Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		sh := *m.sh
		sh.width, sh.height = msg.Width, msg.Height
		m.share(&sh)
		m.layout()
		return m, nil
	case tea.BackgroundColorMsg:
		sh := *m.sh
		sh.theme = NewTheme(msg.IsDark(), m.opts.NoColor)
		m.share(&sh)
		m.help.Styles = m.sh.theme.Help
		m.rebuild(true)
		m.lesson.refresh(false)
		return m, nil
	case collectedMsg:
		return m.collected(msg)
	case leadMsg:
		return m.led(msg)
	case classTickMsg:
		return m, classTickCmd() // redraws the follower count and the roster
	case savedMsg:
		return m.saved(msg)
	case stopMsg:
		if m.self.quitting {
			return m, nil // already waiting for the save
		}
		return m.quit()
	case watchingMsg, changedMsg, burstMsg, tickMsg:
		var cmd tea.Cmd
		m.col, cmd = m.col.Update(msg)
		return m, cmd
	case kernelRouteMsg:
		if m.look.res != nil && msg.id == m.look.id {
			// Copy: an earlier model may still point at the old answer.
			l := *m.look.res
			l.asking, l.hasKern = false, true
			if msg.err != nil {
				l.kernelErr = msg.err.Error()
			} else {
				l.kernel = msg.route
			}
			m.look.res = &l
			m.layout() // the answer may take another row
		}
		return m, nil
	case tea.KeyPressMsg:
		if m.pres.notices != nil {
			m.pres.notices = nil
			m.layout()
		}
		return m.key(msg)
	}
	if m.mode.prompting() {
		var cmd tea.Cmd
		m.prompt, cmd = m.prompt.Update(msg)
		return m, cmd
	}
	return m, nil
}

// share hands the root and its children a new shared context. A shared
// context is never changed once handed out: an older copy of the model
// may still be drawing with it.
func (m *Model) share(sh *shared) {
	m.sh = sh
	m.lesson.sh, m.pod.sh, m.host.sh, m.mapv.sh = sh, sh, sh, sh
}

// setEnv hands the program and its collector the way out Run made.
func (m *Model) setEnv(e env) {
	m.env, m.col.env = e, e
}

// collected takes a collection's answer: a new pair is derived once,
// then shown.
func (m Model) collected(msg collectedMsg) (tea.Model, tea.Cmd) {
	if !m.col.current(msg) {
		return m, nil // a refresh superseded this one
	}
	last := m.col.lab
	var colCmd tea.Cmd
	m.col, colCmd = m.col.Update(msg)
	if m.col.lab != last {
		m.rebuild(true)
		m.visit() // a question podlab cannot check counts once the lab is known
	}
	cmds := []tea.Cmd{colCmd}
	if addr := m.goneAddr(); addr != "" {
		// A pod just went: show where its address falls now.
		mm, cmd := m.lookup(addr)
		m = mm.(Model)
		cmds = append(cmds, cmd)
	}
	return m, tea.Batch(cmds...)
}

// lab is the last refresh, derived once; nil until the lab is read.
func (m Model) lab() *content.Lab { return m.col.lab }

// changed is what the status line says changed at the last refresh.
func (m Model) changed() string {
	if m.lab() == nil {
		return ""
	}
	c := m.lab().Changes.String()
	if m.col.lost {
		lost := "notifications were lost, the lab was read again whole"
		if c != "" {
			lost += "; " + c
		}
		return lost
	}
	return c
}

func (m Model) key(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	keys := m.sh.keys
	switch {
	case m.mode.prompting() && !m.navInPrompt(k):
		return m.promptKey(k)
	case m.mode.prompting():
		// A navigation key leaves the prompt.
		m.closePrompt()
		m.layout()
	case m.mode == modeRoster:
		if nm, cmd, ok := m.rosterKey(k); ok {
			return nm, cmd
		}
	}
	if nm, cmd, ok := m.keyClass(k); ok {
		return nm, cmd
	}
	if key.Matches(k, keys.Next, keys.Prev, keys.Section) {
		m.stepAway() // a follower who moves browses on their own
	}
	switch {
	case key.Matches(k, keys.Quit):
		return m.quit()
	case key.Matches(k, keys.Answer):
		if st, _, _ := m.asks(); st.CheckKind != "" {
			return m, m.openAnswer()
		}
	case key.Matches(k, keys.Help):
		m.help.ShowAll = !m.help.ShowAll
		m.layout()
	case key.Matches(k, keys.Cancel):
		m.help.ShowAll = false
		if m.look.res != nil {
			m.look.res, m.look.hostRoutes = nil, false
			m.rebuild(true)
		}
		m.self.check = nil
		m.layout()
	case key.Matches(k, keys.Next):
		return m.goStep(m.cur + 1)
	case key.Matches(k, keys.Prev):
		return m.goStep(m.cur - 1)
	case key.Matches(k, keys.Section):
		n := int(k.Code - '0')
		for i, s := range m.course.steps {
			if s.Section == n {
				return m.goStep(i)
			}
		}
	case key.Matches(k, keys.Focus):
		m.setFocus((m.focus + 1) % 3)
	case key.Matches(k, keys.FocusBack):
		m.setFocus((m.focus + 2) % 3)
	case key.Matches(k, keys.Refresh):
		var cmd tea.Cmd
		m.col, cmd = m.col.resync()
		return m, cmd
	case key.Matches(k, keys.Lookup):
		return m, m.openPrompt()
	case key.Matches(k, keys.Map):
		m.mapv.open = !m.mapv.open
		if m.mapv.open {
			m.mapv.settle = true // open on what the step is about
			m.rebuild(true)
		}
		m.layout()
	case key.Matches(k, keys.Up, keys.Down, keys.PageUp, keys.PageDown):
		var cmd tea.Cmd
		switch {
		case m.focus == focusLesson:
			m.lesson, cmd = m.lesson.Update(k)
		case m.lay.mapAt == mapFull:
			m.mapv, cmd = m.mapv.Update(k)
		case m.focus == focusPod:
			m.pod, cmd = m.pod.Update(k)
		case m.focus == focusHost:
			m.host, cmd = m.host.Update(k)
		}
		return m, cmd
	}
	return m, nil
}

// navInPrompt says whether a key pressed at the lookup prompt leaves it
// to navigate: tab and shift+tab, and ←/→ while the box is empty. Every
// printable key is the box's: a student who types "hello" there must
// not move the lesson. An answer's prompt keeps even those: only esc
// leaves it.
func (m Model) navInPrompt(k tea.KeyPressMsg) bool {
	keys := m.sh.keys
	switch {
	case m.mode == modeAnswer:
		return false
	case key.Matches(k, keys.Focus, keys.FocusBack):
		return true
	case key.Matches(k, promptStep):
		return m.prompt.Value() == ""
	}
	return false
}

// promptKey is a key the open prompt takes: typed into it, or one that
// submits or closes it.
func (m Model) promptKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	keys := m.sh.keys
	switch {
	case key.Matches(k, keys.Interrupt):
		return m.quit()
	case key.Matches(k, keys.Cancel):
		m.closePrompt()
		m.layout()
		return m, nil
	case key.Matches(k, keys.Submit) && m.mode == modeAnswer:
		return m.submitAnswer()
	case key.Matches(k, keys.Submit):
		return m.runLookup()
	}
	var cmd tea.Cmd
	m.prompt, cmd = m.prompt.Update(k)
	return m, cmd
}

// closePrompt gives the keys back to the lesson, if the prompt had them.
func (m *Model) closePrompt() {
	if m.mode.prompting() {
		m.mode = modeLesson
	}
	m.prompt.Blur()
}

func (m *Model) openPrompt() tea.Cmd {
	m.setLookupPrompt()
	m.mode = modeLookup
	m.prompt.SetValue("")
	m.layout()
	return m.prompt.Focus()
}

func (m Model) goStep(i int) (tea.Model, tea.Cmd) {
	if i < 0 || i >= len(m.course.steps) || i == m.cur {
		return m, nil
	}
	m.self.note = ""
	if i > m.cur && m.unanswered() {
		m.self.note = m.course.steps[m.cur].ID() + "'s question is not answered yet: come back to it to finish the lesson"
	}
	m.cur = i
	m.enterStep()
	if m.mode.prompting() {
		return m, m.prompt.Focus()
	}
	return m, nil
}

// enterStep sets up a step freshly: panes, cursor, lookup state.
func (m *Model) enterStep() {
	m.look.res, m.look.hostRoutes = nil, false
	m.self.check = nil
	m.closePrompt()
	m.setLookupPrompt()
	if st, ok := m.step(); ok {
		m.lay.tab = mainSide(st)
		if st.Extra == "lookup" && m.mode != modeRoster {
			m.mode = modeLookup
			m.prompt.SetValue("")
		}
	}
	m.visit()
	if m.focus != focusLesson {
		m.focus = focusPod
		if m.lay.tab == netview.SideHost {
			m.focus = focusHost
		}
	}
	m.rebuild(false)
	m.layout()
}

// mainSide is the pane a step is mostly about.
func mainSide(st content.Step) netview.Side {
	if len(st.HostViews) > 0 && (len(st.PodViews) == 0 || st.Where != "pod") {
		return netview.SideHost
	}
	return netview.SidePod
}

// shown is the pane of the current tab: the one the narrow layout shows,
// and the one the explanation speaks of. setFocus keeps the tab on the
// focused pane.
func (m Model) shown() netPane {
	if m.lay.tab == netview.SideHost {
		return m.host
	}
	return m.pod
}

func (m *Model) setFocus(f focusArea) {
	m.focus = f
	switch f {
	case focusPod:
		m.lay.tab = netview.SidePod
	case focusHost:
		m.lay.tab = netview.SideHost
	}
	m.pod.setFocus(f == focusPod)
	m.host.setFocus(f == focusHost)
	m.mapv.focused = f != focusLesson && m.lay.mapAt == mapFull
	m.lesson.focused = f == focusLesson
}

func (m Model) step() (content.Step, bool) {
	if m.cur < 0 || m.cur >= len(m.course.steps) {
		return content.Step{}, false
	}
	return m.course.steps[m.cur], true
}

// rebuild renders the step's lesson text and views from the current pair;
// keep holds the panes' cursors (a refresh) instead of resetting them.
func (m *Model) rebuild(keep bool) {
	st, ok := m.step()
	if !ok {
		return
	}
	vars := m.vars()
	var doc lessonDoc
	for _, c := range st.RenderCommands(vars) {
		doc.commands = append(doc.commands, typedCommand{where: whereName(c.Where, vars), text: c.Text})
	}
	if m.unanswered() {
		doc.markdown = st.RenderAsking(vars)
	} else {
		doc.markdown = st.Render(vars)
	}
	m.lesson.setDoc(doc, !keep)

	hi := map[netview.Tag]bool{}
	var order []netview.Tag
	for _, h := range st.Highlight {
		hi[netview.Tag(h)] = true
		order = append(order, netview.Tag(h))
	}
	var cur, prev [2]*netview.Snapshot
	var curA *netview.Analysis
	var pair *netview.Pair
	if m.lab() != nil {
		pair = m.lab().Pair
		cur = [2]*netview.Snapshot{&pair.Pod, &pair.Host}
		curA = m.lab().Analysis
		if p := m.lab().Prev; p != nil {
			prev = [2]*netview.Snapshot{&p.Pod, &p.Host}
		}
	}
	hostViews := toViews(st.HostViews)
	if m.look.hostRoutes && !slices.Contains(hostViews, netview.ViewRoute) {
		hostViews = append([]netview.View{netview.ViewRoute}, hostViews...)
	}
	podWho, node := m.paneTitles()
	m.pod.setData(paneInput{who: podWho, views: toViews(st.PodViews), cur: cur[0], curA: curA,
		prev: prev[0], hi: hi, order: order, keepCursor: keep, empty: "This step shows nothing inside the pod."})
	m.host.setData(paneInput{who: node, views: hostViews, cur: cur[1], curA: curA,
		prev: prev[1], hi: hi, order: order, keepCursor: keep, empty: "This step shows nothing on the node."})
	if st.Extra == "delete" && !keep && vars.DeleteIP != "" {
		// Start on the /32 of the pod the step's command deletes, not on
		// the first pod's.
		m.host.selectWhere(func(l netview.Line) bool { return routeLineMatches(l, vars.DeleteIP) })
	}
	if m.mapv.open { // a hidden map is not drawn: at 20,000 routes that costs
		m.mapv.setData(pair, curA, hi, order, keep)
	}
	if m.mapv.open {
		m.layout() // the map's height decides the panes'
	}
	m.setFocus(m.focus)
}

func toViews(s []string) []netview.View {
	out := make([]netview.View, 0, len(s))
	for _, v := range s {
		out = append(out, netview.View(v))
	}
	return out
}

// goneAddr is, on a step that invites deleting a pod, the address of a
// local pod whose /32 the last refresh no longer has and that is not
// already looked up; "" otherwise.
func (m Model) goneAddr() string {
	st, ok := m.step()
	if !ok || st.Extra != "delete" || m.mode.prompting() || m.lab() == nil || len(m.lab().Gone) == 0 {
		return ""
	}
	if gone := m.lab().Gone[0]; m.look.res == nil || m.look.res.input != gone {
		return gone
	}
	return ""
}
