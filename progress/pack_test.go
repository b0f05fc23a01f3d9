package progress

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackFiles: the built-in lesson's file is written as before packs
// (no "pack" key); another pack's names its pack, and a file of another
// pack, or of another version, is refused when loaded, never mixed in.
func TestPackFiles(t *testing.T) {
	p := &Progress{}
	p.Visit("2.1", true)
	dir := t.TempDir()
	builtin := filepath.Join(dir, "progress.json")
	if err := (File{Path: builtin}).Save(p); err != nil {
		t.Fatal(err)
	}
	const want = "{\n  \"version\": 1,\n  \"last\": \"2.1\",\n  \"steps\": {\n    \"2.1\": {\n      \"done\": true\n    }\n  }\n}\n"
	if data, _ := os.ReadFile(builtin); string(data) != want {
		t.Errorf("the built-in lesson's file is\n%s\nwant\n%s", data, want)
	}
	mine := filepath.Join(dir, "mine.json")
	if err := (File{Path: mine, Pack: "my-lesson@0.1.0"}).Save(p); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(mine); !strings.Contains(string(data), `"pack": "my-lesson@0.1.0"`) {
		t.Errorf("a pack's file does not name it:\n%s", data)
	}
	tests := []struct {
		name, path, pack string
		ok               bool
	}{
		{"the built-in lesson's own", builtin, "", true},
		{"the pack's own", mine, "my-lesson@0.1.0", true},
		{"another version", mine, "my-lesson@0.2.0", false},
		{"another pack", mine, "other@0.1.0", false},
		{"the built-in lesson's, for a pack", builtin, "my-lesson@0.1.0", false},
		{"a pack's, for the built-in lesson", mine, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := File{Path: tc.path, Pack: tc.pack}.Load()
			switch {
			case tc.ok && (err != nil || !got.Done("2.1")):
				t.Errorf("Load: %+v, %v", got, err)
			case !tc.ok && !errors.Is(err, ErrOtherPack):
				t.Errorf("Load: %+v, %v; want ErrOtherPack", got, err)
			case !tc.ok && (strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "choose another --progress FILE")):
				t.Errorf("refusal %q: want one line saying what to do", err)
			}
		})
	}
}

// TestPackPath: each pack and version has its own file beside the
// built-in lesson's, named so that no pack's name or version leaves the
// state directory.
func TestPackPath(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	t.Setenv("SUDO_USER", "")
	for pack, want := range map[string]string{
		"":                       "progress.json",
		"my-lesson@0.1.0":        "progress-my-lesson@0.1.0.json",
		"my-lesson@0.2.0":        "progress-my-lesson@0.2.0.json",
		"x@../../etc/passwd":     "progress-x@.._.._etc_passwd.json",
		"x@1 \x1b[31m/\u00e9":    "progress-x@1___31m___.json",
		strings.Repeat("a", 300): "progress-" + strings.Repeat("a", 128) + ".json",
	} {
		got, err := PackPath(pack)
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(state, "podlab", want); got != want {
			t.Errorf("PackPath(%q) = %s, want %s", pack, got, want)
		}
	}
}
