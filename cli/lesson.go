package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"podlab/class"
	"podlab/content"
	"podlab/progress"
	"podlab/sudo"
	"podlab/ui"
)

// lessonFlags are the root command's own: podlab's default command is the
// lesson in a terminal UI.
type lessonFlags struct {
	lab       labFlags
	pack      packFlags
	section   int
	refresh   time.Duration
	plain     bool
	selfPaced bool
	progress  string
	reset     bool
	version   bool
	present   bool
	class     class.Config
}

func addLessonFlags(root *cobra.Command, name string) {
	f := &lessonFlags{}
	fs := root.Flags()
	fs.IntVar(&f.section, "section", 1, "start at this section (1-4 in the built-in lesson)")
	fs.DurationVar(&f.refresh, "refresh", 2*time.Second, "how often a live lab is read again (0: only on 'r')")
	fs.BoolVar(&f.plain, "plain", false, "no colours (also when NO_COLOR is set); highlights become underline, bold and markers")
	fs.BoolVar(&f.selfPaced, "self-paced", false, "check the steps that ask a question and keep your progress (resumed on the next start)")
	fs.StringVar(&f.progress, "progress", "", "with --self-paced: where progress is kept (default $XDG_STATE_HOME/podlab/progress.json or ~/.local/state/podlab/progress.json; under sudo, the invoking user's; another --pack's progress-NAME@VERSION.json beside it, so each pack and version starts afresh)")
	fs.BoolVar(&f.reset, "reset", false, "with --self-paced: start the lesson over, forgetting the progress kept")
	fs.BoolVar(&f.version, "version", false, "print podlab's version and exit (as '"+name+" version')")
	fs.BoolVar(&f.present, "present", false, "presenter view for a projector: large titles, a larger lesson, speaker notes (N) and answers (A)")
	fs.StringVar(&f.class.Serve, "serve", "", "lead a class: serve the step shown to followers on HOST:PORT (exactly that address)")
	fs.StringVar(&f.class.Follow, "follow", "", "follow the presenter at URL (the one their podlab prints); f steps away and rejoins")
	fs.StringVar(&f.class.Token, "class-token", "", "the class token (default $"+class.TokenEnv+"; with --serve, generated if neither is set)")
	fs.StringVar(&f.class.Name, "name", "", "with --follow: your name on the presenter's roster (default user@host)")
	fs.BoolVar(&f.class.NoReport, "no-report", false, "with --follow: send the presenter nothing about you")
	fs.IntVar(&f.class.PerAddress, "class-per-address", 0, fmt.Sprintf("with --serve: the most streams, and names on the roster, from one address (default %d; raise it for a class behind one NAT)", class.DefaultPerAddress))
	fs.BoolVar(&f.class.NewClass, "new-class", false, "with --serve: start a new class (a new token, the first step) instead of resuming the one kept from the last run")
	f.pack.register(root)
	f.lab.register(root)
	root.RunE = func(c *cobra.Command, _ []string) error {
		if f.version {
			_, err := io.WriteString(c.OutOrStdout(), versionText(name))
			return err
		}
		return runLesson(c.Context(), f, c.ErrOrStderr())
	}
}

// lessonGCPercent is the collector's GOGC while the lesson runs: it stays
// open beside a node's workloads for an hour, and on a node of 20,000
// routes a refresh holds the routes before and after a change; with the
// default 100 the heap grows to twice that. 50 keeps it within one and a
// half times, for a few collections more per refresh
// (scripts/bench-live.sh). A GOGC in the environment is left to rule.
const lessonGCPercent = 50

