package sandbox

import (
	"context"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"podlab/lab"
	"podlab/netview"
)

// analyzeNode analyses a sandbox node's namespace as read now, with the
// facts the sandbox gives (blocks=false: as when the block affinities
// cannot be read). The pod side is left empty: a node with no pods has
// none to show.
func analyzeNode(t *testing.T, st *State, node string, blocks bool) map[string]netview.RouteClass {
	t.Helper()
	host, err := lab.Collect(context.Background(), lab.NSRef{Name: st.NodeNS(node)})
	if err != nil {
		t.Fatal(err)
	}
	f := st.Facts("", "")
	f.Node = node
	if !blocks {
		f.Blocks = nil
	}
	a := netview.Analyze(&netview.Pair{Host: *host, Facts: f})
	out := map[string]netview.RouteClass{}
	for _, rc := range a.Routes {
		if rc.Side == netview.SideHost {
			out[rc.Dst] = rc
		}
	}
	return out
}

// TestControlPlaneAndTunnelEndpoints: with --control-plane the control
// node runs no pods but keeps its block, blackholed (by BIRD in bgp
// mode, as Felix in vxlan mode) with no pod route under it, and the
// analysis of that node, live, calls it the node's own block whether or
// not the affinities were read; in vxlan mode each node has current
// Felix's route to every other node's tunnel address, which the analysis
// calls a tunnel endpoint of the right node.
func TestControlPlaneAndTunnelEndpoints(t *testing.T) {
	tests := []struct {
		mode  string
		proto int
	}{
		{"bgp", protoBird},
		{"vxlan", protoFelix},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			requireSandbox(t, true)
			o := testOptions(t, tt.mode)
			o.ControlPlane = true
			st := up(t, o).State
			for _, p := range st.Pods {
				if p.Node == controlNode {
					t.Errorf("pod %s/%s runs on the control node", p.Namespace, p.Name)
				}
			}
			h := nsHandleT(t, st.NodeNS(controlNode))
			links, err := h.LinkList()
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range links {
				if strings.HasPrefix(l.Attrs().Name, netview.DefaultInterfacePrefix) {
					t.Errorf("the control node has a workload interface %s", l.Attrs().Name)
				}
			}
			if r, ok := findRoute(t, h, "198.19.21.0/26", tt.proto); !ok || r.Type != unix.RTN_BLACKHOLE {
				t.Errorf("the control node's block is not blackholed with proto %d: %v", tt.proto, r)
			}
			for _, blocks := range []bool{true, false} {
				rc, ok := analyzeNode(t, st, controlNode, blocks)["198.19.21.0/26"]
				if !ok || rc.Class != netview.ClassLocalBlockBlackhole {
					t.Errorf("affinities read %v: control's blackhole is %q: %v", blocks, rc.Class, rc.RouteWords)
				} else if !blocks && !strings.Contains(rc.Reason, "no pods of this node") {
					t.Errorf("affinities not read: the reason does not say the node has no pods: %s", rc.Reason)
				}
			}
			if tt.mode != "vxlan" {
				return
			}
			h1 := nsHandleT(t, st.NodeNS("node1"))
			classes := analyzeNode(t, st, "node1", true)
			for _, w := range []struct{ vtep, node string }{{"198.19.21.62", "control"}, {"198.19.21.126", "node2"}} {
				r, ok := findRoute(t, h1, w.vtep+"/32", protoFelix)
				dev, _ := h1.LinkByIndex(r.LinkIndex)
				if !ok || r.Gw != nil || r.Scope != netlink.SCOPE_LINK || dev == nil || dev.Attrs().Name != vxlanName {
					t.Errorf("node1 has no %s dev %s scope link proto 80: %v", w.vtep, vxlanName, r)
					continue
				}
				if rc := classes[w.vtep]; rc.Class != netview.ClassTunnelEndpoint || rc.RouteWords == nil || rc.Peer != w.node {
					t.Errorf("%s is %q (peer %v), want a tunnel endpoint of %s", w.vtep, rc.Class, rc.RouteWords, w.node)
				}
			}
		})
	}
}
