package sandbox

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"podlab/internal/netnstest"
	"podlab/lab"
	"podlab/netview"
)

// blockRoute is a node1 route to another node's block, per mode.
type blockRoute struct {
	dst, gw, dev string
	proto        int
	onlink       bool
}

func TestUpLessonClaims(t *testing.T) {
	tests := []struct {
		mode      string
		blocks    []blockRoute
		holeProto int
	}{
		{"bgp", []blockRoute{
			{"198.19.21.0/26", "198.19.0.1", "eth0", protoBird, false},
			{"198.19.21.64/26", "198.19.0.3", "eth0", protoBird, false},
		}, protoBird},
		{"vxlan", []blockRoute{
			{"198.19.21.0/26", "198.19.21.62", vxlanName, protoFelix, true},
			{"198.19.21.64/26", "198.19.21.126", vxlanName, protoFelix, true},
		}, protoFelix},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			requireSandbox(t, true)
			o := testOptions(t, tt.mode)
			sb := up(t, o)
			st := sb.State
			if !sb.Built || st.Phase != PhaseUp || string(st.Mode) != tt.mode || st.StaticRoutes {
				t.Fatalf("Up: built=%v phase=%s mode=%s static=%v", sb.Built, st.Phase, st.Mode, st.StaticRoutes)
			}
			node1 := st.NodeNS("node1")
			podNS := st.PodNS(CustomerNamespace, CustomerPod)
			if node1 != o.Prefix+"-node1" || !strings.HasPrefix(podNS, "cni-") {
				t.Fatalf("names: node1=%q pod=%q", node1, podNS)
			}
			checkPodSide(t, podNS)
			checkHostSide(t, st, node1)

			h := nsHandleT(t, node1)
			for _, b := range tt.blocks {
				r, ok := findRoute(t, h, b.dst, b.proto)
				if !ok {
					t.Errorf("node1 has no %s proto %d", b.dst, b.proto)
					continue
				}
				dev, _ := h.LinkByIndex(r.LinkIndex)
				if r.Gw.String() != b.gw || dev == nil || dev.Attrs().Name != b.dev {
					t.Errorf("node1 %s: via %s dev %v, want via %s dev %s", b.dst, r.Gw, dev, b.gw, b.dev)
				}
				if got := r.Flags&int(netlink.FLAG_ONLINK) != 0; got != b.onlink {
					t.Errorf("node1 %s: onlink=%v, want %v", b.dst, got, b.onlink)
				}
			}
			if r, ok := findRoute(t, h, "198.19.22.128/26", tt.holeProto); !ok || r.Type != unix.RTN_BLACKHOLE {
				t.Errorf("node1 has no blackhole 198.19.22.128/26 proto %d (got %v)", tt.holeProto, r)
			}

			// The kernel's own answer: an unused address of the block
			// falls into the blackhole; the customer's goes to its veth.
			lab, err := Open(context.Background(), o, false)
			if err != nil {
				t.Fatal(err)
			}
			got, err := lab.Route(context.Background(), netip.MustParseAddr("198.19.22.150"))
			if err != nil || got.Type != "blackhole" || got.Dst != netip.MustParsePrefix("198.19.22.128/26") || got.Protocol != tt.holeProto {
				t.Errorf("Route(198.19.22.150) = %+v, %v; want the blackhole", got, err)
			}
			got, err = lab.Route(context.Background(), netip.MustParseAddr("198.19.22.132"))
			if err != nil || got.Dev != "caliea2aa288365" {
				t.Errorf("Route(198.19.22.132) = %+v, %v; want dev caliea2aa288365", got, err)
			}
			checkAnalysis(t, lab, tt.mode)
			checkRouteText(t, lab, node1)
			if err := lab.Close(); err != nil {
				t.Fatal(err)
			}
			if !nsExists(node1) {
				t.Fatal("Close of a lab that did not build the sandbox removed it")
			}

			// Pods on different nodes reach each other, only through our
			// namespaces.
			for _, dst := range []string{"198.19.21.65", "198.19.21.1"} {
				netnstest.Ping(t, podNS, netip.MustParseAddr(dst))
			}

			// Up again is a no-op.
			again, err := Up(context.Background(), o)
			if err != nil {
				t.Fatalf("second Up: %v", err)
			}
			if again.Built || !again.State.StartedAt.Equal(st.StartedAt) || again.State.Processes[0].Pid != st.Processes[0].Pid {
				t.Errorf("second Up rebuilt the sandbox")
			}

			if err := Down(context.Background(), o); err != nil {
				t.Fatalf("Down: %v", err)
			}
			assertGone(t, o, st)
			if err := Down(context.Background(), o); err != nil {
				t.Fatalf("second Down: %v", err)
			}
		})
	}
}

