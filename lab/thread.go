package lab

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// inNS runs fn on a fresh OS thread that has joined the namespace, and
// waits for it. The goroutine never unlocks its thread, so Go discards the
// thread when fn returns: no other goroutine ever runs in the namespace.
// Everything that depends on the thread's namespace — netlink sockets
// created by fn, files under /proc/sys/net — then belongs to ns.
func inNS(ns *nsFile, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: see above.
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("in network namespace %q: %v", ns.ref.String(), r)
			}
		}()
		if !sameNS(ns) {
			if err := unix.Setns(ns.fd(), unix.CLONE_NEWNET); err != nil {
				if errors.Is(err, unix.EPERM) {
					done <- needRoot(ns.ref, err)
					return
				}
				done <- fmt.Errorf("entering network namespace %q: %w", ns.ref.String(), err)
				return
			}
		}
		done <- fn()
	}()
	return <-done
}

// InNS runs fn in the namespace r names, on a thread of its own as inNS
// does: the one way podlab enters a namespace.
func InNS(r NSRef, fn func() error) error {
	ns, err := openNS(r)
	if err != nil {
		return err
	}
	defer ns.Close()
	return inNS(ns, fn)
}

// sameNS reports whether this thread is already in ns, so that reading
// podlab's own namespace needs no setns (and no root).
func sameNS(ns *nsFile) bool {
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		return false
	}
	return st.Dev == ns.dev && st.Ino == ns.inode
}
