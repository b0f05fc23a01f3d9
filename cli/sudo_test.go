package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"podlab/internal/netnstest"
)

// asNobody makes the test podlab run "under sudo" for the plain user
// nobody, and returns a directory nobody may write beside one only root
// may.
func asNobody(t *testing.T) (theirs, rootOnly string) {
	t.Helper()
	netnstest.RequireRoot(t)
	t.Setenv("SUDO_USER", "nobody")
	t.Setenv("SUDO_UID", "65534")
	t.Setenv("SUDO_GID", "65534")
	base := t.TempDir()
	// The test's temporary directories are 0700: nobody must pass them.
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	theirs, rootOnly = filepath.Join(base, "theirs"), filepath.Join(base, "root-only")
	if err := os.Mkdir(theirs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(theirs, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(rootOnly, 0o700); err != nil {
		t.Fatal(err)
	}
	return theirs, rootOnly
}

// Under sudo, podlab record writes with the invoking user's rights: into
// their own directory, a file of theirs; into root's, nothing.
func TestRecordUnderSudo(t *testing.T) {
	theirs, rootOnly := asNobody(t)
	out := filepath.Join(theirs, "lab.json")
	if code, _, stderr := podlab(t, "record", "--lab", "recording", "-o", out); code != 0 {
		t.Fatalf("record into their own directory: exit %d: %s", code, stderr)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != 65534 {
		t.Errorf("the recording is %d's, not the invoking user's", uid)
	}
	planted := filepath.Join(rootOnly, "lab.json")
	code, _, stderr := podlab(t, "record", "--lab", "recording", "-o", planted)
	if code == 0 || !strings.Contains(stderr, "as user nobody") || !strings.Contains(stderr, "permission denied") {
		t.Errorf("record into root's directory: exit %d, %q; want a refusal", code, stderr)
	}
	if entries, _ := os.ReadDir(rootOnly); len(entries) != 0 {
		t.Errorf("record left %d files in root's directory", len(entries))
	}
}

// Under sudo, a recording is read with the invoking user's rights: root's
// private file is refused, the user's own is read.
func TestReplayUnderSudo(t *testing.T) {
	theirs, rootOnly := asNobody(t)
	rec, err := os.ReadFile(filepath.Join("..", "netview", "testdata", "lesson.json"))
	if err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(rootOnly, "lab.json")
	if err := os.WriteFile(secret, rec, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := podlab(t, "show", "--plain", "--lab", "replay="+secret)
	if code == 0 || !strings.Contains(stderr, "permission denied") || strings.Contains(out, "eth0") {
		t.Errorf("root's recording: exit %d, stderr %q; want it refused", code, stderr)
	}
	mine := filepath.Join(theirs, "lab.json")
	if err := os.WriteFile(mine, rec, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := podlab(t, "show", "--plain", "--lab", "replay="+mine); code != 0 {
		t.Errorf("their own recording: exit %d: %s", code, stderr)
	}
}

// Under sudo, collect takes --pod-ip ADDRESS and nothing else, whatever
// the sudoers rule let through: podlab's own lock behind the rule's.
func TestCollectUnderSudo(t *testing.T) {
	netnstest.RequireRoot(t)
	t.Setenv("SUDO_USER", "nobody")
	t.Setenv("SUDO_UID", "65534")
	t.Setenv("SUDO_GID", "65534")
	fifo := filepath.Join(t.TempDir(), "fifo")
	for _, args := range [][]string{
		{"collect", "--pod-ip", "198.51.100.7", "--host-netns", fifo},
		{"collect", "--host-netns", "pid:1", "--pod-ip", "198.51.100.7"},
		{"collect", "--pod-ip=198.51.100.7", "--host-netns=/proc/1/ns/net"},
		{"--host-netns", "/proc/1/ns/net", "collect", "--pod-ip", "198.51.100.7"},
		{"collect", "--pod-ip", "198.51.100.7", "extra"},
		{"collect", "--pod-ip", "198.51.100.7", "--pod-ip", "198.51.100.8"},
		{"collect", "--pod-ip", "198.51.100.7 --host-netns /proc/1/ns/net"},
		{"collect", "--pod-ip", "not-an-address"},
		{"collect", "--help"},
		{"collect"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := podlab(t, args...)
			if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 ||
				!strings.Contains(stderr, "podlab collect: under sudo, collect takes --pod-ip ADDRESS and nothing else") {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and the one-line refusal", code, stdout, stderr)
			}
		})
	}
	// The lesson's own call gets past the check (to look for the pod).
	for _, args := range [][]string{{"collect", "--pod-ip", "198.51.100.7"}, {"collect", "--pod-ip", "2001:db8::7"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, _, stderr := podlab(t, args...)
			if code == 2 || strings.Contains(stderr, "under sudo") {
				t.Errorf("exit %d, %q: the lesson's call was refused", code, stderr)
			}
		})
	}
}
