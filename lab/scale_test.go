package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"podlab/internal/netnstest"
)

// scaleLab is buildCalico's node grown to a real node's size: pods pod
// veths in all (the others' ends in one peers namespace) and routes
// routes in the node's main table, the rest of them other nodes' /26
// blocks as BIRD installs them. It is what scripts/scale-lab.sh builds.
func buildScale(t testing.TB, pods, routes int) calico {
	t.Helper()
	c := buildCalico(t)
	peers := netnstest.New(t, "plcq")
	var host, peer strings.Builder
	for i := 2; i <= pods; i++ {
		fmt.Fprintf(&host, "link add calis%09d type veth peer name p%d netns %s\n", i, i, peers)
		fmt.Fprintf(&host, "link set calis%09d address %s mtu 1410 up\n", i, hostMAC)
		fmt.Fprintf(&peer, "link set p%d up\n", i)
	}
	for i := 2; i <= pods; i++ {
		fmt.Fprintf(&host, "route add 10.201.%d.%d/32 dev calis%09d scope link\n", i/256, i%256, i)
	}
	for b := 0; b < routes-pods; b++ {
		fmt.Fprintf(&host, "route add 10.%d.%d.%d/26 via %s dev eth0 proto bird\n", 64+b/1024, (b/4)%256, (b%4)*64, c.FabricIP)
	}
	ipBatch(t, c.Host, host.String())
	ipBatch(t, peers, peer.String())
	return c
}

func ipBatch(t testing.TB, ns, batch string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(f, []byte(batch), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ip", "-n", ns, "-batch", f).CombinedOutput(); err != nil {
		t.Fatalf("ip -n %s -batch: %v: %s", ns, err, out)
	}
}

// scales are the sizes the scale benchmarks run at: a small cluster's
// node and a large one's, each with a full node's 110 pods.
var scales = []struct{ pods, routes int }{{110, 1000}, {110, 20000}}
