package sandbox

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"podlab/netview"
)

// TestBirdConfigParses has BIRD itself check the configs we write.
func TestBirdConfigParses(t *testing.T) {
	bird, err := findBird()
	if err != nil {
		requireSandbox(t, true)
	}
	for _, vx := range []bool{false, true} {
		c := birdConf{RouterID: "198.19.0.2", Block: "198.19.22.128/26", ClusterCIDR: clusterCIDR.String(), AS: asNumber,
			Log: filepath.Join(t.TempDir(), "bird.log"), VXLAN: vx,
			Peers: []birdPeer{{meshName("198.19.0.1"), "198.19.0.1"}, {meshName("198.19.0.3"), "198.19.0.3"}}}
		var sb strings.Builder
		if err := birdTmpl().Execute(&sb, c); err != nil {
			t.Fatal(err)
		}
		conf := filepath.Join(t.TempDir(), "bird.conf")
		if err := os.WriteFile(conf, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(bird, "-p", "-c", conf).CombinedOutput(); err != nil {
			t.Errorf("vxlan=%v: bird -p: %v: %s\n%s", vx, err, out, sb.String())
		}
		for _, want := range []string{"protocol bgp Mesh_198_19_0_1 from bgp_template", "metric 0;", "route 198.19.22.128/26 blackhole;", "connect delay time 2;"} {
			if !strings.Contains(sb.String(), want) {
				t.Errorf("config lacks %q", want)
			}
		}
	}
}

// TestBirdKilledAndRestarted: node2's BIRD is stopped by its recorded
// pid; node1, as the lab shows it, loses node2's block (and the analysis
// no longer classes one as node2's remote block); restarted, BIRD brings
// it back. The waits are bounded, not timed.
func TestBirdKilledAndRestarted(t *testing.T) {
	requireSandbox(t, true)
	o := testOptions(t, "bgp")
	sb := up(t, o)
	ctx := context.Background()
	l, err := Open(ctx, o, false)
	if err != nil {
		t.Fatal(err)
	}
	node2, _ := sb.State.Node("node2")
	// remoteBlock says whether node1 routes node2's block via node2, and
	// whether the analysis calls it node2's remote block.
	remoteBlock := func() (routed, classed bool) {
		t.Helper()
		p, err := l.Collect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Host.Routes {
			if r.Dst == node2.Block && r.Gw == node2.IP && r.Protocol == protoBird {
				routed = true
			}
		}
		for _, rc := range netview.Analyze(p).Routes {
			if rc.Class == netview.ClassRemoteBlock && rc.Dst == node2.Block.String() && rc.Peer == "node2" {
				classed = true
			}
		}
		return routed, classed
	}
	waitFor := func(what string, want bool) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for {
			routed, classed := remoteBlock()
			if routed == want && classed == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: node1 routes node2's block: %v, analysis classes it: %v", what, routed, classed)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitFor("before", true)

	i := slices.IndexFunc(sb.State.Processes, func(p Process) bool { return p.Node == "node2" })
	proc := sb.State.Processes[i]
	if err := stopProcess(o, proc); err != nil {
		t.Fatal(err)
	}
	waitFor("after node2's bird stopped", false)
	st, err := Status(o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(st.Problems, func(p string) bool { return strings.Contains(p, "bird on node2") }) {
		t.Errorf("status does not report node2's bird: %q", st.Problems)
	}

	if err := restartBird(ctx, o, "node2"); err != nil {
		t.Fatalf("restart: %v", err)
	}
	waitFor("after node2's bird restarted", true)
	st, err = Status(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Problems) > 0 {
		t.Errorf("unhealthy after the restart: %q", st.Problems)
	}
	if st.Processes[i].Pid == proc.Pid {
		t.Errorf("the restarted bird's pid was not recorded")
	}
	// Restarting a running BIRD does nothing.
	if err := restartBird(ctx, o, "node2"); err != nil {
		t.Fatal(err)
	}
	if again, _ := Status(o); again.Processes[i].Pid != st.Processes[i].Pid {
		t.Error("a second restart replaced a running bird")
	}
}
