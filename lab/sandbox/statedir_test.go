package sandbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// student is the uid a state directory's would-be attacker owns things as.
const student = 65534

// victimFiles makes a directory of files named as the sandbox names its
// own, each holding "keep", and returns it.
func victimFiles(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("keep"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func assertKept(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		if b, err := os.ReadFile(filepath.Join(dir, n)); err != nil || string(b) != "keep" {
			t.Errorf("%s was changed by root's sandbox: %q, %v", n, b, err)
		}
	}
}

// recordFiles writes, straight to the state path, a state listing BIRD's
// files of node1 (what Down will remove).
func recordFiles(t *testing.T, o Options) []string {
	t.Helper()
	st := newBuilder(o, "").st
	st.Phase = PhaseUp
	conf, sock, pid, log := birdFiles(o.fileDir(), "node1")
	st.Files = []string{conf, sock, pid, log, log + ".stderr"}
	if err := os.WriteFile(o.statePath(), marshalState(t, st), 0o644); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range st.Files {
		names = append(names, filepath.Base(f))
	}
	return names
}

// TestStateDirOthersCanChangeIsRefused: a state directory that someone
// other than root could change (its own mode or owner, a parent's, a
// symlink on the way) is refused by up, down and status; a sticky
// root-owned parent like /tmp is not enough to refuse. In the refused
// cases a student has pointed the sandbox's file directory at files of
// someone else's, named as BIRD's: down must not remove them.
func TestStateDirOthersCanChangeIsRefused(t *testing.T) {
	tests := []struct {
		name string
		// setup makes the state dir inside base and returns its path.
		setup func(t *testing.T, base string) string
		want  string // "" when the directory is accepted
	}{
		{"writable by others", func(t *testing.T, base string) string {
			return mkdir(t, base, "state", 0o777, 0)
		}, "writable by group or others"},
		{"writable by group", func(t *testing.T, base string) string {
			return mkdir(t, base, "state", 0o775, 0)
		}, "writable by group or others"},
		{"owned by a student", func(t *testing.T, base string) string {
			return mkdir(t, base, "state", 0o755, student)
		}, "owned by uid 65534"},
		{"a parent writable by others", func(t *testing.T, base string) string {
			p := mkdir(t, base, "open", 0o777, 0)
			return mkdir(t, p, "state", 0o755, 0)
		}, "writable by group or others"},
		{"a parent owned by a student", func(t *testing.T, base string) string {
			p := mkdir(t, base, "home", 0o755, student)
			return mkdir(t, p, "state", 0o755, 0)
		}, "owned by uid 65534"},
		{"sticky and writable by others itself", func(t *testing.T, base string) string {
			return mkdir(t, base, "state", os.ModeSticky|0o777, 0)
		}, "writable by group or others"},
		{"a student's symlink on the way", func(t *testing.T, base string) string {
			real := mkdir(t, base, "real", 0o755, 0)
			link := filepath.Join(base, "link")
			if err := os.Symlink(real, link); err != nil {
				t.Fatal(err)
			}
			if err := os.Lchown(link, student, student); err != nil {
				t.Fatal(err)
			}
			return link
		}, "symlink owned by uid 65534"},
		{"a sticky root-owned parent, as /tmp", func(t *testing.T, base string) string {
			p := mkdir(t, base, "tmp", os.ModeSticky|0o777, 0)
			return mkdir(t, p, "state", 0o755, 0)
		}, ""},
		{"root's symlink on the way", func(t *testing.T, base string) string {
			mkdir(t, base, "real", 0o755, 0)
			link := filepath.Join(base, "link")
			if err := os.Symlink("real", link); err != nil {
				t.Fatal(err)
			}
			return link
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireSandbox(t, false)
			o := testOptions(t, "bgp")
			o.StaticRoutes = true
			o.StateDir = tt.setup(t, t.TempDir())
			// What a student can do in a directory they can change: point
			// the sandbox's file directory at someone else's files.
			names := recordFiles(t, o)
			victim := victimFiles(t, names...)
			if err := os.Symlink(victim, o.fileDir()); err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if err := os.Remove(o.statePath()); err != nil {
					t.Fatal(err)
				}
				if _, err := Status(o); !errors.Is(err, ErrNotUp) {
					t.Fatalf("Status = %v, want the sandbox not up", err)
				}
				return
			}
			ctx := context.Background()
			t.Cleanup(func() {
				// Were Up to build, what it built goes.
				if st, _ := readStateUnchecked(o); st != nil {
					teardown(o, st)
				}
			})
			for _, call := range []struct {
				name string
				run  func() error
			}{
				{"down", func() error { return Down(ctx, o) }},
				{"status", func() error { _, err := Status(o); return err }},
				{"up", func() error { _, err := Up(ctx, o); return err }},
				{"delete-pod", func() error { return DeletePod(ctx, o, CustomerNamespace, CustomerPod) }},
			} {
				err := call.run()
				if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
					t.Errorf("%s = %v, want one line saying %q", call.name, err, tt.want)
				}
			}
			assertKept(t, victim, names...)
			if nsExists(o.Prefix + "-fabric") {
				t.Error("up built in a refused state dir")
			}
		})
	}
}

