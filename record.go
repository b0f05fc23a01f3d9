package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"podlab/netview"
)

// runRecord saves a lab's state so it can be replayed without root, a
// cluster or anything installed.
func runRecord(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var lf labFlags
	fs := newFlagSet("record", "podlab record -o FILE [--note TEXT] [lab flags]", stdout)
	lf.register(fs.FlagSet)
	out := fs.String("o", "", "the file to write (- for stdout)")
	note := fs.String("note", "", "a note to keep with the recording")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *out == "" {
		return usageErr("record needs -o FILE")
	}
	src, pair, err := lf.collectOnce(ctx, stderr)
	if err != nil {
		return err
	}
	rec := &netview.Recording{
		Schema:     netview.Schema,
		Lab:        src.Kind(),
		RecordedAt: time.Now().UTC().Truncate(time.Second),
		Note:       *note,
		Pair:       *pair,
	}
	if *out == "-" {
		return netview.WriteRecording(stdout, rec)
	}
	// Write beside the target and rename, so a failed write never leaves
	// half a recording under the name asked for.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".podlab-record-*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", *out, err)
	}
	defer os.Remove(tmp.Name())
	if err := netview.WriteRecording(tmp, rec); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	// A temp file is private; a recording made with sudo is meant to be
	// replayed without it.
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return fmt.Errorf("cannot write %s: %w", *out, err)
	}
	name := netview.Clean(*out)
	fmt.Fprintf(stderr, "podlab: recorded the %s lab to %s (replay it with: podlab --lab replay=%s)\n", src.Kind(), name, name)
	return nil
}
