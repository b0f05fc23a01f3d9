// Package e2e drives the built podlab binary in a real terminal: tmux for
// the lesson on the built-in recording and on a live sandbox, and
// pseudo-terminals of its own (pty_test.go) for how podlab ends when its
// terminal goes away or a signal comes.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"podlab/internal/netnstest"
	"podlab/lab/sandbox"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

// podlab builds the binary once for the whole package.
func podlab(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "podlab-e2e-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "podlab")
		cmd := exec.Command("go", "build", "-o", binPath, "podlab")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// term is one tmux server of our own, with one window running podlab.
type term struct {
	t    *testing.T
	sock string
}

func newTerm(t *testing.T, w, h int, args ...string) *term {
	t.Helper()
	return newTermRun(t, podlab(t), "", w, h, args...)
}

// newTermAs is newTerm with the terminal type podlab is told (TERM);
// tmux sets its own in the pane otherwise.
func newTermAs(t *testing.T, termType string, w, h int, args ...string) *term {
	t.Helper()
	return newTermRun(t, podlab(t), termType, w, h, args...)
}

// newTermWith runs bin, a podlab binary built elsewhere (a release's).
func newTermWith(t *testing.T, bin string, w, h int, args ...string) *term {
	t.Helper()
	return newTermRun(t, bin, "", w, h, args...)
}

// newTermRun runs bin in a tmux window of w by h cells, told TERM=termType
// when that is not empty.
func newTermRun(t *testing.T, bin, termType string, w, h int, args ...string) *term {
	t.Helper()
	netnstest.RequireCommand(t, "tmux", "apt-get install tmux")
	tm := &term{t: t, sock: netnstest.Name("podlab-e2e-")}
	cmdline := quoteAll(append([]string{bin}, args...))
	if termType != "" {
		cmdline = append([]string{"TERM=" + quoteAll([]string{termType})[0]}, cmdline...)
	}
	// Keep the window when podlab exits, to read what it said. Set in
	// the server's config, which tmux reads before it runs new-session:
	// set after it, a podlab that exits at once (TERM=dumb) could take
	// the window, and the server, with it first.
	conf := filepath.Join(t.TempDir(), "tmux.conf")
	if err := os.WriteFile(conf, []byte("set-option -g remain-on-exit on\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The shell says how podlab ended: tmux 3.3 at times leaves an
	// exited pane unreaped, dead with no status to read.
	tm.run("-f", conf, "new-session", "-d", "-s", "lab", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h),
		"-e", "TERM=xterm-256color", "-e", "COLORTERM=truecolor", strings.Join(cmdline, " ")+`; s=$?; echo "[podlab exited $s]"; exit $s`)
	t.Cleanup(func() {
		// Only our own server, by its socket.
		exec.Command("tmux", "-L", tm.sock, "kill-server").Run()
	})
	return tm
}

func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return out
}

func (tm *term) run(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", tm.sock}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v: %s", args, err, out)
	}
	return string(out)
}

// keys types keys; tmux names them (Enter, Escape, Tab, Right...).
func (tm *term) keys(keys ...string) {
	tm.t.Helper()
	for _, k := range keys {
		tm.run("send-keys", "-t", "lab", k)
		// One key at a time, as a student types: a burst may arrive
		// in one read and be taken for a paste.
		time.Sleep(40 * time.Millisecond)
	}
}

func (tm *term) text(s string) {
	tm.t.Helper()
	tm.run("send-keys", "-t", "lab", "-l", s)
}

// screen is the window as text; escapes keeps the colours.
func (tm *term) screen(escapes bool) string {
	tm.t.Helper()
	args := []string{"capture-pane", "-p", "-t", "lab"}
	if escapes {
		args = append(args, "-e")
	}
	return tm.run(args...)
}

