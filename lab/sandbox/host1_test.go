package sandbox

import (
	"context"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"podlab/lab"
	"podlab/netview"
)

// host1State adds to a recorded state what --host1 records.
func host1State(s *State, o Options) {
	s.Host1 = true
	s.Actions = append(s.Actions, ActPeerHost1, ActAdvertiseClusterIPs)
	ns := s.Host1NS()
	s.Namespaces = append(s.Namespaces, NSRecord{Name: ns, Role: host1Name, Owner: host1Name, Inode: 4026532200})
	s.Links = append(s.Links,
		LinkRec{NS: ns, Name: "eth0", Index: 2, Kind: "veth", Peer: s.FabricNS() + "/" + host1Name},
		LinkRec{NS: s.FabricNS(), Name: host1Name, Kind: "veth", Peer: ns + "/eth0"})
	conf, sock, pid, log := birdFiles(o.fileDir(), host1Name)
	s.Files = append(s.Files, conf, sock, pid, log, log+".stderr")
	s.Processes = append(s.Processes, Process{Node: host1Name, NS: ns, Pid: 4300,
		Cmdline: birdCmdline("/usr/sbin/bird", conf, sock, pid), PidFile: pid, Log: log, Socket: sock})
}

// A state with host1 is accepted; host1's BIRD or namespace in a state
// that has no host1 is refused, so Down never kills or deletes them on
// such a file's word.
func TestParseStateHost1(t *testing.T) {
	o := fuzzOptions
	tests := []struct {
		name string
		edit func(s *State)
		want string
	}{
		{"with host1", func(s *State) { host1State(s, o) }, ""},
		{"host1's bird without host1", func(s *State) {
			host1State(s, o)
			s.Host1, s.Actions, s.Namespaces = false, nil, s.Namespaces[:len(s.Namespaces)-1]
		}, `process on unknown node "host1"`},
		{"host1's namespace without host1", func(s *State) {
			host1State(s, o)
			s.Host1, s.Actions, s.Processes = false, nil, s.Processes[:len(s.Processes)-1]
		}, "no host1"},
		{"host1's bird in a node's namespace", func(s *State) { host1State(s, o); s.Processes[len(s.Processes)-1].NS = s.Nodes[0].NS }, "runs in namespace"},
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
	if _, err := (Options{Host1: true, StaticRoutes: true}).checked(); err == nil {
		t.Error("--host1 --static-routes accepted: host1 peers with the nodes' BIRDs")
	}
}

// serviceRoute is host1's route to the service range as podlab's
// collector reads it.
func serviceRoute(t *testing.T, ns string) (netview.Route, *netview.Snapshot) {
	t.Helper()
	s, err := lab.Collect(context.Background(), lab.NSRef{Name: ns})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Routes {
		if r.Table == netview.TableMain && r.Dst == serviceCIDR {
			return r, s
		}
	}
	t.Fatalf("host1 has no route to %s:\n%s", serviceCIDR, netview.Plain(netview.Render(netview.SideHost, netview.ViewRoute, s, nil)))
	return netview.Route{}, nil
}

func hopGateways(r netview.Route) []string {
	var out []string
	for _, h := range r.NextHops {
		out = append(out, h.Gw.String()+" dev "+h.Dev)
	}
	slices.Sort(out)
	return out
}

// host1 learns the service range from the three nodes' BIRDs and BIRD
// writes it to host1's kernel as one route with three next hops; podlab
// reads all three, renders host1's table as ip prints it, and a node
// whose BIRD stops drops out of the route.
func TestHost1ECMP(t *testing.T) {
	requireSandbox(t, true)
	o := testOptions(t, "bgp")
	o.Host1 = true
	st := up(t, o).State
	host1 := st.Host1NS()
	if host1 == "" {
		t.Fatal("the state does not record host1")
	}
	all := []string{"198.19.0.1 dev eth0", "198.19.0.2 dev eth0", "198.19.0.3 dev eth0"}

	t.Run("kernel", func(t *testing.T) {
		r, ok := findRoute(t, nsHandleT(t, host1), serviceCIDR.String(), protoBird)
		if !ok {
			t.Fatalf("host1 has no %s proto bird", serviceCIDR)
		}
		var gws []string
		for _, h := range r.MultiPath {
			gws = append(gws, h.Gw.String())
			if h.Hops != 0 {
				t.Errorf("next hop %s has weight %d, want 1", h.Gw, h.Hops+1)
			}
		}
		slices.Sort(gws)
		if want := []string{"198.19.0.1", "198.19.0.2", "198.19.0.3"}; !slices.Equal(gws, want) {
			t.Errorf("next hops %v, want %v", gws, want)
		}
	})
	t.Run("collect", func(t *testing.T) {
		r, _ := serviceRoute(t, host1)
		if got := hopGateways(r); !slices.Equal(got, all) {
			t.Errorf("podlab reads next hops %v, want %v", got, all)
		}
		for _, h := range r.NextHops {
			if h.Weight != 1 {
				t.Errorf("next hop %s: weight %d, want 1", h.Gw, h.Weight)
			}
		}
		if r.Protocol != protoBird || r.Gw.IsValid() {
			t.Errorf("route %+v: want proto bird and no single gateway", r)
		}
	})
	t.Run("filters", func(t *testing.T) {
		// host1 imports no pod block (its filter), and the nodes write
		// no route of the service range they advertise.
		_, s := serviceRoute(t, host1)
		for _, r := range s.Routes {
			if within(r.Dst, clusterCIDR) {
				t.Errorf("host1 learned a pod route: %s", r.Dst)
			}
		}
		for _, n := range st.Nodes {
			s, err := lab.Collect(context.Background(), lab.NSRef{Name: n.NS})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range s.Routes {
				if within(r.Dst, serviceCIDR) {
					t.Errorf("%s has a route to %s", n.Name, r.Dst)
				}
			}
		}
	})
	t.Run("render", func(t *testing.T) {
		for range 10 {
			before := ipRoute(t, host1)
			_, s := serviceRoute(t, host1)
			if ipRoute(t, host1) != before {
				continue
			}
			if !strings.Contains(before, "\tnexthop via 198.19.0.3 dev eth0 weight 1 \n") {
				t.Fatalf("ip shows no nexthop lines:\n%s", before)
			}
			if got := netview.Plain(netview.Render(netview.SideHost, netview.ViewRoute, s, nil)); got != before {
				t.Errorf("podlab renders:\n%s\nip prints:\n%s", got, before)
			}
			return
		}
		t.Fatal("ip printed something different each of 10 times: cannot compare")
	})
	t.Run("stop node2", func(t *testing.T) {
		i := slices.IndexFunc(st.Processes, func(p Process) bool { return p.Node == "node2" })
		if err := stopProcess(o, st.Processes[i]); err != nil {
			t.Fatal(err)
		}
		want := all[:2]
		deadline := time.Now().Add(30 * time.Second)
		for {
			r, _ := serviceRoute(t, host1)
			got := hopGateways(r)
			if slices.Equal(got, want) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("with node2's BIRD stopped host1 still routes over %v, want %v", got, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if p, _ := Status(o); !slices.ContainsFunc(p.Problems, func(s string) bool { return strings.HasPrefix(s, "bird on node2 ") }) {
			t.Errorf("status does not say node2's BIRD stopped: %v", p.Problems)
		}
	})
	if err := Down(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	assertGone(t, o, st)
}

func within(p, in netip.Prefix) bool { return p.Bits() >= in.Bits() && in.Contains(p.Addr()) }

func ipRoute(t *testing.T, ns string) string {
	t.Helper()
	out, err := exec.Command("ip", "-n", ns, "route").Output()
	if err != nil {
		t.Fatalf("ip -n %s route: %v", ns, err)
	}
	return string(out)
}

// Status names host1, where it is and what it learns, and its BIRD.
func TestStatusNamesHost1(t *testing.T) {
	o := fuzzOptions
	st := fullState(o)
	host1State(st, o)
	var b strings.Builder
	writeStatus(&b, st)
	for _, want := range []string{"host1 peered, cluster IPs advertised", "actions: peer-host1, advertise-cluster-ips\n", "host1: 198.19.15.254 in pt-host1, peered with every node, which advertise 198.19.32.0/20 to it", "  host1    4300"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, b.String())
		}
	}
}
