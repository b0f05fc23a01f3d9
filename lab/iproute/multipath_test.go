package iproute

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"podlab/internal/netnstest"
	"podlab/netview"
)

// multipathRoutes are the routes of a node with multipath ones, added
// in a namespace with links eth0 (198.19.0.2/20), eth1 (10.0.0.2/24,
// its peer down) and caliea2aa288365: testdata/multipath holds what
// iproute2 6.1 printed of them.
var multipathRoutes = [][]string{
	{"route", "add", "198.19.21.0/26", "proto", "bird", "nexthop", "via", "198.19.0.1", "dev", "eth0", "weight", "1", "nexthop", "via", "198.19.0.3", "dev", "eth0", "weight", "1"},
	{"route", "add", "198.19.21.64/26", "via", "198.19.0.3", "dev", "eth0", "proto", "bird"},
	{"route", "add", "blackhole", "198.19.22.128/26", "proto", "bird"},
	{"route", "add", "198.19.22.132", "dev", "caliea2aa288365", "scope", "link"},
	{"route", "add", "198.19.24.0/26", "proto", "80", "metric", "5", "nexthop", "via", "198.19.0.3", "dev", "eth0", "weight", "3", "onlink", "nexthop", "via", "198.19.0.1", "dev", "eth0", "weight", "1"},
	{"route", "add", "198.19.25.0/26", "nexthop", "dev", "eth0", "nexthop", "via", "10.0.0.1", "dev", "eth1"},
	{"route", "add", "default", "via", "198.19.0.1", "dev", "eth0", "proto", "dhcp", "src", "198.19.0.2", "metric", "100"},
	{"-6", "route", "add", "fd00:22::/122", "proto", "bird", "nexthop", "via", "fd00:19::1", "dev", "eth0", "weight", "1", "nexthop", "via", "fd00:19::3", "dev", "eth0", "weight", "1"},
	{"-6", "route", "add", "unreachable", "::ffff:0.0.0.0/96", "dev", "lo", "metric", "1024"},
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "multipath", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func routeView(s *netview.Snapshot) string {
	return netview.Plain(netview.Render(netview.SideHost, netview.ViewRoute, s, nil))
}

// What ip -j says of multipath routes becomes their next hops, and the
// route view drawn from them is what `ip route` printed, byte for byte.
func TestParseIPJSONMultipath(t *testing.T) {
	s, err := ParseIPJSON(readTestdata(t, "addr.json"), readTestdata(t, "link.json"), readTestdata(t, "route.json"), readTestdata(t, "neigh.json"))
	if err != nil {
		t.Fatal(err)
	}
	eth0, eth1 := s.LinkByName("eth0"), s.LinkByName("eth1")
	if eth0 == nil || eth1 == nil {
		t.Fatalf("links %+v", s.Links)
	}
	tests := []struct {
		dst    string
		family int
		typ    string
		hops   []netview.NextHop
	}{
		{"198.19.21.0/26", 4, "unicast", []netview.NextHop{
			{Gw: netip.MustParseAddr("198.19.0.1"), Dev: "eth0", DevIndex: eth0.Index, Weight: 1},
			{Gw: netip.MustParseAddr("198.19.0.3"), Dev: "eth0", DevIndex: eth0.Index, Weight: 1}}},
		{"198.19.24.0/26", 4, "unicast", []netview.NextHop{
			{Gw: netip.MustParseAddr("198.19.0.3"), Dev: "eth0", DevIndex: eth0.Index, Weight: 3, Flags: []string{"onlink"}},
			{Gw: netip.MustParseAddr("198.19.0.1"), Dev: "eth0", DevIndex: eth0.Index, Weight: 1}}},
		{"198.19.25.0/26", 4, "unicast", []netview.NextHop{
			{Dev: "eth0", DevIndex: eth0.Index, Weight: 1},
			{Gw: netip.MustParseAddr("10.0.0.1"), Dev: "eth1", DevIndex: eth1.Index, Weight: 1, Flags: []string{"linkdown"}}}},
		{"fd00:22::/122", 6, "unicast", []netview.NextHop{
			{Gw: netip.MustParseAddr("fd00:19::1"), Dev: "eth0", DevIndex: eth0.Index, Weight: 1},
			{Gw: netip.MustParseAddr("fd00:19::3"), Dev: "eth0", DevIndex: eth0.Index, Weight: 1}}},
		{"198.19.21.64/26", 4, "unicast", nil},
		// Never read as an IPv4 prefix, which it is not.
		{"::ffff:0.0.0.0/96", 6, "unreachable", nil},
	}
	for _, tt := range tests {
		t.Run(tt.dst, func(t *testing.T) {
			r := findRoute(s, netview.TableMain, tt.dst)
			if r == nil {
				t.Fatalf("no route to %s", tt.dst)
			}
			if r.Family != tt.family || r.Type != tt.typ {
				t.Errorf("family %d type %s, want %d %s", r.Family, r.Type, tt.family, tt.typ)
			}
			if len(r.NextHops) != len(tt.hops) {
				t.Fatalf("next hops %+v, want %+v", r.NextHops, tt.hops)
			}
			for i, h := range tt.hops {
				if got := r.NextHops[i]; got.Gw != h.Gw || got.Dev != h.Dev || got.DevIndex != h.DevIndex || got.Weight != h.Weight || strings.Join(got.Flags, ",") != strings.Join(h.Flags, ",") {
					t.Errorf("next hop %d: %+v, want %+v", i, got, h)
				}
			}
			if len(tt.hops) > 0 && (r.Gw.IsValid() || r.Dev != "") {
				t.Errorf("a multipath route with gateway %s dev %q", r.Gw, r.Dev)
			}
		})
	}
	if got, want := routeView(s), string(readTestdata(t, "ip-route.txt")); got != want {
		t.Errorf("route view differs from ip route:\n got %q\nwant %q", got, want)
	}
}

// On a real namespace, the route view of what ip -j says is what `ip
// route` says, multipath routes and all.
func TestMultipathRouteViewReal(t *testing.T) {
	netnstest.RequireRoot(t)
	ns := netnstest.New(t, "iprm")
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	run("link", "set", "lo", "up")
	run("link", "add", "eth0", "type", "veth", "peer", "name", "fab0")
	run("link", "add", "eth1", "type", "veth", "peer", "name", "fab1")
	run("link", "add", "caliea2aa288365", "type", "veth", "peer", "name", "pod0")
	for _, l := range []string{"eth0", "fab0", "eth1", "caliea2aa288365", "pod0"} {
		run("link", "set", l, "up")
	}
	run("addr", "add", "198.19.0.2/20", "dev", "eth0")
	run("addr", "add", "10.0.0.2/24", "dev", "eth1")
	run("-6", "addr", "add", "fd00:19::2/64", "dev", "eth0", "nodad")
	for _, r := range multipathRoutes {
		run(r...)
	}
	s := ipJSON(t, ns)
	out, err := exec.Command("ip", "-n", ns, "route").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "\tnexthop via 198.19.0.3 dev eth0 weight 3 onlink \n") {
		t.Fatalf("ip route shows no multipath route:\n%s", out)
	}
	if got := routeView(s); got != string(out) {
		t.Errorf("route view differs from ip route:\n got %q\nwant %q", got, out)
	}
	out6, err := exec.Command("ip", "-n", ns, "-6", "route").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := netview.Plain(netview.Render(netview.SideHost, netview.ViewRoute6, s, nil)); got != string(out6) {
		t.Errorf("IPv6 route view differs from ip -6 route:\n got %q\nwant %q", got, out6)
	}
	if r := findRoute(s, netview.TableMain, "fd00:22::/122"); r == nil || len(r.NextHops) != 2 {
		t.Errorf("IPv6 multipath route: %+v", r)
	}
}
