package sandbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// The state directory is where root's `sandbox down` deletes files and
// `up` writes BIRD's, so nobody else may be able to change what its
// names mean. openTrusted walks the path from / one component at a time,
// through directory fds (never a path the kernel resolves again), and
// accepts a directory only if it is owned by root (or by the user
// running podlab: a plain user's sandbox attempt can harm nobody else)
// and writable by nobody else. Files inside are then opened relative to
// the checked directory's fd with O_NOFOLLOW.
//
// One exception: a parent (never the state directory itself) may be
// world-writable if it is sticky and root-owned, as /tmp is. In a sticky
// directory only an entry's owner (or root) may rename or remove it, so
// the next component, which must itself be root's, cannot be swapped for
// a student's directory or symlink; a name a student made first is theirs
// and is refused when it is reached.

// maxSymlinks bounds symlink resolution, as the kernel's ELOOP does.
const maxSymlinks = 40

// dirFD is a checked directory, open as an O_PATH fd.
type dirFD struct {
	fd   int
	path string
}

func (d *dirFD) Close() {
	if d != nil && d.fd >= 0 {
		unix.Close(d.fd)
		d.fd = -1
	}
}

// errNoDir says a directory of the path does not exist (and was not to be
// made); it wraps os.ErrNotExist.
type errNoDir struct{ path string }

func (e errNoDir) Error() string { return e.path + " does not exist" }
func (e errNoDir) Unwrap() error { return os.ErrNotExist }

// trustedOwner says whether uid may own a directory on the state path.
func trustedOwner(uid uint32) bool {
	return uid == 0 || int(uid) == os.Geteuid()
}

// checkDir refuses a directory others could change; sticky allows the
// /tmp exception for parents.
func checkDir(path string, st *unix.Stat_t, parent bool) error {
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return fmt.Errorf("%s is not a directory", path)
	}
	if !trustedOwner(st.Uid) {
		return fmt.Errorf("%s is owned by uid %d, not root: use a directory only root can change (the default is %s)", path, st.Uid, DefaultStateDir)
	}
	if st.Mode&0o022 == 0 {
		return nil
	}
	if parent && st.Mode&unix.S_ISVTX != 0 && st.Uid == 0 {
		return nil
	}
	return fmt.Errorf("%s is writable by group or others (mode %04o): use a directory only root can change (the default is %s)", path, st.Mode&0o7777, DefaultStateDir)
}

// openTrusted opens the directory at path after checking it and every
// directory above it; with create it makes missing ones (0755, owned by
// the caller). Symlinks on the way are followed only when root (or the
// caller) owns them, since a checked parent then stops anyone else from
// replacing them.
func openTrusted(path string, create bool) (*dirFD, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	for range maxSymlinks + 1 {
		d, target, err := walkTrusted(abs, create)
		if err != nil || target == "" {
			return d, err
		}
		abs = target
	}
	return nil, fmt.Errorf("%s: too many symlinks", path)
}

// walkTrusted is one walk of openTrusted: the checked directory, or, at
// the first symlink, the path to walk instead.
func walkTrusted(abs string, create bool) (_ *dirFD, symlinked string, _ error) {
	fd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, "", err
	}
	d := &dirFD{fd: fd, path: "/"}
	fail := func(err error) (*dirFD, string, error) {
		d.Close()
		return nil, "", err
	}
	comps := strings.Split(strings.TrimPrefix(filepath.Clean(abs), "/"), "/")
	if len(comps) == 1 && comps[0] == "" {
		comps = nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fail(err)
	}
	if err := checkDir("/", &st, len(comps) > 0); err != nil {
		return fail(err)
	}
	for i, c := range comps {
		next := filepath.Join(d.path, c)
		var lst unix.Stat_t
		err := unix.Fstatat(d.fd, c, &lst, unix.AT_SYMLINK_NOFOLLOW)
		if errors.Is(err, unix.ENOENT) {
			if !create {
				return fail(errNoDir{next})
			}
			if err := unix.Mkdirat(d.fd, c, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
				return fail(fmt.Errorf("create %s: %w", next, err))
			}
			err = unix.Fstatat(d.fd, c, &lst, unix.AT_SYMLINK_NOFOLLOW)
		}
		if err != nil {
			return fail(fmt.Errorf("%s: %w", next, err))
		}
		if lst.Mode&unix.S_IFMT == unix.S_IFLNK {
			if !trustedOwner(lst.Uid) {
				return fail(fmt.Errorf("%s is a symlink owned by uid %d, not root: use a directory only root can change (the default is %s)", next, lst.Uid, DefaultStateDir))
			}
			target, err := readlinkat(d.fd, c)
			if err != nil {
				return fail(fmt.Errorf("%s: %w", next, err))
			}
			if !filepath.IsAbs(target) {
				target = filepath.Join(d.path, target)
			}
			d.Close()
			return nil, filepath.Join(append([]string{target}, comps[i+1:]...)...), nil
		}
		nfd, err := unix.Openat(d.fd, c, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fail(fmt.Errorf("%s: %w", next, err))
		}
		d.Close()
		d = &dirFD{fd: nfd, path: next}
		// The check is on what was opened, not on the name looked at.
		if err := unix.Fstat(nfd, &st); err != nil {
			return fail(err)
		}
		if err := checkDir(next, &st, i < len(comps)-1); err != nil {
			return fail(err)
		}
	}
	return d, "", nil
}

