// Package lab is where podlab's data comes from: a netlink collector that
// reads any network namespace without entering it on a long-lived thread,
// and the netns lab built on it. The other labs are subpackages: sandbox,
// cluster and replay.
//
// The netns lab stays here, not in a subpackage of its own, because it is
// the collector's thinnest client: it finds the pod's namespace by nsid or
// address, opens it and asks the kernel for routes through the engine's
// unexported pieces (findPodNSBy, openNS, routeGet), and the engine's own
// tests (changes, fault, bench) build their labs through it. A subpackage
// would export those pieces for one caller and part those tests from the
// code they test.
package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// NetnsDir is where `ip netns` (and Calico's CNI plugin, as cni-<uuid>)
// mounts named network namespaces.
const NetnsDir = "/run/netns"

// NSRef names a network namespace: by Name under /run/netns, by Path, or
// by the Pid of a process in it. The zero value is the namespace podlab
// itself runs in.
type NSRef struct {
	Name string `json:"name,omitempty"`
	Path string `json:"path,omitempty"`
	Pid  int    `json:"pid,omitempty"`
}

// Errors callers can test for with errors.Is.
var (
	// ErrNamespaceGone: the namespace does not exist (any more).
	ErrNamespaceGone = errors.New("network namespace is gone")
	// ErrNeedRoot: reading another namespace needs root.
	ErrNeedRoot = errors.New("podlab needs root to read live network namespaces")
)

// IsZero reports whether r is the current namespace.
func (r NSRef) IsZero() bool { return r == NSRef{} }

// file is the namespace file the ref points to.
func (r NSRef) file() string {
	switch {
	case r.Name != "":
		return filepath.Join(NetnsDir, r.Name)
	case r.Path != "":
		return r.Path
	case r.Pid != 0:
		return fmt.Sprintf("/proc/%d/ns/net", r.Pid)
	}
	return startNS
}

// startNS is the namespace podlab started in, held open from the start
// and named through its descriptor: /proc/self/ns/net is the main
// thread's, and a reader whose goroutine ran on the main thread leaves it
// in the namespace it read (Go cannot discard that thread), so that name
// could open a pod's namespace for the node's own.
var startNS = func() string {
	fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "/proc/self/ns/net"
	}
	return "/proc/self/fd/" + strconv.Itoa(fd)
}()

// String is how podlab names the namespace in messages.
func (r NSRef) String() string {
	switch {
	case r.Name != "":
		return r.Name
	case r.Path != "":
		return r.Path
	case r.Pid != 0:
		return "pid:" + strconv.Itoa(r.Pid)
	}
	return "current"
}

// ParseNSRef reads the command-line form of a ref: "" or "current" for
// podlab's own namespace, "pid:N" (or a bare number) for a process, a
// path containing '/', or else a name under /run/netns.
func ParseNSRef(s string) (NSRef, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "" || s == "current":
		return NSRef{}, nil
	case strings.HasPrefix(s, "pid:") || isDigits(s):
		n, err := strconv.Atoi(strings.TrimPrefix(s, "pid:"))
		if err != nil || n <= 0 {
			return NSRef{}, fmt.Errorf("bad namespace %q: write pid:N with a process id", s)
		}
		return NSRef{Pid: n}, nil
	case strings.Contains(s, "/"):
		return NSRef{Path: s}, nil
	}
	return NSRef{Name: s}, nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// nsFile is an open namespace file and its identity.
type nsFile struct {
	ref   NSRef
	f     *os.File
	dev   uint64
	inode uint64
}

func (n *nsFile) fd() int      { return int(n.f.Fd()) }
func (n *nsFile) Close() error { return n.f.Close() }

// openNS opens and checks the namespace a ref points to. Holding the file
// keeps the namespace alive, so a collection that has started finishes
// even if the namespace is deleted meanwhile.
func openNS(r NSRef) (*nsFile, error) {
	if r.Name != "" && (strings.Contains(r.Name, "/") || r.Name == "." || r.Name == "..") {
		return nil, fmt.Errorf("bad namespace name %q: a name under %s has no '/'", r.Name, NetnsDir)
	}
	if r.Pid < 0 {
		return nil, fmt.Errorf("bad namespace pid %d", r.Pid)
	}
	p := r.file()
	f, err := openNSFile(p)
	if err != nil {
		switch {
		case errors.Is(err, errNotNS):
			// One message whatever lies at p (nothing, a symlink, a
			// FIFO, root's secret): it tells no one what is there.
			// What `ip netns del` leaves behind when something else
			// still holds the mount point is one of these too.
			return nil, &goneError{r, fmt.Errorf("%s is not a namespace file", p)}
		case errors.Is(err, os.ErrPermission):
			return nil, needRoot(r, err)
		}
		return nil, fmt.Errorf("network namespace %q: %w", r.String(), err)
	}
	t, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_NSTYPE)
	if err == nil && t != unix.CLONE_NEWNET {
		f.Close()
		return nil, fmt.Errorf("%s is not a network namespace (wrong kind of namespace)", p)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, fmt.Errorf("network namespace %q: %w", r.String(), err)
	}
	return &nsFile{ref: r, f: f, dev: st.Dev, inode: st.Ino}, nil
}

