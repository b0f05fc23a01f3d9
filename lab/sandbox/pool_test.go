package sandbox

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"podlab/lab"
	"podlab/netview"
)

// A state with the external pool is accepted, its pods' namespaces among
// those the sandbox makes; an external block the sandbox does not give
// that node, or one in a state without the pool, is refused.
func TestParseStateExternalPool(t *testing.T) {
	o := fuzzOptions
	o.ExternalPool = true
	tests := []struct {
		name string
		edit func(s *State)
		want string
	}{
		{"as recorded", func(s *State) {}, ""},
		{"a block without the pool", func(s *State) { s.ExternalPool, s.Actions = false, nil }, "external block"},
		{"another node's block", func(s *State) { s.Nodes[1].ExtBlock = s.Nodes[2].ExtBlock }, `node "node1" has an external block 198.19.24.16/29`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fullState(o)
			tt.edit(s)
			_, err := parseState(marshalState(t, s), o)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	for _, bad := range []Options{
		{ExternalPool: true, Mode: "vxlan"},
		{ExternalPool: true, StaticRoutes: true},
		{ExternalPool: true, IPv6: true},
	} {
		if _, err := bad.checked(); err == nil {
			t.Errorf("%+v accepted: the sandbox builds the external pool in bgp mode with BIRD, IPv4 only", bad)
		}
	}
}

// The external pool's pods are on each node that runs pods, each with an
// address of its node's /29; with --control-plane, control has neither.
func TestExternalPods(t *testing.T) {
	for _, cp := range []bool{false, true} {
		b := newBuilder(Options{Prefix: "pt", ExternalPool: true, ControlPlane: cp}, "")
		nodes := map[string]bool{}
		for _, p := range b.pods() {
			if p.namespace != externalNamespace {
				continue
			}
			nodes[p.node] = true
			if blk := b.nodes[p.node].ExtBlock; !blk.Contains(p.ip) {
				t.Errorf("control-plane %v: %s/%s has %s, outside its node's block %s", cp, p.namespace, p.name, p.ip, blk)
			}
			if got := podLabels(p.namespace, p.name)["app"]; got != "nginx" {
				t.Errorf("%s: app=%q, want nginx", p.name, got)
			}
		}
		if want := !cp; nodes[controlNode] != want || b.nodes[controlNode].ExtBlock.IsValid() != want {
			t.Errorf("control-plane %v: control runs an external pod %v, has a /29 %v; want %v", cp, nodes[controlNode], b.nodes[controlNode].ExtBlock, want)
		}
		if !nodes["node1"] || !nodes["node2"] {
			t.Errorf("control-plane %v: external pods on %v, want node1 and node2", cp, nodes)
		}
	}
}

// routeTo is the main-table route to dst in a collected snapshot.
func routeTo(s *netview.Snapshot, dst netip.Prefix) (netview.Route, bool) {
	for _, r := range s.Routes {
		if r.Table == netview.TableMain && r.Dst == dst {
			return r, true
		}
	}
	return netview.Route{}, false
}

// TestExternalPoolHost1: with the external pool and host1, each node's
// BIRD blackholes its /29 and the other nodes route it via that node;
// host1 learns each /29 from the node that owns it and none of the
// default pool's /26s; the analysis, live, names each /29's owner and
// pool and says why the /26s are absent. node2's BIRD stopped, host1
// loses node2's /29 and node2's next hop of the service range, and the
// analysis says both.
func TestExternalPoolHost1(t *testing.T) {
	requireSandbox(t, true)
	o := testOptions(t, "bgp")
	o.Host1, o.ExternalPool = true, true
	st := up(t, o).State
	host1 := st.Host1NS()
	collect := func(ns string) *netview.Snapshot {
		t.Helper()
		s, err := lab.Collect(context.Background(), lab.NSRef{Name: ns})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	t.Run("pods", func(t *testing.T) {
		for _, n := range st.Nodes {
			var in []string
			for _, p := range st.Pods {
				if p.Namespace == externalNamespace && p.Node == n.Name {
					in = append(in, p.Name)
					if !n.ExtBlock.Contains(p.IP) {
						t.Errorf("%s has %s, outside %s's %s", p.Name, p.IP, n.Name, n.ExtBlock)
					}
					r, ok := routeTo(collect(n.NS), netip.PrefixFrom(p.IP, 32))
					if !ok || r.Dev != p.HostIf || r.Dev != vethName(p.Namespace, p.Name) {
						t.Errorf("%s has no /32 for %s on its host end %s: %+v", n.Name, p.IP, p.HostIf, r)
					}
				}
			}
			if len(in) != 1 {
				t.Errorf("%s runs external pods %v, want one", n.Name, in)
			}
		}
	})
	t.Run("nodes", func(t *testing.T) {
		rcs := analyzeNode(t, st, "node1", true)
		for dst, want := range map[string]string{
			"198.19.24.8/29":  string(netview.ClassLocalBlockBlackhole),
			"198.19.24.16/29": string(netview.ClassRemoteBlock) + " node2",
			"198.19.24.0/29":  string(netview.ClassRemoteBlock) + " control",
		} {
			rc, ok := rcs[dst]
			got := string(rc.Class)
			if rc.Class == netview.ClassRemoteBlock {
				got += " " + rc.Peer
			}
			if !ok || got != want {
				t.Errorf("node1's %s: %q (%v), want %q", dst, got, ok, want)
			}
		}
	})
	t.Run("host1", func(t *testing.T) {
		s := collect(host1)
		for _, n := range st.Nodes {
			r, ok := routeTo(s, n.ExtBlock)
			if !ok || r.Gw != n.IP || r.Protocol != protoBird {
				t.Errorf("host1 has no %s via %s proto bird: %+v", n.ExtBlock, n.IP, r)
			}
		}
		for _, r := range s.Routes {
			if r.Dst.Addr().Is4() && within(r.Dst, defaultPool) {
				t.Errorf("host1 has a route into the default pool: %s", r.Dst)
			}
		}
		h := netview.AnalyzeHost1(s, ptr(st.Host1Facts()))
		if len(h.Problems) > 0 {
			t.Errorf("problems: %q", h.Problems)
		}
		if len(h.Absent) != 1 || !strings.Contains(h.Absent[0], "the blocks of pool default-ipv4-ippool (198.19.16.0/21, /26 blocks) are absent") {
			t.Errorf("absent: %q", h.Absent)
		}
		for _, r := range h.Routes {
			if r.Dst == "198.19.24.8/29" && (r.Peer != "node1" || !strings.HasPrefix(r.Reason, "node1's block of pool external-pool")) {
				t.Errorf("198.19.24.8/29: %s (%s): %s", r.Class, r.Peer, r.Reason)
			}
		}
	})
	t.Run("stop node2", func(t *testing.T) {
		i := slices.IndexFunc(st.Processes, func(p Process) bool { return p.Node == "node2" })
		if err := stopProcess(o, st.Processes[i]); err != nil {
			t.Fatal(err)
		}
		node2, _ := st.Node("node2")
		want := []string{"198.19.0.1 dev eth0", "198.19.0.2 dev eth0"}
		var s *netview.Snapshot
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			s = collect(host1)
			svc, _ := routeTo(s, serviceCIDR)
			_, has := routeTo(s, node2.ExtBlock)
			if !has && slices.Equal(hopGateways(svc), want) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("with node2's BIRD stopped host1 still has %s: %v, service range via %v", node2.ExtBlock, has, hopGateways(svc))
			}
		}
		for _, n := range st.Nodes[:2] {
			if r, ok := routeTo(s, n.ExtBlock); !ok || r.Gw != n.IP {
				t.Errorf("host1 lost %s's %s too", n.Name, n.ExtBlock)
			}
		}
		h := netview.AnalyzeHost1(s, ptr(st.Host1Facts()))
		for _, w := range []string{
			"the service cluster IP range 198.19.32.0/20 has no next hop via node2 (198.19.0.3)",
			"host1 has no route to node2's block 198.19.24.16/29 of pool external-pool",
		} {
			if !slices.ContainsFunc(h.Problems, func(p string) bool { return strings.Contains(p, w) }) {
				t.Errorf("problems %q lack %q", h.Problems, w)
			}
		}
	})
	if err := Down(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	assertGone(t, o, st)
}

func ptr[T any](v T) *T { return &v }

// A deleted pod of the external pool is replaced from its node's /29,
// a lesson pod's from its node's /26; and external-ns's pods are among
// those the sandbox replaces.
func TestFreeAddrExternal(t *testing.T) {
	o := fuzzOptions
	o.ExternalPool = true
	st := fullState(o)
	n, _ := st.Node("node1")
	for _, tt := range []struct{ avoid, want string }{
		{"198.19.24.8", "198.19.24.9"},
		{"198.19.22.132", "198.19.22.133"},
	} {
		got, err := freeAddr(st, n, netip.MustParseAddr(tt.avoid))
		if err != nil || got.String() != tt.want {
			t.Errorf("replacing %s: %v %v, want %s", tt.avoid, got, err, tt.want)
		}
	}
	if !isReplacement(externalNamespace, "nginx-7d9b8c5f4d-5wnjm") {
		t.Error("an external-ns pod's replacement is not one the sandbox makes")
	}
}

// Status lists the pools and each node's external block; the resources
// are the two pools, host1 as a peer and the service range advertised.
func TestStatusNamesPools(t *testing.T) {
	o := fuzzOptions
	o.ExternalPool = true
	st := fullState(o)
	host1State(st, o)
	var b strings.Builder
	writeStatus(&b, st)
	for _, want := range []string{
		"external-ns in external-pool",
		"  NODE     IP          BLOCK             EXTERNAL BLOCK   NAMESPACE\n",
		"  node1    198.19.0.2  198.19.22.128/26  198.19.24.8/29   pt-node1\n",
		"  default-ipv4-ippool  198.19.16.0/21  /26\n",
		"  external-pool        198.19.24.0/21  /29\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, b.String())
		}
	}
	r := st.Resources()
	if len(r.Pools) != 2 || r.Pools[1].Name != externalPoolName || r.Pools[1].BlockSize != 29 ||
		len(r.Peers) != 1 || r.Peers[0].PeerIP != host1IP ||
		len(r.BGPConfigs) != 1 || !slices.Equal(r.BGPConfigs[0].ServiceClusterIPs, []netip.Prefix{serviceCIDR}) {
		t.Errorf("resources: %+v", r)
	}
}
