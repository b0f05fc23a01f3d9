package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"podlab/internal/hostile"
	"podlab/lab/replay"
	"podlab/netview"
)

// hostileRecording writes the built-in recording with hostile.Text added
// to every string, under a file name that carries it too.
func hostileRecording(t *testing.T) string {
	t.Helper()
	b, err := replay.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	rec := *b.Recording()
	// A deep copy: Taint must not reach the built-in recording.
	data, err := json.Marshal(&rec)
	if err != nil {
		t.Fatal(err)
	}
	var tainted netview.Recording
	if err := json.Unmarshal(data, &tainted); err != nil {
		t.Fatal(err)
	}
	hostile.Taint(&tainted)
	tainted.Schema = netview.Schema
	// A file name may carry anything but '/' and NUL.
	path := filepath.Join(t.TempDir(), "rec\x1b]0;owned\x07\x1b[2J\u009b.json")
	var buf bytes.Buffer
	if err := netview.WriteRecording(&buf, &tainted); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `\u001b]52;`) {
		t.Fatal("the hostile recording carries no OSC 52")
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// jsonEscapes are the control characters as JSON writes them.
var jsonEscapes = []string{`\u001b`, `\u0007`, `\u0000`, `\u007f`, "\u009b", "\u009d"}

// Names that carry escape sequences are printed, in every form podlab
// prints them, with the sequences shown escaped.
func TestShowHostileRecording(t *testing.T) {
	path := hostileRecording(t)
	lf := "--lab=replay=" + path
	t.Run("plain", func(t *testing.T) {
		code, out, stderr := podlab(t, "show", "--plain", lf)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if err := hostile.Check(out, false); err != nil {
			t.Error(err)
		}
		if err := hostile.Check(stderr, false); err != nil {
			t.Errorf("stderr: %v", err)
		}
		// A tainted route type is no type podlab knows, so routes are not
		// labelled with their nodes: the node's name shows in its prompt.
		for _, want := range []string{`eth0\x1b]52;c;cG9k…`, `node1\x1b]52;c;cG9kbGFi\x07\x1b]0;owned`, `rec\x1b]0;owned\x07`} {
			if !strings.Contains(out, want) {
				t.Errorf("show does not print %q", want)
			}
		}
	})
	t.Run("colour", func(t *testing.T) {
		src, err := replay.Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := src.Collect(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		a := netview.Analyze(p)
		var buf bytes.Buffer
		if err := writeShow(&buf, src, p, &a, newPalette(true, true)); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if !strings.Contains(out, "\x1b[") {
			t.Fatal("the colour output has no colours")
		}
		if err := hostile.Check(out, true); err != nil {
			t.Error(err)
		}
		if !strings.Contains(out, `\x1b[2J`) {
			t.Error("the hostile CSI is not shown escaped")
		}
	})
	t.Run("json", func(t *testing.T) {
		code, out, stderr := podlab(t, "show", "--json", lf)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		for _, e := range jsonEscapes {
			if strings.Contains(out, e) {
				t.Errorf("show --json carries %q", e)
			}
		}
		var v any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatal(err)
		}
		n, dirty := 0, 0
		walkJSON(v, func(s string) {
			n++
			if err := hostile.Check(s, false); err != nil {
				if dirty++; dirty <= 3 {
					t.Errorf("decoded %q: %v", s, err)
				}
			}
		})
		if dirty > 3 {
			t.Errorf("and %d more", dirty-3)
		}
		if n < 100 {
			t.Errorf("only %d strings in show --json", n)
		}
	})
	t.Run("record and replay", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "again.json")
		code, _, stderr := podlab(t, "record", lf, "-o", out)
		if code != 0 {
			t.Fatalf("record: exit %d: %s", code, stderr)
		}
		if err := hostile.Check(stderr, false); err != nil {
			t.Errorf("record's stderr: %v", err)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range jsonEscapes {
			if bytes.Contains(data, []byte(e)) {
				t.Errorf("the re-recording carries %q", e)
			}
		}
		if !showsAlike(t, "replay="+path, "replay="+out) {
			t.Error("the re-recording does not show as the recording it was made from")
		}
	})
}

