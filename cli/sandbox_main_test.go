package cli

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"podlab/internal/netnstest"
	"podlab/lab/sandbox"
)

// TestLabSandboxUsesARunningSandboxOfAnyMode: --lab sandbox reads a
// running sandbox whatever its mode; --mode only matters when podlab
// builds one, and an explicit one that differs earns a one-line note.
func TestLabSandboxUsesARunningSandboxOfAnyMode(t *testing.T) {
	netnstest.RequireRoot(t)
	if _, err := exec.LookPath("bird"); err != nil {
		netnstest.RequireCommand(t, "/usr/sbin/bird", "apt-get install bird2")
	}
	o := sandbox.Options{Prefix: netnstest.Name("pm"), StateDir: t.TempDir(), Mode: "vxlan"}
	t.Cleanup(func() {
		if err := sandbox.Down(context.Background(), o); err != nil {
			t.Errorf("cleanup Down: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := sandbox.Up(ctx, o); err != nil {
		t.Fatalf("sandbox up --mode vxlan: %v", err)
	}
	tests := []struct {
		name string
		mode []string
		note bool
	}{
		{"no --mode", nil, false},
		{"the same --mode", []string{"--mode", "vxlan"}, false},
		{"another --mode", []string{"--mode", "bgp"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"show", "--lab", "sandbox", "--sandbox-prefix", o.Prefix, "--sandbox-state-dir", o.StateDir}, tt.mode...)
			code, out, stderr := podlab(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(out, "vxlan.calico") {
				t.Errorf("show does not print node1's vxlan.calico:\n%s", out)
			}
			noted := strings.Contains(stderr, "already up in vxlan mode, not bgp")
			if noted != tt.note {
				t.Errorf("note printed: %v, want %v; stderr: %q", noted, tt.note, stderr)
			}
			if strings.Count(stderr, "\n") > 1 {
				t.Errorf("more than one line on stderr: %q", stderr)
			}
		})
	}
	if code, _, stderr := podlab(t, "show", "--lab", "sandbox", "--mode", "bogus", "--sandbox-prefix", o.Prefix, "--sandbox-state-dir", o.StateDir); code != 2 || !strings.Contains(stderr, `unknown --mode "bogus"`) {
		t.Errorf("--mode bogus: exit %d, %q", code, stderr)
	}
}
