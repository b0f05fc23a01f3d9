package iproute

import (
	"encoding/json"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"podlab/internal/hostile"
	"podlab/internal/netnstest"
	"podlab/netview"
)

// ipJSON runs Commands in namespace ns and parses them, with the sysctls.
func ipJSON(t *testing.T, ns string) *netview.Snapshot {
	t.Helper()
	var outs [][]byte
	for _, c := range Commands {
		args := append([]string{"-n", ns}, c[1:]...)
		out, err := exec.Command("ip", args...).Output()
		if err != nil {
			t.Fatalf("ip %v: %v", args, err)
		}
		outs = append(outs, out)
	}
	s, err := ParseIPJSON(outs[0], outs[1], outs[2], outs[3])
	if err != nil {
		t.Fatalf("ParseIPJSON: %v", err)
	}
	sys, err := exec.Command("ip", "netns", "exec", ns, "sh", "-c", SysctlScript).Output()
	if err != nil && len(sys) == 0 {
		t.Fatalf("sysctls: %v", err)
	}
	ParseSysctls(s, sys)
	return s
}

// pair makes a pod namespace wired to a host namespace as Calico's CNI
// plugin wires them, plus the node routes the lesson shows.
func pair(t *testing.T) (pod, host string) {
	t.Helper()
	pod = netnstest.New(t, "iprp")
	host = netnstest.New(t, "iprh")
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	run("-n", host, "link", "add", "caliea2aa288365", "mtu", "1410", "type", "veth", "peer", "name", "eth0", "mtu", "1410", "netns", pod)
	run("-n", host, "link", "set", "caliea2aa288365", "address", "ee:ee:ee:ee:ee:ee", "up")
	run("-n", host, "link", "set", "lo", "up")
	run("-n", host, "link", "add", "br-fab", "type", "bridge")
	run("-n", host, "link", "set", "br-fab", "up")
	run("-n", host, "addr", "add", "198.19.0.2/20", "dev", "br-fab")
	run("-n", host, "route", "add", "198.19.22.132", "dev", "caliea2aa288365", "scope", "link")
	run("-n", host, "route", "add", "blackhole", "198.19.22.128/26", "proto", "bird")
	run("-n", host, "route", "add", "198.19.21.64/26", "via", "198.19.0.3", "dev", "br-fab", "proto", "bird")
	run("-n", host, "route", "add", "198.19.21.0/26", "via", "198.19.0.1", "dev", "br-fab", "proto", "80", "onlink", "metric", "5")
	run("-n", host, "neigh", "add", "198.19.0.3", "lladdr", "02:00:00:00:00:03", "dev", "br-fab", "nud", "permanent")
	netnstest.Run(t, host, "sysctl", "-qw", "net.ipv4.conf.caliea2aa288365.proxy_arp=1", "net.ipv4.ip_forward=1", "net.ipv4.neigh.caliea2aa288365.proxy_delay=0")
	run("-n", pod, "link", "set", "eth0", "up")
	run("-n", pod, "link", "set", "lo", "up")
	run("-n", pod, "addr", "add", "198.19.22.132/32", "dev", "eth0")
	run("-n", pod, "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link")
	run("-n", pod, "route", "add", "default", "via", "169.254.1.1", "dev", "eth0")
	run("-n", pod, "neigh", "add", "169.254.1.1", "lladdr", "ee:ee:ee:ee:ee:ee", "dev", "eth0", "nud", "reachable")
	return pod, host
}

func findRoute(s *netview.Snapshot, table int, dst string) *netview.Route {
	p := netip.MustParsePrefix(dst)
	for i := range s.Routes {
		if s.Routes[i].Table == table && s.Routes[i].Dst == p {
			return &s.Routes[i]
		}
	}
	return nil
}