// openNSWithin is openNS bounded by ctx: a path can lead through a file
// system that never answers (a FUSE mount), and the command's deadline
// must still hold. A late answer is closed when it comes.
func openNSWithin(ctx context.Context, r NSRef) (*nsFile, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	type result struct {
		ns  *nsFile
		err error
	}
	done := make(chan result, 1)
	go func() {
		ns, err := openNS(r)
		done <- result{ns, err}
	}()
	select {
	case x := <-done:
		return x.ns, x.err
	case <-ctx.Done():
		go func() {
			if x := <-done; x.ns != nil {
				x.ns.Close()
			}
		}()
		return nil, fmt.Errorf("opening network namespace %q: %w", r.String(), ctx.Err())
	}
}

// errNotNS: what a path names is not a namespace file (or nothing).
var errNotNS = errors.New("not a namespace file")

// openNSFile opens the namespace file at p for reading, and nothing else.
// p may come from a student (--host-netns under a wide sudo rule): it is
// first opened O_PATH, which runs no driver's open and never blocks (a
// FIFO, a device), without following a last symlink; only a file of the
// namespace file system (nsfs) is then opened for real, through that
// descriptor. The one link followed is /proc/PID/ns/net's, which only the
// kernel makes and which leads to the namespace itself (checked again).
func openNSFile(p string) (*os.File, error) {
	dir, base := filepath.Split(p)
	if dir == "" {
		dir = "."
	}
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, notNS(err)
	}
	defer unix.Close(dfd)
	fd, err := unix.Openat(dfd, base, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, notNS(err)
	}
	defer func() { unix.Close(fd) }()
	switch fsType(fd) {
	case unix.NSFS_MAGIC: // a bind mount of one (ip netns add)
	case unix.PROC_SUPER_MAGIC:
		var st unix.Stat_t
		if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFLNK {
			return nil, errNotNS
		}
		linked, err := unix.Openat(dfd, base, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, notNS(err)
		}
		unix.Close(fd)
		fd = linked
		if fsType(fd) != unix.NSFS_MAGIC {
			return nil, errNotNS
		}
	default:
		return nil, errNotNS
	}
	// setns and the nsid query refuse an O_PATH descriptor.
	rfd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(fd), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
			return nil, os.ErrPermission
		}
		return nil, err
	}
	if fsType(rfd) != unix.NSFS_MAGIC {
		unix.Close(rfd)
		return nil, errNotNS
	}
	return os.NewFile(uintptr(rfd), p), nil
}

// fsType is the file system magic of what fd refers to, or 0.
func fsType(fd int) int64 {
	var sfs unix.Statfs_t
	if unix.Fstatfs(fd, &sfs) != nil {
		return 0
	}
	return int64(sfs.Type)
}

// notNS words a failed open of a namespace path: not being able to reach
// the path for lack of rights says so; anything else at the path is
// simply not a namespace.
func notNS(err error) error {
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
		return os.ErrPermission
	}
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) ||
		errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENXIO) || errors.Is(err, unix.ENAMETOOLONG) {
		return errNotNS
	}
	return err
}

func needRoot(r NSRef, err error) error {
	return fmt.Errorf("%w (namespace %q: %v): run podlab with sudo, or use its built-in recording", ErrNeedRoot, r.String(), err)
}

// goneError says which namespace is gone and why podlab thinks so.
type goneError struct {
	ref NSRef
	err error
}

func (e *goneError) Error() string {
	return fmt.Sprintf("network namespace %q is gone: %v", e.ref.String(), e.err)
}
func (e *goneError) Unwrap() error        { return e.err }
func (e *goneError) Is(target error) bool { return target == ErrNamespaceGone }
