// Package netnstest makes throw-away network namespaces for tests that
// need real netlink, and decides what a test without root does.
package netnstest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RequireRoot skips a test for a plain user, but fails it when
// PODLAB_REQUIRE_ROOT=1, so that CI never passes by skipping.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("PODLAB_REQUIRE_ROOT") == "1" {
		t.Fatal("this test needs root and PODLAB_REQUIRE_ROOT=1 is set")
	}
	t.Skip("needs root (set PODLAB_REQUIRE_ROOT=1 to make this a failure)")
}

// RequireCommand is RequireRoot's counterpart for a program on PATH.
func RequireCommand(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("PODLAB_REQUIRE_ROOT") == "1" {
		t.Fatalf("%s is not installed (%s)", name, install)
	}
	t.Skipf("%s is not installed (%s)", name, install)
	return ""
}

// Name returns a fresh name with the given prefix, short enough for an
// interface name (15 bytes) when the prefix is at most 7.
func Name(prefix string) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return prefix + hex.EncodeToString(b)
}

// New creates a named network namespace under /run/netns and removes it
// when the test ends. It needs root and the ip command.
func New(t testing.TB, prefix string) string {
	t.Helper()
	RequireRoot(t)
	RequireCommand(t, "ip", "apt-get install iproute2")
	name := Name(prefix)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		// Deleting the namespace removes the links inside it, veths included.
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	return name
}

// Path is where a named namespace is mounted (lab.NetnsDir; this package
// cannot import lab, whose tests import it).
func Path(name string) string { return filepath.Join("/run/netns", name) }

// Run runs a command inside a named namespace and fails the test if it
// fails; for setting up what a test then collects.
func Run(t testing.TB, ns string, args ...string) string {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("in %s: %v: %v: %s", ns, args, err, out)
	}
	return string(out)
}
