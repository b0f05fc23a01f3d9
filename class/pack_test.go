package class

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// listenPack serves a class on pack (bare: a follower naming none is on
// it) and stops it when the test ends.
func listenPack(t *testing.T, pack string, bare bool) *Server {
	t.Helper()
	s, err := Listen("127.0.0.1:0", ServerOptions{Token: "tok", Pack: pack, Bare: bare})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestFollowOtherPack: a follower on another pack, or another version of
// the presenter's, is refused with one line naming the presenter's
// pack@version and how to follow it, before the lesson (Check) and while
// following; one on the same pack follows. A podlab from before packs
// (no pack header) follows a built-in lesson's presenter and is refused
// by another's; a presenter from before packs takes any follower.
func TestFollowOtherPack(t *testing.T) {
	tests := []struct {
		name      string
		presenter string
		bare      bool
		follower  string
		refusal   string // "" follows
	}{
		{"same pack", "my-lesson@0.1.0", false, "my-lesson@0.1.0", ""},
		{"another version", "my-lesson@0.2.0", false, "my-lesson@0.1.0",
			"the presenter teaches pack my-lesson@0.2.0 and this podlab has my-lesson@0.1.0: follow with --pack my-lesson (the presenter's pack directory, or its name in --pack-path)"},
		{"another pack", "pod-connectivity@1.0.0", true, "my-lesson@0.1.0",
			"the presenter teaches pack pod-connectivity@1.0.0 and this podlab has my-lesson@0.1.0: follow with --pack pod-connectivity"},
		{"a podlab before packs, built-in presenter", "pod-connectivity@1.0.0", true, "", ""},
		{"a presenter before packs", "", false, "my-lesson@0.1.0", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := listenPack(t, tc.presenter, tc.bare)
			f, err := NewFollower(s.FollowURL(), "", "ana", true)
			if err != nil {
				t.Fatal(err)
			}
			f.pack = tc.follower
			err = f.Check(context.Background())
			if tc.refusal == "" && err != nil || tc.refusal != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.refusal)) {
				t.Fatalf("Check: %v; want %q", err, tc.refusal)
			}
			ch := follow(t, f)
			if tc.refusal == "" {
				waitUpdate(t, ch, "the first step", func(u update) bool { return u.section == 1 && u.live })
				return
			}
			u := waitUpdate(t, ch, "the refusal", func(u update) bool { return strings.Contains(u.status, tc.refusal) })
			if u.live || strings.Contains(u.status, "\n") {
				t.Errorf("status %q, live %v", u.status, u.live)
			}
			if n := s.Following(); n != 0 {
				t.Errorf("%d following the presenter on another pack", n)
			}
		})
	}
	// A follower from before packs, which sends no pack, hears the
	// refusal in the body it shows.
	s := listenPack(t, "my-lesson@0.2.0", false)
	req, _ := http.NewRequest(http.MethodGet, "http://"+s.Addr()+"/v1/steps", nil)
	req.Header.Set(TokenHeader, "tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || !strings.HasPrefix(string(body), "the presenter teaches pack my-lesson@0.2.0 and this podlab has no pack") {
		t.Errorf("a follower naming no pack: %d %q", resp.StatusCode, body)
	}
}

// TestKeptPack: a kept class names its pack (none for the built-in
// lesson, whose file is as before packs) and resumes only on the same
// pack and version.
func TestKeptPack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "class.json")
	start := func(pack string, builtin bool) (*Server, string) {
		t.Helper()
		var note strings.Builder
		s, _, err := Config{Serve: "127.0.0.1:0", Store: &Store{Path: path}, Pack: pack, Builtin: builtin}.Start(&note)
		if err != nil {
			t.Fatal(err)
		}
		return s, note.String()
	}
	s, _ := start("pod-connectivity@1.0.0", true)
	s.Close()
	if data, _ := os.ReadFile(path); strings.Contains(string(data), `"pack"`) {
		t.Errorf("the built-in lesson's class names a pack:\n%s", data)
	}
	s, note := start("pod-connectivity@1.0.0", true)
	s.Close()
	if !strings.Contains(note, "resumed the class") {
		t.Errorf("the built-in lesson's class did not resume: %q", note)
	}
	s, note = start("my-lesson@0.1.0", false)
	s.Close()
	if strings.Contains(note, "resumed") || !strings.Contains(note, "was on the built-in lesson: starting a new one") {
		t.Errorf("another pack resumed the class: %q", note)
	}
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), `"pack": "my-lesson@0.1.0"`) {
		t.Errorf("the class does not name its pack:\n%s", data)
	}
	s, note = start("my-lesson@0.2.0", false)
	s.Close()
	if strings.Contains(note, "resumed") || !strings.Contains(note, "was on pack my-lesson@0.1.0") {
		t.Errorf("another version resumed the class: %q", note)
	}
}

// TestHostilePackHeader: a pack name from the other end is outside
// input: a follower's comes back to it cleaned, a presenter's reaches
// the student's status line cleaned, and an absurdly long one is not
// taken as a pack at all.
func TestHostilePackHeader(t *testing.T) {
	s := listenPack(t, "my-lesson@0.1.0", false)
	// (Go's client sends no control character in a header, nor its
	// server takes one: a C1 control, CSI, stands in for them.)
	for _, theirs := range []string{"evil\u009b2J@1", "a@" + strings.Repeat("x", 4000)} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+s.Addr()+"/v1/steps", nil)
		req.Header.Set(TokenHeader, "tok")
		req.Header.Set(PackHeader, theirs)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusConflict || strings.ContainsRune(string(body), 0x9b) || strings.Count(strings.TrimSpace(string(body)), "\n") > 0 {
			t.Errorf("pack %.20q: %d %q", theirs, resp.StatusCode, body)
		}
	}

	// A presenter naming a hostile pack.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/steps", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(PackHeader, "evil\u009b2J@1")
		http.Error(w, "no", http.StatusConflict)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f, err := NewFollower(srv.URL, "tok", "ana", false)
	if err != nil {
		t.Fatal(err)
	}
	f.pack = "my-lesson@0.1.0"
	err = f.Check(context.Background())
	if err == nil || strings.ContainsRune(err.Error(), 0x9b) || !strings.Contains(err.Error(), `the presenter teaches pack evil\u009b2J@1`) {
		t.Errorf("Check: %q", err)
	}
}
