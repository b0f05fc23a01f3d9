package sandbox

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// TestCommands: the commands' outcomes; their flags are the command
// line's (package cli, tested there).
func TestCommands(t *testing.T) {
	dir := t.TempDir()
	up := func(ctx context.Context, o Options, w io.Writer) error { return UpCommand(ctx, o, w) }
	down := func(ctx context.Context, o Options, w io.Writer) error { return DownCommand(ctx, o, w) }
	status := func(_ context.Context, o Options, w io.Writer) error { return StatusCommand(o, w) }
	tests := []struct {
		name    string
		run     func(context.Context, Options, io.Writer) error
		o       Options
		out     string // in stdout
		errText string // in the error; none when empty
	}{
		{"ipip", up, Options{Mode: "ipip", StateDir: dir}, "", "this kernel has no IPIP support"},
		{"bad mode", up, Options{Mode: "x", StateDir: dir}, "", `unknown --mode "x"`},
		{"status nothing", status, Options{Prefix: "ptnone", StateDir: dir}, "sandbox ptnone is not up", ""},
		{"down nothing", down, Options{Prefix: "ptnone", StateDir: dir}, "sandbox ptnone is down", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "ipip" && kernelHasIPIP() {
				tt.errText = "the sandbox does not build ipip mode yet"
			}
			var out bytes.Buffer
			err := tt.run(context.Background(), tt.o, &out)
			if tt.errText == "" && err != nil || tt.errText != "" && (err == nil || !strings.Contains(err.Error(), tt.errText)) {
				t.Errorf("error %v, want one with %q", err, tt.errText)
			}
			if !strings.Contains(out.String(), tt.out) {
				t.Errorf("stdout %q lacks %q", out.String(), tt.out)
			}
		})
	}
}

func TestUpStatusDownCommands(t *testing.T) {
	requireSandbox(t, true)
	o := testOptions(t, "")
	ctx := context.Background()
	t.Cleanup(func() { DownCommand(ctx, o, io.Discard) })
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
		var out bytes.Buffer
		var err error
		switch step.sub {
		case "up":
			err = UpCommand(ctx, o, &out)
		case "down":
			err = DownCommand(ctx, o, &out)
		case "status":
			err = StatusCommand(o, &out)
		}
		if err != nil || !strings.Contains(out.String(), step.want) {
			t.Fatalf("%s: %v, stdout %q; want %q", step.sub, err, out.String(), step.want)
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
