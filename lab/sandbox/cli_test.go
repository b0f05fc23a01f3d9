package sandbox

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestRun: the commands' outcomes and exit codes; their flags are the
// command line's (package cli, tested there).
func TestRun(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		sub     string
		o       Options
		code    int
		out     string // in stdout
		errText string // in stderr, which must then be one line
	}{
		{"unknown", "sideways", Options{}, 2, "", `unknown command "sideways"`},
		{"ipip", "up", Options{Mode: "ipip", StateDir: dir}, 1, "", "podlab sandbox up: this kernel has no IPIP support"},
		{"bad mode", "up", Options{Mode: "x", StateDir: dir}, 1, "", `unknown --mode "x"`},
		{"status nothing", "status", Options{Prefix: "ptnone", StateDir: dir}, 0, "sandbox ptnone is not up", ""},
		{"down nothing", "down", Options{Prefix: "ptnone", StateDir: dir}, 0, "sandbox ptnone is down", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "ipip" && kernelHasIPIP() {
				tt.errText = "podlab sandbox up: the sandbox does not build ipip mode yet"
			}
			var out, errb bytes.Buffer
			code := Run(context.Background(), tt.sub, tt.o, &out, &errb)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errb.String())
			}
			if !strings.Contains(out.String(), tt.out) {
				t.Errorf("stdout %q lacks %q", out.String(), tt.out)
			}
			if !strings.Contains(errb.String(), tt.errText) {
				t.Errorf("stderr %q lacks %q", errb.String(), tt.errText)
			}
			if tt.code == 1 && strings.Count(strings.TrimSpace(errb.String()), "\n") > 0 {
				t.Errorf("error is not one line: %q", errb.String())
			}
		})
	}
}

func TestRunUpStatusDown(t *testing.T) {
	requireSandbox(t, true)
	o := testOptions(t, "")
	ctx := context.Background()
	t.Cleanup(func() { Run(ctx, "down", o, &bytes.Buffer{}, &bytes.Buffer{}) })
	for _, step := range []struct {
		sub  string
		want string
	}{
		{"up", "BGP converged in"},
		{"up", "is already up"},
		{"status", "caliea2aa288365"},
		{"down", "is down"},
		{"status", "is not up"},
	} {
		var out, errb bytes.Buffer
		if code := Run(ctx, step.sub, o, &out, &errb); code != 0 || !strings.Contains(out.String(), step.want) {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q; want %q", step.sub, code, out.String(), errb.String(), step.want)
		}
	}
}

// TestStatusColumnsAlign: every row of each table printed by status
// starts its cells where the header's columns start, long pod names
// (calico-system/calico-kube-controllers-…) included.
func TestStatusColumnsAlign(t *testing.T) {
	o := Options{Prefix: "pt", StateDir: "/run/podlab-test"}
	o.Mode = "bgp"
	st := fullState(o)
	st.Problems = []string{"bird on node2 (pid 4244) is not running"}
	var b bytes.Buffer
	writeStatus(&b, st)
	out := b.String()
	if !strings.Contains(out, "calico-system/calico-kube-controllers-5f9c5d8d6b-qh2xr") {
		t.Fatalf("no long pod in:\n%s", out)
	}
	tables := 0
	lines := strings.Split(out, "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasSuffix(lines[i], ":") || i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "  ") {
			continue
		}
		header := lines[i+1]
		var cols []int
		for c := 3; c < len(header); c++ {
			if header[c-1] == ' ' && header[c] != ' ' && header[c-2] == ' ' {
				cols = append(cols, c)
			}
		}
		if len(cols) == 0 {
			t.Fatalf("header %q has no columns", header)
		}
		tables++
		rows := 0
		for j := i + 2; j < len(lines) && strings.HasPrefix(lines[j], "  ") && !strings.HasPrefix(lines[j], "  problem"); j++ {
			row := lines[j]
			rows++
			for _, c := range cols {
				if c >= len(row) || row[c-1] != ' ' || row[c] == ' ' {
					t.Errorf("%s row %q: no cell starts at column %d, where the header's does:\n%s\n%s", lines[i], row, c, header, row)
				}
			}
		}
		if rows == 0 {
			t.Errorf("table %s has no rows", lines[i])
		}
	}
	if tables != 3 {
		t.Errorf("%d tables, want nodes, pods and processes:\n%s", tables, out)
	}
}