func TestParseIPJSONReal(t *testing.T) {
	netnstest.RequireRoot(t)
	podNS, hostNS := pair(t)
	pod := ipJSON(t, podNS)
	host := ipJSON(t, hostNS)

	eth0 := pod.LinkByName("eth0")
	cali := host.LinkByName("caliea2aa288365")
	if eth0 == nil || cali == nil {
		t.Fatalf("links missing: pod %+v host %+v", pod.Links, host.Links)
	}
	t.Run("veth", func(t *testing.T) {
		if eth0.Kind != "veth" || cali.Kind != "veth" {
			t.Errorf("kinds %q %q, want veth", eth0.Kind, cali.Kind)
		}
		if eth0.ParentIndex != cali.Index || cali.ParentIndex != eth0.Index {
			t.Errorf("eth0 %d@if%d, cali %d@if%d: the pair does not point at each other", eth0.Index, eth0.ParentIndex, cali.Index, cali.ParentIndex)
		}
		if eth0.LinkNetNSID < 0 || cali.LinkNetNSID < 0 {
			t.Errorf("link-netnsid eth0 %d cali %d, want both set", eth0.LinkNetNSID, cali.LinkNetNSID)
		}
		if eth0.MTU != 1410 || cali.MAC != "ee:ee:ee:ee:ee:ee" || eth0.OperState != "UP" {
			t.Errorf("eth0 mtu %d operstate %s, cali mac %s", eth0.MTU, eth0.OperState, cali.MAC)
		}
		if !eth0.HasFlag("UP") || !eth0.HasFlag("BROADCAST") {
			t.Errorf("eth0 flags %v", eth0.Flags)
		}
		if lo := pod.LinkByName("lo"); lo == nil || lo.LinkNetNSID != -1 || lo.Kind != "" || !lo.HasFlag("LOOPBACK") {
			t.Errorf("lo: %+v", lo)
		}
		if br := host.LinkByName("br-fab"); br == nil || br.Kind != "bridge" {
			t.Errorf("br-fab: %+v", br)
		}
	})
	t.Run("addr", func(t *testing.T) {
		as := pod.AddrsOf(eth0.Index)
		i := slices.IndexFunc(as, func(a netview.Addr) bool { return a.Prefix.Addr().Is4() })
		if i < 0 || as[i].Prefix != netip.MustParsePrefix("198.19.22.132/32") || as[i].Scope != "global" || as[i].Dev != "eth0" || as[i].ValidLft != netview.LifetimeForever {
			t.Errorf("eth0 addrs %+v", as)
		}
	})
	t.Run("routes", func(t *testing.T) {
		cases := []struct {
			s        *netview.Snapshot
			dst      string
			typ, dev string
			gw       string
			scope    string
			proto    int
			metric   int
			flag     string
		}{
			{pod, "0.0.0.0/0", "unicast", "eth0", "169.254.1.1", "universe", netview.ProtoBoot, 0, ""},
			{pod, "169.254.1.1/32", "unicast", "eth0", "", "link", netview.ProtoBoot, 0, ""},
			{host, "198.19.22.132/32", "unicast", "caliea2aa288365", "", "link", netview.ProtoBoot, 0, ""},
			{host, "198.19.22.128/26", "blackhole", "", "", "universe", netview.ProtoBird, 0, ""},
			{host, "198.19.21.64/26", "unicast", "br-fab", "198.19.0.3", "universe", netview.ProtoBird, 0, ""},
			{host, "198.19.21.0/26", "unicast", "br-fab", "198.19.0.1", "universe", netview.ProtoFelix, 5, "onlink"},
			{host, "198.19.0.0/20", "unicast", "br-fab", "", "link", netview.ProtoKernel, 0, ""},
		}
		for _, c := range cases {
			t.Run(c.dst, func(t *testing.T) {
				r := findRoute(c.s, netview.TableMain, c.dst)
				if r == nil {
					t.Fatalf("no route to %s in %+v", c.dst, c.s.Routes)
				}
				var gw netip.Addr
				if c.gw != "" {
					gw = netip.MustParseAddr(c.gw)
				}
				if r.Type != c.typ || r.Dev != c.dev || r.Gw != gw || r.Scope != c.scope || r.Protocol != c.proto || r.Metric != c.metric || r.Family != 4 {
					t.Errorf("got %+v", *r)
				}
				if c.dev != "" && r.DevIndex != c.s.LinkByName(c.dev).Index {
					t.Errorf("dev index %d", r.DevIndex)
				}
				if c.flag != "" && !slices.Contains(r.Flags, c.flag) {
					t.Errorf("flags %v, want %s", r.Flags, c.flag)
				}
			})
		}
		local := findRoute(host, netview.TableLocal, "198.19.0.2/32")
		if local == nil || local.Type != "local" || local.Scope != "host" || local.Src != netip.MustParseAddr("198.19.0.2") {
			t.Errorf("local table route: %+v", local)
		}
		if r := findRoute(pod, netview.TableMain, "fe80::/64"); r == nil || r.Family != 6 || r.Metric != 256 {
			t.Errorf("ipv6 link-local route: %+v", r)
		}
	})
	t.Run("neigh", func(t *testing.T) {
		i := slices.IndexFunc(pod.Neighs, func(n netview.Neigh) bool { return n.IP == netip.MustParseAddr("169.254.1.1") })
		if i < 0 {
			t.Fatalf("no neighbour 169.254.1.1 in %+v", pod.Neighs)
		}
		n := pod.Neighs[i]
		if n.MAC != "ee:ee:ee:ee:ee:ee" || n.Dev != "eth0" || n.Index != eth0.Index || !slices.Contains(n.State, "REACHABLE") {
			t.Errorf("neigh %+v", n)
		}
	})
	t.Run("sysctls", func(t *testing.T) {
		if v, ok := cali.Sysctl(netview.SysctlProxyARP); !ok || v != 1 {
			t.Errorf("proxy_arp %d %v", v, ok)
		}
		if v, ok := cali.Sysctl(netview.SysctlProxyDelay); !ok || v != 0 {
			t.Errorf("proxy_delay %d %v", v, ok)
		}
		if v, ok := cali.Sysctl(netview.SysctlAcceptRA); !ok {
			t.Errorf("accept_ra %d %v", v, ok)
		}
		if host.Sysctls[netview.SysctlIPForward] != 1 {
			t.Errorf("ip_forward %v", host.Sysctls)
		}
	})
	t.Run("netns names", func(t *testing.T) {
		out, err := exec.Command("ip", "-n", hostNS, "-j", "netns", "list").Output()
		if err != nil {
			t.Fatal(err)
		}
		names, err := NetnsNames(out)
		if err != nil {
			t.Fatal(err)
		}
		if names[cali.LinkNetNSID] != podNS {
			t.Errorf("nsid %d names %q, want %s (%v)", cali.LinkNetNSID, names[cali.LinkNetNSID], podNS, names)
		}
	})
}