// checkPodSide: the customer pod's namespace as the lesson shows it.
func checkPodSide(t *testing.T, podNS string) {
	t.Helper()
	h := nsHandleT(t, podNS)
	eth0, err := h.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	a := eth0.Attrs()
	if a.Index != 3 || a.ParentIndex != 9 || a.MTU != podMTU || eth0.Type() != "veth" {
		t.Errorf("pod eth0: index %d @if%d mtu %d kind %s; want 3 @if9 mtu 1410 veth", a.Index, a.ParentIndex, a.MTU, eth0.Type())
	}
	addrs, _ := h.AddrList(eth0, unix.AF_INET)
	if len(addrs) != 1 || addrs[0].IPNet.String() != "198.19.22.132/32" {
		t.Errorf("pod eth0 addresses %v, want 198.19.22.132/32", addrs)
	}
	rs, _ := h.RouteList(eth0, unix.AF_INET)
	var gwLink, def bool
	for _, r := range rs {
		if r.Dst != nil && r.Dst.String() == "169.254.1.1/32" && r.Scope == netlink.SCOPE_LINK {
			gwLink = true
		}
		if prefixOf(r.Dst).Bits() == 0 && r.Gw.String() == "169.254.1.1" {
			def = true
		}
	}
	if !gwLink || !def || len(rs) != 2 {
		t.Errorf("pod routes %v: want exactly 169.254.1.1 scope link and default via 169.254.1.1", rs)
	}
}

// checkHostSide: node1's end of every pod, and the customer's in detail.
func checkHostSide(t *testing.T, st *State, node1 string) {
	t.Helper()
	h := nsHandleT(t, node1)
	cali, err := h.LinkByName("caliea2aa288365")
	if err != nil {
		t.Fatal(err)
	}
	a := cali.Attrs()
	if a.Index != 9 || a.ParentIndex != 3 || a.MTU != podMTU || a.HardwareAddr.String() != "ee:ee:ee:ee:ee:ee" {
		t.Errorf("host end: index %d @if%d mtu %d mac %s; want 9 @if3 1410 ee:ee:ee:ee:ee:ee", a.Index, a.ParentIndex, a.MTU, a.HardwareAddr)
	}
	for key, want := range map[string]string{
		"net/ipv4/conf/caliea2aa288365/proxy_arp":      "1",
		"net/ipv4/neigh/caliea2aa288365/proxy_delay":   "0",
		"net/ipv4/conf/caliea2aa288365/forwarding":     "1",
		"net/ipv4/conf/caliea2aa288365/route_localnet": "1",
		"net/ipv4/ip_forward":                          "1",
	} {
		if got := sysctlIn(t, node1, key); got != want {
			t.Errorf("%s = %s, want %s", key, got, want)
		}
	}
	if _, err := os.Stat("/proc/sys/net/ipv6"); err == nil {
		if got := sysctlIn(t, node1, "net/ipv6/conf/caliea2aa288365/accept_ra"); got != "0" {
			t.Errorf("accept_ra = %s, want 0", got)
		}
	}
	var indexes []int
	for _, p := range st.Pods {
		if p.Node != "node1" {
			continue
		}
		l, err := h.LinkByName(p.HostIf)
		if err != nil {
			t.Errorf("pod %s: %v", p.Name, err)
			continue
		}
		indexes = append(indexes, l.Attrs().Index)
		r, ok := findRoute(t, h, p.IP.String()+"/32", unix.RTPROT_BOOT)
		if !ok || r.LinkIndex != l.Attrs().Index || r.Scope != netlink.SCOPE_LINK {
			t.Errorf("node1 has no %s dev %s scope link (got %v)", p.IP, p.HostIf, r)
		}
	}
	if !slices.Equal(indexes, []int{5, 6, 7, 8, 9}) {
		t.Errorf("node1's cali indexes %v, want 5..9", indexes)
	}
	eth0, err := h.LinkByName("eth0")
	if err != nil || eth0.Attrs().Index != 2 {
		t.Errorf("node1 eth0: %v, want index 2", err)
	}
}

