package lab

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"podlab/internal/netnstest"
	"podlab/lab/iproute"
	"podlab/netview"
)

// multipathNS makes a namespace with two veth links and multipath
// routes of both families over them, as ECMP over BGP leaves on a node.
func multipathNS(t *testing.T) string {
	t.Helper()
	ns := netnstest.New(t, "mpth")
	run := func(args ...string) { t.Helper(); netnstest.Run(t, ns, append([]string{"ip"}, args...)...) }
	run("link", "set", "lo", "up")
	run("link", "add", "vethA", "type", "veth", "peer", "name", "peerA")
	run("link", "add", "vethB", "type", "veth", "peer", "name", "peerB")
	for _, l := range []string{"vethA", "peerA", "vethB", "peerB"} {
		run("link", "set", l, "up")
	}
	run("addr", "add", "198.19.0.2/24", "dev", "vethA")
	run("addr", "add", "198.19.1.2/24", "dev", "vethB")
	run("-6", "addr", "add", "fd00:19::2/64", "dev", "vethA", "nodad")
	run("-6", "addr", "add", "fd00:1a::2/64", "dev", "vethB", "nodad")
	for _, r := range multipathRoutes {
		run(r...)
	}
	return ns
}

var multipathRoutes = [][]string{
	{"route", "add", "198.19.21.0/26", "proto", "bird", "nexthop", "via", "198.19.0.1", "dev", "vethA", "weight", "1", "nexthop", "via", "198.19.1.1", "dev", "vethB", "weight", "1"},
	{"route", "add", "198.19.24.0/26", "metric", "5", "nexthop", "via", "198.19.9.9", "dev", "vethB", "weight", "3", "onlink", "nexthop", "via", "198.19.0.1", "dev", "vethA"},
	{"route", "add", "198.19.25.0/26", "nexthop", "dev", "vethA", "nexthop", "via", "198.19.1.1", "dev", "vethB"},
	{"-6", "route", "add", "fd00:22::/122", "proto", "bird", "nexthop", "via", "fd00:19::1", "dev", "vethA", "weight", "1", "nexthop", "via", "fd00:1a::1", "dev", "vethB", "weight", "1"},
	{"-6", "route", "add", "fd00:23::/122", "nexthop", "via", "fe80::1", "dev", "vethA", "nexthop", "via", "fe80::2", "dev", "vethB", "weight", "2"},
}

// hopLines describes every multipath route's next hops in the same
// words whoever read them.
func hopLines(s *netview.Snapshot) []string {
	var out []string
	for _, r := range s.Routes {
		for i, h := range r.NextHops {
			w := h.Weight
			if w == 0 {
				w = 1 // not read: the kernel's default
			}
			out = append(out, fmt.Sprintf("%s table %d hop %d via %v dev %s (%d) weight %d flags %s",
				r.Dst, r.Table, i, h.Gw, h.Dev, h.DevIndex, w, strings.Join(h.Flags, ",")))
		}
	}
	return out
}

func ipSnapshot(t *testing.T, ns string) *netview.Snapshot {
	t.Helper()
	var outs [][]byte
	for _, c := range iproute.Commands {
		out, err := exec.Command("ip", append([]string{"-n", ns}, c[1:]...)...).Output()
		if err != nil {
			t.Fatalf("ip %v: %v", c[1:], err)
		}
		outs = append(outs, out)
	}
	s, err := iproute.ParseIPJSON(outs[0], outs[1], outs[2], outs[3])
	if err != nil {
		t.Fatalf("ParseIPJSON: %v", err)
	}
	return s
}

// Every collector keeps each next hop of a multipath route, IPv4 and
// IPv6, as ip -j shows them: the raw dump, the netlink package's reader
// (RouteGet's) and a live watch that sees the routes come.
func TestCollectMultipath(t *testing.T) {
	netnstest.RequireRoot(t)
	ns := multipathNS(t)
	want := hopLines(ipSnapshot(t, ns))
	if len(want) != 10 {
		t.Fatalf("ip -j shows %d next hops, want 10:\n%s", len(want), strings.Join(want, "\n"))
	}
	check := func(t *testing.T, s *netview.Snapshot) {
		t.Helper()
		onlyIP, onlyUs := sameSet(want, hopLines(s))
		for _, x := range onlyIP {
			t.Errorf("only ip shows: %s", x)
		}
		for _, x := range onlyUs {
			t.Errorf("only we show:  %s", x)
		}
		for _, r := range s.Routes {
			if len(r.NextHops) > 0 && (r.Gw.IsValid() || r.DevIndex != 0) {
				t.Errorf("multipath route %s also has a single next hop: %v dev %d", r.Dst, r.Gw, r.DevIndex)
			}
		}
	}
	t.Run("dump", func(t *testing.T) {
		s, err := Collect(context.Background(), NSRef{Name: ns})
		if err != nil {
			t.Fatal(err)
		}
		check(t, s)
	})
	t.Run("netlink", func(t *testing.T) {
		check(t, referenceSnapshot(t, ns))
	})
	t.Run("live", func(t *testing.T) {
		for _, r := range multipathRoutes {
			netnstest.Run(t, ns, append([]string{"ip"}, slices.Replace(slices.Clone(r), slices.Index(r, "add"), slices.Index(r, "add")+1, "del")...)...)
		}
		l, err := NewLive(t.Context(), NSRef{Name: ns})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(l.Close)
		for _, r := range multipathRoutes {
			netnstest.Run(t, ns, append([]string{"ip"}, r...)...)
		}
		// The routes come as notifications (IPv4) or a reread (IPv6):
		// wait until the watch holds them all.
		deadline := time.Now().Add(20 * time.Second)
		for {
			s, err := l.Snapshot(0)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := sameSet(want, hopLines(s)); len(a)+len(b) == 0 || time.Now().After(deadline) {
				check(t, s)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// A multipath route is bounded like a table: more next hops than podlab
// reads is a one-line error naming the limit, a cut header is refused.
func TestParseNextHopsBounds(t *testing.T) {
	hop := func(gw [4]byte) []byte {
		b := make([]byte, 16)
		native.PutUint16(b[0:], 16)
		b[3] = 0
		native.PutUint32(b[4:], 2)
		native.PutUint16(b[8:], 8)
		native.PutUint16(b[10:], 5) // RTA_GATEWAY
		copy(b[12:], gw[:])
		return b
	}
	many := func(n int) []byte {
		var b []byte
		for i := range n {
			b = append(b, hop([4]byte{10, 0, byte(i >> 8), byte(i)})...)
		}
		return b
	}
	tests := []struct {
		name string
		b    []byte
		hops int
		err  string
	}{
		{"two", many(2), 2, ""},
		{"at the bound", many(maxNextHops), maxNextHops, ""},
		{"over the bound", many(maxNextHops + 1), 0, "more than 256 next hops"},
		{"length past the end", append(many(1), 0x40, 0, 0, 0, 0, 0, 0, 0), 0, "malformed"},
		{"length below a header", append(many(1), 4, 0, 0, 0, 0, 0, 0, 0), 0, "malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hops, err := parseNextHops(tc.b)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("err %v, want one line with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(hops) != tc.hops {
				t.Fatalf("%d hops, want %d", len(hops), tc.hops)
			}
			if hops[1].Gw != netip.MustParseAddr("10.0.0.1") || hops[1].DevIndex != 2 || hops[1].Weight != 1 {
				t.Errorf("hop 1 = %+v", hops[1])
			}
		})
	}
}
