package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"podlab/lab/replay"
	"podlab/netview"
)

// longNameRecording writes the built-in recording with the host end of
// the pod's veth renamed to a name of 1 MB, everywhere it is named.
func longNameRecording(t *testing.T) string {
	t.Helper()
	b, err := replay.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := netview.WriteRecording(&buf, b.Recording()); err != nil {
		t.Fatal(err)
	}
	const end = "caliea2aa288365"
	if !strings.Contains(buf.String(), `"`+end+`"`) {
		t.Fatalf("the built-in recording has no %s", end)
	}
	data := strings.ReplaceAll(buf.String(), `"`+end+`"`, `"`+end+strings.Repeat("x", 1<<20)+`"`)
	path := filepath.Join(t.TempDir(), "long.json")
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A recording whose interface name is 1 MB long is drawn at once (its
// wrapping was quadratic: ten minutes), with the name cut to what Linux
// allows and the cut said under the map and in the analysis.
func TestShowLongInterfaceName(t *testing.T) {
	path := longNameRecording(t)
	t.Setenv("COLUMNS", "80")
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"map", []string{"show", "--map", "--plain", "--lab=replay=" + path}},
		{"views", []string{"show", "--plain", "--lab=replay=" + path}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := podlab(t, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, want := range []string{"caliea2aa288365…", "names ending in … were cut", "interface names to 15 bytes"} {
				if !strings.Contains(out, want) {
					t.Errorf("show does not print %q:\n%.3000s", want, out)
				}
			}
			if strings.Contains(out, "caliea2aa288365x") {
				t.Errorf("show prints more of the name than 15 bytes")
			}
			if tt.name == "map" {
				for _, l := range strings.Split(out, "\n") {
					if w := ansi.StringWidth(l); w > 80 {
						t.Errorf("a line of %d cells, wider than 80: %.100q", w, l)
					}
				}
			}
		})
	}
}

// The built-in recording is of the sandbox: show says that node1's eth0,
// shaped like a pod's cable, is its uplink, a veth into the fabric.
func TestShowSaysTheUplinkIsAVeth(t *testing.T) {
	t.Setenv("COLUMNS", "160")
	for _, args := range [][]string{{"show", "--plain", "--lab", "recording"}, {"show", "--map", "--plain", "--lab", "recording"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, stderr := podlab(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, want := range []string{"a veth into the fabric", "NIC"} {
				if !strings.Contains(out, want) {
					t.Errorf("show does not say %q:\n%s", want, out)
				}
			}
		})
	}
}
