package lab

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"podlab/internal/netnstest"
)

// TestCollectAsPlainUser runs this test binary again as nobody: another
// namespace, or a search for a pod's, gives the "needs root" error;
// podlab's own namespace still collects.
func TestCollectAsPlainUser(t *testing.T) {
	if ns, ok := os.LookupEnv("PODLAB_TEST_PLAIN_NS"); ok {
		// The child, as nobody.
		_, err := Collect(context.Background(), NSRef{Name: ns})
		fmt.Printf("named: %v\n", err)
		s, err := Collect(context.Background(), NSRef{})
		n := 0
		if s != nil {
			n = len(s.Links)
		}
		fmt.Printf("current: %v %d\n", err, n)
		_, err = FindPodNS(context.Background(), NSRef{}, netip.MustParseAddr("198.19.22.132"))
		fmt.Printf("find: %v\n", err)
		return
	}
	ns := netnstest.New(t, "plpu")
	dir, err := os.MkdirTemp("", "podlab-plain")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "lab.test")
	copyFile(t, os.Args[0], bin)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestCollectAsPlainUser$")
	cmd.Env = append(os.Environ(), "PODLAB_TEST_PLAIN_NS="+ns)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	text := string(out)
	want := "named: podlab needs root to read live network namespaces"
	if !strings.Contains(text, want) || !strings.Contains(text, "run podlab with sudo, or use its built-in recording") {
		t.Errorf("child said %q, want %q", text, want)
	}
	t.Logf("as nobody: %s", text)
	if !strings.Contains(text, "find: podlab needs root to read live network namespaces") {
		t.Errorf("finding a pod as a plain user should say it needs root: %q", text)
	}
	if !strings.Contains(text, "current: <nil>") {
		t.Errorf("podlab's own namespace should need no root: %q", text)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
