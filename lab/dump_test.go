package lab

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"podlab/internal/netnstest"
	"podlab/netview"
)

// TestRawDumpMatchesNetlink holds the collector's own link, route and
// sysctl reading against the netlink package and /proc/sys on a node with
// routes of every shape the views show: multipath, IPv6, blackhole, other
// tables, onlink, a preferred source.
func TestRawDumpMatchesNetlink(t *testing.T) {
	c := buildScale(t, 20, 2000)
	for _, args := range [][]string{
		{"ip", "route", "add", "203.0.113.0/24", "nexthop", "via", "198.51.100.1", "dev", "eth0", "nexthop", "via", "198.51.100.3", "dev", "eth0"},
		{"ip", "route", "add", "blackhole", "10.9.9.0/26", "proto", "bird"},
		{"ip", "route", "add", "unreachable", "10.9.8.0/24", "metric", "7"},
		{"ip", "route", "add", "192.0.2.0/24", "via", "198.51.100.9", "dev", "eth0", "onlink", "table", "100", "src", "198.51.100.2"},
		{"ip", "-6", "route", "add", "2001:db8::/64", "dev", "eth0", "metric", "5"},
		{"ip", "-6", "route", "add", "2001:db8:1::/64", "via", "fe80::1", "dev", "eth0"},
		{"ip", "-6", "route", "add", "unreachable", "::ffff:0.0.0.0/96", "dev", "lo", "metric", "1024"},
		{"sysctl", "-qw", "net.ipv4.conf.eth0.rp_filter=2"},
		{"sysctl", "-qw", "net.ipv4.neigh.eth0.proxy_delay=3"},
	} {
		netnstest.Run(t, c.Host, args...)
	}
	for _, name := range []string{c.Host, c.Pod} {
		t.Run(name, func(t *testing.T) {
			got, err := Collect(context.Background(), NSRef{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			want := referenceSnapshot(t, name)
			if len(got.Routes) != len(want.Routes) {
				t.Fatalf("%d routes, the netlink package lists %d", len(got.Routes), len(want.Routes))
			}
			for i := range want.Routes {
				if !reflect.DeepEqual(got.Routes[i], want.Routes[i]) {
					t.Errorf("route %d:\n got %+v\nwant %+v", i, got.Routes[i], want.Routes[i])
				}
			}
			if len(got.Links) != len(want.Links) {
				t.Fatalf("%d links, the reference lists %d", len(got.Links), len(want.Links))
			}
			for i, l := range got.Links {
				if w := want.Links[i].Sysctls; !reflect.DeepEqual(l.Sysctls, w) {
					t.Errorf("link %s sysctls: got %v, /proc/sys has %v", l.Name, l.Sysctls, w)
				}
				w := want.Links[i]
				l.Sysctls, w.Sysctls = nil, nil
				if !reflect.DeepEqual(l, w) {
					t.Errorf("link %d:\n got %+v\nwant %+v", i, l, w)
				}
			}
		})
	}
}

// referenceSnapshot is the collector as it was: links through the
// netlink package's parser, routes through the netlink package and
// convRoute, sysctls from /proc/sys.
func referenceSnapshot(t *testing.T, name string) *netview.Snapshot {
	t.Helper()
	ns, err := openNS(NSRef{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	s := &netview.Snapshot{}
	err = inNS(ns, func() error {
		links, err := referenceLinks()
		if err != nil {
			return err
		}
		names := map[int]string{}
		for i := range links {
			names[links[i].Index] = links[i].Name
			links[i].Sysctls = linkSysctls(links[i].Name)
		}
		s.Links = links
		rs, err := netlink.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
		if err != nil {
			return err
		}
		for _, r := range rs {
			x, err := convRoute(r, names)
			if err != nil {
				return err
			}
			s.Routes = append(s.Routes, x)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// referenceLinks is the collector's link dump as it was: through the
// netlink package's request and attribute parser, which frame the
// messages and attributes the collector's own reader walks (what each
// attribute means, linkAttr, is shared).
func referenceLinks() ([]netview.Link, error) {
	req := nl.NewNetlinkRequest(unix.RTM_GETLINK, unix.NLM_F_DUMP)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	msgs, err := req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWLINK)
	if err != nil {
		return nil, err
	}
	links := make([]netview.Link, 0, len(msgs))
	upByIndex := map[int]bool{}
	for _, m := range msgs {
		if len(m) < unix.SizeofIfInfomsg {
			continue
		}
		ifi := nl.DeserializeIfInfomsg(m)
		attrs, err := nl.ParseRouteAttr(m[unix.SizeofIfInfomsg:])
		if err != nil {
			return nil, fmt.Errorf("parsing link %d: %w", ifi.Index, err)
		}
		l := netview.Link{Index: int(ifi.Index), LinkNetNSID: -1, Group: "default", LinkType: linkTypeName(ifi.Type)}
		var addr, brd []byte
		for _, a := range attrs {
			linkAttr(&l, a.Attr.Type, a.Value, &addr, &brd)
		}
		finishLink(&l, ifi.Type, ifi.Flags, addr, brd)
		upByIndex[l.Index] = ifi.Flags&unix.IFF_UP != 0
		links = append(links, l)
	}
	finishLinks(links, upByIndex)
	return links, nil
}

// A node with the sit module loaded has the kernel's route for
// IPv4-mapped addresses: it is read as the IPv6 route it is, never as an
// IPv4 prefix (which, /96 long, would not be one and fail the dump).
func TestCollectIPv4MappedRoute(t *testing.T) {
	ns := netnstest.New(t, "mapd")
	netnstest.Run(t, ns, "ip", "link", "set", "lo", "up")
	netnstest.Run(t, ns, "ip", "-6", "route", "add", "unreachable", "::ffff:0.0.0.0/96", "dev", "lo", "metric", "1024")
	s, err := Collect(context.Background(), NSRef{Name: ns})
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	want := netip.MustParsePrefix("::ffff:0.0.0.0/96")
	for _, r := range s.Routes {
		if r.Dst == want {
			if r.Family != 6 || r.Type != "unreachable" {
				t.Errorf("route %+v, want an IPv6 unreachable route", r)
			}
			return
		}
	}
	t.Errorf("no route to %s in %+v", want, s.Routes)
}