func TestFacts(t *testing.T) {
	b := newBuilder(Options{Prefix: "podlab", Mode: "bgp"}.withDefaults(), "")
	for _, p := range b.pods() {
		b.st.Pods = append(b.st.Pods, PodInfo{Namespace: p.namespace, Name: p.name, Node: p.node, IP: p.ip})
	}
	f := b.st.Facts(CustomerNamespace, CustomerPod)
	if f.Pod.IP != netip.MustParseAddr("198.19.22.132") || f.Node != "node1" || f.BlockSize != 26 ||
		f.ClusterCIDR != netip.MustParsePrefix("198.19.16.0/20") || f.Mode != "bgp" {
		t.Errorf("facts: %+v", f)
	}
	var node1 []string
	for _, p := range f.Pods {
		if p.Node == "node1" {
			node1 = append(node1, p.IP.String())
		}
	}
	if !slices.Equal(node1, []string{"198.19.22.128", "198.19.22.129", "198.19.22.130", "198.19.22.131", "198.19.22.132"}) {
		t.Errorf("node1 pods %v", node1)
	}
	if got := f.NodeByIP(netip.MustParseAddr("198.19.0.3")); got != "node2" {
		t.Errorf("198.19.0.3 is %q", got)
	}
	if len(f.Blocks) != 3 || f.Blocks[1] != (netview.Block{CIDR: netip.MustParsePrefix("198.19.22.128/26"), Node: "node1"}) {
		t.Errorf("blocks %v", f.Blocks)
	}
	if got := vethName(CustomerNamespace, CustomerPod); got != "caliea2aa288365" {
		t.Errorf("vethName = %s", got)
	}
}

func TestPodNSNames(t *testing.T) {
	a := podNSName("podlab", CustomerNamespace, CustomerPod)
	b := podNSName("pt1234abcd", CustomerNamespace, CustomerPod)
	if a == b || a != podNSName("podlab", CustomerNamespace, CustomerPod) {
		t.Errorf("pod namespace names must differ by prefix and be stable: %s %s", a, b)
	}
	if len(a) != len("cni-")+36 || strings.Count(a, "-") != 5 {
		t.Errorf("%s is not shaped like cni-<uuid>", a)
	}
}

func TestUpRefusesBeforeCreating(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"ipip", Options{Mode: "ipip"}, "no IPIP support"},
		{"unknown mode", Options{Mode: "geneve"}, `unknown --mode "geneve"`},
		{"bad prefix", Options{Prefix: "Bad/Prefix"}, "bad prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "ipip" && kernelHasIPIP() {
				tt.want = "does not build ipip mode yet"
			}
			tt.o.StateDir = t.TempDir()
			_, err := Up(context.Background(), tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Up: %v, want %q", err, tt.want)
			}
			if ents, _ := os.ReadDir(tt.o.StateDir); len(ents) > 0 {
				t.Errorf("Up left %d entries in the state dir", len(ents))
			}
		})
	}
}

func TestNoBird(t *testing.T) {
	requireSandbox(t, false)
	t.Setenv("PATH", t.TempDir())
	saved := birdPaths
	birdPaths = nil
	t.Cleanup(func() { birdPaths = saved })
	o := testOptions(t, "bgp")
	_, err := Up(context.Background(), o)
	if !errors.Is(err, ErrNoBird) || err.Error() != "bird2 is not installed: apt-get install bird2 (or pass --static-routes for routes marked proto bird without BGP)" {
		t.Fatalf("Up = %v, want %v", err, ErrNoBird)
	}
	if nsExists(o.Prefix+"-fabric") || fileExists(o.statePath()) {
		t.Fatal("Up created something before refusing")
	}
}

func TestStaticRoutes(t *testing.T) {
	requireSandbox(t, false)
	o := testOptions(t, "bgp")
	o.StaticRoutes, o.Borrowed = true, true
	st := up(t, o).State
	if !st.StaticRoutes || len(st.Processes) != 0 {
		t.Fatalf("static_routes=%v processes=%d", st.StaticRoutes, len(st.Processes))
	}
	b, _ := os.ReadFile(o.statePath())
	if !strings.Contains(string(b), `"static_routes": true`) {
		t.Error("the state file does not say static_routes: true")
	}
	h := nsHandleT(t, st.NodeNS("node1"))
	for _, dst := range []string{"198.19.21.0/26", "198.19.21.64/26", "198.19.22.128/26", "198.19.22.140/32"} {
		if _, ok := findRoute(t, h, dst, protoBird); !ok {
			t.Errorf("node1 lacks %s proto bird", dst)
		}
	}
	netnstest.Ping(t, st.PodNS(CustomerNamespace, CustomerPod), borrowedPod.ip)
}

