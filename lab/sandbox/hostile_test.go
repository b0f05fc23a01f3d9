package sandbox

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"podlab/internal/netnstest"
)

// takeNS creates a namespace as someone else would, and removes it when
// the test ends.
func takeNS(t *testing.T, name string) uint64 {
	t.Helper()
	ino, err := createNS(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteNS(name) })
	return ino
}

func assertNS(t *testing.T, name string, ino uint64) {
	t.Helper()
	got, err := nsInode(name)
	if err != nil {
		t.Fatalf("namespace %s, which the sandbox did not make, was removed", name)
	}
	if got != ino {
		t.Fatalf("namespace %s was replaced", name)
	}
}

// TestTeardownSparesOthersNamespaces: a namespace whose creation failed
// because its name was taken, or recorded without an inode, is not ours,
// and the cleanup leaves it.
func TestTeardownSparesOthersNamespaces(t *testing.T) {
	tests := []struct {
		name  string
		state func(t *testing.T, b *builder, ns string)
	}{
		{"create fails on a taken name", func(t *testing.T, b *builder, ns string) {
			if err := b.newNS(ns, "node", "node1"); err == nil {
				t.Fatal("newNS succeeded on a taken name")
			}
		}},
		{"recorded without an inode", func(t *testing.T, b *builder, ns string) {
			b.st.Namespaces = append(b.st.Namespaces, NSRecord{Name: ns, Role: "node", Owner: "node1"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireSandbox(t, false)
			o := testOptions(t, "bgp")
			b := newBuilder(o, "")
			ns := b.nodes["node1"].NS
			ino := takeNS(t, ns)
			tt.state(t, b, ns)
			if err := teardown(o, b.st); err != nil {
				t.Fatalf("teardown: %v", err)
			}
			assertNS(t, ns, ino)
		})
	}
}

// TestHostileStateFile: Down refuses a state file naming anything a
// sandbox of its prefix does not make, and touches nothing.
func TestHostileStateFile(t *testing.T) {
	tests := []struct {
		name string
		edit func(st *State, victim string)
		want string
	}{
		{"namespace outside /run/netns", func(st *State, victim string) {
			st.Namespaces = append(st.Namespaces, NSRecord{Name: "../.." + victim, Role: "node", Owner: "node1"})
		}, "is not one a sandbox"},
		{"file outside the state dir", func(st *State, victim string) {
			st.Files = append(st.Files, victim)
		}, "is not in"},
		{"file escaping the state dir", func(st *State, victim string) {
			st.Files = append(st.Files, "FILEDIR/")
		}, "is not in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireSandbox(t, false)
			o := testOptions(t, "bgp")
			victim := filepath.Join(t.TempDir(), "victim")
			if err := os.WriteFile(victim, []byte("keep"), 0o644); err != nil {
				t.Fatal(err)
			}
			st := newBuilder(o, "").st
			tt.edit(st, victim)
			for i, f := range st.Files {
				if f == "FILEDIR/" {
					// Through the file dir, up and out to the victim.
					rel, _ := filepath.Rel(o.fileDir(), victim)
					st.Files[i] = o.fileDir() + "/" + rel
				}
			}
			if err := st.write(o); err != nil {
				t.Fatal(err)
			}
			err := Down(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Down = %v, want one line saying %q", err, tt.want)
			}
			if b, err := os.ReadFile(victim); err != nil || string(b) != "keep" {
				t.Errorf("Down touched %s: %v", victim, err)
			}
		})
	}
}

// TestStateTmpSymlinkNotFollowed: a symlink planted at the state file's
// temporary name is replaced, not written through.
func TestStateTmpSymlinkNotFollowed(t *testing.T) {
	o := testOptions(t, "bgp")
	target := filepath.Join(t.TempDir(), "target")
	if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, o.statePath()+".tmp"); err != nil {
		t.Fatal(err)
	}
	st := newBuilder(o, "").st
	if err := st.write(o); err != nil {
		t.Fatalf("write: %v", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("the state was written through the planted symlink: %q", b)
	}
	got, err := readState(o)
	if err != nil || got == nil || got.Prefix != o.Prefix {
		t.Errorf("readState after write = %+v, %v", got, err)
	}
	// A symlink at the state file itself is refused on read.
	os.Remove(o.statePath())
	if err := os.Symlink(target, o.statePath()); err != nil {
		t.Fatal(err)
	}
	if _, err := readState(o); err == nil {
		t.Error("readState followed a symlink")
	}
}

// TestLockKeptByDown: Down leaves the lock file, since another podlab may
// be waiting on it.
func TestLockKeptByDown(t *testing.T) {
	requireSandbox(t, false)
	o := testOptions(t, "bgp")
	if err := newBuilder(o, "").st.write(o); err != nil {
		t.Fatal(err)
	}
	if err := Down(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(o.statePath()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("state file still there: %v", err)
	}
	if _, err := os.Stat(o.lockPath()); err != nil {
		t.Fatalf("Down removed the lock file: %v", err)
	}
}

// waitForLockWaiter waits (bounded) until /proc/locks shows a process
// blocked on the file with inode ino.
func waitForLockWaiter(t *testing.T, ino uint64) {
	t.Helper()
	suffix := fmt.Sprintf(":%d ", ino)
	for range 500 {
		b, err := os.ReadFile("/proc/locks")
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "->") && strings.Contains(l+" ", suffix) {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no waiter showed up on the lock within 5s")
}

// TestLockExcludesAfterUnlink: a podlab that waited on a lock file which
// was then removed does not hold the lock beside a newcomer that locked
// the new file.
func TestLockExcludesAfterUnlink(t *testing.T) {
	o := testOptions(t, "bgp")
	first, err := lock(o)
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(o.lockPath(), &st); err != nil {
		t.Fatal(err)
	}
	var holders, most atomic.Int32
	hold := func() {
		n := holders.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(200 * time.Millisecond)
		holders.Add(-1)
	}
	done := make(chan error, 2)
	go func() {
		unlock, err := lock(o)
		if err == nil {
			hold()
			unlock()
		}
		done <- err
	}()
	waitForLockWaiter(t, st.Ino)
	// What an older Down did: remove the file, then release it.
	os.Remove(o.lockPath())
	first()
	go func() {
		unlock, err := lock(o)
		if err == nil {
			hold()
			unlock()
		}
		done <- err
	}()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if m := most.Load(); m != 1 {
		t.Fatalf("%d podlabs held the lock at once", m)
	}
}

// TestMissingRoutesRetriesInterruptedDump: the converge loop reads a
// table BIRD is writing; a dump the kernel reports interrupted (with
// partial results) is read again rather than failing Up.
func TestMissingRoutesRetriesInterruptedDump(t *testing.T) {
	requireSandbox(t, false)
	ns := netnstest.New(t, "pr")
	h := nsHandleT(t, ns)
	dst := netip.MustParsePrefix("198.19.21.64/26")
	if err := h.RouteAdd(&netlink.Route{Dst: ipnet(dst), Type: unix.RTN_BLACKHOLE, Protocol: protoBird}); err != nil {
		t.Fatal(err)
	}
	saved := listMainRoutes
	t.Cleanup(func() { listMainRoutes = saved })
	calls := 0
	listMainRoutes = func(h *netlink.Handle) ([]netlink.Route, error) {
		calls++
		rs, err := saved(h)
		if calls == 1 && err == nil {
			// The kernel's answer when the table changed mid-dump: what
			// was read so far, and the flag.
			return rs[:0], netlink.ErrDumpInterrupted
		}
		return rs, err
	}
	miss, err := missingRoutes(context.Background(), h, []wantRoute{{dst: dst, proto: protoBird}})
	if err != nil {
		t.Fatalf("missingRoutes: %v", err)
	}
	if len(miss) != 0 || calls != 2 {
		t.Fatalf("missing %v after %d dumps, want none after 2", miss, calls)
	}
}

// TestDeletePodReportsANamespaceNotOurs: a pod whose namespace was
// replaced is forgotten, its namespace left, and DeletePod says so.
func TestDeletePodReportsANamespaceNotOurs(t *testing.T) {
	requireSandbox(t, false)
	o := testOptions(t, "bgp")
	o.StaticRoutes = true
	sb := up(t, o)
	p := sb.State.Pod("yaobank", "summary-85c56b76d7-28hm5")
	if err := deleteNS(p.NS); err != nil {
		t.Fatal(err)
	}
	ino := takeNS(t, p.NS)
	err := DeletePod(context.Background(), o, p.Namespace, p.Name)
	if err == nil || !strings.Contains(err.Error(), "left it alone") {
		t.Fatalf("DeletePod = %v, want it to say it left %s alone", err, p.NS)
	}
	assertNS(t, p.NS, ino)
	st, err := Status(o)
	if err != nil {
		t.Fatal(err)
	}
	if st.Pod(p.Namespace, p.Name) != nil {
		t.Error("the pod is still recorded")
	}
	if err := Down(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	assertNS(t, p.NS, ino)
}

// TestConvergeErrorDetail: a convergence failure carries its BIRD log
// tail as a Detail, which the command line prints after the error's one
// line; no other error has one, whatever its text says.
func TestConvergeErrorDetail(t *testing.T) {
	conv := &convergeError{msg: "BGP did not converge within 1s: node1 lacks x; node1's bird log (/l) ends:", tail: "  a\n  b"}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"plain", errors.New("no"), ""},
		{"bird log in the text is no licence", errors.New(`namespace "x bird log" gone` + "\nsecond"), ""},
		{"convergence keeps its log", fmt.Errorf("up: %w", conv), "  a\n  b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			var d interface{ Detail() string }
			if errors.As(tt.err, &d) {
				got = d.Detail()
			}
			if got != tt.want {
				t.Errorf("detail = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestUpRefusesAnotherStateDirsNames: a second up with the same prefix
// but its own state dir finds every name taken, refuses before creating
// anything, and leaves the first sandbox whole.
func TestUpRefusesAnotherStateDirsNames(t *testing.T) {
	requireSandbox(t, false)
	a := testOptions(t, "bgp")
	a.StaticRoutes = true
	up(t, a)
	b := a
	b.StateDir = t.TempDir()
	t.Cleanup(func() { Down(context.Background(), b) })
	_, err := Up(context.Background(), b)
	if err == nil || !strings.Contains(err.Error(), "exists but is not in podlab's state") {
		t.Fatalf("second Up = %v, want it to refuse the taken names", err)
	}
	if st, _ := readState(b); st != nil {
		t.Errorf("the refused Up recorded %d namespaces", len(st.Namespaces))
	}
	st, err := Status(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Problems) > 0 {
		t.Errorf("the first sandbox was damaged: %q", st.Problems)
	}
}

// TestStopProcessChecksCommandLine: a recorded pid is signalled only
// while it runs the recorded command line.
func TestStopProcessChecksCommandLine(t *testing.T) {
	sleep := netnstest.RequireCommand(t, "sleep", "apt install coreutils")
	// A sleep no other process runs: other tests' clean-ups look for
	// their own sleeps by command line.
	secs := fmt.Sprintf("300.%06d", rand.IntN(1000000))
	cmd := exec.Command(sleep, secs)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pid := cmd.Process.Pid
	// The kernel lets Start return before it fills in the new program's
	// arguments, so /proc/PID/cmdline can read empty for a moment.
	for deadline := time.Now().Add(10 * time.Second); !cmdlineMatches(pid, []string{sleep, secs}); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the sleep's command line never became readable")
		}
	}
	other := Process{Node: "node1", Pid: pid, Cmdline: []string{"/usr/sbin/bird", "-c", "x"}}
	if err := stopProcess(Options{}, other); err != nil {
		t.Fatal(err)
	}
	if !cmdlineMatches(pid, []string{sleep, secs}) {
		t.Fatal("stopProcess killed a process whose command line is not the recorded one")
	}
	waited := make(chan struct{})
	go func() { cmd.Wait(); close(waited) }()
	if err := stopProcess(Options{}, Process{Node: "node1", Pid: pid, Cmdline: []string{sleep, secs}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-waited:
	case <-time.After(10 * time.Second):
		t.Fatal("the recorded process still runs 10s after stopProcess")
	}
}
