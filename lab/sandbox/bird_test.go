package sandbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
		if err := birdTmpl.Execute(&sb, c); err != nil {
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
