package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/google/renameio/v2"
	"github.com/spf13/cobra"

	"podlab/netview"
	"podlab/sudo"
)

type recordFlags struct {
	lab  labFlags
	out  string
	note string
}

func newRecord(name string) *cobra.Command {
	f := &recordFlags{}
	c := &cobra.Command{
		Use:   "record -o FILE [flags]",
		Short: "save a lab's state as a recording (replay it with --lab replay=FILE)",
		Long: `Save what a lab shows as a recording, to replay later without root, a
cluster or anything installed: podlab --lab replay=FILE.`,
		Example: examples(name,
			"the running sandbox", "record --lab sandbox -o lab.json --note 'bgp mode'",
			"the cluster's customer pod", "record --lab cluster --context lab -o lab.json",
			"replay it", "--lab replay=lab.json"),
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runRecord(c.Context(), f, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	fs := c.Flags()
	fs.StringVarP(&f.out, "output", "o", "", "the file to write (- for stdout)")
	fs.StringVar(&f.note, "note", "", "a note to keep with the recording")
	f.lab.register(c)
	return c
}

// runRecord saves a lab's state so it can be replayed without root, a
// cluster or anything installed.
func runRecord(ctx context.Context, f *recordFlags, stdout, stderr io.Writer) error {
	out, note := &f.out, &f.note
	if *out == "" {
		return usageErr("record needs -o FILE")
	}
	src, pair, err := f.lab.collectOnce(ctx, stderr)
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
	// Under sudo the file is the invoking user's to write: a path they
	// could not write themselves is refused, as root's rights are not
	// lent to them.
	as, err := sudo.Invoker()
	if err != nil {
		return err
	}
	if err := as.Do(func() error { return writeRecording(*out, rec) }); err != nil {
		who := ""
		if as != nil {
			who = " as user " + as.Name
		}
		return fmt.Errorf("cannot write %s%s: %w", *out, who, err)
	}
	name := netview.Clean(*out)
	fmt.Fprintf(stderr, "podlab: recorded the %s lab to %s (replay it with: podlab --lab replay=%s)\n", src.Kind(), name, name)
	return nil
}

// writeRecording writes beside the target and renames, so a failed write
// never leaves half a recording under the name asked for. A recording is
// meant to be replayed by anyone, without sudo.
func writeRecording(out string, rec *netview.Recording) error {
	t, err := renameio.NewPendingFile(out, renameio.WithTempDir(filepath.Dir(out)), renameio.WithStaticPermissions(0o644))
	if err != nil {
		return err
	}
	defer t.Cleanup()
	if err := netview.WriteRecording(t, rec); err != nil {
		return err
	}
	return t.CloseAtomicallyReplace()
}