func readlinkat(dirfd int, name string) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(dirfd, name, buf)
	if err != nil {
		return "", err
	}
	if n >= len(buf) {
		return "", errors.New("symlink target too long")
	}
	return string(buf[:n]), nil
}

// sub opens the directory name inside d, never through a symlink, and
// checks it as the state directory is checked; with create it makes it.
func (d *dirFD) sub(name string, create bool) (*dirFD, error) {
	p := filepath.Join(d.path, name)
	if create {
		if err := unix.Mkdirat(d.fd, name, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("create %s: %w", p, err)
		}
	}
	fd, err := unix.Openat(d.fd, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, unix.ENOENT):
		return nil, errNoDir{p}
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.ENOTDIR):
		return nil, fmt.Errorf("%s is not a directory the sandbox made (a symlink or a file): remove it", p)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	s := &dirFD{fd: fd, path: p}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		s.Close()
		return nil, err
	}
	if err := checkDir(p, &st, false); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// open opens name inside d, never through a symlink, and never blocking
// on a FIFO planted there.
func (d *dirFD) open(name string, flag int, perm uint32) (*os.File, error) {
	p := filepath.Join(d.path, name)
	fd, err := unix.Openat(d.fd, name, flag|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, perm)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: p, Err: err}
	}
	return os.NewFile(uintptr(fd), p), nil
}

// create makes name afresh for writing: a leftover (a file, or a symlink
// planted under the name) is removed first, and O_EXCL|O_NOFOLLOW makes
// sure nothing is written through one.
func (d *dirFD) create(name string, perm uint32) (*os.File, error) {
	flags := unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL
	f, err := d.open(name, flags, perm)
	if errors.Is(err, os.ErrExist) {
		if err := d.remove(name); err != nil {
			return nil, err
		}
		f, err = d.open(name, flags, perm)
	}
	return f, err
}

// remove unlinks name inside d (a symlink itself, never its target); a
// name already gone is no error.
func (d *dirFD) remove(name string) error {
	err := unix.Unlinkat(d.fd, name, 0)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	return &os.PathError{Op: "remove", Path: filepath.Join(d.path, name), Err: err}
}

// readFile reads a regular file inside d, up to max bytes.
func (d *dirFD) readFile(name string, max int64) ([]byte, error) {
	f, err := d.open(name, unix.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", f.Name())
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", f.Name(), max)
	}
	return b, nil
}

// stateDir opens the checked state directory; with create it makes it
// when missing. A missing one without create is an errNoDir.
func (o Options) stateDir(create bool) (*dirFD, error) {
	d, err := openTrusted(o.StateDir, create)
	if err != nil && !errors.As(err, new(errNoDir)) {
		return nil, fmt.Errorf("sandbox state dir %s: %w", o.StateDir, err)
	}
	return d, err
}

// fileDirFD opens the checked directory of BIRD's files.
func (o Options) fileDirFD(create bool) (*dirFD, error) {
	d, err := o.stateDir(create)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.sub(o.Prefix, create)
}

// inFile runs fn on the file p of the sandbox's file directory, p
// checked to be one the sandbox names, with the directory opened as
// checked.
func (o Options) inFile(p string, fn func(d *dirFD, name string) error) error {
	if !o.inFileDir(p) {
		return fmt.Errorf("file %q is not in %s", p, o.fileDir())
	}
	d, err := o.fileDirFD(false)
	if err != nil {
		return err
	}
	defer d.Close()
	return fn(d, filepath.Base(p))
}

// readSandboxFile reads a small file the sandbox (or its BIRD) wrote.
func (o Options) readSandboxFile(p string, max int64) ([]byte, error) {
	var b []byte
	err := o.inFile(p, func(d *dirFD, name string) error {
		var err error
		b, err = d.readFile(name, max)
		return err
	})
	return b, err
}
