package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"podlab/internal/netnstest"
)

func TestBuildStamp(t *testing.T) {
	vcs := func(rev, at, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: at}, {Key: "vcs.modified", Value: modified}}
	}
	tests := []struct {
		name    string
		stamped stamp // the -X values
		info    *debug.BuildInfo
		want    stamp
	}{
		{"no build info", stamp{"dev", "unknown", "unknown"}, nil, stamp{"dev", "unknown", "unknown"}},
		{"go build in a checkout", stamp{"dev", "unknown", "unknown"},
			&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("abc123", "2026-12-01T10:00:00Z", "false")},
			stamp{"dev", "abc123", "2026-12-01T10:00:00Z (commit time)"}},
		{"a dirty tree", stamp{"dev", "unknown", "unknown"},
			&debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201100000-abc123abc123+dirty"}, Settings: vcs("abc123", "2026-12-01T10:00:00Z", "true")},
			stamp{"v0.0.0-20261201100000-abc123abc123+dirty", "abc123 (modified)", "2026-12-01T10:00:00Z (commit time)"}},
		{"go install of a version", stamp{"dev", "unknown", "unknown"},
			&debug.BuildInfo{Main: debug.Module{Version: "v0.2.0"}},
			stamp{"v0.2.0", "unknown", "unknown"}},
		{"the release's values win", stamp{"0.1.0", "fedcba", "2026-11-30"},
			&debug.BuildInfo{Main: debug.Module{Version: "v0.2.0"}, Settings: vcs("abc123", "2026-12-01T10:00:00Z", "true")},
			stamp{"0.1.0", "fedcba", "2026-11-30"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func(v, c, d string) { version, commit, date = v, c, d }(version, commit, date)
			version, commit, date = tt.stamped.version, tt.stamped.commit, tt.stamped.date
			if got := buildStamp(tt.info, tt.info != nil); got != tt.want {
				t.Errorf("buildStamp = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestVersionOfGoBuild: `go build` in a git checkout gives a podlab that
// names the checkout's commit, and says when the tree was modified. The
// checkout is a copy of this one in a repository of its own: Go records
// nothing in a linked git worktree (its .git is a file, not a directory).
func TestVersionOfGoBuild(t *testing.T) {
	netnstest.RequireCommand(t, "git", "apt-get install git")
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	src := copyCheckout(t, root)
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=podlab test", "-c", "user.email=test@podlab.invalid", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = src
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-q", "-m", "a checkout")
	head := git("rev-parse", "HEAD")

	build := func() string {
		t.Helper()
		bin := filepath.Join(t.TempDir(), "podlab")
		// -buildvcs=true: the machine's GOFLAGS may turn it off.
		cmd := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
		cmd.Dir = src
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v: %s", err, out)
		}
		out, err := exec.Command(bin, "version").CombinedOutput()
		if err != nil {
			t.Fatalf("podlab version: %v: %s", err, out)
		}
		return string(out)
	}
	out := build()
	if !strings.Contains(out, "\n  commit:   "+head+"\n") || strings.Contains(out, "modified") || strings.HasPrefix(out, "podlab dev\n") || strings.Contains(out, "built:    unknown") {
		t.Errorf("clean checkout at %s:\n%s", head, out)
	}
	if err := os.WriteFile(filepath.Join(src, "NOTES"), []byte("uncommitted\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := build(); !strings.Contains(out, "\n  commit:   "+head+" (modified)\n") {
		t.Errorf("modified checkout at %s:\n%s", head, out)
	}
}

// copyCheckout copies the files of the checkout at root, as they are in
// the working tree (tracked and untracked, not ignored), into a new
// directory.
func copyCheckout(t *testing.T, root string) string {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	dst := t.TempDir()
	for _, name := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		fi, err := os.Lstat(filepath.Join(root, name))
		if err != nil || !fi.Mode().IsRegular() {
			continue // deleted in the working tree, or not a file
		}
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dst, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}
