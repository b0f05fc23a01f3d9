package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"podlab/content"
	"podlab/lab/replay"
	"podlab/netview"
	"podlab/packs"
	"podlab/sudo"
)

func newPack(name string) *cobra.Command {
	c := &cobra.Command{
		Use:   "pack list|lint|new [flags]",
		Short: "lesson packs: list them, check one, start a new one",
		Long: `A lesson pack is a directory: pack.yaml (the manifest) and one markdown file
per section in podlab's step format. podlab has the pack ` + content.BuiltinName + `
built in; --pack NAME|DIR runs another (the lesson, show, check), found by
name in the --pack-path directories (default $` + PackPathEnv + `). docs/packs.md
is the author's guide.`,
		Example: examples(name,
			"the packs at hand", "pack list --pack-path ~/packs",
			"start a pack, check it, walk it on the built-in recording", "pack new my-lesson\n  "+name+" pack lint ./my-lesson\n  "+name+" --pack ./my-lesson --lab recording"),
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr("list, lint or new? (%s)", helpHint(c))
			}
			return usageErr("unknown command %q: use list, lint or new (%s)", args[0], helpHint(c))
		},
		RunE: func(*cobra.Command, []string) error { return nil },
	}
	c.AddCommand(newPackList(name), newPackLint(name), newPackNew(name))
	return c
}

func newPackList(name string) *cobra.Command {
	f := &packFlags{}
	c := &cobra.Command{
		Use:   "list [flags]",
		Short: "list the built-in packs and those in --pack-path",
		Long: `List every pack --pack NAME can name: the built-in ones first, then each
--pack-path directory's (default $` + PackPathEnv + `), in order: its name,
version, title and where it comes from. A name found twice runs the
first; a pack that does not load is listed with its first error.`,
		Example: examples(name,
			"the built-in packs", "pack list",
			"with the packs in two directories", "pack list --pack-path ~/packs:/usr/share/podlab/packs"),
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runPackList(f, c.OutOrStdout()) },
	}
	c.Flags().StringVar(&f.path, "pack-path", "", "directories holding pack directories, colon-separated (default $"+PackPathEnv+")")
	return c
}

func newPackLint(name string) *cobra.Command {
	f := &packFlags{}
	c := &cobra.Command{
		Use:   "lint NAME|DIR [flags]",
		Short: "check a pack: every error as file:line (exit 1 if any)",
		Long: `Load a pack as the lesson would and check it: the manifest, every step's
keys, views and places, and every template, expression and lab check run
against an empty lab, the pack's example values and the built-in
recording. Each error is one line, "file:line: what is wrong"; it exits 1
when there is one, and says "NAME: ok" when there is none.`,
		Example: examples(name,
			"a pack being written", "pack lint ./my-lesson",
			"a pack in --pack-path, by name", "pack lint my-lesson --pack-path ~/packs",
			"the built-in lesson", "pack lint "+content.BuiltinName),
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("lint needs one pack: a name or a directory (%s)", helpHint(c))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			return runPackLint(c.Context(), f, args[0], c.OutOrStdout())
		},
	}
	c.Flags().StringVar(&f.path, "pack-path", "", "directories holding pack directories, colon-separated (default $"+PackPathEnv+")")
	return c
}

func newPackNew(name string) *cobra.Command {
	c := &cobra.Command{
		Use:   "new NAME [DIR]",
		Short: "write a new pack that lints clean, to start from",
		Long: `Write a pack named NAME into DIR (default ./NAME): a manifest and one
section with a step that asks a question, which lint clean and run on the
built-in recording. DIR must not exist, or be empty. Under sudo the files
are written as the user who ran it.`,
		Example: examples(name,
			"a new pack in ./my-lesson", "pack new my-lesson",
			"in a directory of the pack path", "pack new my-lesson ~/packs/my-lesson"),
		Args: func(c *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usageErr("new needs the pack's name, and may take a directory (%s)", helpHint(c))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			dir := "./" + args[0]
			if len(args) == 2 {
				dir = args[1]
			}
			return runPackNew(name, args[0], dir, c.OutOrStdout())
		},
	}
	return c
}

