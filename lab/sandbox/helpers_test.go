package sandbox

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"podlab/internal/netnstest"
	"podlab/netview"
)

// testOptions gives a test its own prefix and state directory, so it
// never meets a student's sandbox, another test's, or a leftover.
func testOptions(t *testing.T, mode string) Options {
	t.Helper()
	return Options{Prefix: netnstest.Name("pt"), StateDir: t.TempDir(), Mode: netview.Mode(mode)}
}

func requireSandbox(t testing.TB, needBird bool) {
	t.Helper()
	netnstest.RequireRoot(t)
	if needBird {
		if _, err := findBird(); err != nil {
			netnstest.RequireCommand(t, "bird", "apt-get install bird2")
		}
	}
}

// up builds a sandbox and makes sure it is removed when the test ends.
func up(t *testing.T, o Options) *Sandbox {
	t.Helper()
	t.Cleanup(func() {
		if err := Down(context.Background(), o); err != nil {
			t.Errorf("cleanup Down: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sb, err := Up(ctx, o)
	if err != nil {
		t.Fatalf("Up: %v", err)
	}
	return sb
}

// assertGone checks that Down left nothing of st behind: no namespace, no
// process, no file, no state, and no link of ours in this namespace.
func assertGone(t *testing.T, o Options, st *State) {
	t.Helper()
	for _, n := range st.Namespaces {
		if nsExists(n.Name) {
			t.Errorf("namespace %s is still there", n.Name)
		}
	}
	for _, p := range st.Processes {
		if cmdlineMatches(p.Pid, p.Cmdline) {
			t.Errorf("bird on %s (pid %d) still runs", p.Node, p.Pid)
		}
	}
	for _, f := range append(st.Files, o.statePath()) {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("file %s is still there", f)
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), o.fileDir()+"/") {
			t.Errorf("a process still refers to %s: %s", o.fileDir(), strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	ours := map[string]bool{vxlanName: true}
	for _, p := range st.Pods {
		ours[p.HostIf] = true
	}
	for _, l := range links {
		if ours[l.Attrs().Name] {
			t.Errorf("link %s is in the test's own namespace", l.Attrs().Name)
		}
	}
}

// nsHandleT opens a netlink handle in a namespace for the test.
func nsHandleT(t *testing.T, ns string) *netlink.Handle {
	t.Helper()
	h, nsh, err := handle(ns)
	if err != nil {
		t.Fatal(err)
	}
	nsh.Close()
	t.Cleanup(h.Close)
	return h
}

func sysctlIn(t *testing.T, ns, key string) string {
	t.Helper()
	var v string
	err := inNS(ns, func() error {
		b, err := os.ReadFile("/proc/sys/" + key)
		v = strings.TrimSpace(string(b))
		return err
	})
	if err != nil {
		t.Fatalf("read %s in %s: %v", key, ns, err)
	}
	return v
}

// findRoute returns the main-table route (IPv4 or IPv6) to dst with
// protocol proto.
func findRoute(t *testing.T, h *netlink.Handle, dst string, proto int) (netlink.Route, bool) {
	t.Helper()
	rs, err := h.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		t.Fatal(err)
	}
	want := netip.MustParsePrefix(dst)
	for _, r := range rs {
		if prefixOf(r.Dst) == want && int(r.Protocol) == proto {
			return r, true
		}
	}
	return netlink.Route{}, false
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
