package class

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"podlab/content"
)

// TestClassKept: a presenter that restarts on the same address resumes
// its class: the generated token, the step shown and the roster's names
// (still their followers'); the file is the presenter's alone. Another
// token, or --new-class, is another class.
func TestClassKept(t *testing.T) {
	t.Setenv(TokenEnv, "")
	store := &Store{Path: filepath.Join(t.TempDir(), "state", "class.json")}
	addr := freeLoopback(t)
	start := func(c Config) (*Server, string) {
		t.Helper()
		c.Serve, c.Store, c.Steps = addr, store, lessonSteps
		var note bytes.Buffer
		s, _, err := c.Start(&note)
		if err != nil {
			t.Fatal(err)
		}
		return s, note.String()
	}
	s, note := start(Config{})
	if !strings.Contains(note, "class token generated") {
		t.Errorf("note %q", note)
	}
	token := string(s.token)
	ana, _, _ := stream(t, s, token, "")
	if got := post(t, s, token, ana, `{"name":"ana","section":2,"step":3}`); got != 204 {
		t.Fatalf("report: %d", got)
	}
	s.Show(content.StepID{Section: 2, Step: 5})
	s.Close()
	if fi, err := os.Stat(store.Path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("class file: %v %v, want mode 0600", fi, err)
	}

	s, note = start(Config{})
	if string(s.token) != token {
		t.Errorf("token %q after the restart, want %q", s.token, token)
	}
	if got := s.At(); got != (content.StepID{Section: 2, Step: 5}) {
		t.Errorf("at %s after the restart, want 2.5", got)
	}
	if !strings.Contains(note, "resumed the class") || !strings.Contains(note, "2.5") {
		t.Errorf("the restart does not say it resumed: %q", note)
	}
	eve, _, _ := stream(t, s, token, "")
	if got := post(t, s, token, eve, `{"name":"ana","section":1,"step":1}`); got != 409 {
		t.Errorf("ana's name after the restart went to another follower: %d", got)
	}
	again, _, _ := stream(t, s, token, ana)
	if again != ana || post(t, s, token, ana, `{"name":"ana","section":2,"step":5}`) != 204 {
		t.Errorf("ana, back with her secret, lost her name")
	}
	s.Close()

	s, _ = start(Config{Token: "other"})
	if got := s.At(); got != (content.StepID{Section: 1, Step: 1}) {
		t.Errorf("another token resumed the class at %s", got)
	}
	s.Close()
	s, _ = start(Config{NewClass: true})
	if string(s.token) == "other" || string(s.token) == token {
		t.Error("--new-class kept a token")
	}
	s.Close()
}

// TestClassFileRefused: a class file that is not one starts a new class,
// saying why.
func TestClassFileRefused(t *testing.T) {
	t.Setenv(TokenEnv, "")
	for _, tt := range []struct{ name, body string }{
		{"not json", "hello"},
		{"another version", `{"version":9,"serve":"x","token":"t"}`},
		{"a token with an escape", `{"version":1,"serve":"x","token":"\u001b[2J"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "class.json")
			os.WriteFile(path, []byte(tt.body), 0o600)
			var note bytes.Buffer
			s, _, err := Config{Serve: "127.0.0.1:0", Store: &Store{Path: path}}.Start(&note)
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			if !strings.Contains(note.String(), "cannot be read") || strings.Contains(note.String(), "\x1b") {
				t.Errorf("note %q", note.String())
			}
		})
	}
}
