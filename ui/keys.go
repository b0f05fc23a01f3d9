package ui

import "charm.land/bubbles/v2/key"

// keyMap is every key the program answers; the help bar is built from it.
type keyMap struct {
	Next, Prev                 key.Binding
	Section                    key.Binding // 1-4
	Focus, FocusBack           key.Binding
	Up, Down, PageUp, PageDown key.Binding
	Refresh, Lookup            key.Binding
	Map                        key.Binding
	Answer                     key.Binding // self-paced mode
	Roster                     key.Binding // presenter (--serve)
	Follow                     key.Binding // follower (--follow)
	Notes, Reveal              key.Binding // presenter view (--present)
	Help, Quit                 key.Binding
	Interrupt                  key.Binding // ctrl+c, which quits even from the prompt
	// Lookup prompt.
	Submit, Cancel key.Binding
}

func defaultKeys() keyMap {
	return keyMap{
		Next:      key.NewBinding(key.WithKeys("right", "l", "n", "space"), key.WithHelp("→/n/space", "next")),
		Prev:      key.NewBinding(key.WithKeys("left", "h", "p"), key.WithHelp("←/p", "back")),
		Section:   key.NewBinding(key.WithKeys("1", "2", "3", "4"), key.WithHelp("1-4", "go to section")),
		Focus:     key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "focus")),
		FocusBack: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "focus back")),
		Up:        key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:      key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down/select")),
		PageUp:    key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown:  key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		Refresh:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),
		Lookup:    key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "lookup")),
		Map:       key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "map")),
		Answer:    key.NewBinding(key.WithKeys("a", "enter"), key.WithHelp("a", "answer")),
		Roster:    key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "roster"), key.WithDisabled()),
		Follow:    key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "on your own/rejoin"), key.WithDisabled()),
		Notes:     key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "notes"), key.WithDisabled()),
		Reveal:    key.NewBinding(key.WithKeys("A"), key.WithHelp("A", "answer"), key.WithDisabled()),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "keys")),
		Quit:      key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Interrupt: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		Submit:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "look up")),
		Cancel:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close")),
	}
}

// ShortHelp is the one-line help bar.
func (k keyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Next, k.Prev, k.Answer, k.Follow, k.Notes, k.Reveal, k.Roster, k.Focus, k.Map, k.Lookup, k.Refresh, k.Help, k.Quit}
}

// FullHelp is the help shown by '?'.
func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Next, k.Prev, k.Section},
		{k.Focus, k.FocusBack, k.Up, k.Down, k.PageUp, k.PageDown},
		{k.Answer, k.Follow, k.Notes, k.Reveal, k.Roster, k.Map, k.Lookup, k.Submit, k.Cancel, k.Refresh, k.Help, k.Quit},
	}
}

// promptKeys is the help bar while the lookup prompt is open: the keys
// that still act there, since every printable one (? and q too) is
// typed into it.
type promptKeys struct{ k keyMap }

func (p promptKeys) ShortHelp() []key.Binding {
	return []key.Binding{p.k.Submit, p.k.Cancel, promptStep, p.k.Focus}
}

func (p promptKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{p.k.Submit, p.k.Cancel, promptStep}, {p.k.Focus, p.k.FocusBack}}
}

// promptStep is ←/→ at the lookup prompt: they step through the lesson
// while the box is empty.
var promptStep = key.NewBinding(key.WithKeys("left", "right"), key.WithHelp("←/→", "step (box empty)"))
