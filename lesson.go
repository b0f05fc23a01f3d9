package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"podlab/class"
	"podlab/progress"
	"podlab/ui"
)

// runLesson is podlab's default command: the lesson in a terminal UI.
func runLesson(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var lf labFlags
	fs := newFlagSet("podlab", "podlab [--lab LAB] [--section N] [--refresh D] [--plain] [--self-paced [--progress FILE] [--reset]] [--present] [--serve ADDR | --follow URL [--name NAME] [--no-report]] [--class-token T] [lab flags]", stdout)
	lf.register(fs.FlagSet)
	section := fs.Int("section", 1, "start at this section (1-4)")
	refresh := fs.Duration("refresh", 2*time.Second, "how often a live lab is read again (0: only on 'r')")
	plain := fs.Bool("plain", false, "no colours (also when NO_COLOR is set); highlights become underline, bold and markers")
	selfPaced := fs.Bool("self-paced", false, "check the steps that ask a question and keep your progress (resumed on the next start)")
	progPath := fs.String("progress", "", "with --self-paced: where progress is kept (default $XDG_STATE_HOME/podlab/progress.json or ~/.local/state/podlab/progress.json; under sudo, the invoking user's)")
	reset := fs.Bool("reset", false, "with --self-paced: start the lesson over, forgetting the progress kept")
	present := fs.Bool("present", false, "presenter view for a projector: large titles, a larger lesson, speaker notes (N) and answers (A)")
	var cc class.Config
	fs.StringVar(&cc.Serve, "serve", "", "lead a class: serve the step shown to followers on HOST:PORT (exactly that address)")
	fs.StringVar(&cc.Follow, "follow", "", "follow the presenter at URL (the one their podlab prints); f steps away and rejoins")
	fs.StringVar(&cc.Token, "class-token", "", "the class token (default $"+class.TokenEnv+"; with --serve, generated if neither is set)")
	fs.StringVar(&cc.Name, "name", "", "with --follow: your name on the presenter's roster (default user@host)")
	fs.BoolVar(&cc.NoReport, "no-report", false, "with --follow: send the presenter nothing about you")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *refresh < 0 {
		return usageErr("--refresh must not be negative")
	}
	if *section < 1 || *section > 4 {
		return usageErr("--section must be 1 to 4, not %d", *section)
	}
	var prog *progress.Progress
	var saver ui.Saver
	if *selfPaced {
		var err error
		if prog, saver, err = loadProgress(*progPath, *reset); err != nil {
			return err
		}
	} else if *progPath != "" || *reset {
		return usageErr("--progress and --reset go with --self-paced")
	}
	srv, fol, err := cc.Start(stderr)
	if err != nil {
		return err
	}
	if srv != nil {
		defer srv.Close()
	}
	src, err := lf.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer src.Close()
	every := *refresh
	if src.Kind() == "recording" {
		every = 0
	}
	opts := ui.Options{
		Source:  src,
		Refresh: every,
		NoColor: *plain || os.Getenv("NO_COLOR") != "",
		Section: *section,
		Present: *present,

		SelfPaced: *selfPaced,
		Progress:  prog,
		Saver:     saver,
	}
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
	if path == "" {
		var err error
		if path, err = progress.DefaultPath(); err != nil {
			return nil, nil, err
		}
	}
	as, err := progress.SudoUser()
	if err != nil {
		return nil, nil, err
	}
	f := progress.File{Path: path, As: as}
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
