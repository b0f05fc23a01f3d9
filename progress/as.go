package progress

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// do runs f with u's rights, or the process's own when u is nil.
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
func (u *User) do(f func() error) error {
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
