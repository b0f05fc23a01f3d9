package cli

import (
	"context"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"podlab/internal/netnstest"
	"podlab/lab/sandbox"
)

func TestCheckRecording(t *testing.T) {
	code, out, stderr := podlab(t, "check", "--lab", "recording")
	if code != 0 || !strings.Contains(out, "22 of 22 steps pass") || strings.Contains(out, "FAIL") {
		t.Fatalf("exit %d:\n%s%s", code, out, stderr)
	}
	code, out, _ = podlab(t, "check", "--lab", "recording", "--json")
	if code != 0 || !strings.HasPrefix(out, "[") || !strings.Contains(out, `"step": "4.3"`) {
		t.Fatalf("--json: exit %d:\n%s", code, out)
	}
	if code, _, stderr := podlab(t, "check", "--lab", "recording", "now"); code != 2 || !strings.Contains(stderr, `unexpected argument "now"`) {
		t.Errorf("extra argument: exit %d, %q", code, stderr)
	}
}

// TestCheckSandbox: podlab check passes on a fresh sandbox; with a pod's
// /32 deleted it fails at the step that shows the pods' routes, naming
// the route; with node2's BIRD stopped it fails at the BGP step, naming
// node2's block. The broken sandbox is read as it is, never rebuilt.
func TestCheckSandbox(t *testing.T) {
	netnstest.RequireRoot(t)
	if _, err := exec.LookPath("bird"); err != nil {
		netnstest.RequireCommand(t, "/usr/sbin/bird", "apt-get install bird2")
	}
	o := sandbox.Options{Prefix: netnstest.Name("pc"), StateDir: t.TempDir(), Mode: "bgp"}
	t.Cleanup(func() {
		if err := sandbox.Down(context.Background(), o); err != nil {
			t.Errorf("cleanup Down: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sb, err := sandbox.Up(ctx, o)
	if err != nil {
		t.Fatalf("sandbox up: %v", err)
	}
	args := []string{"check", "--lab", "sandbox", "--sandbox-prefix", o.Prefix, "--sandbox-state-dir", o.StateDir}
	if code, out, stderr := podlab(t, args...); code != 0 || !strings.Contains(out, "22 of 22 steps pass") {
		t.Fatalf("fresh sandbox: exit %d:\n%s%s", code, out, stderr)
	}

	node1 := sb.State.NodeNS("node1")
	if err := exec.Command("ip", "netns", "exec", node1, "ip", "route", "del", "198.19.22.131/32").Run(); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := podlab(t, args...)
	if code != 1 || !failsWith(out, "4.2", "no route 198.19.22.131 dev cali… scope link for pod calico-system/csi-node-driver-7xk2p") || failsWith(out, "4.3", "") {
		t.Errorf("a /32 deleted: exit %d:\n%s%s", code, out, stderr)
	}

	var bird sandbox.Process
	for _, p := range sb.State.Processes {
		if p.Node == "node2" {
			bird = p
		}
	}
	if err := syscall.Kill(bird.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// BIRD on node1 withdraws node2's block once the session drops.
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		out, err := exec.Command("ip", "-n", node1, "route", "show", "exact", "198.19.21.64/26").Output()
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(string(out)) == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("node1 still routes node2's block 90 s after node2's BIRD stopped")
		}
	}
	code, out, stderr = podlab(t, args...)
	if code != 1 || !failsWith(out, "4.3", "no route to node2's block 198.19.21.64/26") || !strings.Contains(stderr, "bird on node2") {
		t.Errorf("node2's BIRD stopped: exit %d:\n%s%s", code, out, stderr)
	}
	if st, err := sandbox.Status(o); err != nil || st.Pod("calico-system", "csi-node-driver-7xk2p") == nil {
		t.Errorf("check rebuilt or removed the broken sandbox: %v", err)
	}
}

// failsWith says whether out shows step failing, with want among what it
// lacks ("" for any).
func failsWith(out, step, want string) bool {
	_, rest, ok := strings.Cut(out, "FAIL "+step+" ")
	if !ok {
		return false
	}
	lines := strings.Split(rest, "\n")
	for _, l := range lines[1:] {
		m, ok := strings.CutPrefix(strings.TrimSpace(l), "missing: ")
		if !ok {
			break
		}
		if strings.Contains(m, want) {
			return true
		}
	}
	return false
}