func (tm *term) waitFor(what string, d time.Duration, cond func(string) bool) string {
	tm.t.Helper()
	deadline := time.Now().Add(d)
	for {
		s := tm.screen(false)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("waiting for %s; the screen is:\n%s", what, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (tm *term) waitText(d time.Duration, want ...string) string {
	tm.t.Helper()
	return tm.waitFor(strings.Join(want, " and "), d, func(s string) bool {
		for _, w := range want {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	})
}

// quit presses q and waits for podlab to end with status 0, as the pane
// or the shell around podlab reports it.
func (tm *term) quit() {
	tm.t.Helper()
	tm.keys("q")
	deadline := time.Now().Add(5 * time.Second)
	for {
		dead := strings.TrimSpace(tm.run("display-message", "-p", "-t", "lab", "#{pane_dead} #{pane_dead_status}"))
		s := tm.screen(false)
		m := exited.FindStringSubmatch(s)
		switch {
		case dead == "1 0" || m != nil && m[1] == "0":
			return
		case strings.HasPrefix(dead, "1 ") || m != nil || time.Now().After(deadline):
			tm.t.Fatalf("podlab did not quit cleanly (%s):\n%s", dead, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var exited = regexp.MustCompile(`\[podlab exited (\d+)\]`)

// sgrOn is the styling in effect where text first appears on the first
// line that holds marker, in a screen captured with escapes.
func sgrOn(screen, marker, text string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(sgrRE.ReplaceAllString(l, ""), marker) {
			return sgrBefore(l, text)
		}
	}
	return ""
}

// sgrBefore is the styling in effect where text first appears.
func sgrBefore(screen, text string) string {
	i := strings.Index(screen, text)
	if i < 0 {
		return ""
	}
	m := sgrRE.FindAllString(screen[:i], -1)
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1]
}

var sgrRE = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// line is the screen line holding text.
func line(screen, text string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, text) {
			return l
		}
	}
	return ""
}

const wait = 10 * time.Second

func TestRecordingInTerminal(t *testing.T) {
	sizes := []struct {
		w, h  int
		plain bool
	}{{80, 24, true}, {160, 48, false}}
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			args := []string{"--lab", "recording"}
			if sz.plain {
				args = append(args, "--plain")
			}
			tm := newTerm(t, sz.w, sz.h, args...)
			tm.waitText(wait, "recording", "refreshed")

			// Section 2: the pod's end of the veth, selected.
			tm.keys("2", "n", "n", "n")
			s := tm.waitText(wait, "2/4 How Pods", "step 4/7", "eth0@if9: <")
			if l := line(s, "eth0@if9: <"); !strings.Contains(l, "▸ 3: eth0@if9") && !strings.Contains(l, "> 3: eth0@if9") {
				t.Errorf("eth0@if9 is not the selected line:\n%s", s)
			}

			// Section 3: the host end whose index is the pod's @if9.
			tm.keys("3", "n")
			s = tm.waitText(wait, "3/4 How Hosts", "step 2/5", "9: caliea2aa288365@if3: <")
			if l := line(s, "9: caliea2aa288365@if3: <"); !strings.Contains(l, "▸ 9: caliea2aa288365@if3") && !strings.Contains(l, "> 9: caliea2aa288365@if3") {
				t.Errorf("the host end is not the selected line: %q", l)
			}
			if !sz.plain {
				e := tm.screen(true)
				pod, host := sgrOn(e, "eth0@if9: <", "eth0@if9"), sgrOn(e, "caliea2aa288365@if3: <", "caliea2aa288365@if3")
				if pod == "" || pod != host || !strings.Contains(pod, "38") {
					t.Errorf("the veth ends are not styled alike in colour: %q vs %q", pod, host)
				}
			}
			// The lesson's text: inline code padded by a blank each side,
			// on a background where there is colour.
			if !strings.Contains(s, "Run the same  ip -c link show up  on the node") {
				t.Errorf("the lesson's text is not shown as written:\n%s", s)
			}
			if !sz.plain {
				e := tm.screen(true)
				if code := sgrOn(e, "Run the same", " ip -c link show up "); !strings.Contains(code, "48;") {
					t.Errorf("the lesson's inline code has no background: %q", code)
				}
			}

			// Section 4: every class of route, each styled its own way.
			tm.keys("4", "n", "n", "n", "n")
			s = tm.waitText(wait, "4/4 How Hosts", "step 5/9", "blackhole 198.19.22.128/26 proto bird")
			for _, legend := range []string{"local pod", "blackhole", "remote block", "default", "connected"} {
				if !strings.Contains(line(s, "veth ends"), legend) && !strings.Contains(line(s, "remote block"), legend) {
					t.Errorf("the legend lacks %q:\n%s", legend, s)
				}
			}
			if sz.plain {
				for _, want := range []string{"BH blackhole 198.19.22.128/26", "LP 198.19.22.132 dev caliea2aa288365", "RB 198.19.21.64/26 via 198.19.0.3"} {
					if !strings.Contains(s, want) {
						t.Errorf("no %q marker line:\n%s", want, s)
					}
				}
			} else {
				e := tm.screen(true)
				bh := sgrOn(e, "blackhole 198.19.22.128/26 proto", "blackhole")
				lp := sgrOn(e, "198.19.22.132 dev", "198.19.22.132")
				rb := sgrOn(e, "198.19.21.64/26 via", "198.19.21.64/26")
				if bh == lp || bh == rb || lp == rb || !strings.Contains(bh+lp+rb, "38") {
					t.Errorf("route classes are not styled apart: blackhole %q, local pod %q, remote block %q", bh, lp, rb)
				}
			}

			// Route lookup of an address no pod holds: the blackhole.
			tm.keys("/")
			tm.waitText(wait, "route lookup ›")
			tm.text("198.19.22.150")
			tm.keys("Enter")
			tm.waitText(wait, "route to 198.19.22.150 → blackhole 198.19.22.128/26")
			tm.quit()
		})
	}
}

// upSandbox builds a sandbox of the test's own: its own prefix and state
// directory, so it never meets a student's sandbox or another test's. It
// is removed when the test ends.
func upSandbox(t *testing.T, prefix string) (sandbox.Options, *sandbox.State) {
	t.Helper()
	netnstest.RequireRoot(t)
	netnstest.RequireCommand(t, "bird", "apt-get install bird2")
	o := sandbox.Options{Prefix: netnstest.Name(prefix), StateDir: t.TempDir()}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		if err := sandbox.Down(context.Background(), o); err != nil {
			t.Errorf("sandbox down: %v", err)
		}
	})
	sb, err := sandbox.Up(ctx, o)
	if err != nil {
		t.Fatalf("sandbox up: %v", err)
	}
	return o, sb.State
}

