package sandbox

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"podlab/netview"
)

// An unknown action or pack is a one-line error naming the known ones;
// a repeated action counts once.
func TestParseActionsAndPacks(t *testing.T) {
	tests := []struct {
		name  string
		names []string
		want  []Action
		err   string
	}{
		{"one", []string{"peer-host1"}, []Action{ActPeerHost1}, ""},
		{"repeated", []string{"local-policy", "peer-host1", "local-policy"}, []Action{ActLocalPolicy, ActPeerHost1}, ""},
		{"unknown", []string{"peer-host1", "peer-host2"}, nil,
			`unknown action "peer-host2": use peer-host1, external-pool, advertise-cluster-ips, advertise-external-ips, local-policy`},
		{"control characters", []string{"\x1b[2Jx\nrm"}, nil, `unknown action "\x1b[2Jx\x0arm"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseActions(tt.names)
			switch {
			case tt.err == "" && err != nil:
				t.Fatal(err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || strings.ContainsAny(err.Error(), "\n\x1b")):
				t.Fatalf("error %q, want one line with %q", err, tt.err)
			case !slices.Equal(got, tt.want):
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	var o Options
	if err := o.ForPack("bgp-peering"); err != nil || !slices.Equal(o.Actions, Actions) {
		t.Errorf("--pack bgp-peering: %v, actions %v, want every action", err, o.Actions)
	}
	if err := o.ForPack("nope"); err == nil || !strings.Contains(err.Error(), "--pack bgp-peering") || strings.Contains(err.Error(), "\n") {
		t.Errorf("--pack nope: %v, want one line naming bgp-peering", err)
	}
}

// --host1 and --external-pool stand for their actions; actions a kind of
// sandbox cannot take are refused before anything is built.
func TestOptionsActions(t *testing.T) {
	o, err := Options{Host1: true, ExternalPool: true}.checked()
	if err != nil {
		t.Fatal(err)
	}
	if want := []Action{ActPeerHost1, ActExternalPool, ActAdvertiseClusterIPs}; !slices.Equal(o.Actions, want) {
		t.Errorf("--host1 --external-pool: actions %v, want %v", o.Actions, want)
	}
	o, err = Options{Actions: []Action{ActLocalPolicy, ActPeerHost1}}.checked()
	if err != nil || !o.Host1 || o.ExternalPool || !slices.Equal(o.Actions, []Action{ActPeerHost1, ActLocalPolicy}) {
		t.Errorf("peer-host1 local-policy: %v, host1 %v, pool %v, actions %v", err, o.Host1, o.ExternalPool, o.Actions)
	}
	for _, bad := range []Options{
		{Actions: []Action{ActAdvertiseClusterIPs}, StaticRoutes: true},
		{Actions: []Action{ActExternalPool}, Mode: "vxlan"},
		{Actions: []Action{"bogus"}},
	} {
		if _, err := bad.checked(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// A state file's actions are checked as the rest of it: an unknown or
// repeated action, or one that disagrees with what was built, is
// refused; a state from before actions were recorded gets those its
// flags stand for.
func TestParseStateActions(t *testing.T) {
	o := fuzzOptions
	tests := []struct {
		name string
		edit func(s *State)
		want string
	}{
		{"every action", func(s *State) { host1State(s, o); s.Actions = slices.Clone(Actions); s.ExternalPool = true }, ""},
		{"unknown", func(s *State) { s.Actions = []Action{"rm -rf"} }, `unknown action "rm -rf"`},
		{"repeated", func(s *State) { s.Actions = []Action{ActLocalPolicy, ActLocalPolicy} }, "listed twice"},
		{"peered without host1", func(s *State) { s.Actions = []Action{ActPeerHost1} }, "do not agree"},
		{"host1 not peered", func(s *State) { host1State(s, o); s.Actions = []Action{ActLocalPolicy} }, "do not agree"},
		{"with static routes", func(s *State) { s.StaticRoutes = true; s.Actions = []Action{ActLocalPolicy} }, "static routes"},
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
	t.Run("before actions", func(t *testing.T) {
		s := fullState(o)
		host1State(s, o)
		s.Actions = nil
		got, err := parseState(marshalState(t, s), o)
		if err != nil {
			t.Fatal(err)
		}
		if want := []Action{ActPeerHost1, ActAdvertiseClusterIPs}; !slices.Equal(got.Actions, want) {
			t.Errorf("actions %v, want %v", got.Actions, want)
		}
	})
}

// What the sandbox stands for follows the actions: host1 a BGPPeer only
// once peered, each service range in the BGPConfiguration only once
// advertised, customer's external IP and Local policy once applied; and
// the nodes advertise what Calico's would, the Local /32s only from
// customer's node and only within an advertised range.
func TestActionsResourcesAndRoutes(t *testing.T) {
	all := slices.Clone(Actions)
	tests := []struct {
		name       string
		actions    []Action
		peers      int
		clusterIPs []netip.Prefix
		extIPs     []netip.Prefix
		customer   []netip.Addr
		policy     string
		node1      []string // node1's advertised service routes
		node2      []string
		host1      []string // what host1's kernel must have
	}{
		{"none", nil, 0, nil, nil, nil, "Cluster", nil, nil, nil},
		{"peered", []Action{ActPeerHost1}, 1, nil, nil, nil, "Cluster", nil, nil, nil},
		{"local, nothing advertised", []Action{ActPeerHost1, ActLocalPolicy}, 1, nil, nil, nil, "Local", nil, nil, nil},
		{"cluster IPs, not peered", []Action{ActAdvertiseClusterIPs}, 0, []netip.Prefix{serviceCIDR}, nil, nil, "Cluster",
			[]string{"198.19.32.0/20"}, []string{"198.19.32.0/20"}, nil},
		{"every action", all, 1, []netip.Prefix{serviceCIDR}, []netip.Prefix{externalIPCIDR}, []netip.Addr{customerExternalIP}, "Local",
			[]string{"198.19.32.0/20", "198.19.48.0/20", "198.19.33.112/32", "198.19.48.10/32"},
			[]string{"198.19.32.0/20", "198.19.48.0/20"},
			[]string{"198.19.24.0/29 via 198.19.0.1 proto bird", "198.19.24.8/29 via 198.19.0.2 proto bird", "198.19.24.16/29 via 198.19.0.3 proto bird",
				"198.19.32.0/20 proto bird nexthop via 198.19.0.1, 198.19.0.2, 198.19.0.3",
				"198.19.48.0/20 proto bird nexthop via 198.19.0.1, 198.19.0.2, 198.19.0.3",
				"198.19.33.112/32 via 198.19.0.2 proto bird"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := fuzzOptions
			o.Actions = tt.actions
			s := fullState(o)
			r := s.Resources()
			cfg := r.BGPConfigs[0]
			var customer netview.Service
			for _, svc := range r.Services {
				if svc.Name == "customer" {
					customer = svc
				}
			}
			if len(r.Peers) != tt.peers || !slices.Equal(cfg.ServiceClusterIPs, tt.clusterIPs) || !slices.Equal(cfg.ServiceExternalIPs, tt.extIPs) ||
				!slices.Equal(customer.ExternalIPs, tt.customer) || customer.ExternalTrafficPolicy != tt.policy {
				t.Errorf("peers %v, configuration %+v, customer %+v", r.Peers, cfg, customer)
			}
			strs := func(ps []netip.Prefix) []string {
				var out []string
				for _, p := range ps {
					out = append(out, p.String())
				}
				return out
			}
			if got := strs(s.serviceRoutes("node1")); !slices.Equal(got, tt.node1) {
				t.Errorf("node1 advertises %v, want %v", got, tt.node1)
			}
			if got := strs(s.serviceRoutes("node2")); !slices.Equal(got, tt.node2) {
				t.Errorf("node2 advertises %v, want %v", got, tt.node2)
			}
			var got []string
			for _, w := range s.host1Routes() {
				got = append(got, w.String())
			}
			if !slices.Equal(got, tt.host1) {
				t.Errorf("host1 must have %q, want %q", got, tt.host1)
			}
		})
	}
}

// BIRD itself accepts each node's config with every action applied, and
// node1's announces customer's /32s.
func TestBirdConfigActionsParse(t *testing.T) {
	bird, err := findBird()
	if err != nil {
		requireSandbox(t, true)
	}
	o := fuzzOptions
	o.StateDir = t.TempDir()
	o.Actions = Actions
	b := stateBuilder(o.withDefaults(), fullState(o.withActions()), bird)
	for _, n := range b.st.Nodes {
		text, err := b.nodeBirdConfig(n)
		if err != nil {
			t.Fatal(err)
		}
		conf := filepath.Join(t.TempDir(), "bird.conf")
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(bird, "-p", "-c", conf).CombinedOutput(); err != nil {
			t.Errorf("%s: bird -p: %v: %s\n%s", n.Name, err, out, text)
		}
		has := strings.Contains(text, "route 198.19.33.112/32 blackhole;")
		if has != (n.Name == "node1") || !strings.Contains(text, "protocol bgp Global_198_19_15_254") {
			t.Errorf("%s: /32 announced %v, want %v; or no session with host1:\n%s", n.Name, has, n.Name == "node1", text)
		}
	}
}

// configure reads BIRD's answer within its bounds: done on 0003, 0004
// or 0005, a one-line error on a refusal, a stranger or too much.
func TestConfigureAnswer(t *testing.T) {
	tests := []struct {
		name   string
		answer string
		err    string
	}{
		{"reconfigured", "0001 BIRD 2.0.12 ready.\n0002-Reading configuration from /x.conf\n0003 Reconfigured\n", ""},
		{"in progress", "0001 BIRD 2.0.12 ready.\n0002-Reading configuration from /x.conf\n0004 Reconfiguration in progress\n", ""},
		{"async lines", "0001 BIRD 2.0.12 ready.\n+0000 log\n0002-Reading\n 0002 more\n0003 Reconfigured\n", ""},
		{"parse error", "0001 BIRD 2.0.12 ready.\n0002-Reading configuration from /x.conf\n8002 /x.conf:3:1 syntax error\x1b[2J\n", "refused its config: /x.conf:3:1 syntax error"},
		{"shutting down", "0001 BIRD ready.\n0006 Reconfiguration ignored, shutting down\n", "shutting down"},
		{"not bird", "SSH-2.0-OpenSSH\n", "does not speak"},
		{"no greeting", "0003 Reconfigured\n", "does not speak"},
		{"closed", "0001 BIRD ready.\n0002-Reading\n", "closed the connection"},
		{"endless", "0001 BIRD ready.\n" + strings.Repeat("0002-x\n", 100), "more than 64 lines"},
		{"long line", "0001 BIRD ready.\n0002-" + strings.Repeat("x", 5000) + "\n", "longer than"},
		{"too much", "0001 BIRD ready.\n" + strings.Repeat(" "+strings.Repeat("x", 4000)+"\n", 20), "closed the connection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rw := &fakeConn{r: strings.NewReader(tt.answer)}
			err := configure(rw)
			switch {
			case tt.err == "" && err != nil:
				t.Fatal(err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || strings.ContainsAny(err.Error(), "\n\x1b")):
				t.Fatalf("error %q, want one line with %q", err, tt.err)
			}
			if strings.HasPrefix(tt.answer, "0001") && rw.w.String() != "configure\n" {
				t.Errorf("sent %q, want configure", rw.w.String())
			}
		})
	}
}

type fakeConn struct {
	r *strings.Reader
	w strings.Builder
}

func (c *fakeConn) Read(b []byte) (int, error)  { return c.r.Read(b) }
func (c *fakeConn) Write(b []byte) (int, error) { return c.w.Write(b) }

// actionLab is the sandbox as a lesson on BGP peering reads it.
func actionLab(t *testing.T, o Options) *Lab {
	t.Helper()
	l, err := Open(context.Background(), o, false)
	if err != nil {
		t.Fatal(err)
	}
	l.Want(netview.Wants{Host1: true, Bird: true, Resources: true})
	return l
}

func collectExtra(t *testing.T, l *Lab) *netview.Extra {
	t.Helper()
	p, err := l.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if p.Extra == nil {
		t.Fatal("Collect read nothing beyond the pair, though it was wanted")
	}
	return p.Extra
}

// host1Table is host1's main-table routes learned over BGP, as "dst via
// gw[,gw…]" with the gateways sorted.
func host1Table(e *netview.Extra) []string {
	var out []string
	if e.Host1 == nil {
		return nil
	}
	for _, r := range e.Host1.Routes {
		if r.Table != netview.TableMain || r.Protocol != protoBird {
			continue
		}
		var gws []string
		if r.Gw.IsValid() {
			gws = append(gws, r.Gw.String())
		}
		for _, h := range r.NextHops {
			gws = append(gws, h.Gw.String())
		}
		slices.Sort(gws)
		out = append(out, r.Dst.String()+" via "+strings.Join(gws, ","))
	}
	slices.Sort(out)
	return out
}

// sessions is host1's BGP sessions as "name state info".
func sessions(e *netview.Extra) []string {
	var out []string
	for _, p := range e.Host1Bird.Sessions() {
		out = append(out, p.Name+" "+p.State+" "+p.Info)
	}
	return out
}

func st0(t *testing.T, o Options) *State {
	t.Helper()
	st, err := Status(o)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// waitHost1 waits, bounded, until host1's BGP routes hold route or not.
func waitHost1(t *testing.T, l *Lab, route string, want bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Host1, not Collect: the pod followed may be gone.
		s, _, err := l.Host1(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got := host1Table(&netview.Extra{Host1: s})
		if slices.Contains(got, route) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("host1 has %q: %v, want %v; it has %q", route, !want, want, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

const (
	all3     = "198.19.0.1,198.19.0.2,198.19.0.3"
	extPool3 = "198.19.24.0/29 via 198.19.0.1|198.19.24.16/29 via 198.19.0.3|198.19.24.8/29 via 198.19.0.2"
)

// TestApplyStepByStep: from a plain up, each action applied in the
// lesson's order gives host1's kernel what it says, as the lab reads it
// for a lesson (host1's table, its BIRD's sessions, the resources); an
// apply stopped half-way is finished by the next; a second apply is
// nothing to do; down leaves nothing.
func TestApplyStepByStep(t *testing.T) {
	requireSandbox(t, true)
	o := testOptions(t, "bgp")
	up(t, o)
	l := actionLab(t, o)
	if e := collectExtra(t, l); e.Host1 != nil || !strings.Contains(e.Unread[netview.PartHost1], "sandbox apply peer-host1") {
		t.Fatalf("before peer-host1: host1 %v, unread %q", e.Host1 != nil, e.Unread)
	}
	t.Run("host1's name taken", func(t *testing.T) {
		// A namespace the sandbox did not make is never taken for
		// host1's, so down never deletes it.
		taken := o.Prefix + "-" + host1Name
		if out, err := exec.Command("ip", "netns", "add", taken).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add: %v: %s", err, out)
		}
		defer exec.Command("ip", "netns", "del", taken).Run()
		_, err := Apply(context.Background(), o, []Action{ActPeerHost1})
		if err == nil || !strings.Contains(err.Error(), "exists but is not in podlab's state") {
			t.Fatalf("apply peer-host1 beside a foreign %s: %v", taken, err)
		}
		st, err := Status(o)
		if err != nil || st.Host1 || len(st.Actions) > 0 || !nsExists(taken) {
			t.Errorf("after the refusal: %v, host1 %v, actions %v, the foreign namespace there %v", err, st.Host1, st.Actions, nsExists(taken))
		}
	})
	steps := []struct {
		act   Action
		table string // host1's BGP routes, sorted, joined by |
		check func(t *testing.T, r *netview.Resources)
	}{
		{ActPeerHost1, "", func(t *testing.T, r *netview.Resources) {
			if len(r.Peers) != 1 || r.Peers[0].PeerIP != host1IP || len(r.BGPConfigs[0].ServiceClusterIPs) > 0 {
				t.Errorf("peers %+v, configuration %+v", r.Peers, r.BGPConfigs)
			}
		}},
		{ActExternalPool, extPool3, func(t *testing.T, r *netview.Resources) {
			if len(r.Pools) != 2 || r.Pools[1].CIDR != externalPool {
				t.Errorf("pools %+v", r.Pools)
			}
		}},
		{ActAdvertiseClusterIPs, extPool3 + "|198.19.32.0/20 via " + all3, func(t *testing.T, r *netview.Resources) {
			if !slices.Equal(r.BGPConfigs[0].ServiceClusterIPs, []netip.Prefix{serviceCIDR}) || len(r.BGPConfigs[0].ServiceExternalIPs) > 0 {
				t.Errorf("configuration %+v", r.BGPConfigs)
			}
		}},
		{ActAdvertiseExternalIPs, extPool3 + "|198.19.32.0/20 via " + all3 + "|198.19.48.0/20 via " + all3, func(t *testing.T, r *netview.Resources) {
			if !slices.Equal(r.BGPConfigs[0].ServiceExternalIPs, []netip.Prefix{externalIPCIDR}) ||
				!slices.Equal(r.Services[0].ExternalIPs, []netip.Addr{customerExternalIP}) || r.Services[0].ExternalTrafficPolicy != "Cluster" {
				t.Errorf("configuration %+v, customer %+v", r.BGPConfigs, r.Services[0])
			}
		}},
		// host1 learns customer's cluster IP from node1 alone, and not
		// its external IP: its filter takes 198.19.48.0/20 exactly.
		{ActLocalPolicy, extPool3 + "|198.19.32.0/20 via " + all3 + "|198.19.33.112/32 via 198.19.0.2|198.19.48.0/20 via " + all3, func(t *testing.T, r *netview.Resources) {
			if r.Services[0].Name != "customer" || r.Services[0].ExternalTrafficPolicy != "Local" {
				t.Errorf("customer %+v", r.Services[0])
			}
		}},
	}
	for _, step := range steps {
		t.Run(string(step.act), func(t *testing.T) {
			wantDone := []Action{step.act}
			if step.act == ActPeerHost1 {
				// Stopped half-way, as a kill would: recorded, host1's
				// BIRD not started. Applied again, it is finished.
				stepHook = func(string) error { return errKilled }
				_, err := Apply(context.Background(), o, wantDone)
				stepHook = nil
				if !errors.Is(err, errKilled) {
					t.Fatalf("apply with the build stopped: %v", err)
				}
				wantDone = nil
			}
			done, err := Apply(context.Background(), o, []Action{step.act})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(done, wantDone) {
				t.Errorf("applied %v, want %v", done, wantDone)
			}
			e := collectExtra(t, l)
			if len(e.Unread) > 0 {
				t.Errorf("unread: %q", e.Unread)
			}
			want := strings.Split(step.table, "|")
			if step.table == "" {
				want = nil
			}
			slices.Sort(want)
			if got := host1Table(e); !slices.Equal(got, want) {
				t.Errorf("host1's BGP routes:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
			if got, want := sessions(e), []string{"control up Established", "node1 up Established", "node2 up Established"}; !slices.Equal(got, want) {
				t.Errorf("host1's sessions %q, want %q", got, want)
			}
			step.check(t, e.Resources)
			st, err := Status(o)
			if err != nil || len(st.Problems) > 0 || st.Actions[len(st.Actions)-1] != step.act {
				t.Errorf("status: %v, problems %q, actions %v", err, st.Problems, st.Actions)
			}
		})
	}
	var out strings.Builder
	if err := ApplyCommand(context.Background(), o, ActionNames(), &out); err != nil ||
		strings.Count(out.String(), " was applied already\n") != len(Actions) || strings.Contains(out.String(), "converged") {
		t.Errorf("applying every action again: %v; want nothing to do:\n%s", err, out.String())
	}
	out.Reset()
	if err := StatusCommand(o, &out); err != nil ||
		!strings.Contains(out.String(), "\nactions: peer-host1, external-pool, advertise-cluster-ips, advertise-external-ips, local-policy\n") ||
		!strings.Contains(out.String(), "which advertise 198.19.32.0/20 and 198.19.48.0/20 to it\n") {
		t.Errorf("status: %v\n%s", err, out.String())
	}
	t.Run("customer deleted", func(t *testing.T) {
		// With its one endpoint gone, node1 announces customer's /32 no
		// more, and host1 forgets it; its replacement brings it back.
		p := st0(t, o).Pod(CustomerNamespace, CustomerPod)
		if err := DeletePod(context.Background(), o, CustomerNamespace, CustomerPod); err != nil {
			t.Fatal(err)
		}
		waitHost1(t, l, "198.19.33.112/32 via 198.19.0.2", false)
		if _, err := ReplacePod(context.Background(), o, *p); err != nil {
			t.Fatal(err)
		}
		waitHost1(t, l, "198.19.33.112/32 via 198.19.0.2", true)
	})
	st, err := Status(o)
	if err != nil {
		t.Fatal(err)
	}
	// The nodes advertise the service ranges; they never route them.
	for _, n := range st.Nodes {
		for _, dst := range []string{"198.19.32.0/20", "198.19.48.0/20", "198.19.33.112/32"} {
			if r, ok := findRoute(t, nsHandleT(t, n.NS), dst, protoBird); ok {
				t.Errorf("%s routes %v", n.Name, r)
			}
		}
	}
	if err := Down(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	assertGone(t, o, st)
	if nsExists(o.Prefix + "-" + host1Name) {
		t.Error("host1's namespace is still there")
	}
}

// TestPackBGPPeering: up --pack bgp-peering builds the lesson's end
// state at once; with node2's BIRD stopped (by its recorded pid),
// host1's session with node2 is no longer Established, saying its state
// and why, and host1's service range loses node2's next hop.
func TestPackBGPPeering(t *testing.T) {
	requireSandbox(t, true)
	o := testOptions(t, "bgp")
	if err := o.ForPack("bgp-peering"); err != nil {
		t.Fatal(err)
	}
	st := up(t, o).State
	if !slices.Equal(st.Actions, Actions) {
		t.Errorf("actions %v, want %v", st.Actions, Actions)
	}
	l := actionLab(t, o)
	e := collectExtra(t, l)
	want := strings.Split(extPool3+"|198.19.32.0/20 via "+all3+"|198.19.33.112/32 via 198.19.0.2|198.19.48.0/20 via "+all3, "|")
	slices.Sort(want)
	if got := host1Table(e); !slices.Equal(got, want) {
		t.Errorf("host1's BGP routes:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}

	i := slices.IndexFunc(st.Processes, func(p Process) bool { return p.Node == "node2" })
	if err := stopProcess(o, st.Processes[i]); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	var node2 *netview.BirdProtocol
	var service string
	for {
		e = collectExtra(t, l)
		node2 = e.Host1Bird.Find("node2")
		service = ""
		for _, r := range host1Table(e) {
			if strings.HasPrefix(r, serviceCIDR.String()+" ") {
				service = r
			}
		}
		if node2 != nil && !node2.Established() && service == "198.19.32.0/20 via 198.19.0.1,198.19.0.2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("with node2's BIRD stopped, host1's session %+v, its service range %q", node2, service)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("host1's session with node2: %s %s %s", node2.State, node2.Since, node2.Info)
	if node2.State == "up" || node2.Info == "" || strings.Contains(node2.Info, "Established") {
		t.Errorf("node2's session: state %q, info %q; want it not up, saying why", node2.State, node2.Info)
	}
	if got := host1Table(e); slices.Contains(got, "198.19.24.16/29 via 198.19.0.3") || !slices.Contains(got, "198.19.33.112/32 via 198.19.0.2") {
		t.Errorf("host1 still routes node2's /29, or lost customer's /32: %q", got)
	}
	if err := Down(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	assertGone(t, o, st)
}

// FuzzConfigureAnswer: whatever a control socket answers, configure
// ends with nil or a one-line error, sends nothing but configure, and
// never panics.
func FuzzConfigureAnswer(f *testing.F) {
	for _, s := range []string{
		"0001 BIRD 2.0.12 ready.\n0002-Reading configuration from /x.conf\n0003 Reconfigured\n",
		"0001 BIRD ready.\n8002 /x.conf:3:1 syntax error\n",
		"0001 BIRD ready.\n+0000 x\n 0002 y\n0005 queued\n",
		"0001-BIRD\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, answer string) {
		rw := &fakeConn{r: strings.NewReader(answer)}
		err := configure(rw)
		if err != nil && strings.ContainsAny(err.Error(), "\n\r\x1b") {
			t.Errorf("error is not one clean line: %q", err)
		}
		if sent := rw.w.String(); sent != "" && sent != "configure\n" {
			t.Errorf("sent %q", sent)
		}
	})
}
