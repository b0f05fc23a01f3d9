package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"podlab/class"
	"podlab/content"
	"podlab/lab/replay"
	"podlab/progress"
	"podlab/ui"
)

// copyBuiltinPack copies the built-in lesson's pack directory to a new
// directory named name and returns its path.
func copyBuiltinPack(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("..", "packs", content.BuiltinName)
	dst := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// editFile replaces the first old in a file of dir with new.
func editFile(t *testing.T, dir, file, old, new string) {
	t.Helper()
	p := filepath.Join(dir, file)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s does not hold %q", file, old)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// viewProbe asks the running lesson for what it shows.
type viewProbe struct{ ch chan string }

// lessonScreen runs the lesson of sections on the built-in recording,
// self-paced from section, and returns a function that waits until the
// screen holds every one of want (and returns it).
func lessonScreen(t *testing.T, sections []content.Section, section int) (*teatest.TestModel, func(want ...string) string) {
	t.Helper()
	rec, err := replay.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	filter := func(m tea.Model, msg tea.Msg) tea.Msg {
		if p, ok := msg.(viewProbe); ok {
			p.ch <- ansi.Strip(m.View().Content)
			return nil
		}
		return msg
	}
	opts := ui.Options{Source: rec, Sections: sections, SelfPaced: true, Section: section, NoColor: true,
		Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }}
	tm := teatest.NewTestModel(t, ui.New(opts), teatest.WithInitialTermSize(120, 40), teatest.WithProgramOptions(tea.WithFilter(filter)))
	t.Cleanup(func() {
		_ = tm.Quit()
		tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	})
	screen := func() string {
		ch := make(chan string, 1)
		tm.Send(viewProbe{ch})
		select {
		case s := <-ch:
			return s
		case <-time.After(5 * time.Second):
			t.Fatal("the lesson did not answer")
		}
		return ""
	}
	wait := func(want ...string) string {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			s := screen()
			ok := true
			for _, w := range want {
				ok = ok && strings.Contains(s, w)
			}
			if ok {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("the screen never held %q:\n%s", want, s)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return tm, wait
}

// TestPackEdited: a copy of the built-in pack with one step's text, one
// of its views and its question's answer expression edited runs with
// --pack DIR and shows all three: the text, the pod pane's ip route
// instead of ip addr, and the gateway taken as the right answer. The
// built-in pack, on the same lab, shows none of them.
func TestPackEdited(t *testing.T) {
	dir := copyBuiltinPack(t, "edited")
	editFile(t, dir, "2-pods.md", "Each pod gets a Linux network namespace", "PACKEDIT: each pod gets a Linux network namespace")
	editFile(t, dir, "2-pods.md", "pod: addr\nhighlight: pod-ip\nanswer: PodIP\n", "pod: route\nhighlight: pod-ip\nanswer: Gateway\n")

	if code, out, stderr := podlab(t, "pack", "lint", dir); code != 0 || !strings.Contains(out, "pod-connectivity: ok") {
		t.Fatalf("pack lint of the edited copy: exit %d, %q %q", code, out, stderr)
	}
	edited, err := (&packFlags{pack: dir}).load()
	if err != nil {
		t.Fatal(err)
	}
	builtin, err := (&packFlags{}).load()
	if err != nil {
		t.Fatal(err)
	}
	const routeLine = "default via 169.254.1.1 dev eth0"
	tests := []struct {
		name    string
		pk      *content.Pack
		edited  bool
		verdict string
	}{
		{"edited copy", edited, true, "✓ correct"},
		{"built-in", builtin, false, "✗ that is the gateway"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tm, wait := lessonScreen(t, tc.pk.Copy(), 2)
			if tc.edited {
				wait("Find the customer pod", "PACKEDIT", "$ ip route", routeLine)
			} else if sc := wait("Find the customer pod", "$ ip addr"); strings.Contains(sc, "PACKEDIT") || strings.Contains(sc, routeLine) {
				t.Errorf("the built-in pack shows the edits:\n%s", sc)
			}
			tm.Send(tea.KeyPressMsg{Code: 'a', Text: "a"})
			tm.Type("169.254.1.1")
			tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
			wait(tc.verdict)
		})
	}
}

// TestPackLintBroken: lint names every error of a broken copy as
// file:line, a line each, and exits 1.
func TestPackLintBroken(t *testing.T) {
	dir := copyBuiltinPack(t, "broken")
	editFile(t, dir, "2-pods.md", "pod: addr\nhighlight: pod-ip\n", "pod: bogus\nhighlight: pod-ip\n")
	editFile(t, dir, "3-hosts-see.md", "\nhost: link\n", "\nhost: link nowhere\n")
	editFile(t, dir, "2-pods.md", "answer: PodPeerIndex\n", "answer: NoSuchFact\n")
	code, out, stderr := podlab(t, "pack", "lint", dir)
	if code != 1 || strings.TrimSpace(stderr) != "podlab: pack "+dir+": 3 errors" {
		t.Errorf("exit %d, stderr %q; want 1 and the count", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{`broken/2-pods.md:7: pod: "bogus"`, `broken/2-pods.md:`, `broken/3-hosts-see.md:`}
	if len(lines) != len(want) {
		t.Fatalf("lint printed %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	fileLine := regexp.MustCompile(`^broken/[\w.-]+:\d+: \S`)
	for i, l := range lines {
		if !fileLine.MatchString(l) || !strings.HasPrefix(l, want[i]) {
			t.Errorf("line %d %q: want file:line: what, starting %q", i+1, l, want[i])
		}
	}
	// The lesson says the first, and where the rest are.
	code, _, stderr = podlab(t, "show", "--lab", "recording", "--pack", dir)
	if code != 1 || strings.Count(strings.TrimSpace(stderr), "\n") > 0 ||
		!strings.HasPrefix(stderr, "podlab: pack "+dir+": broken/") || !strings.Contains(stderr, "(and 2 more; podlab pack lint "+dir+" lists them)") {
		t.Errorf("show with the broken pack: exit %d, %q", code, stderr)
	}
}

// TestPackNewLints: what pack new writes lints clean and runs; it never
// writes into a directory that is not empty.
func TestPackNewLints(t *testing.T) {
	base := t.TempDir()
	t.Chdir(base)
	code, out, stderr := podlab(t, "pack", "new", "my-lesson")
	if code != 0 || !strings.Contains(out, "pack lint ./my-lesson") {
		t.Fatalf("pack new: exit %d, %q %q", code, out, stderr)
	}
	if code, out, stderr := podlab(t, "pack", "lint", "./my-lesson"); code != 0 || out != "my-lesson: ok (1 section, 1 step)\n" {
		t.Errorf("pack lint of the scaffold: exit %d, %q %q", code, out, stderr)
	}
	// By name, through the pack path.
	if code, out, stderr := podlab(t, "pack", "lint", "my-lesson", "--pack-path", base); code != 0 || !strings.Contains(out, "ok") {
		t.Errorf("pack lint by name: exit %d, %q %q", code, out, stderr)
	}
	if code, out, stderr := podlab(t, "check", "--lab", "recording", "--pack", "my-lesson", "--pack-path", base); code != 0 || !strings.Contains(out, "1 of 1 steps pass") {
		t.Errorf("check with the scaffold: exit %d, %q %q", code, out, stderr)
	}
	if code, out, _ := podlab(t, "pack", "list", "--pack-path", base); code != 0 || !regexp.MustCompile(`(?m)^my-lesson +0\.1\.0 +A new lesson +`+regexp.QuoteMeta(filepath.Join(base, "my-lesson"))+`$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^pod-connectivity +1\.0\.0 +Pod Connectivity Fundamentals +built-in$`).MatchString(out) {
		t.Errorf("pack list:\n%s", out)
	}
	before, _ := os.ReadFile(filepath.Join(base, "my-lesson", "pack.yaml"))
	if code, _, stderr := podlab(t, "pack", "new", "other", "my-lesson"); code != 1 || !strings.Contains(stderr, "not empty") {
		t.Errorf("pack new into a full directory: exit %d, %q", code, stderr)
	}
	if after, _ := os.ReadFile(filepath.Join(base, "my-lesson", "pack.yaml")); string(after) != string(before) {
		t.Errorf("pack new changed a pack that was there")
	}
	if code, _, stderr := podlab(t, "pack", "new", "Bad Name"); code != 2 || !strings.Contains(stderr, "lowercase") {
		t.Errorf("pack new with a bad name: exit %d, %q", code, stderr)
	}
}

// TestPackRefused: a pack that cannot be had, or cannot run on the lab
// asked for, is one line before anything starts.
func TestPackRefused(t *testing.T) {
	reader := copyBuiltinPack(t, "reader")
	editFile(t, reader, "pack.yaml", "readers: [netlink]", "readers: [netlink, birdc]")
	clusterOnly := copyBuiltinPack(t, "cluster-only")
	editFile(t, clusterOnly, "pack.yaml", "labs: [cluster, sandbox, replay]", "labs: [cluster]")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown name", []string{"show", "--lab", "recording", "--pack", "nosuch"}, 2,
			`podlab: pack "nosuch": no built-in pack of that name and no --pack-path`},
		{"unknown name in a pack path", []string{"check", "--lab", "recording", "--pack", "nosuch", "--pack-path", t.TempDir()}, 2,
			`no built-in pack of that name and none in `},
		{"missing directory", []string{"show", "--lab", "recording", "--pack", "./nosuch"}, 1,
			"podlab: pack ./nosuch: ./nosuch: no such file or directory"},
		{"a file, not a directory", []string{"show", "--lab", "recording", "--pack", filepath.Join(reader, "pack.yaml")}, 1,
			"is not a directory"},
		{"unknown reader", []string{"show", "--lab", "recording", "--pack", reader}, 1,
			`reader/pack.yaml:11: readers: "birdc" is not one of netlink, bird, nat, resources`},
		{"lab kind it lacks", []string{"show", "--lab", "recording", "--pack", clusterOnly}, 1,
			"podlab: pack pod-connectivity@1.0.0 does not run on a replay lab (--lab recording): it runs on cluster"},
		// The lesson refuses it before it asks for a terminal.
		{"lesson on a lab kind it lacks", []string{"--lab", "recording", "--pack", clusterOnly}, 1,
			"does not run on a replay lab"},
		{"lesson with an unknown reader", []string{"--lab", "recording", "--pack", reader}, 1,
			`readers: "birdc" is not one of netlink, bird, nat, resources`},
		{"section beyond the pack's", []string{"--lab", "recording", "--section", "5"}, 2, "--section must be 1 to 4, not 5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := podlab(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("podlab %v: exit %d, %q; want %d and one line with %q", tc.args, code, stderr, tc.code, tc.want)
			}
		})
	}
}

// TestPackUnderSudo: under sudo a pack is read, and pack new writes,
// with the rights of the student who ran it: a pack in a directory only
// root can read, or one whose section is a symlink to a root-only file,
// is refused in one line; what pack new writes is the student's, and it
// writes nothing where they could not.
func TestPackUnderSudo(t *testing.T) {
	const student = 65534 // nobody
	home, rootOnly, _ := sudoStudent(t, student)
	hidden := filepath.Join(rootOnly, "hidden")
	if err := os.CopyFS(hidden, os.DirFS(filepath.Join("..", "packs", content.BuiltinName))); err != nil {
		t.Fatal(err)
	}
	own := filepath.Join(home, "own")
	if err := os.CopyFS(own, os.DirFS(filepath.Join("..", "packs", content.BuiltinName))); err != nil {
		t.Fatal(err)
	}
	sneaky := filepath.Join(home, "sneaky")
	if err := os.CopyFS(sneaky, os.DirFS(filepath.Join("..", "packs", content.BuiltinName))); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(rootOnly, "secret.md")
	if err := os.WriteFile(secret, []byte("# Root's secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(sneaky, "2-pods.md")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(sneaky, "2-pods.md")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dir string
		code      int
		want      string
	}{
		{"root-only directory", hidden, 1, "permission denied"},
		{"symlink to a root-only file", sneaky, 1, "sneaky/2-pods.md: permission denied"},
		{"the student's own", own, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := podlab(t, "show", "--lab", "recording", "--pack", tc.dir)
			if code != tc.code || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 ||
				strings.Contains(stderr, "Root's secret") {
				t.Errorf("show --pack %s: exit %d, %q; want %d and %q", tc.dir, code, stderr, tc.code, tc.want)
			}
		})
	}

	if code, _, stderr := podlab(t, "pack", "new", "mine", filepath.Join(rootOnly, "mine")); code != 1 || !strings.Contains(stderr, "permission denied") {
		t.Errorf("pack new into a root-only directory: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(rootOnly, "mine")); err == nil {
		t.Errorf("pack new made a directory where the student cannot")
	}
	dir := filepath.Join(home, "packs", "mine")
	if code, _, stderr := podlab(t, "pack", "new", "mine", dir); code != 0 {
		t.Fatalf("pack new into the student's home: exit %d, %q", code, stderr)
	}
	for _, f := range []string{filepath.Dir(dir), dir, filepath.Join(dir, "pack.yaml"), filepath.Join(dir, "1-first-look.md")} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != student || st.Gid != student {
			t.Errorf("%s is %d:%d's, want the student's", f, st.Uid, st.Gid)
		}
	}
}

// TestProgressPerPack: self-paced progress is kept per pack and pack
// version: the built-in lesson in today's file, a copy of it from a
// directory and its next version each in a file of their own, none
// seeing another's.
func TestProgressPerPack(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	t.Setenv("SUDO_USER", "")
	copied := copyBuiltinPack(t, "copied")
	next := copyBuiltinPack(t, "next")
	editFile(t, next, "pack.yaml", "version: 1.0.0", "version: 1.1.0")
	tests := []struct {
		name, pack, file, visit string
	}{
		{"built-in", "", "progress.json", "2.1"},
		{"a copy from a directory", copied, "progress-pod-connectivity@1.0.0.json", "3.1"},
		{"its next version", next, "progress-pod-connectivity@1.1.0.json", "4.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pk, err := (&packFlags{pack: tc.pack}).load()
			if err != nil {
				t.Fatal(err)
			}
			p, saver, err := loadPackProgress("", false, progressPack(pk))
			if err != nil {
				t.Fatal(err)
			}
			if !p.Empty() {
				t.Errorf("%s starts with another's progress: %+v", tc.name, p)
			}
			p.Visit(tc.visit, true)
			if err := saver.Save(p); err != nil {
				t.Fatal(err)
			}
			if f := saver.(progress.File).Path; f != filepath.Join(state, "podlab", tc.file) {
				t.Errorf("kept in %s, want %s", f, tc.file)
			}
			again, _, err := loadPackProgress("", false, progressPack(pk))
			if err != nil || again.Last != tc.visit {
				t.Errorf("loaded again: %+v, %v", again, err)
			}
		})
	}
	// One pack's file, named with --progress for another, is refused.
	next1, _ := (&packFlags{pack: next}).load()
	code, _, stderr := podlab(t, "--lab", "recording", "--self-paced", "--pack", next, "--progress", filepath.Join(state, "podlab", "progress.json"))
	if code != 1 || !strings.Contains(stderr, "holds the progress of another lesson pack: the built-in lesson, not pack "+next1.ID()) {
		t.Errorf("another pack's progress: exit %d, %q", code, stderr)
	}
}

// TestFollowOtherPack: a follower whose pack is not the presenter's is
// refused in one line, before the lesson starts, naming the presenter's
// pack@version and how to follow it; on the presenter's pack it goes on
// (to ask for a terminal, which a test has none of).
func TestFollowOtherPack(t *testing.T) {
	t.Setenv("PODLAB_CLASS_TOKEN", "")
	builtin, err := content.Builtin(content.BuiltinName)
	if err != nil {
		t.Fatal(err)
	}
	next := copyBuiltinPack(t, "next")
	editFile(t, next, "pack.yaml", "version: 1.0.0", "version: 1.1.0")
	tests := []struct {
		name, presenter string
		args            []string
		want            string
	}{
		{"another pack", "my-lesson@0.1.0", nil,
			"podlab: the presenter teaches pack my-lesson@0.1.0 and this podlab has " + builtin.ID() + ": follow with --pack my-lesson (the presenter's pack directory, or its name in --pack-path)"},
		{"another version", builtin.ID(), []string{"--pack", next},
			"podlab: the presenter teaches pack " + builtin.ID() + " and this podlab has pod-connectivity@1.1.0: follow with --pack pod-connectivity"},
		{"the same", builtin.ID(), nil, "interactive terminal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := class.Listen("127.0.0.1:0", class.ServerOptions{Token: "tok", Pack: tc.presenter, Bare: tc.presenter == builtin.ID()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			args := append([]string{"--lab", "recording", "--follow", s.FollowURL()}, tc.args...)
			code, _, stderr := podlab(t, args...)
			if code != 1 || !strings.HasPrefix(stderr, tc.want) && !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("podlab %v: exit %d, %q; want one line with %q", args, code, stderr, tc.want)
			}
		})
	}
}

