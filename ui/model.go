// Package ui is podlab's terminal program: the lesson step by step beside
// the live views of the customer pod's namespace and its node's.
package ui

import (
	"context"
	"net/netip"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"podlab/content"
	"podlab/netview"
	"podlab/progress"
)

// Options configure the program.
type Options struct {
	Source Source
	// Sections are the lesson's, from its pack (each run its own copy);
	// nil is the built-in lesson's.
	Sections []content.Section
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
// --follow); teller tells the class the step; roster is the presenter's
// roster screen.
type classroom struct {
	fol    *follow
	teller *teller
	roster rosterView
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
		class:  classroom{teller: &teller{}, roster: rosterView{sh: sh}},
	}
	m.help.Styles = sh.theme.Help
	m.prompt = textinput.New()
	m.prompt.CharLimit = 64
	if m.course.sections = opts.Sections; m.course.sections == nil {
		m.course.sections, m.course.err = content.Lesson()
	}
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
	m.lesson.sh, m.pod.sh, m.host.sh, m.mapv.sh, m.class.roster.sh = sh, sh, sh, sh, sh
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