// readStateUnchecked reads a state file without the directory checks, for
// a test's clean-up.
func readStateUnchecked(o Options) (*State, error) {
	b, err := os.ReadFile(o.statePath())
	if err != nil {
		return nil, err
	}
	return parseState(b, o)
}

func mkdir(t *testing.T, parent, name string, mode os.FileMode, uid int) string {
	t.Helper()
	p := filepath.Join(parent, name)
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
	// Chmod after Mkdir: the umask would drop the bits asked for.
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, uid, uid); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSymlinksInStateDirNotFollowed: in a state directory only root can
// change, names planted there as symlinks (a leftover, or root's own
// mistake) are never followed: down does not remove through a file
// directory that became a symlink, and up neither writes BIRD's config
// through a symlink at its name nor lets BIRD write its log, pid file or
// socket through one.
func TestSymlinksInStateDirNotFollowed(t *testing.T) {
	t.Run("down", func(t *testing.T) {
		requireSandbox(t, false)
		o := testOptions(t, "bgp")
		names := recordFiles(t, o)
		victim := victimFiles(t, names...)
		if err := os.Symlink(victim, o.fileDir()); err != nil {
			t.Fatal(err)
		}
		err := Down(context.Background(), o)
		if err == nil || !strings.Contains(err.Error(), "not a directory the sandbox made") {
			t.Errorf("Down = %v, want it to refuse the symlinked file directory", err)
		}
		assertKept(t, victim, names...)
	})
	for _, tt := range []struct {
		name  string
		plant func(t *testing.T, o Options, victim string, names []string)
	}{
		{"up: symlinks at BIRD's file names", func(t *testing.T, o Options, victim string, names []string) {
			if err := os.Mkdir(o.fileDir(), 0o755); err != nil {
				t.Fatal(err)
			}
			for _, n := range names {
				if err := os.Symlink(filepath.Join(victim, n), filepath.Join(o.fileDir(), n)); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"up: the file directory a symlink", func(t *testing.T, o Options, victim string, names []string) {
			if err := os.Symlink(victim, o.fileDir()); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			requireSandbox(t, true)
			o := testOptions(t, "bgp")
			var names []string
			for _, n := range nodeSpecs {
				conf, sock, pid, log := birdFiles("", n.name)
				names = append(names, conf, sock, pid, log, log+".stderr")
			}
			victim := victimFiles(t, names...)
			tt.plant(t, o, victim, names)
			t.Cleanup(func() { Down(context.Background(), o) })
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			_, err := Up(ctx, o)
			if fi, lerr := os.Lstat(o.fileDir()); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
				if err == nil || !strings.Contains(err.Error(), "not a directory the sandbox made") {
					t.Errorf("Up = %v, want it to refuse the symlinked file directory", err)
				}
			} else if err != nil {
				t.Fatalf("Up: %v", err)
			}
			assertKept(t, victim, names...)
			if fi, lerr := os.Lstat(o.fileDir()); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
				os.Remove(o.fileDir())
			}
			if err := Down(context.Background(), o); err != nil {
				t.Errorf("Down: %v", err)
			}
			assertKept(t, victim, names...)
		})
	}
}
