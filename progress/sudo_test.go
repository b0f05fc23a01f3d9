package progress

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"podlab/internal/netnstest"
	"podlab/sudo"
)

// The student in these tests is nobody: a plain user on every machine.
const studentID = 65534

// sudoLab is a student's home beside places only root may write.
type sudoLab struct {
	student *sudo.User
	home    string // the student's, 0755
	// rootOnly is root's, 0700: the student can neither enter nor list it.
	rootOnly string
	// rootDir is root's, 0755: the student can enter it, not write it.
	rootDir string
	// preload stands in for /etc/ld.so.preload: root's, 0644, in rootDir.
	preload string
	// secret stands in for /etc/shadow: root's, 0600, in rootDir.
	secret string
}

const (
	preloadText = "/usr/lib/root-only.so\n"
	secretText  = "root:$6$secret-hash:20000::::::\n"
)

func newSudoLab(t *testing.T) sudoLab {
	t.Helper()
	netnstest.RequireRoot(t)
	base := t.TempDir()
	// t.TempDir's directory and its parent are 0700; the student must be
	// able to pass through them to reach their home.
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	l := sudoLab{
		student:  &sudo.User{Name: "nobody", UID: studentID, GID: studentID, Groups: []int{studentID}},
		home:     filepath.Join(base, "home"),
		rootOnly: filepath.Join(base, "root-only"),
		rootDir:  filepath.Join(base, "etc"),
	}
	l.preload = filepath.Join(l.rootDir, "ld.so.preload")
	l.secret = filepath.Join(l.rootDir, "shadow")
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{{l.home, 0o755}, {l.rootOnly, 0o700}, {l.rootDir, 0o755}} {
		if err := os.Mkdir(d.path, d.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d.path, d.mode); err != nil { // past the umask
			t.Fatal(err)
		}
	}
	if err := os.Chown(l.home, studentID, studentID); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		path, text string
		mode       os.FileMode
	}{{l.preload, preloadText, 0o644}, {l.secret, secretText, 0o600}} {
		if err := os.WriteFile(f.path, []byte(f.text), f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(f.path, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// symlink makes a link in the student's home, theirs as they would make
// it.
func (l sudoLab) symlink(t *testing.T, target, rel string) string {
	t.Helper()
	link := filepath.Join(l.home, rel)
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	for d := link; d != l.home; d = filepath.Dir(d) {
		if err := os.Lchown(d, studentID, studentID); err != nil {
			t.Fatal(err)
		}
	}
	return link
}

// untouched fails the test unless root's places are as newSudoLab left
// them: nothing made in them, the files' text, owner and mode the same.
func (l sudoLab) untouched(t *testing.T) {
	t.Helper()
	for _, d := range []struct {
		dir  string
		want []string
	}{{l.rootOnly, nil}, {l.rootDir, []string{"ld.so.preload", "shadow"}}} {
		ents, err := os.ReadDir(d.dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		if !reflect.DeepEqual(names, d.want) {
			t.Errorf("%s holds %v, want %v", d.dir, names, d.want)
		}
	}
	for _, f := range []struct {
		path, text string
		mode       os.FileMode
	}{{l.preload, preloadText, 0o644}, {l.secret, secretText, 0o600}} {
		fi, err := os.Lstat(f.path)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		data, _ := os.ReadFile(f.path)
		if st.Uid != 0 || st.Gid != 0 || fi.Mode() != f.mode || string(data) != f.text {
			t.Errorf("%s is now %d:%d %v %q, want root's %v %q", f.path, st.Uid, st.Gid, fi.Mode(), data, f.mode, f.text)
		}
	}
}

// TestSudoRefusals: under sudo no --progress path lets the student read
// or write what they could not themselves: each is refused with one line
// saying what to do, and root's files stay as they were.
func TestSudoRefusals(t *testing.T) {
	tests := []struct {
		name string
		// path makes the student's --progress path.
		path func(t *testing.T, l sudoLab) string
		// load is what Load says: "" for a fresh start.
		load string
	}{
		{"root-only directory", func(t *testing.T, l sudoLab) string {
			return filepath.Join(l.rootOnly, "progress.json")
		}, "permission denied"},
		{"new directory in a root-only directory", func(t *testing.T, l sudoLab) string {
			return filepath.Join(l.rootOnly, "podlab", "progress.json")
		}, "permission denied"},
		{"root's file itself", func(t *testing.T, l sudoLab) string { return l.preload }, "not a podlab progress file"},
		{"new file in root's directory", func(t *testing.T, l sudoLab) string {
			return filepath.Join(l.rootDir, "progress.json")
		}, ""},
		{"symlink to root's directory in the path", func(t *testing.T, l sudoLab) string {
			return filepath.Join(l.symlink(t, l.rootDir, "etc"), "ld.so.preload")
		}, "not a podlab progress file"},
		{"symlink to a root-only file", func(t *testing.T, l sudoLab) string {
			return filepath.Join(l.symlink(t, l.rootDir, "etc"), "shadow")
		}, "permission denied"},
		{"symlinked state directory", func(t *testing.T, l sudoLab) string {
			return filepath.Join(l.symlink(t, l.rootOnly, ".local/state/podlab"), "progress.json")
		}, "permission denied"},
		{"symlinked state directory to root's", func(t *testing.T, l sudoLab) string {
			return filepath.Join(l.symlink(t, l.rootDir, ".local/state/podlab"), "ld.so.preload")
		}, "not a podlab progress file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newSudoLab(t)
			f := File{Path: tc.path(t, l), As: l.student}

			p, err := f.Load()
			switch {
			case tc.load == "" && (err != nil || !p.Empty()):
				t.Errorf("Load: %+v, %v; want a fresh start", p, err)
			case tc.load != "" && (err == nil || !strings.Contains(err.Error(), tc.load)):
				t.Errorf("Load: %v; want an error saying %q", err, tc.load)
			}
			if err != nil && strings.Contains(err.Error(), "secret-hash") {
				t.Errorf("Load's error shows root's file: %v", err)
			}
			if err != nil && !errors.Is(err, ErrCorrupt) {
				refused(t, err, "choose a --progress FILE you can read")
			}
			err = f.Check()
			refused(t, err, "choose a --progress FILE you can write")
			if !errors.Is(err, fs.ErrPermission) {
				t.Errorf("Check: %v, want permission denied", err)
			}
			err = f.Save(&Progress{Last: "2.1"})
			refused(t, err, "choose a --progress FILE you can write")
			l.untouched(t)
		})
	}
}

func refused(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one saying %q", want)
	}
	if msg := err.Error(); !strings.Contains(msg, want) || !strings.Contains(msg, "as user nobody") || strings.Contains(msg, "\n") {
		t.Errorf("error %q: want one line naming the user and saying %q", msg, want)
	}
}

// TestSudoSave: under sudo the file and every directory made for it are
// the student's, with no chown, and it loads back; a symlink of the
// student's own at the file is replaced, its target left alone.
func TestSudoSave(t *testing.T) {
	l := newSudoLab(t)
	path := filepath.Join(l.home, ".local", "state", "podlab", "progress.json")
	f := File{Path: path, As: l.student}
	if err := f.Check(); err != nil {
		t.Fatal(err)
	}
	p := &Progress{}
	p.Visit("2.1", true)
	p.Answer("2.4", true)
	if err := f.Save(p); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		mode os.FileMode
	}{{path, 0o644}, {filepath.Dir(path), 0o755 | fs.ModeDir}, {filepath.Join(l.home, ".local"), 0o755 | fs.ModeDir}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != studentID || st.Gid != studentID || fi.Mode() != c.mode {
			t.Errorf("%s is %d:%d %v, want the student's, %v", c.path, st.Uid, st.Gid, fi.Mode(), c.mode)
		}
	}
	got, err := f.Load()
	if err != nil || !reflect.DeepEqual(got, p) {
		t.Errorf("loaded %+v, %v; saved %+v", got, err, p)
	}

	link := l.symlink(t, l.preload, "preload.json")
	if err := (File{Path: link, As: l.student}).Save(p); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("the link was not replaced by a file: %v, %v", fi, err)
	}
	l.untouched(t)

	// The rights were the thread's alone: the process is still root.
	mine := filepath.Join(l.rootOnly, "root.json")
	if err := p.Save(mine); err != nil {
		t.Fatal(err)
	}
	if uid, _ := owner(t, mine); uid != 0 || os.Geteuid() != 0 {
		t.Errorf("after saving as the student, root's own save is %d's, euid %d", uid, os.Geteuid())
	}
}

func owner(t *testing.T, path string) (uid, gid int) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return int(st.Uid), int(st.Gid)
}
