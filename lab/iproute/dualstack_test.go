package iproute

import (
	"os"
	"path/filepath"
	"testing"

	"podlab/netview"
)

// testdata/dualstack is what iproute2 6.1 printed of a dual-stack node
// namespace (ip -j addr, ip -j -d link, ip -j -d route show table all, ip
// -j neigh, ip -6 route, ip -6 addr), made as root in a throw-away
// namespace with DAD off and:
//
//	ip link add eth0 type veth peer name fab0
//	ip link add caliea2aa288365 type veth peer name eth0 netns <pod>
//	ip addr add 198.19.0.2/20 dev eth0; ip -6 addr add fd00:198::2/64 dev eth0 nodad
//	ip -6 route add fd00:19::2284 dev caliea2aa288365
//	ip -6 route add blackhole fd00:19::2280/122 proto bird
//	ip -6 route add fd00:19::2140/122 via fd00:198::3 dev eth0 proto bird
//	ip -6 route add fd00:19::2100/122 proto bird nexthop via fd00:198::1 dev eth0 weight 1 nexthop via fe80::1 dev eth0 weight 1
//	ip -6 route add fd00:19::2290 via fe80::3 dev eth0 proto bird
//	ip -6 route add unreachable ::ffff:0.0.0.0/96 dev lo metric 1024
//	ip -6 route add default via fd00:198::fe dev eth0 metric 1024
//
// The IPv6 views drawn from what ip -j says are what ip -6 printed, byte
// for byte: the routes in the kernel's order, pref medium, the next hops'
// lines, and the links' IPv6 headers (the cali end's peer named after
// this namespace's link of its index, as ip does).
func TestParseIPJSONDualStackViews(t *testing.T) {
	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("testdata", "dualstack", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	s, err := ParseIPJSON(read("addr.json"), read("link.json"), read("route.json"), read("neigh.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		view netview.View
		file string
	}{
		{netview.ViewRoute6, "ip-6-route.txt"},
		{netview.ViewAddr6, "ip-6-addr.txt"},
	} {
		t.Run(string(tt.view), func(t *testing.T) {
			if got, want := netview.Plain(netview.Render(netview.SideHost, tt.view, s, nil)), string(read(tt.file)); got != want {
				t.Errorf("podlab renders:\n%s\nip printed:\n%s", got, want)
			}
		})
	}
}