func walkJSON(v any, f func(string)) {
	switch x := v.(type) {
	case string:
		f(x)
	case []any:
		for _, e := range x {
			walkJSON(e, f)
		}
	case map[string]any:
		for k, e := range x {
			f(k)
			walkJSON(e, f)
		}
	}
}

// A recording that never ends is refused at once, in one line.
func TestShowUnboundedRecording(t *testing.T) {
	code, out, stderr := podlab(t, "show", "--lab", "replay=/dev/zero")
	if code == 0 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if !strings.Contains(stderr, "not a podlab recording") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr %q is not one line refusing /dev/zero", stderr)
	}
}

// fakeSource describes itself with outside text, as a cluster lab does
// with its pod's and context's names.
type fakeSource struct{ describe string }

func (f fakeSource) Kind() string     { return "cluster" }
func (f fakeSource) Describe() string { return f.describe }
func (f fakeSource) Collect(context.Context) (*netview.Pair, error) {
	return nil, errors.New("not used")
}
func (f fakeSource) Close() error { return nil }

func TestShowHostileDescribe(t *testing.T) {
	b, err := replay.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p, err := b.Collect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	a := netview.Analyze(p)
	src := fakeSource{describe: "pod default/x" + hostile.Text}
	var plain, colour, js bytes.Buffer
	if err := writeShow(&plain, src, p, &a, newPalette(false, false)); err != nil {
		t.Fatal(err)
	}
	if err := writeShow(&colour, src, p, &a, newPalette(true, true)); err != nil {
		t.Fatal(err)
	}
	if err := writeShowJSON(&js, src, p, &a); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"plain": plain.String(), "colour": colour.String(), "json": js.String()} {
		if err := hostile.Check(out, name == "colour"); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if !strings.Contains(out, `pod default/x\x1b]52;`) && !strings.Contains(out, `pod default/x\\x1b]52;`) {
			t.Errorf("%s: the description is not shown escaped", name)
		}
	}
	for _, e := range jsonEscapes {
		if strings.Contains(js.String(), e) {
			t.Errorf("show --json carries %q", e)
		}
	}
}

// An error that quotes outside text (here a kubeconfig path with an OSC
// title in it) reaches the terminal escaped, on one line.
func TestErrorLineEscaped(t *testing.T) {
	code, _, stderr := podlab(t, "show", "--lab", "cluster", "--kubeconfig", "/nonexistent/\x1b]0;pwn\x07\nsecond")
	if code == 0 {
		t.Fatal("a missing kubeconfig did not fail")
	}
	if err := hostile.Check(stderr, false); err != nil {
		t.Errorf("stderr %q: %v", stderr, err)
	}
	if n := strings.Count(strings.TrimSuffix(stderr, "\n"), "\n"); n > 0 {
		t.Errorf("error is %d lines: %q", n+1, stderr)
	}
}

type detailed struct{ msg, detail string }

func (e detailed) Error() string  { return e.msg + "\n" + e.detail }
func (e detailed) Detail() string { return e.detail }

// TestErrorLine: one cleaned line, without the usage mark; an error with
// a Detail (the sandbox's BIRD log tail) has it on the lines after, each
// cleaned too.
func TestErrorLine(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"plain", errors.New("no"), "podlab: no"},
		{"first line only", errors.New("first\nsecond"), "podlab: first"},
		{"usage mark", usageErr("bad %q", "x"), `podlab: bad "x"`},
		{"outside text", errors.New("a\x1b]0;pwn\x07b"), "podlab: " + netview.Clean("a\x1b]0;pwn\x07b")},
		{"detail", fmt.Errorf("up: %w", detailed{"no BGP; the log ends:", "  a\x1b[2J\n  b\n"}), "podlab: up: no BGP; the log ends:\n  " + netview.Clean("a\x1b[2J") + "\n  b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorLine("podlab", tt.err); got != tt.want {
				t.Errorf("errorLine = %q, want %q", got, tt.want)
			}
		})
	}
}