func TestParseIPJSONBad(t *testing.T) {
	cases := []struct {
		name                     string
		addr, link, route, neigh string
		want                     string
	}{
		{"not json", "Device \"x\" does not exist.", "", "[]", "[]", "ip -j addr: not iproute2 JSON"},
		{"bad route proto", "[]", "", `[{"dst":"10.0.0.0/8","protocol":"nonsense"}]`, "[]", `unknown protocol "nonsense"`},
		{"bad neigh", "[]", "", "[]", `[{"dst":"x"}]`, "ip -j neigh: bad address"},
		{"bad dst", "[]", "", `[{"dst":"10.0.0/8"}]`, "[]", "bad destination"},
		{"negative prefixlen", `[{"ifindex":2,"ifname":"eth0","addr_info":[{"local":"10.0.0.1","prefixlen":-1}]}]`, "", "[]", "[]",
			`"eth0": prefix length -1 is out of range for 10.0.0.1`},
		{"ipv4 prefixlen 33", `[{"ifindex":2,"ifname":"eth0","addr_info":[{"local":"10.0.0.1","prefixlen":33}]}]`, "", "[]", "[]",
			"prefix length 33 is out of range"},
		{"ipv6 prefixlen 129", `[{"ifindex":2,"ifname":"eth0","addr_info":[{"local":"2001:db8::1","prefixlen":129}]}]`, "", "[]", "[]",
			"prefix length 129 is out of range"},
		{"hostile name in error", `[{"ifindex":2,"ifname":"e\u001b]0;t\u0007","addr_info":[{"local":"x"}]}]`, "", "[]", "[]",
			`"e\x1b]0;t\a": bad address`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseIPJSON([]byte(c.addr), []byte(c.link), []byte(c.route), []byte(c.neigh))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if strings.ContainsAny(err.Error(), "\x1b\x07\n") {
				t.Fatalf("error %q carries control characters", err)
			}
		})
	}
}

func TestParseIPJSONShapes(t *testing.T) {
	// Shapes real ip prints that the namespaces above do not make: a parent
	// named rather than numbered, a master, a neighbour flag, an IPv6
	// default route, a dynamic address, a plain `ip -j route` with no table.
	addr := `[{"ifindex":2,"ifname":"eth0","flags":["UP"],"mtu":1500,"master":"br0","link":"br0","addr_info":[{"family":"inet6","local":"2001:db8::5","prefixlen":64,"scope":"global","dynamic":true,"noprefixroute":true,"valid_life_time":300,"preferred_life_time":100}]},{"ifindex":3,"ifname":"br0","flags":["UP"],"mtu":1500,"addr_info":[]}]`
	route := `[{"dst":"default","gateway":"fe80::1","dev":"eth0","protocol":"ra","metric":1024,"flags":[],"pref":"medium"},{"dst":"default","gateway":"10.0.0.1","dev":"eth0","protocol":"dhcp","prefsrc":"10.0.0.5","metric":100,"flags":[]}]`
	neigh := `[{"dst":"10.0.0.1","dev":"eth0","lladdr":"02:00:00:00:00:01","router":null,"state":["STALE"]}]`
	s, err := ParseIPJSON([]byte(addr), nil, []byte(route), []byte(neigh))
	if err != nil {
		t.Fatal(err)
	}
	eth0 := s.LinkByName("eth0")
	if eth0.MasterIndex != 3 || eth0.ParentIndex != 3 || eth0.LinkNetNSID != -1 {
		t.Errorf("eth0 %+v", eth0)
	}
	if a := s.Addrs[0]; !slices.Contains(a.Flags, "noprefixroute") || slices.Contains(a.Flags, "permanent") || a.ValidLft != 300 {
		t.Errorf("addr %+v", a)
	}
	if r := s.Routes[0]; r.Family != 6 || r.Dst != netip.MustParsePrefix("::/0") || r.Protocol != 9 || r.Metric != 1024 {
		t.Errorf("v6 default %+v", r)
	}
	if r := s.Routes[1]; r.Family != 4 || r.Dst.Bits() != 0 || r.Protocol != netview.ProtoDHCP || r.Src != netip.MustParseAddr("10.0.0.5") || r.Table != netview.TableMain {
		t.Errorf("v4 default %+v", r)
	}
	if n := s.Neighs[0]; !slices.Equal(n.Flags, []string{"router"}) || n.State[0] != "STALE" {
		t.Errorf("neigh %+v", n)
	}
}

