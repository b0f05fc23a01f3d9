package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"podlab/internal/netnstest"
	"podlab/progress"
)

// TestProgressUnderSudo: a student given sudo for podlab alone gets a
// one-line refusal for every --progress path they could not write
// themselves, and neither the start nor a save made afterwards (as the
// lesson makes one) creates or changes a file of root's.
func TestProgressUnderSudo(t *testing.T) {
	const student = 65534 // nobody
	tests := []struct {
		name string
		path func(t *testing.T, home, rootOnly, rootDir string) string
	}{
		{"root-only directory", func(t *testing.T, home, rootOnly, rootDir string) string {
			return filepath.Join(rootOnly, "progress.json")
		}},
		{"root's file", func(t *testing.T, home, rootOnly, rootDir string) string {
			return filepath.Join(rootDir, "ld.so.preload")
		}},
		{"symlink in the path", func(t *testing.T, home, rootOnly, rootDir string) string {
			link := filepath.Join(home, "etc")
			mustSymlink(t, rootDir, link, student)
			return filepath.Join(link, "ld.so.preload")
		}},
		{"symlinked state directory", func(t *testing.T, home, rootOnly, rootDir string) string {
			link := filepath.Join(home, ".local", "state", "podlab")
			mustSymlink(t, rootOnly, link, student)
			return filepath.Join(link, "progress.json")
		}},
	}
	for _, tc := range tests {
		for _, reset := range []bool{true, false} {
			t.Run(tc.name+"/reset="+strconv.FormatBool(reset), func(t *testing.T) {
				home, rootOnly, rootDir := sudoStudent(t, student)
				preload := filepath.Join(rootDir, "ld.so.preload")
				path := tc.path(t, home, rootOnly, rootDir)

				args := []string{"--lab", "recording", "--self-paced", "--progress", path}
				if reset {
					args = append(args, "--reset")
				}
				code, _, stderr := podlab(t, args...)
				if code != 1 || !strings.Contains(stderr, "choose a --progress FILE you can") && !strings.Contains(stderr, "delete it or start over") ||
					strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
					t.Errorf("podlab %v: exit %d, %q; want a one-line refusal", args, code, stderr)
				}
				// What the lesson would do had it started: load, then save.
				if _, saver, err := loadProgress(path, reset); err == nil {
					t.Errorf("loadProgress(%s) took a path the student cannot write", path)
					if err := saver.Save(&progress.Progress{Last: "2.1"}); err == nil {
						t.Errorf("saving to %s succeeded", path)
					}
				}

				for dir, want := range map[string][]string{rootOnly: nil, rootDir: {"ld.so.preload"}} {
					ents, err := os.ReadDir(dir)
					if err != nil {
						t.Fatal(err)
					}
					var names []string
					for _, e := range ents {
						names = append(names, e.Name())
					}
					if !reflect.DeepEqual(names, want) {
						t.Errorf("%s holds %v, want %v", dir, names, want)
					}
				}
				fi, err := os.Lstat(preload)
				if err != nil {
					t.Fatal(err)
				}
				data, _ := os.ReadFile(preload)
				if st := fi.Sys().(*syscall.Stat_t); st.Uid != 0 || !fi.Mode().IsRegular() || string(data) != "/usr/lib/root-only.so\n" {
					t.Errorf("root's file is now %d's, %v, %q", st.Uid, fi.Mode(), data)
				}
			})
		}
	}
}

// sudoStudent sets the environment sudo gives podlab run by the student
// (uid and gid student), and makes them a home beside a directory only
// root can enter and one holding root's ld.so.preload.
func sudoStudent(t *testing.T, student int) (home, rootOnly, rootDir string) {
	t.Helper()
	netnstest.RequireRoot(t)
	base := t.TempDir()
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	home, rootOnly, rootDir = filepath.Join(base, "home"), filepath.Join(base, "root-only"), filepath.Join(base, "etc")
	for _, d := range []string{home, rootOnly, rootDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(rootOnly, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, student, student); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootDir, "ld.so.preload"), []byte("/usr/lib/root-only.so\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SUDO_USER", "nobody")
	t.Setenv("SUDO_UID", strconv.Itoa(student))
	t.Setenv("SUDO_GID", strconv.Itoa(student))
	return home, rootOnly, rootDir
}

// TestProgressUnderSudoSaves: the student's own path works under sudo,
// and what is saved there is theirs.
func TestProgressUnderSudoSaves(t *testing.T) {
	const student = 65534
	home, _, _ := sudoStudent(t, student)
	path := filepath.Join(home, ".local", "state", "podlab", "progress.json")
	p, saver, err := loadProgress(path, false)
	if err != nil || !p.Empty() {
		t.Fatalf("loadProgress: %+v, %v", p, err)
	}
	p.Visit("2.1", true)
	if err := saver.Save(p); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, filepath.Dir(path), filepath.Join(home, ".local")} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != student || st.Gid != student {
			t.Errorf("%s is %d:%d's, want the student's", f, st.Uid, st.Gid)
		}
	}
	if got, _, err := loadProgress(path, false); err != nil || !got.Done("2.1") {
		t.Errorf("loaded again: %+v, %v", got, err)
	}
}

// mustSymlink makes link, and the directories it needs, as the student's.
func mustSymlink(t *testing.T, target, link string, uid int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	for d := link; filepath.Base(d) != "home"; d = filepath.Dir(d) {
		if err := os.Lchown(d, uid, uid); err != nil {
			t.Fatal(err)
		}
	}
}
