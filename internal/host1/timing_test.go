package host1_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"podlab/internal/host1"
	"podlab/lab/sandbox"
)

// TestTimings measures, in one run, podlab show over exec+ssh against the
// lesson's commands typed by hand; it asserts only that each ran.
func TestTimings(t *testing.T) {
	l := classroom(t)
	kc, err := os.ReadFile(l.Kubeconfig(t, l.User.Name, host1.StudentRules...))
	if err != nil {
		t.Fatal(err)
	}
	l.User.WriteFile(t, ".kube/config", string(kc))
	sshd := l.StartSSHD(t, "node1", host1.SSHOptions{})
	l.SSHConfig(t, []*host1.SSHD{sshd}, sshd)
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("no kubectl")
	}
	cust := l.State.Pod(sandbox.CustomerNamespace, sandbox.CustomerPod)
	run := func(argv ...string) time.Duration {
		t.Helper()
		cmd := l.User.Command(argv...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		began := time.Now()
		if err := runBounded(t, cmd, 2*time.Minute); err != nil {
			t.Fatalf("%v: %v\n%s", argv, err, out.String())
		}
		return time.Since(began)
	}
	for range 2 {
		t.Logf("kubectl exec ip -j addr: %s", run(kubectl, "exec", "-n", cust.Namespace, cust.Name, "--", "ip", "-j", "addr"))
		t.Logf("ssh node1 ip -j addr: %s", run("ssh", "node1", "ip", "-j", "addr"))
		t.Logf("podlab show --json: %s", run(filepath.Join(podlab(t), "podlab"), "show", "--lab", "cluster", "--json"))
	}
}