func TestLiveSandboxInTerminal(t *testing.T) {
	netnstest.RequireCommand(t, "tmux", "apt-get install tmux")
	o, _ := upSandbox(t, "pe")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l, err := sandbox.Open(ctx, o, false)
	if err != nil {
		t.Fatal(err)
	}
	var victim *sandbox.PodInfo
	customer := l.State().Pod(sandbox.CustomerNamespace, sandbox.CustomerPod)
	for i, p := range l.State().Pods {
		if p.Node == customer.Node && p.Name != customer.Name {
			victim = &l.State().Pods[i]
		}
	}
	l.Close()
	if victim == nil {
		t.Fatal("the sandbox has no other pod on the customer's node")
	}

	tm := newTerm(t, 160, 48, "--lab", "sandbox", "--sandbox-prefix", o.Prefix, "--sandbox-state-dir", o.StateDir)
	tm.waitText(30*time.Second, "sandbox", "refreshed")
	tm.keys("4")
	ip := victim.IP.String()
	tm.waitText(wait, ip+" dev "+victim.HostIf, "proto bird")
	tm.keys("3", "n")
	s := tm.waitText(wait, "3/4 How Hosts", "step 2/5", customer.HostIf+"@if")
	if l := line(s, customer.HostIf+"@if3: <"); !strings.Contains(l, "▸") {
		t.Errorf("the customer's host end is not selected: %q", l)
	}
	tm.keys("4")
	tm.waitText(wait, ip+" dev "+victim.HostIf)

	if err := sandbox.DeletePod(ctx, o, victim.Namespace, victim.Name); err != nil {
		t.Fatalf("delete pod: %v", err)
	}
	// The next refresh shows the route gone, with what changed.
	s = tm.waitText(30*time.Second, "changed: route "+ip+" removed")
	if !strings.Contains(s, "- "+ip+" dev "+victim.HostIf) {
		t.Errorf("the removed route is not listed:\n%s", s)
	}
	// Its address now falls into the node's blackhole, in the snapshot and
	// in the kernel.
	tm.keys("/")
	tm.waitText(wait, "route lookup ›")
	tm.text(ip)
	tm.keys("Enter")
	// The kernel answers after the snapshot: wait for it.
	s = tm.waitFor("the kernel's answer", wait, func(s string) bool {
		l := line(s, "route to "+ip)
		return strings.Contains(l, "→ blackhole") && !strings.Contains(l, "asking…")
	})
	if !strings.Contains(s, "the kernel agrees") {
		t.Errorf("the kernel's answer differs or is missing:\n%s", line(s, "route to "+ip))
	}
	tm.quit()
}