// runPackList is `podlab pack list`.
func runPackList(f *packFlags, stdout io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tTITLE\tFROM")
	seen := map[string]string{}
	for _, n := range content.BuiltinNames() {
		pk, err := content.Builtin(n)
		if err != nil {
			fmt.Fprintf(tw, "%s\t?\t(does not load: %s)\tbuilt-in\n", n, netview.Clean(netview.FirstLine(err.Error())))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\tbuilt-in\n", pk.Name, netview.Clean(pk.Version), netview.Clean(pk.Title))
		seen[pk.Name] = "built-in"
	}
	as, err := sudo.Invoker()
	if err != nil {
		return err
	}
	for _, d := range f.dirs() {
		var ents []fs.DirEntry
		if err := as.Do(func() error { ents, err = os.ReadDir(d); return err }); err != nil {
			fmt.Fprintf(tw, "-\t-\t(cannot read: %s)\t%s\n", netview.Clean(brief(err)), netview.Clean(d))
			continue
		}
		for _, e := range ents {
			dir := filepath.Join(d, e.Name())
			if !e.IsDir() && e.Type()&fs.ModeSymlink == 0 || !hasManifest(dir, as) {
				continue
			}
			from := netview.Clean(dir)
			pk, err := loadPackDir(dir, dir, as)
			if err != nil {
				fmt.Fprintf(tw, "%s\t?\t(does not load; podlab pack lint %s says why)\t%s\n", netview.Clean(e.Name()), from, from)
				continue
			}
			switch first, ok := seen[e.Name()]; {
			case pk.Name != e.Name():
				from += fmt.Sprintf(" (names itself %s: --pack %s)", netview.Clean(pk.Name), from)
			case ok:
				from += " (hidden by " + first + ")"
			default:
				seen[e.Name()] = dir
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", netview.Clean(e.Name()), netview.Clean(pk.Version), netview.Clean(pk.Title), from)
		}
	}
	return tw.Flush()
}

// runPackLint is `podlab pack lint`: the errors on stdout, a line each.
func runPackLint(ctx context.Context, f *packFlags, arg string, stdout io.Writer) error {
	builtin, dir, as, err := f.locate(arg)
	if err != nil {
		return err
	}
	fsys, name := fs.FS(packs.FS), arg
	if !builtin {
		if fsys, name, err = packFS(dir, as); err != nil {
			return fmt.Errorf("pack %s: %w", arg, err)
		}
	}
	// Every expression runs on the built-in recording too, as a student's
	// podlab without a lab would run it.
	rec, err := replay.Builtin()
	if err != nil {
		return err
	}
	pair, err := rec.Collect(ctx)
	if err != nil {
		return err
	}
	if errs := content.Lint(fsys, name, pair); len(errs) > 0 {
		var b strings.Builder
		for _, e := range errs {
			b.WriteString(netview.Clean(netview.FirstLine(e.Error())))
			b.WriteByte('\n')
		}
		if _, err := io.WriteString(stdout, b.String()); err != nil {
			return err
		}
		return fmt.Errorf("pack %s: %d %s", arg, len(errs), plural(len(errs), "error", "errors"))
	}
	pk, errs := content.Load(fsys, name)
	if len(errs) > 0 {
		return packErrors(arg, errs) // lint found none: not reached
	}
	steps := 0
	for _, s := range pk.Sections {
		steps += len(s.Steps)
	}
	_, err = fmt.Fprintf(stdout, "%s: ok (%d %s, %d %s)\n", pk.Name, len(pk.Sections), plural(len(pk.Sections), "section", "sections"),
		steps, plural(steps, "step", "steps"))
	return err
}

func plural(n int, one, more string) string {
	if n == 1 {
		return one
	}
	return more
}

// runPackNew is `podlab pack new`: the scaffold, written with the rights
// of the user who ran sudo.
func runPackNew(prog, packName, dir string, stdout io.Writer) error {
	files, err := content.NewPack(packName)
	if err != nil {
		return usageErr("%v", err)
	}
	as, err := sudo.Invoker()
	if err != nil {
		return err
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range files {
			if !yield(n) {
				return
			}
		}
	})
	err = as.Do(func() error {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		if len(ents) > 0 {
			return fmt.Errorf("%s is not empty: give a new directory (pack new %s DIR)", dir, packName)
		}
		for _, n := range names {
			// O_EXCL and O_NOFOLLOW: a file that appeared meanwhile, or a
			// symlink put in its place, is never written through.
			fd, err := unix.Open(filepath.Join(dir, n), unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
			if err != nil {
				return &fs.PathError{Op: "create", Path: filepath.Join(dir, n), Err: err}
			}
			fh := os.NewFile(uintptr(fd), n)
			_, werr := io.WriteString(fh, files[n])
			if err := errors.Join(werr, fh.Close()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pack new: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "wrote %s: %s\ncheck it with: %s pack lint %s\nwalk it with:  %s --pack %s --lab recording\n",
		dir, strings.Join(names, ", "), prog, packDirArg(dir), prog, packDirArg(dir))
	return err
}

// packDirArg is dir as --pack reads it: as a directory, never a name.
func packDirArg(dir string) string {
	if isPackDir(dir) {
		return dir
	}
	return "./" + dir
}
