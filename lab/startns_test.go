package lab

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"podlab/internal/netnstest"
)

// The test binary's main goroutine keeps the main thread, so that the
// child run below can put the main thread in another namespace, as a
// reader that ran there and kept its thread does.
func init() { runtime.LockOSThread() }

const mainThreadNSEnv = "PODLAB_TEST_MAIN_THREAD_NS"

func TestMain(m *testing.M) {
	if name := os.Getenv(mainThreadNSEnv); name != "" {
		os.Exit(mainThreadChild(name))
	}
	os.Exit(m.Run())
}

// mainThreadChild moves the main thread into the named namespace, then
// prints the inode of the namespace the zero NSRef opens, and its own
// start namespace's.
func mainThreadChild(name string) int {
	var start unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &start); err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fd, err := unix.Open(netnstest.Path(name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		fmt.Println("error:", err)
		return 1
	}
	ns, err := openNS(NSRef{})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	defer ns.Close()
	fmt.Printf("zero %d start %d\n", ns.inode, start.Ino)
	return 0
}

// TestZeroRefIsStartNamespace: the zero NSRef ("this namespace", the
// node's own for collect) is the namespace podlab started in, even once
// its main thread is in a pod's: a reader whose goroutine ran on the main
// thread keeps it there, as Go cannot discard that thread.
func TestZeroRefIsStartNamespace(t *testing.T) {
	netnstest.RequireRoot(t)
	name := netnstest.New(t, "pz")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), mainThreadNSEnv+"="+name)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	var zero, start uint64
	if _, err := fmt.Sscanf(strings.TrimSpace(string(out)), "zero %d start %d", &zero, &start); err != nil {
		t.Fatalf("child said %q: %v", out, err)
	}
	if zero != start {
		t.Errorf("the zero NSRef opened namespace %d, the one the main thread moved to, not %d, the one podlab started in", zero, start)
	}
}
