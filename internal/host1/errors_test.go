package host1_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"podlab/internal/host1"
	"podlab/lab/cluster"
	"podlab/lab/sandbox"
)

// TestFromHost1Errors: each way the exec or the ssh path fails gives one
// line that says what failed and what to do.
func TestFromHost1Errors(t *testing.T) {
	l := classroom(t)
	kc, err := os.ReadFile(l.Kubeconfig(t, l.User.Name, host1.StudentRules...))
	if err != nil {
		t.Fatal(err)
	}
	l.User.WriteFile(t, ".kube/config", string(kc))
	cust := l.State.Pod(sandbox.CustomerNamespace, sandbox.CustomerPod)
	pod := cust.Namespace + "/" + cust.Name
	node1 := l.Kubelets["node1"]
	sshd := l.StartSSHD(t, "node1", host1.SSHOptions{})
	l.SSHConfig(t, []*host1.SSHD{sshd}, sshd)

	// The student whose role lacks pods/exec.
	var noExec []rbacv1.PolicyRule
	for _, r := range host1.StudentRules {
		if r.Resources[0] != "pods/exec" {
			noExec = append(noExec, r)
		}
	}
	noExecConfig := l.Kubeconfig(t, l.User.Name+"-noexec", noExec...)

	tests := []struct {
		name  string
		setup func(t *testing.T)
		args  []string
		want  []string // all in the one line
	}{
		{
			name: "pod without ip",
			setup: func(t *testing.T) {
				node1.SetPod(cust.Namespace, cust.Name, func(r *host1.PodRun) { r.NoIP = true })
				t.Cleanup(func() { node1.SetPod(cust.Namespace, cust.Name, func(r *host1.PodRun) { r.NoIP = false }) })
			},
			want: []string{"pod " + pod + " has no ip command", "run podlab on node1 with sudo"},
		},
		{
			name: "container not running",
			setup: func(t *testing.T) {
				node1.SetPod(cust.Namespace, cust.Name, func(r *host1.PodRun) { r.Stopped = true })
				t.Cleanup(func() { node1.SetPod(cust.Namespace, cust.Name, func(r *host1.PodRun) { r.Stopped = false }) })
			},
			want: []string{"pod " + pod + ": container main is not running on node1", "kubectl describe pod"},
		},
		{
			name: "exec forbidden",
			args: []string{"--kubeconfig", noExecConfig},
			want: []string{"create pods/exec", "run podlab on node1 with sudo"},
		},
		{
			name:  "kubelet unreachable",
			setup: func(t *testing.T) { l.KubeletDown(t, "node1") },
			want:  []string{"the API server cannot reach the kubelet on node1 (dial tcp ", "connection refused", "run podlab on node1 with sudo"},
		},
		{
			name:  "host key unknown",
			setup: func(t *testing.T) { l.SSHConfig(t, []*host1.SSHD{sshd}) },
			want:  []string{"ssh node1 failed: Host key verification failed.", "not in your known_hosts: run ssh node1 once by hand"},
		},
		{
			name: "no key",
			setup: func(t *testing.T) {
				key := filepath.Join(l.User.Home, ".ssh", "id_ed25519")
				if err := os.Rename(key, key+".away"); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.Rename(key+".away", key) })
			},
			want: []string{"ssh node1 failed: ", "Permission denied (publickey)", "ssh-copy-id node1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l.SSHConfig(t, []*host1.SSHD{sshd}, sshd)
			if tt.setup != nil {
				tt.setup(t)
			}
			s, stderr, err := show(t, l, tt.args...)
			if err == nil {
				t.Fatalf("podlab show succeeded: %s", s.Describe)
			}
			msg := strings.TrimSpace(stderr)
			t.Logf("%s", msg)
			if strings.Count(msg, "\n") > 0 {
				t.Errorf("more than one line:\n%s", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
		})
	}

	t.Run("sudo asks for a password", func(t *testing.T) {
		bin := podlab(t)
		l.User.Sudoers(t, fmt.Sprintf("%s ALL=(root) %s collect *", l.User.Name, filepath.Join(bin, "podlab")))
		withPodlab := l.StartSSHD(t, "node1", host1.SSHOptions{PodlabDir: bin})
		l.SSHConfig(t, []*host1.SSHD{withPodlab}, withPodlab)
		s, stderr, err := show(t, l)
		if err != nil {
			t.Fatalf("podlab show: %v: %s", err, stderr)
		}
		t.Logf("%s", s.Describe)
		for _, w := range []string{"host over ssh node1 with ip -j", "sudo: a password is required", "NOPASSWD: /usr/local/bin/podlab " + cluster.SudoersCollectArgs} {
			if !strings.Contains(s.Describe, w) {
				t.Errorf("describe %q does not say %q", s.Describe, w)
			}
		}
	})
}