func TestSelfPacedInTerminal(t *testing.T) {
	prog := filepath.Join(t.TempDir(), "state", "progress.json")
	args := []string{"--lab", "recording", "--plain", "--self-paced", "--progress", prog}
	tm := newTerm(t, 80, 24, args...)
	tm.waitText(wait, "recording", "refreshed", "1/22 done")

	// Section 2, step 4 asks for the N of eth0@ifN.
	tm.keys("2", "n", "n", "n")
	tm.waitText(wait, "step 4/7", "? On eth0's line, what number follows @if?", "a or enter: answer")
	tm.keys("a")
	tm.waitText(wait, "answer ›")
	tm.text("@if9")
	tm.keys("Enter")
	s := tm.waitText(wait, "✓ correct", "step 4/7 ✓")
	if !strings.Contains(s, "4/22 done") {
		t.Errorf("the header does not count 1.1, 2.2, 2.3 and 2.4 (2.1 was skipped):\n%s", s)
	}
	tm.quit()
	data, err := os.ReadFile(prog)
	if err != nil {
		t.Fatalf("no progress file after quitting: %v", err)
	}
	if !strings.Contains(string(data), `"2.4"`) {
		t.Errorf("the progress file lacks step 2.4:\n%s", data)
	}

	// Started again: back at 2.4, answered.
	tm = newTerm(t, 80, 24, args...)
	s = tm.waitText(wait, "resumed at 2.4 — 4/22 done", "step 4/7 ✓", "✓ answered")
	if strings.Contains(s, "a or enter: answer") {
		t.Errorf("the answered question asks again:\n%s", s)
	}
	tm.quit()

	// --reset starts over.
	tm = newTerm(t, 80, 24, append(args, "--reset")...)
	tm.waitText(wait, "1/4 Lab Setup", "1/22 done")
	tm.quit()
}

// A window shrunk below the minimum shows only what is wrong, and the
// lesson comes back as it was when the window grows again.
func TestResizeTooSmallAndBack(t *testing.T) {
	tm := newTerm(t, 80, 24, "--lab", "recording", "--plain")
	tm.waitText(wait, "recording", "refreshed")
	tm.keys("2", "n")
	before := tm.waitText(wait, "2/4 How Pods", "step 2/7", "refreshed")

	tm.run("resize-window", "-t", "lab", "-x", "20", "-y", "5")
	s := tm.waitText(wait, "terminal too")
	want := "terminal too small: need at least 60x16 (this is 20x5; q quits)"
	if got := strings.Join(strings.Fields(s), " "); got != want {
		t.Errorf("at 20x5 the screen is not the one message %q:\n%s", want, s)
	}
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if len([]rune(l)) > 20 {
			t.Errorf("line wider than the window: %q", l)
		}
	}

	tm.run("resize-window", "-t", "lab", "-x", "80", "-y", "24")
	after := tm.waitText(wait, "2/4 How Pods", "step 2/7", "refreshed")
	if after != before {
		t.Errorf("the lesson did not come back as it was.\nbefore:\n%s\nafter:\n%s", before, after)
	}
	tm.quit()
}

// TERM=dumb cannot move the cursor: podlab says so in one line, pointing
// to podlab show, and draws nothing.
func TestDumbTerminal(t *testing.T) {
	tm := newTermAs(t, "dumb", 80, 24, "--lab", "recording")
	tm.waitText(wait, "[podlab exited 1]")
	// -J joins the lines tmux wrapped, to read what podlab wrote; -S -
	// keeps what scrolled away.
	var said []string
	s := tm.run("capture-pane", "-p", "-J", "-S", "-", "-t", "lab")
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !exited.MatchString(l) && !strings.HasPrefix(l, "Pane is dead") {
			said = append(said, l)
		}
	}
	if len(said) != 1 || !strings.Contains(said[0], "TERM=dumb") || !strings.Contains(said[0], "podlab show") {
		t.Errorf("podlab on TERM=dumb said %q, want one line naming TERM=dumb and podlab show; the screen:\n%s", said, s)
	}
}
