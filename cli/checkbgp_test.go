package cli

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"podlab/internal/netnstest"
	"podlab/lab/sandbox"
)

// stepLine is the verdict line of step id in podlab check's output, with
// the findings under it.
func stepLines(out, id string) string {
	var b strings.Builder
	in := false
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "pass "+id+" ") || strings.HasPrefix(l, "FAIL "+id+" "):
			in = true
		case in && !strings.HasPrefix(l, "  "):
			in = false
		}
		if in {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// TestCheckBGPPeeringPack: on the sandbox at the bgp-peering pack's end
// state, podlab check --pack bgp-peering passes every step; with node2's
// BIRD stopped, the peering step names host1's session with node2 and
// its state, and the cluster IP step the missing next hop. Real BIRDs.
func TestCheckBGPPeeringPack(t *testing.T) {
	netnstest.RequireRoot(t)
	if _, err := exec.LookPath("bird"); err != nil {
		netnstest.RequireCommand(t, "/usr/sbin/bird", "apt-get install bird2")
	}
	o := sandbox.Options{Prefix: netnstest.Name("pk"), StateDir: t.TempDir()}
	t.Cleanup(func() {
		if err := sandbox.Down(context.Background(), o); err != nil {
			t.Errorf("cleanup Down: %v", err)
		}
	})
	lab := []string{"--lab", "sandbox", "--sandbox-prefix", o.Prefix, "--sandbox-state-dir", o.StateDir}
	if code, out, stderr := podlab(t, append([]string{"sandbox", "up", "--pack", "bgp-peering"}, lab[2:]...)...); code != 0 {
		t.Fatalf("sandbox up --pack bgp-peering: exit %d:\n%s%s", code, out, stderr)
	}
	check := append([]string{"check", "--pack", "bgp-peering"}, lab...)
	if code, out, stderr := podlab(t, check...); code != 0 || !strings.Contains(out, "10 of 10 steps pass") {
		t.Fatalf("check --pack bgp-peering on its end state: exit %d:\n%s%s", code, out, stderr)
	}

	st, err := sandbox.Status(o)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(st.Processes, func(p sandbox.Process) bool { return p.Node == "node2" })
	if i < 0 {
		t.Fatal("the sandbox records no BIRD on node2")
	}
	if err := syscall.Kill(st.Processes[i].Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Until host1's kernel has let go of node2's next hops.
	var out string
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var code int
		code, out, _ = podlab(t, check...)
		if code == 1 && strings.Contains(stepLines(out, "4.1"), "no next hop via node2") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node2's BIRD stopped, check still does not miss node2's next hop:\n%s", out)
		}
	}
	for id, want := range map[string]string{
		"2.2": "host1's session node2 with node2 (198.19.0.3) is ",
		"4.1": "missing: host1's route to 198.19.32.0/20 has no next hop via node2 (198.19.0.3)",
		"3.2": "missing: host1 has no route to node2's block 198.19.24.16/29 of external-pool",
	} {
		if got := stepLines(out, id); !strings.HasPrefix(got, "FAIL "+id) || !strings.Contains(got, want) {
			t.Errorf("node2 stopped: step %s says\n%s\nwant FAIL with %q", id, got, want)
		}
	}
	if got := stepLines(out, "2.2"); strings.Contains(got, "is Established") {
		t.Errorf("node2 stopped: step 2.2 calls the session Established:\n%s", got)
	}
	if got := stepLines(out, "1.1"); !strings.HasPrefix(got, "pass 1.1") {
		t.Errorf("node2 stopped: step 1.1 fails, though it shows nothing of node2:\n%s", got)
	}
}