// runLesson is podlab's default command: the lesson in a terminal UI.
func runLesson(ctx context.Context, f *lessonFlags, stderr io.Writer) error {
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(lessonGCPercent))
	}
	if f.refresh < 0 {
		return usageErr("--refresh must not be negative")
	}
	pk, err := f.pack.load()
	if err != nil {
		return err
	}
	f.lab.pack = pk
	if err := f.lab.suitsPack(); err != nil {
		return err
	}
	if f.section < 1 || f.section > len(pk.Sections) {
		return usageErr("--section must be 1 to %d, not %d", len(pk.Sections), f.section)
	}
	var prog *progress.Progress
	var saver ui.Saver
	if f.selfPaced {
		var err error
		if prog, saver, err = loadPackProgress(f.progress, f.reset, progressPack(pk)); err != nil {
			return err
		}
	} else if f.progress != "" || f.reset {
		return usageErr("--progress and --reset go with --self-paced")
	}
	// What podlab decided at the start (the class, the lab) goes to stderr
	// and to the first screen, which would hide stderr.
	notes := &noteLines{w: stderr}
	// The class flags are checked (and a presenter's address bound) first:
	// a mistake there is what the user should hear of.
	if err := f.classSetup(pk); err != nil {
		return err
	}
	srv, fol, err := f.class.Start(notes)
	if err != nil {
		return err
	}
	if srv != nil {
		defer srv.Close()
	}
	if fol != nil {
		// A presenter on another pack is said before the lesson starts,
		// when it can be asked now; following says so later otherwise.
		if err := fol.Check(ctx); err != nil {
			return err
		}
	}
	if err := ui.CheckTerminal(); err != nil {
		return err
	}
	src, err := f.lab.open(ctx, notes)
	if err != nil {
		return err
	}
	defer src.Close()
	every := f.refresh
	if src.Kind() == "recording" {
		every = 0
	}
	opts := ui.Options{
		Source:   src,
		Sections: pk.Copy(),
		Refresh:  every,
		NoColor:  f.plain || os.Getenv("NO_COLOR") != "",
		Section:  f.section,
		Present:  f.present,
		Notices:  notes.lines,

		SelfPaced: f.selfPaced,
		Progress:  prog,
		Saver:     saver,
	}
	// Typed nils would look like a presenter or a leader to ui.
	if srv != nil {
		opts.Presenter = srv
	}
	if fol != nil {
		opts.Leader, opts.Reporter = fol, fol
	}
	return ui.Run(ctx, opts)
}

// loadProgress reads the student's progress from path (the default place
// when empty), or starts afresh with reset, and checks that it can be
// written back; the saver writes it there. Under sudo both are done with
// the rights of the student who ran sudo, so --progress reaches no file
// they could not read or write themselves.
func loadProgress(path string, reset bool) (*progress.Progress, ui.Saver, error) {
	return loadPackProgress(path, reset, "")
}

// progressPack is the pack a progress file is kept for: "" for the
// built-in lesson, whose file is as it was before packs; another pack's
// name and version, so that a new version starts afresh.
func progressPack(pk *content.Pack) string {
	if pk.Source == "built-in" && pk.Name == content.BuiltinName {
		return ""
	}
	return pk.ID()
}

// loadPackProgress is loadProgress for a pack (see progressPack): its
// own file by default, and a file of another pack refused.
func loadPackProgress(path string, reset bool, pack string) (*progress.Progress, ui.Saver, error) {
	if path == "" {
		var err error
		if path, err = progress.PackPath(pack); err != nil {
			return nil, nil, err
		}
	}
	as, err := sudo.Invoker()
	if err != nil {
		return nil, nil, err
	}
	f := progress.File{Path: path, As: as, Pack: pack}
	p := &progress.Progress{}
	if !reset {
		p, err = f.Load()
		if errors.Is(err, progress.ErrCorrupt) {
			return nil, nil, fmt.Errorf("%w; delete it or start over with --reset", err)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if err := f.Check(); err != nil {
		return nil, nil, err
	}
	return p, f, nil
}

// classSetup gives the class what it needs from the rest of podlab: the
// lesson's pack and steps, which a report must name, and, for a presenter, where
// the class is kept across restarts (the state directory, under sudo the
// invoking user's, written with their rights).
func (f *lessonFlags) classSetup(pk *content.Pack) error {
	// The pack travels with the class: a follower must be on the
	// presenter's.
	f.class.Pack, f.class.Builtin = pk.ID(), progressPack(pk) == ""
	if f.class.Serve == "" {
		return nil
	}
	for _, sec := range pk.Sections {
		for _, st := range sec.Steps {
			f.class.Steps = append(f.class.Steps, st.ID())
		}
	}
	as, err := sudo.Invoker()
	if err != nil {
		return err
	}
	if path, err := progress.StatePath("class.json"); err == nil {
		f.class.Store = &class.Store{Path: path, As: as}
	}
	return nil
}

// noteLines passes what is written on to w and keeps it, a line each,
// without podlab's "podlab: " in front.
type noteLines struct {
	w     io.Writer
	lines []string
}

func (n *noteLines) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if l = strings.TrimPrefix(l, "podlab: "); l != "" {
			n.lines = append(n.lines, l)
		}
	}
	return n.w.Write(p)
}
