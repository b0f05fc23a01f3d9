// Package sudo acts for the user who ran podlab under sudo: their own
// files are read and written with their rights, never root's, so a path
// given on the command line reaches nothing they could not reach
// themselves.
package sudo

import (
	"fmt"
	"os"
	"os/user"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// Do runs f with u's rights, or the process's own when u is nil.
//
// f runs on an OS thread of its own whose real, effective, saved and
// filesystem ids and supplementary groups are u's, so the kernel checks
// every path f touches, symlinks included, as it would for u; from uid 0
// to u's the thread also loses every capability, so root's overrides are
// gone. Only the thread changes: the raw system calls act on the calling
// thread (Go's syscall.Setresuid would change them all), the goroutine
// never unlocks it, so the runtime ends the thread with the goroutine
// instead of running other code on it, and threads the runtime starts
// meanwhile come from its template thread, not this one.
func (u *User) Do(f func() error) error {
	if u == nil {
		return f()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		if err := u.become(); err != nil {
			errc <- err
			return
		}
		errc <- f()
	}()
	return <-errc
}

// become turns the calling thread into u, groups first (changing them
// needs the root it is about to give up), then checks it took.
func (u *User) become() error {
	if err := unix.Setgroups(u.Groups); err != nil { // per thread: a raw call
		return fmt.Errorf("taking the groups of user %s: %w", u.Name, err)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(u.GID), uintptr(u.GID), uintptr(u.GID)); e != 0 {
		return fmt.Errorf("taking the group of user %s: %w", u.Name, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(u.UID), uintptr(u.UID), uintptr(u.UID)); e != 0 {
		return fmt.Errorf("becoming user %s: %w", u.Name, e)
	}
	// A wrong width of id (a 16-bit call on some 32-bit machines) would
	// leave other ids than asked; refuse rather than act with them.
	r, e, s := unix.Getresuid()
	fs, _ := unix.SetfsuidRetUid(-1) // -1 changes nothing, only reports
	rg, eg, sg := unix.Getresgid()
	fg, _ := unix.SetfsgidRetGid(-1)
	if r != u.UID || e != u.UID || s != u.UID || fs != u.UID || rg != u.GID || eg != u.GID || sg != u.GID || fg != u.GID {
		return fmt.Errorf("becoming user %s: ids %d/%d/%d/%d:%d/%d/%d/%d, not %d:%d", u.Name, r, e, s, fs, rg, eg, sg, fg, u.UID, u.GID)
	}
	return nil
}

// User is someone who ran podlab under sudo: the ids the kernel checks
// their own files against.
type User struct {
	Name     string
	UID, GID int
	// Groups are their supplementary groups.
	Groups []int
}

// Invoker is the user who ran podlab under sudo, whose rights their own
// files (progress, recordings) are read and written with; nil when not
// under sudo (or sudo to root). SUDO_UID and SUDO_GID that do not parse are an error,
// never a fall back to root's rights.
func Invoker() (*User, error) {
	return invoker(os.Getenv, os.Geteuid(), user.Lookup)
}

func invoker(getenv func(string) string, euid int, lookup func(string) (*user.User, error)) (*User, error) {
	name := getenv("SUDO_USER")
	if euid != 0 || name == "" || name == "root" {
		return nil, nil
	}
	uid, uerr := strconv.Atoi(getenv("SUDO_UID"))
	gid, gerr := strconv.Atoi(getenv("SUDO_GID"))
	if uerr != nil || gerr != nil || uid <= 0 || gid < 0 {
		return nil, fmt.Errorf("under sudo for %s without a usable SUDO_UID and SUDO_GID (%q, %q); run podlab with sudo as usual, or as root without SUDO_USER", name, getenv("SUDO_UID"), getenv("SUDO_GID"))
	}
	u := &User{Name: name, UID: uid, GID: gid, Groups: []int{gid}}
	// The supplementary groups are the ones a login gives them; when
	// they cannot be found, fewer rights are the safe side.
	if pw, err := lookup(name); err == nil && pw.Uid == strconv.Itoa(uid) {
		if ids, err := pw.GroupIds(); err == nil {
			for _, s := range ids {
				if g, err := strconv.Atoi(s); err == nil && g != gid {
					u.Groups = append(u.Groups, g)
				}
			}
		}
	}
	return u, nil
}
