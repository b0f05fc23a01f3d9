package host1_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"podlab/internal/host1"
)

// TestOnTheNode: podlab run on the pod's node itself (here, inside
// node1's namespace, whose address is the node's InternalIP) knows it is
// there: as root it reads both namespaces through netlink, with no exec
// and no ssh; as the student, its own namespace through netlink and the
// pod's through exec.
func TestOnTheNode(t *testing.T) {
	l := classroom(t)
	kc := l.NodeKubeconfig(t, l.Kubeconfig(t, l.User.Name, host1.StudentRules...), "node1")
	node1 := l.Kubelets["node1"]
	// No sshd runs and ~/.ssh is empty: any ssh attempt fails.
	if err := os.RemoveAll(filepath.Join(l.User.Home, ".ssh", "config")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		asStudent bool
		want      string
		execs     bool
	}{
		{"root", false, "collected here on node1 as root (pod namespace ", false},
		{"student", true, "on node1 without root: host namespace here, pod through the exec API", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := node1.Execs()
			cmd := l.OnNode("node1", tt.asStudent, filepath.Join(podlab(t), "podlab"), "show", "--lab", "cluster", "--json", "--kubeconfig", kc)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := runBounded(t, cmd, 2*time.Minute); err != nil {
				t.Fatalf("podlab show on node1: %v: %s", err, stderr.String())
			}
			var s shown
			if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
				t.Fatalf("no JSON: %v\n%s", err, stdout.String())
			}
			if !strings.Contains(s.Describe, tt.want) {
				t.Errorf("describe %q does not say %q", s.Describe, tt.want)
			}
			if got := node1.Execs() - before; (got > 0) != tt.execs {
				t.Errorf("%d execs through node1's kubelet; want some: %v", got, tt.execs)
			}
			checkNode1(t, l.State, &s)
			checkBorrowed(t, &s, "default/borrowed-ip-demo")
		})
	}
}
