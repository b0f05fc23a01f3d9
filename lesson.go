package main

import (
	"context"
	"io"
	"os"
	"time"

	"podlab/ui"
)

// runLesson is podlab's default command: the lesson in a terminal UI.
func runLesson(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var lf labFlags
	fs := newFlagSet("podlab", "podlab [--lab LAB] [--section N] [--refresh D] [--plain] [lab flags]", stdout)
	lf.register(fs.FlagSet)
	section := fs.Int("section", 1, "start at this section (1-4)")
	refresh := fs.Duration("refresh", 2*time.Second, "how often a live lab is read again (0: only on 'r')")
	plain := fs.Bool("plain", false, "no colours (also when NO_COLOR is set); highlights become underline, bold and markers")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *refresh < 0 {
		return usageErr("--refresh must not be negative")
	}
	if *section < 1 || *section > 4 {
		return usageErr("--section must be 1 to 4, not %d", *section)
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
	return ui.Run(ctx, ui.Options{
		Source:  src,
		Refresh: every,
		NoColor: *plain || os.Getenv("NO_COLOR") != "",
		Section: *section,
	})
}