// TestPackDirOddities: a pack directory whose name a file pattern would
// misread still loads; a FIFO in place of a section is refused, not
// waited on.
func TestPackDirOddities(t *testing.T) {
	odd := copyBuiltinPack(t, "my[1]*")
	if code, out, stderr := podlab(t, "pack", "lint", odd); code != 0 || !strings.Contains(out, "ok (4 sections, 22 steps)") {
		t.Errorf("pack lint %s: exit %d, %q %q", odd, code, out, stderr)
	}
	fifo := copyBuiltinPack(t, "fifo")
	if err := os.Remove(filepath.Join(fifo, "3-hosts-see.md")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(fifo, "3-hosts-see.md"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := podlab(t, "show", "--lab", "recording", "--pack", fifo); code != 1 || !strings.Contains(stderr, "fifo/3-hosts-see.md:1: not a regular file") {
		t.Errorf("a FIFO section: exit %d, %q", code, stderr)
	}
}

// TestPackSuitsLab: each --lab is the lab kind a pack names (netns reads
// namespaces as the sandbox does; the recordings are replays), and a
// pack is refused on a kind it does not name or whose readers the kind
// lacks.
func TestPackSuitsLab(t *testing.T) {
	pk := func(labs, readers []string) *content.Pack {
		return &content.Pack{Manifest: content.Manifest{Name: "p", Version: "1", Labs: labs, Readers: readers}}
	}
	all := []string{"cluster", "sandbox", "replay"}
	tests := []struct {
		lab  string
		pack *content.Pack
		want string // "" suits
	}{
		{"cluster", pk(all, []string{"netlink"}), ""},
		{"netns", pk([]string{"sandbox"}, []string{"netlink"}), ""},
		{"recording", pk([]string{"replay"}, []string{"netlink"}), ""},
		{"replay=x.json", pk([]string{"replay"}, []string{"netlink"}), ""},
		{"auto", pk([]string{"cluster"}, []string{"netlink"}), ""}, // auto passes by what it cannot use
		{"replay=x.json", pk([]string{"cluster", "sandbox"}, []string{"netlink"}), "pack p@1 does not run on a replay lab (--lab replay): it runs on cluster, sandbox"},
		{"netns", pk([]string{"cluster"}, []string{"netlink"}), "pack p@1 does not run on a sandbox lab (--lab netns): it runs on cluster"},
		{"sandbox", pk(all, []string{"netlink", "bird"}), ""},
		{"recording", pk(all, []string{"netlink", "nat"}), "pack p@1 needs the nat reader, which a replay lab does not have (it reads netlink)"},
	}
	for _, tc := range tests {
		t.Run(tc.lab+"/"+strings.Join(tc.pack.Labs, ","), func(t *testing.T) {
			f := labFlags{lab: tc.lab, pack: tc.pack}
			err := f.suitsPack()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || err.Error() != tc.want) {
				t.Errorf("suitsPack: %v, want %q", err, tc.want)
			}
		})
	}
}
