package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"podlab/content"
	"podlab/netview"
	"podlab/sudo"
)

// PackPathEnv holds pack directories, as --pack-path does.
const PackPathEnv = "PODLAB_PACK_PATH"

// packFlags choose the lesson pack: every command that runs a lesson's
// text or checks shares them.
type packFlags struct {
	pack string
	path string
}

func (f *packFlags) register(c *cobra.Command) {
	fs := c.Flags()
	fs.StringVar(&f.pack, "pack", "", "the lesson pack: a built-in pack's name, a pack's name in --pack-path, or a pack's directory (default "+content.BuiltinName+")")
	fs.StringVar(&f.path, "pack-path", "", "directories holding pack directories, colon-separated (default $"+PackPathEnv+")")
	_ = c.RegisterFlagCompletionFunc("pack", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return f.names(), cobra.ShellCompDirectiveDefault // a directory too
	})
	_ = c.MarkFlagDirname("pack-path")
}

// names are the packs --pack can name without a directory: the built-in
// ones and those in the pack path.
func (f *packFlags) names() []string {
	out := content.BuiltinNames()
	as, err := sudo.Invoker()
	if err != nil {
		return out
	}
	for _, d := range f.dirs() {
		var ents []os.DirEntry
		_ = as.Do(func() error { ents, err = os.ReadDir(d); return err })
		for _, e := range ents {
			if !slices.Contains(out, e.Name()) && hasManifest(filepath.Join(d, e.Name()), as) {
				out = append(out, e.Name())
			}
		}
	}
	return out
}

// dirs are the --pack-path directories, else $PODLAB_PACK_PATH's.
func (f *packFlags) dirs() []string {
	p := f.path
	if p == "" {
		p = os.Getenv(PackPathEnv)
	}
	var out []string
	for _, d := range filepath.SplitList(p) {
		if d != "" {
			out = append(out, d)
		}
	}
	return out
}

// isPackDir says whether --pack names a directory rather than a pack.
func isPackDir(v string) bool { return strings.Contains(v, "/") || strings.HasPrefix(v, ".") }

// load is the pack the flags name: the built-in lesson when none is.
func (f *packFlags) load() (*content.Pack, error) {
	if f.pack == "" {
		return content.Builtin(content.BuiltinName)
	}
	builtin, dir, as, err := f.locate(f.pack)
	if err != nil {
		return nil, err
	}
	if builtin {
		return content.Builtin(f.pack)
	}
	pk, err := loadPackDir(f.pack, dir, as)
	if err != nil {
		return nil, err
	}
	if !isPackDir(f.pack) && pk.Name != f.pack {
		return nil, fmt.Errorf("pack %s: %s names itself %q: give the directory (--pack %s) or make the two agree",
			f.pack, filepath.Join(dir, "pack.yaml"), netview.Clean(pk.Name), dir)
	}
	return pk, nil
}

// locate finds the pack arg names: a directory when it looks like one,
// else a built-in pack of that name, else the first DIR/NAME of the pack
// path that holds a pack.yaml. as is whose rights a directory is read
// with.
func (f *packFlags) locate(arg string) (builtin bool, dir string, as *sudo.User, err error) {
	if as, err = sudo.Invoker(); err != nil {
		return false, "", nil, err
	}
	if isPackDir(arg) {
		return false, arg, as, nil
	}
	if slices.Contains(content.BuiltinNames(), arg) {
		return true, "", as, nil
	}
	for _, d := range f.dirs() {
		if dir := filepath.Join(d, arg); hasManifest(dir, as) {
			return false, dir, as, nil
		}
	}
	where := "no built-in pack of that name"
	if ds := f.dirs(); len(ds) > 0 {
		where += " and none in " + strings.Join(ds, ":")
	} else {
		where += " and no --pack-path (or $" + PackPathEnv + ") to look in"
	}
	return false, "", nil, usageErr("pack %q: %s (podlab pack list names the packs at hand; a directory is ./DIR)", netview.Clean(arg), where)
}

// loadPackDir loads the pack in dir, named on the command line as arg,
// reading it with the rights of the student who ran sudo. Its errors
// come as one: the first, and how to see them all.
func loadPackDir(arg, dir string, as *sudo.User) (*content.Pack, error) {
	fsys, name, err := packFS(dir, as)
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", arg, err)
	}
	pk, errs := content.Load(fsys, name)
	if len(errs) > 0 {
		return nil, packErrors(arg, errs)
	}
	pk.Source = dir
	return pk, nil
}

// packErrors are a pack's errors as one line: the first, and how many
// more lint lists.
func packErrors(arg string, errs []error) error {
	msg := netview.FirstLine(errs[0].Error())
	if n := len(errs) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more; podlab pack lint %s lists them)", n, arg)
	}
	return fmt.Errorf("pack %s: %s", arg, msg)
}

// packFS is the file system a pack directory is read through, and the
// pack's directory in it: the directory's own name, so that errors name
// it with the file ("x/2-a.md:14: ..."); "pack" for one whose name a
// file pattern would misread.
func packFS(dir string, as *sudo.User) (fs.FS, string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, "", err
	}
	var fi os.FileInfo
	if err := as.Do(func() error { fi, err = os.Stat(abs); return err }); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, "", fmt.Errorf("%s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, "", fmt.Errorf("%s is not a directory: a pack is a directory holding pack.yaml", dir)
	}
	name := filepath.Base(abs)
	if !fs.ValidPath(name) || name == "." || strings.ContainsAny(name, `*?[\`) {
		name = "pack"
	}
	return userFS{dir: abs, name: name, as: as}, name, nil
}

// hasManifest says whether dir holds a pack.yaml the student can see.
func hasManifest(dir string, as *sudo.User) bool {
	return as.Do(func() error {
		_, err := os.Stat(filepath.Join(dir, "pack.yaml"))
		return err
	}) == nil
}

// userFS is one directory, dir, seen as name and what is below it, read
// with the rights of the student who ran podlab under sudo (as; nil is
// the process's own): a pack is theirs, and --pack must reach no file
// they could not read themselves. Files are opened without blocking, so
// a FIFO in a pack cannot hang podlab.
type userFS struct {
	dir, name string
	as        *sudo.User
}

func (u userFS) Open(name string) (fs.File, error) {
	rest, ok := strings.CutPrefix(name, u.name)
	if !fs.ValidPath(name) || !ok || rest != "" && rest[0] != '/' {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	var f *os.File
	err := u.as.Do(func() error {
		fd, err := unix.Open(filepath.Join(u.dir, filepath.FromSlash(rest)), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return &fs.PathError{Op: "open", Path: name, Err: err}
		}
		f = os.NewFile(uintptr(fd), name)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}