func TestBorrowed(t *testing.T) {
	requireSandbox(t, true)
	o := testOptions(t, "bgp")
	o.Borrowed = true
	st := up(t, o).State
	for _, node := range []string{"node1", "control"} {
		h := nsHandleT(t, st.NodeNS(node))
		r, ok := findRoute(t, h, "198.19.22.140/32", protoBird)
		if !ok || r.Gw.String() != "198.19.0.3" {
			t.Errorf("%s has no 198.19.22.140 via 198.19.0.3 proto bird learned over BGP (got %v)", node, r)
		}
	}
	netnstest.Ping(t, st.PodNS(CustomerNamespace, CustomerPod), borrowedPod.ip)
}

func TestDownWithNothingUp(t *testing.T) {
	o := Options{Prefix: "ptnothing", StateDir: t.TempDir()}
	if err := Down(context.Background(), o); err != nil {
		t.Fatalf("Down: %v", err)
	}
	if _, err := Status(o); !errors.Is(err, ErrNotUp) {
		t.Fatalf("Status = %v, want ErrNotUp", err)
	}
}

// TestHalfBuilt stops Up part-way, by cancelling it (Up cleans up) or as
// a kill would (nothing cleans up until Down).
func TestHalfBuilt(t *testing.T) {
	tests := []struct {
		name, step string
		kill       bool
	}{
		{"cancel after node1", "node node1", false},
		{"cancel after a pod", "pod yaobank/summary-85c56b76d7-28hm5", false},
		{"kill after the fabric", "fabric", true},
		{"kill after a pod", "pod yaobank/customer-574bd6cc75-2blnv", true},
		{"kill after bird", "bird", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireSandbox(t, true)
			o := testOptions(t, "bgp")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stepHook = func(step string) error {
				if step != tt.step {
					return nil
				}
				if tt.kill {
					return errKilled
				}
				cancel()
				return ctx.Err()
			}
			t.Cleanup(func() { stepHook = nil })
			t.Cleanup(func() { Down(context.Background(), o) })
			_, err := Up(ctx, o)
			if err == nil {
				t.Fatal("Up succeeded")
			}
			st, _ := readState(o)
			if !tt.kill {
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Up = %v, want it to say it was cancelled", err)
				}
				if st != nil {
					t.Fatal("a cancelled Up left its state file")
				}
				return
			}
			if st == nil || st.Phase != PhaseBuilding || len(st.Namespaces) == 0 {
				t.Fatalf("a killed Up should leave its record: %+v", st)
			}
			if tt.step == "bird" && (len(st.Processes) != 3 || st.Processes[2].Pid == 0) {
				t.Fatalf("processes not recorded: %+v", st.Processes)
			}
			if err := Down(context.Background(), o); err != nil {
				t.Fatalf("Down: %v", err)
			}
			assertGone(t, o, st)
		})
	}
}

func TestHalfBuiltThenUp(t *testing.T) {
	requireSandbox(t, true)
	o := testOptions(t, "bgp")
	stepHook = func(step string) error {
		if step == "node node2" {
			return errKilled
		}
		return nil
	}
	t.Cleanup(func() { stepHook = nil })
	if _, err := Up(context.Background(), o); !errors.Is(err, errKilled) {
		t.Fatalf("Up = %v", err)
	}
	stepHook = nil
	sb := up(t, o)
	if !sb.Built || sb.State.Phase != PhaseUp {
		t.Fatalf("Up after a killed Up: built=%v phase=%s", sb.Built, sb.State.Phase)
	}
}

func TestNameTaken(t *testing.T) {
	requireSandbox(t, true)
	o := testOptions(t, "bgp")
	name := o.Prefix + "-node2"
	if _, err := createNS(name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteNS(name) })
	_, err := Up(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), name) {
		t.Fatalf("Up = %v, want it to name %s", err, name)
	}
	if !nsExists(name) {
		t.Fatal("Up removed a namespace it did not make")
	}
	if nsExists(o.Prefix + "-fabric") {
		t.Fatal("Up created something before refusing")
	}
}

