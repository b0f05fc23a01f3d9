// Package ptytest opens pseudo-terminals for tests, with the standard
// library and x/sys only.
package ptytest

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// Open opens a pseudo-terminal pair of w columns and h rows; the test's
// end closes both. The master stays in Go's poller (Fd is never called on
// it), so that Close wakes a pending Read and really closes it: that is
// what hangs the terminal up.
func Open(t testing.TB, w, h int) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	rc, err := master.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n uint32
	var ioErr error
	if err := rc.Control(func(fd uintptr) {
		if ioErr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); ioErr != nil {
			return
		}
		n, ioErr = unix.IoctlGetUint32(int(fd), unix.TIOCGPTN)
	}); err != nil || ioErr != nil {
		t.Fatalf("pty ioctl: %v %v", err, ioErr)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty slave: %v", err)
	}
	t.Cleanup(func() { slave.Close() })
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(h), Col: uint16(w)}); err != nil {
		t.Fatalf("set the pty's size: %v", err)
	}
	return master, slave
}

// Output is what Drain has read from a master.
type Output struct {
	mu   sync.Mutex
	b    []byte
	done chan struct{}
}

// Bytes is what was read so far.
func (o *Output) Bytes() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]byte(nil), o.b...)
}

// Done is closed once the master reads no more: every holder of the
// slave has closed it (the last read then fails with EIO, after what
// was written before), or the master was closed. A program's last
// bytes may still be unread when it has exited; after Done, they are in.
func (o *Output) Done() <-chan struct{} { return o.done }

// Drain reads the master until it is closed, so that the program on the
// slave never blocks on a full terminal.
func Drain(master *os.File) *Output {
	o := &Output{done: make(chan struct{})}
	go func() {
		defer close(o.done)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			o.mu.Lock()
			o.b = append(o.b, buf[:n]...)
			o.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return o
}

// Session lists the live processes of session sid (zombies aside) with
// their command names: what a program started on a terminal of its own,
// as the session's leader, has running.
func Session(sid int) map[int]string {
	procs := map[int]string{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp session ...; comm may hold spaces.
		s := string(b)
		i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if i < 0 || j < i {
			continue
		}
		f := strings.Fields(s[j+1:])
		if len(f) < 4 || f[0] == "Z" {
			continue
		}
		if id, _ := strconv.Atoi(f[3]); id == sid {
			procs[pid] = s[i+1 : j]
		}
	}
	return procs
}
