package e2e

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"podlab/internal/kubetest"
	"podlab/internal/netnstest"
	"podlab/lab/sandbox"
)

// upPack builds the sandbox at a lesson pack's end state (up --pack), as
// an instructor would before a class, with the podlab under test.
func upPack(t *testing.T, prefix, pack string, env ...string) []string {
	t.Helper()
	netnstest.RequireRoot(t)
	netnstest.RequireCommand(t, "bird", "apt-get install bird2")
	o := sandbox.Options{Prefix: netnstest.Name(prefix), StateDir: t.TempDir()}
	t.Cleanup(func() {
		if err := sandbox.Down(context.Background(), o); err != nil {
			t.Errorf("sandbox down: %v", err)
		}
	})
	lab := []string{"--sandbox-prefix", o.Prefix, "--sandbox-state-dir", o.StateDir}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, podlab(t), append([]string{"sandbox", "up", "--pack", pack}, lab...)...)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sandbox up --pack %s: %v\n%s", pack, err, out)
	}
	return append([]string{"--lab", "sandbox"}, lab...)
}

// TestBGPPeeringPackInTerminal walks the bgp-peering pack's peering and
// ECMP steps in a real terminal, wide and narrow: host1's pane and the
// node's show the sessions Established and host1's three next hops, and
// the explanation names what the selected line is.
func TestBGPPeeringPackInTerminal(t *testing.T) {
	lab := upPack(t, "pb", "bgp-peering")
	for _, size := range [][2]int{{160, 48}, {80, 24}} {
		tm := newTerm(t, size[0], size[1], append([]string{"--pack", "bgp-peering", "--section", "2"}, lab...)...)
		tm.waitText(30*time.Second, "refreshed", "host1 $ ip route")
		tm.keys("n")
		s := tm.waitText(wait, "step 2/3 Peer the nodes", "Established")
		if !strings.Contains(s, "host1 │ host") && size[0] == 80 {
			t.Errorf("%dx%d: the tabs do not name host1:\n%s", size[0], size[1], s)
		}
		if l := line(s, "node2      BGP"); !strings.Contains(l, "Established") {
			t.Errorf("%dx%d: host1's session with node2 is not shown Established: %q\n%s", size[0], size[1], l, s)
		}
		tm.keys("4")
		s = tm.waitText(wait, "Advertise the cluster", "198.19.32.0/20 proto bird")
		for _, hop := range []string{"198.19.0.1", "198.19.0.2", "198.19.0.3"} {
			if !strings.Contains(s, "nexthop via "+hop+" dev eth0 weight 1") {
				t.Errorf("%dx%d: no next hop via %s:\n%s", size[0], size[1], hop, s)
			}
		}
		if l := line(s, "198.19.32.0/20 proto bird"); !strings.Contains(l, "▸") {
			t.Errorf("%dx%d: the service range is not the selected line: %q", size[0], size[1], l)
		}
		if !strings.Contains(s, "service-range → control, node1, node2") {
			t.Errorf("%dx%d: the explanation does not name the range's nodes:\n%s", size[0], size[1], s)
		}
		tm.quit()
	}
}

// TestKubeProxyPackInTerminal: on the kube-proxy pack's end state (the
// real API server and kube-proxy), the counters step shows summary's
// chain, and after requests sent through it the rows whose counters
// moved are marked.
func TestKubeProxyPackInTerminal(t *testing.T) {
	bin := kubetest.RequireBinaries(t, "etcd", "kube-apiserver", "kube-proxy")
	lab := upPack(t, "pq", "kube-proxy", "PODLAB_KUBE_BIN="+bin)
	tm := newTerm(t, 160, 48, append([]string{"--pack", "kube-proxy", "--section", "4"}, lab...)...)
	tm.waitText(30*time.Second, "refreshed", "KUBE-SVC-OIQIZJVJK6E34BR4")
	req := exec.Command(podlab(t), append([]string{"sandbox", "request", "summary", "-n", "10"}, lab[2:]...)...)
	if out, err := req.CombinedOutput(); err != nil {
		t.Fatalf("sandbox request: %v\n%s", err, out)
	}
	tm.keys("r")
	// A moved counter the step highlights is drawn bold and reversed:
	// the KUBE-SERVICES rule's, summary's chain's and its endpoints'.
	tm.waitFor("the moved counters marked", wait, func(string) bool {
		return strings.Count(tm.screen(true), "\x1b[1;7m") >= 3
	})
	s := tm.screen(false)
	if !strings.Contains(s, "counters moved") || !strings.Contains(s, "probability 0.50000000000") {
		t.Errorf("the counters step lacks its legend or the probability:\n%s", s)
	}
	tm.quit()
}
