package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"podlab/internal/netnstest"
)

// TestKubectlPlugin: installed as kubectl-podlab on PATH, podlab runs as
// `kubectl podlab` through a real kubectl, takes kubectl's flags, and
// names itself "kubectl podlab" in its help and errors, with podlab's
// exit codes.
func TestKubectlPlugin(t *testing.T) {
	kubectl := netnstest.RequireCommand(t, "kubectl", "PODLAB_KUBE_BIN from .ci/kube/build.sh, or a kubectl on PATH")
	dir := t.TempDir()
	if err := os.Symlink(podlab(t), filepath.Join(dir, "kubectl-podlab")); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	env := append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"), "HOME="+home, "KUBECONFIG="+filepath.Join(home, "none"))
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"version", []string{"podlab", "version"}, 0, "kubectl podlab dev", ""},
		{"help", []string{"podlab", "show", "-h"}, 0, "kubectl podlab show [flags]", ""},
		{"kubectl's flags", []string{"podlab", "show", "--lab", "recording", "--context", "lab", "-n", "yaobank", "--as", "student", "--request-timeout", "5s"}, 0, "veth pair [ok]", ""},
		{"usage error", []string{"podlab", "show", "--bogus"}, 2, "", `kubectl podlab: unknown flag: --bogus (run "kubectl podlab show -h" for help)`},
		{"no cluster", []string{"podlab", "show", "--lab", "cluster", "--kubeconfig", filepath.Join(home, "nope")}, 1, "", "kubectl podlab: kubeconfig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(kubectl, tt.args...)
			cmd.Env = env
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := cmd.ProcessState.ExitCode()
			if code != tt.code {
				t.Errorf("exit %d (%v), want %d; stderr %q", code, err, tt.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.stderr)
			}
		})
	}
}