func TestDeletePod(t *testing.T) {
	requireSandbox(t, true)
	o := testOptions(t, "bgp")
	st := up(t, o).State
	podNS := st.PodNS(CustomerNamespace, CustomerPod)
	l, err := Open(context.Background(), o, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	changes := l.Changes(ctx)
	for quiet := false; !quiet; { // let anything already under way pass
		select {
		case _, ok := <-changes:
			if !ok {
				t.Fatal("the lab's change stream closed: it watches nothing")
			}
		case <-time.After(200 * time.Millisecond):
			quiet = true
		}
	}
	if err := DeletePod(context.Background(), o, CustomerNamespace, CustomerPod); err != nil {
		t.Fatal(err)
	}
	select {
	case _, ok := <-changes:
		if !ok {
			t.Error("the lab's change stream closed instead of signalling the deleted pod")
		}
	case <-ctx.Done():
		t.Error("deleting the pod signalled no change")
	}
	if nsExists(podNS) {
		t.Error("the pod's namespace is still there")
	}
	// Soon what the lab shows says the pod is gone, and a signal says
	// when: the watch lets the namespace go, and Collect reads afresh.
	for {
		_, err := l.Collect(ctx)
		if errors.Is(err, lab.ErrNamespaceGone) {
			break
		}
		select {
		case <-changes:
		case <-ctx.Done():
			t.Fatalf("Collect after the pod was deleted: %v, want it gone", err)
		}
	}
	h := nsHandleT(t, st.NodeNS("node1"))
	if _, err := h.LinkByName("caliea2aa288365"); err == nil {
		t.Error("the host end is still there")
	}
	if _, ok := findRoute(t, h, "198.19.22.132/32", unix.RTPROT_BOOT); ok {
		t.Error("the route to the deleted pod is still there")
	}
	r, err := lab.RouteGet(context.Background(), lab.NSRef{Name: st.NodeNS("node1")}, netip.MustParseAddr("198.19.22.132"))
	if err != nil || r.Type != "blackhole" {
		t.Errorf("a deleted pod's address should hit the blackhole: %+v, %v", r, err)
	}
	now, err := Status(o)
	if err != nil || now.Pod(CustomerNamespace, CustomerPod) != nil || len(now.Problems) > 0 {
		t.Errorf("Status after DeletePod: %v %v", err, now.Problems)
	}
}

// checkAnalysis: the collector's snapshots of the sandbox, analysed, say
// what the lesson says.
func checkAnalysis(t *testing.T, l *Lab, mode string) {
	t.Helper()
	pair, err := l.Collect(context.Background())
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	a := netview.Analyze(pair)
	v := a.Veth
	if !v.Agree || v.PodIf != "eth0" || v.PodIndex != 3 || v.PodPeerIndex != 9 ||
		v.HostIf != "caliea2aa288365" || v.HostIndex != 9 || v.HostPeerIndex != 3 ||
		v.HostLinkNetns != l.State().PodNS(CustomerNamespace, CustomerPod) {
		t.Errorf("veth pair: %+v", v)
	}
	if a.ExpectedHostIf != "caliea2aa288365" {
		t.Errorf("expected host if %q", a.ExpectedHostIf)
	}
	g := a.Gateway
	if !g.DefaultRoute || !g.LinkRoute || !g.HostProxyARP || g.HostMAC != "ee:ee:ee:ee:ee:ee" {
		t.Errorf("gateway: %+v", g)
	}
	if len(a.Problems) > 0 {
		t.Errorf("problems: %q", a.Problems)
	}
	classes := map[netview.Class][]string{}
	for _, rc := range a.Routes {
		if rc.Route.Family == 6 {
			continue // the lesson reads `ip route`, IPv4 only
		}
		classes[rc.Class] = append(classes[rc.Class], rc.Dst+" "+rc.Peer)
	}
	want := map[netview.Class][]string{
		netview.ClassPodDefault:          {"default "},
		netview.ClassPodGateway:          {"169.254.1.1 "},
		netview.ClassRemoteBlock:         {"198.19.21.0/26 control", "198.19.21.64/26 node2"},
		netview.ClassLocalBlockBlackhole: {"198.19.22.128/26 "},
		netview.ClassDefault:             {"default "},
		netview.ClassConnected:           {"198.19.0.0/20 "},
	}
	for c, w := range want {
		got := slices.Clone(classes[c])
		slices.Sort(got)
		if !slices.Equal(got, w) {
			t.Errorf("%s routes %q, want %q", c, got, w)
		}
	}
	if n := len(classes[netview.ClassLocalPod]); n != 5 {
		t.Errorf("%d local-pod routes, want 5: %q", n, classes[netview.ClassLocalPod])
	}
	for _, rc := range a.Routes {
		if rc.Class == netview.ClassRemoteBlock && rc.Route.Family == 4 {
			wantProto := "bird"
			if mode == "vxlan" {
				wantProto = "80"
			}
			if rc.Proto != wantProto {
				t.Errorf("%s proto %q, want %q", rc.Dst, rc.Proto, wantProto)
			}
		}
	}
	if r, ok := netview.Lookup(&pair.Host, netip.MustParseAddr("198.19.22.150")); !ok || r.Type != "blackhole" {
		t.Errorf("Lookup(198.19.22.150) = %+v", r)
	}
}

// Lab has the methods every podlab lab has (TEAM.md).
var _ interface {
	Kind() string
	Describe() string
	Collect(context.Context) (*netview.Pair, error)
	Route(context.Context, netip.Addr) (netview.Route, error)
	Close() error
} = (*Lab)(nil)

// TestConvergeTimeout: when BGP does not converge in time, Up says what
// is missing, shows BIRD's log, and leaves nothing behind.
func TestConvergeTimeout(t *testing.T) {
	requireSandbox(t, true)
	o := testOptions(t, "bgp")
	saved, savedList := convergeTimeout, listMainRoutes
	convergeTimeout = 10 * time.Millisecond
	// The kernel is read as holding none of BIRD's routes: on a slow
	// machine the mesh may converge before the first look, and this test
	// is about what Up says when it has not.
	listMainRoutes = func(*netlink.Handle) ([]netlink.Route, error) { return nil, nil }
	t.Cleanup(func() { convergeTimeout, listMainRoutes = saved, savedList })
	var st *State
	stepHook = func(step string) error {
		if step == "bird" {
			st, _ = readState(o)
		}
		return nil
	}
	t.Cleanup(func() { stepHook = nil })
	_, err := Up(context.Background(), o)
	if err == nil {
		Down(context.Background(), o)
		t.Fatal("Up converged in 10ms")
	}
	t.Logf("Up: %v", err)
	for _, want := range []string{"BGP did not converge within 10ms", "lacks 198.19.", "bird log", "<INFO> Started"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if st == nil {
		t.Fatal("no state recorded at the bird step")
	}
	assertGone(t, o, st)
}

// TestOpenBuildsAndCloses: a Lab that built the sandbox removes it on
// Close, unless Keep.
func TestOpenBuildsAndCloses(t *testing.T) {
	requireSandbox(t, true)
	o := testOptions(t, "bgp")
	t.Cleanup(func() { Down(context.Background(), o) })
	l, err := Open(context.Background(), o, true)
	if err != nil {
		t.Fatal(err)
	}
	st := l.State()
	if l.Kind() != "sandbox" || !strings.Contains(l.Describe(), "customer-574bd6cc75-2blnv on node1") {
		t.Errorf("Kind %q, Describe %q", l.Kind(), l.Describe())
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, o, st)
}

// checkRouteText: podlab's `ip route` of node1, BIRD's routes included, is
// what iproute2 prints there.
func checkRouteText(t *testing.T, l *Lab, node string) {
	t.Helper()
	for range 10 {
		out, err := exec.Command("ip", "-n", node, "route").Output()
		if err != nil {
			t.Fatalf("ip -n %s route: %v", node, err)
		}
		p, err := l.Collect(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		again, _ := exec.Command("ip", "-n", node, "route").Output()
		if string(again) != string(out) {
			continue
		}
		if got := netview.Plain(netview.Render(netview.SideHost, netview.ViewRoute, &p.Host, nil)); got != string(out) {
			t.Errorf("podlab renders node1's routes as:\n%s\nip prints:\n%s", got, out)
		}
		return
	}
	t.Fatalf("ip -n %s route changed on each of 10 tries", node)
}