// Names with escape sequences come out shown escaped, in every field, and
// the sysctls still find their interface.
func TestParseIPJSONSanitises(t *testing.T) {
	// A kernel name may hold any byte but '/', NUL and white space, up
	// to 15 of them (longer ones are cut: TestParseIPJSONCutsLongNames).
	const bad = "e\x1b]0;o\x07\u009b\x1b[2J"
	esc, _ := json.Marshal(bad)
	name := string(esc)
	s, err := ParseIPJSON([]byte(strings.ReplaceAll(shapeAddr, `"eth0"`, name)), []byte(strings.ReplaceAll(shapeLink, `"eth0"`, name)),
		[]byte(strings.ReplaceAll(shapeRoute, `"eth0"`, name)), []byte(strings.ReplaceAll(shapeNeigh, `"eth0"`, name)))
	if err != nil {
		t.Fatal(err)
	}
	ParseSysctls(s, []byte(strings.ReplaceAll(shapeSys, "eth0", bad)))
	if dirty := hostile.Unclean(s); len(dirty) > 0 {
		t.Errorf("control characters in %v", dirty)
	}
	l := s.LinkByName(`e\x1b]0;o\x07\u009b\x1b[2J`)
	if l == nil {
		t.Fatalf("no link named as sanitised in %+v", s.Links)
	}
	if v, ok := l.Sysctl(netview.SysctlRPFilter); !ok || v != 2 {
		t.Errorf("rp_filter of the hostile link = %d, %v; want 2", v, ok)
	}
	ids, err := NetnsNames([]byte(`[{"name":"ns\u001b]52;c;eA==\u0007","id":0}]`))
	if err != nil {
		t.Fatal(err)
	}
	if got := ids[0]; got != `ns\x1b]52;c;eA==\x07` {
		t.Errorf("netns name %q", got)
	}
	r, err := ParseRouteGet([]byte(`[{"dst":"10.0.0.1","dev":"e\u001b[2J","flags":[]}]`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Dev != `e\x1b[2J` {
		t.Errorf("route get dev %q", r.Dev)
	}
}

// An ifname in `ip -j` output has no length cap of its own: one of 1 MB
// from a pod's image comes out cut to the 15 bytes Linux allows, the
// same in every field that names it.
func TestParseIPJSONCutsLongNames(t *testing.T) {
	long := `"eth0` + strings.Repeat("x", 1<<20) + `"`
	s, err := ParseIPJSON([]byte(strings.ReplaceAll(shapeAddr, `"eth0"`, long)), []byte(strings.ReplaceAll(shapeLink, `"eth0"`, long)),
		[]byte(strings.ReplaceAll(shapeRoute, `"eth0"`, long)), []byte(strings.ReplaceAll(shapeNeigh, `"eth0"`, long)))
	if err != nil {
		t.Fatal(err)
	}
	const cut = "eth0xxxxxxxxxxx…"
	if s.LinkByName(cut) == nil {
		t.Fatalf("no link named %q in %+v", cut, s.Links)
	}
	for _, a := range s.Addrs {
		if a.Dev != "lo" && a.Dev != cut {
			t.Errorf("address on %q, want %q", a.Dev, cut)
		}
	}
	for _, r := range s.Routes {
		if r.Dev != "" && r.Dev != "lo" && r.Dev != cut {
			t.Errorf("route via %q, want %q", r.Dev, cut)
		}
	}
}
