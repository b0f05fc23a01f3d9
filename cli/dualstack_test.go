package cli

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"podlab/internal/netnstest"
	"podlab/lab/sandbox"
)

// TestCheckDualStackSandbox: `podlab sandbox up --ipv6` builds a sandbox
// where every step's check passes for both families, `show --json`
// classes every IPv6 route of the pod and its node as one of Calico's or
// the kernel's (none unclassed or other) and finds what answers the
// pod's IPv6 gateway; a pod's /128 deleted fails the step that shows the
// pods' routes, naming it.
func TestCheckDualStackSandbox(t *testing.T) {
	netnstest.RequireRoot(t)
	if _, err := exec.LookPath("bird"); err != nil {
		netnstest.RequireCommand(t, "/usr/sbin/bird", "apt-get install bird2")
	}
	o := sandbox.Options{Prefix: netnstest.Name("pd"), StateDir: t.TempDir()}
	t.Cleanup(func() {
		if err := sandbox.Down(context.Background(), o); err != nil {
			t.Errorf("cleanup Down: %v", err)
		}
	})
	lab := []string{"--sandbox-prefix", o.Prefix, "--sandbox-state-dir", o.StateDir}
	if code, out, stderr := podlab(t, append([]string{"sandbox", "up", "--ipv6"}, lab...)...); code != 0 {
		t.Fatalf("sandbox up --ipv6: exit %d:\n%s%s", code, out, stderr)
	}
	st, err := sandbox.Status(o)
	if err != nil || !st.IPv6 {
		t.Fatalf("the sandbox is not dual-stack: %v", err)
	}
	check := append([]string{"check", "--lab", "sandbox"}, lab...)
	if code, out, stderr := podlab(t, check...); code != 0 || !strings.Contains(out, "22 of 22 steps pass") {
		t.Fatalf("fresh dual-stack sandbox: exit %d:\n%s%s", code, out, stderr)
	}

	code, out, stderr := podlab(t, append([]string{"show", "--json", "--lab", "sandbox"}, lab...)...)
	if code != 0 {
		t.Fatalf("show --json: exit %d:\n%s", code, stderr)
	}
	var shown struct {
		Analysis struct {
			Routes []struct {
				Side, Dst, Class, Reason string
			} `json:"routes"`
			Gateway6 struct {
				Address  string `json:"address"`
				HostOwns bool   `json:"host_owns"`
			} `json:"gateway6"`
		} `json:"analysis"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatal(err)
	}
	classes := map[string]int{}
	for _, r := range shown.Analysis.Routes {
		if !strings.Contains(r.Dst, ":") && !(r.Dst == "default" && strings.Contains(r.Reason, "IPv6")) {
			continue
		}
		classes[r.Class]++
		if r.Class == "" || r.Class == "other" {
			t.Errorf("%s route %s is %q: %s", r.Side, r.Dst, r.Class, r.Reason)
		}
	}
	// node1: five pods' /128s, its blackholed /122, two remote /122s.
	for class, n := range map[string]int{"local-pod": 5, "local-block-blackhole": 1, "remote-block": 2, "pod-default": 1} {
		if classes[class] != n {
			t.Errorf("%d IPv6 routes of class %s, want %d (all: %v)", classes[class], class, n, classes)
		}
	}
	if g := shown.Analysis.Gateway6; g.Address != "fe80::ecee:eeff:feee:eeee" || !g.HostOwns {
		t.Errorf("the pod's IPv6 gateway: %+v", g)
	}

	node1 := st.NodeNS("node1")
	if err := exec.Command("ip", "-n", node1, "-6", "route", "del", "fd00:19::2283/128").Run(); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = podlab(t, check...)
	if code != 1 || !failsWith(out, "4.2", "no route fd00:19::2283 dev cali… scope link for pod calico-system/csi-node-driver-7xk2p") {
		t.Errorf("an IPv6 /128 deleted: exit %d:\n%s%s", code, out, stderr)
	}
}
