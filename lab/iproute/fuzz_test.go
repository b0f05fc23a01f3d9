package iproute

import (
	"encoding/json"
	"strings"
	"testing"

	"podlab/internal/fuzzcheck"
	"podlab/internal/hostile"
	"podlab/netview"
)

// shapeAddr, shapeRoute and shapeNeigh are the shapes real ip prints.
const (
	shapeAddr      = `[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","operstate":"UNKNOWN","group":"default","txqlen":1000,"link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo","valid_life_time":4294967295,"preferred_life_time":4294967295}]},{"ifindex":3,"link_index":9,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1410,"link_netnsid":0,"addr_info":[{"family":"inet","local":"198.19.22.132","prefixlen":32,"broadcast":"198.19.22.132","scope":"global","label":"eth0"}]}]`
	shapeLink      = `[{"ifindex":3,"link_index":9,"ifname":"eth0","flags":["UP"],"mtu":1410,"link_netnsid":0,"linkinfo":{"info_kind":"veth"}}]`
	shapeRoute     = `[{"dst":"default","gateway":"169.254.1.1","dev":"eth0","flags":[]},{"dst":"169.254.1.1","dev":"eth0","scope":"link","flags":[]},{"type":"blackhole","dst":"198.19.22.128/26","protocol":"bird","flags":[]},{"dst":"198.19.21.0/26","gateway":"198.19.0.1","dev":"eth0","protocol":"80","metric":5,"table":"main","flags":["onlink"]}]`
	shapeMultipath = `[{"dst":"198.19.21.0/26","protocol":"bird","flags":[],"nexthops":[{"gateway":"198.19.0.1","dev":"eth0","weight":1,"flags":[]},{"gateway":"198.19.0.3","dev":"eth0","weight":3,"flags":["onlink"]}]},{"type":"unreachable","dst":"::ffff:0.0.0.0/96","dev":"lo","metric":1024,"flags":[],"pref":"medium"},{"dst":"default","protocol":"ra","metric":1024,"flags":[],"pref":"medium","nexthops":[{"gateway":"fe80::1","dev":"eth0","weight":1,"flags":[]},{"gateway":"fe80::2","dev":"eth0","weight":1,"flags":[]}]}]`
	shapeNeigh     = `[{"dst":"169.254.1.1","dev":"eth0","lladdr":"ee:ee:ee:ee:ee:ee","router":null,"state":["REACHABLE"]}]`
	shapeSys       = "/proc/sys/net/ipv4/ip_forward:1\n/proc/sys/net/ipv4/conf/eth0/rp_filter:2\n/proc/sys/net/ipv4/neigh/eth0/proxy_delay:0\n"
)

// FuzzParseIPJSON: whatever ip (or what stands in for it) prints, the
// snapshot podlab makes of it carries no control character, renders
// without one, has only valid prefixes, and encodes stably.
func FuzzParseIPJSON(f *testing.F) {
	f.Add([]byte(shapeAddr), []byte(shapeLink), []byte(shapeRoute), []byte(shapeNeigh), []byte(shapeSys))
	f.Add([]byte(shapeAddr), []byte(nil), []byte("[]"), []byte(""), []byte(""))
	f.Add([]byte(shapeAddr), []byte(shapeLink), []byte(shapeMultipath), []byte(shapeNeigh), []byte(""))
	esc, _ := json.Marshal("eth0" + hostile.Text)
	f.Add([]byte(strings.ReplaceAll(shapeAddr, `"eth0"`, string(esc))), []byte(strings.ReplaceAll(shapeLink, `"eth0"`, string(esc))),
		[]byte(strings.ReplaceAll(shapeRoute, `"eth0"`, string(esc))), []byte(strings.ReplaceAll(shapeNeigh, `"eth0"`, string(esc))),
		[]byte(strings.ReplaceAll(shapeSys, "eth0", "eth0"+hostile.Text)))
	f.Add([]byte(`[{"ifindex":2,"ifname":"x","addr_info":[{"local":"10.0.0.1","prefixlen":-1}]}]`), []byte(nil), []byte("[]"), []byte("[]"), []byte(""))
	f.Fuzz(func(t *testing.T, addr, link, route, neigh, sys []byte) {
		s, err := ParseIPJSON(addr, link, route, neigh)
		if err != nil {
			if strings.Contains(err.Error(), "\n") || hostile.Check(err.Error(), false) != nil {
				t.Fatalf("error is not one clean line: %q", err)
			}
			return
		}
		ParseSysctls(s, sys)
		checkSnapshot(t, s)
	})
}

func checkSnapshot(t *testing.T, s *netview.Snapshot) {
	t.Helper()
	for _, a := range s.Addrs {
		if !a.Prefix.IsValid() {
			t.Fatalf("address %+v has an invalid prefix", a)
		}
	}
	for _, r := range s.Routes {
		if !r.Dst.IsValid() {
			t.Fatalf("route %+v has an invalid destination", r)
		}
	}
	fuzzcheck.Snapshot(t, s)
}
