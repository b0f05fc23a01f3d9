package progress

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	p := &Progress{}
	p.Visit("1.1", true)
	p.Visit("2.4", false)
	p.Answer("2.4", false)
	p.Answer("2.4", true)
	path := filepath.Join(t.TempDir(), "state", "podlab", "progress.json")
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("loaded %+v, saved %+v", got, p)
	}
	if got.Last != "2.4" || !got.Done("2.4") || got.Answers("2.4") != 2 || !got.Done("1.1") || got.Count([]string{"1.1", "2.4", "3.1"}) != 2 {
		t.Errorf("progress %+v", got)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("file mode %v, want 0644", fi.Mode().Perm())
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o755 {
		t.Errorf("directory mode %v, want 0755", di.Mode().Perm())
	}
}

func TestVisitAndAnswer(t *testing.T) {
	p := &Progress{}
	if !p.Empty() {
		t.Error("a fresh progress is not empty")
	}
	if !p.Visit("2.1", false) || p.Visit("2.1", false) {
		t.Error("Visit reports changes wrongly")
	}
	if p.Done("2.1") {
		t.Error("a visit without done marked the step done")
	}
	if !p.Visit("2.1", true) || !p.Done("2.1") {
		t.Error("a visit with done did not mark it")
	}
	p.Answer("2.4", false)
	if p.Done("2.4") || p.Answers("2.4") != 1 {
		t.Errorf("after a wrong answer: %+v", p.Steps["2.4"])
	}
	c := p.Clone()
	c.Answer("2.4", true)
	if p.Done("2.4") {
		t.Error("a change to a clone reached the original")
	}
	var none *Progress
	if none.Done("1.1") || none.Answers("1.1") != 0 || !none.Empty() {
		t.Error("a nil progress is not empty")
	}
}

func TestLoadMissing(t *testing.T) {
	p, err := Load(filepath.Join(t.TempDir(), "nope", "progress.json"))
	if err != nil || !p.Empty() {
		t.Fatalf("missing file: %+v, %v", p, err)
	}
}

func TestLoadCorrupt(t *testing.T) {
	// Valid JSON a byte over the limit, so only the size is wrong.
	huge := `{"version":1,"last":"` + strings.Repeat("a", MaxSize) + `"}`
	for _, tc := range []struct{ name, data, want string }{
		{"truncated", `{"version":1,"steps":`, "unexpected EOF"},
		{"not json", "hello", "invalid character"},
		{"other version", `{"version":7}`, "version 7"},
		{"no version", `{"last":"2.1"}`, "version 0"},
		{"unknown field", `{"version":1,"colour":"red"}`, "colour"},
		{"wrong type", `{"version":1,"steps":{"2.1":{"done":"yes"}}}`, "done"},
		{"more after it", `{"version":1}{"version":1}`, "more after"},
		{"negative answers", `{"version":1,"steps":{"2.1":{"answers":-1}}}`, "-1 answers"},
		{"too large", huge, "1 MiB limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "progress.json")
			if err := os.WriteFile(path, []byte(tc.data), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Load: %v, want ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want one line naming the file and saying %q", err, tc.want)
			}
		})
	}
}

// TestLoadNotAFile: a directory or a FIFO is refused, and the FIFO
// without waiting for a writer that never comes.
func TestLoadNotAFile(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{t.TempDir(), fifo} {
		if _, err := Load(path); err == nil || errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("Load of %s: %v", path, err)
		}
	}
}

// TestSaveAtomic: saves replace the file whole and leave nothing beside it.
func TestSaveAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "progress.json")
	p := &Progress{}
	for _, id := range []string{"1.1", "2.1", "2.2"} {
		p.Visit(id, true)
		if err := p.Save(path); err != nil {
			t.Fatal(err)
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != "progress.json" {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only progress.json", names)
	}
	// A failed save (its directory is a file) leaves no temporary file
	// and the old progress whole.
	blocked := filepath.Join(dir, "file")
	if err := os.WriteFile(blocked, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.Save(filepath.Join(blocked, "progress.json")); err == nil {
		t.Error("saving under a file succeeded")
	}
	// A rename onto a directory fails after the temporary file is written.
	if err := os.Mkdir(filepath.Join(dir, "taken.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := p.Save(filepath.Join(dir, "taken.json")); err == nil {
		t.Error("saving over a directory succeeded")
	}
	ents, _ = os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	got, err := Load(path)
	if err != nil || got.Count([]string{"1.1", "2.1", "2.2"}) != 3 {
		t.Errorf("after failed saves: %+v, %v", got, err)
	}
}

func TestDefaultPath(t *testing.T) {
	lookup := func(name string) (*user.User, error) {
		if name == "student" {
			return &user.User{Username: "student", Uid: "1000", Gid: "1000", HomeDir: "/home/student"}, nil
		}
		return nil, user.UnknownUserError(name)
	}
	tests := []struct {
		name string
		env  map[string]string
		euid int
		want string // "" for an error
	}{
		{"xdg", map[string]string{"XDG_STATE_HOME": "/x/state", "HOME": "/home/a"}, 1000, "/x/state/podlab/progress.json"},
		{"relative xdg ignored", map[string]string{"XDG_STATE_HOME": "state", "HOME": "/home/a"}, 1000, "/home/a/.local/state/podlab/progress.json"},
		{"home", map[string]string{"HOME": "/home/a"}, 1000, "/home/a/.local/state/podlab/progress.json"},
		{"sudo", map[string]string{"HOME": "/root", "XDG_STATE_HOME": "/root/.xdg", "SUDO_USER": "student"}, 0, "/home/student/.local/state/podlab/progress.json"},
		{"sudo to root", map[string]string{"HOME": "/root", "SUDO_USER": "root"}, 0, "/root/.local/state/podlab/progress.json"},
		{"SUDO_USER without root", map[string]string{"HOME": "/home/a", "SUDO_USER": "student"}, 1000, "/home/a/.local/state/podlab/progress.json"},
		{"unknown sudo user", map[string]string{"HOME": "/root", "SUDO_USER": "ghost"}, 0, ""},
		{"no home", map[string]string{}, 1000, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := defaultPath(func(k string) string { return tc.env[k] }, tc.euid, lookup)
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), "--progress FILE") {
					t.Errorf("got %q, %v; want an error saying --progress FILE", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
