package main

import (
	"context"
	"fmt"
	"io"

	"podlab/content"
)

// runCheck is `podlab check`: every step's lab check, without the UI;
// exit 1 when one fails.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var lf labFlags
	fs := newFlagSet("check", "podlab check [--json] [lab flags]", stdout)
	lf.register(fs.FlagSet)
	asJSON := fs.Bool("json", false, "print the verdicts as a JSON array")
	if err := fs.parse(args); err != nil {
		return err
	}
	lf.asIs = true // a broken sandbox is what check is for: read it, never rebuild it
	_, pair, err := lf.collectOnce(ctx, stderr)
	if err != nil {
		return err
	}
	secs, err := content.Lesson()
	if err != nil {
		return err
	}
	vs := content.CheckLab(secs, pair)
	if err := content.WriteVerdicts(stdout, vs, *asJSON); err != nil {
		return err
	}
	if n := content.Failed(vs); n > 0 {
		return fmt.Errorf("%d of %d steps fail: the lab lacks what they show", n, len(vs))
	}
	return nil
}
