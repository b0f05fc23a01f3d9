package netview

import (
	"net/netip"
	"testing"
)

func TestLookup(t *testing.T) {
	rec := loadLesson(t)
	extra := rec.Host
	extra.Routes = append(append([]Route(nil), extra.Routes...),
		Route{Family: 4, Table: TableMain, Type: "unicast", Dst: mp("10.1.0.0/16"), Gw: ma("198.19.0.1"), Dev: "eth0", Metric: 200},
		Route{Family: 4, Table: TableMain, Type: "unicast", Dst: mp("10.1.0.0/16"), Gw: ma("198.19.0.3"), Dev: "eth0", Metric: 50},
		Route{Family: 4, Table: 100, Type: "unicast", Dst: mp("198.19.22.133/32"), Dev: "eth0"},
		Route{Family: 6, Table: TableMain, Type: "unicast", Dst: mp("2001:db8::/32"), Dev: "eth0"},
		Route{Family: 6, Table: TableMain, Type: "unreachable", Dst: mp("::ffff:0.0.0.0/96"), Dev: "lo", Metric: 1024},
	)
	tests := []struct {
		name string
		s    *Snapshot
		dst  string
		want string // destination of the chosen route, "" for none
		gw   string
	}{
		{"local pod /32", &rec.Host, "198.19.22.132", "198.19.22.132/32", ""},
		{"freed pod ip hits the blackhole", &rec.Host, "198.19.22.133", "198.19.22.128/26", ""},
		{"other table ignored", &extra, "198.19.22.133", "198.19.22.128/26", ""},
		{"remote block", &rec.Host, "198.19.21.70", "198.19.21.64/26", "198.19.0.3"},
		{"node subnet", &rec.Host, "198.19.0.3", "198.19.0.0/20", ""},
		{"dhcp gateway /32", &rec.Host, "192.168.44.65", "192.168.44.65/32", ""},
		{"169.254.1.1 leaves by the default route", &rec.Host, "169.254.1.1", "0.0.0.0/0", "192.168.44.65"},
		{"lower metric wins a tie", &extra, "10.1.2.3", "10.1.0.0/16", "198.19.0.3"},
		{"pod gateway", &rec.Pod, "169.254.1.1", "169.254.1.1/32", ""},
		{"pod default", &rec.Pod, "198.19.21.66", "0.0.0.0/0", "169.254.1.1"},
		{"v6 has no v4 match", &rec.Pod, "2001:db8::1", "", ""},
		{"v6 match", &extra, "2001:db8::1", "2001:db8::/32", ""},
		// As in the kernel, an IPv4-mapped address is looked up among
		// the IPv6 routes, where the sit module's route refuses it.
		{"mapped v4 is IPv6", &rec.Host, "::ffff:198.19.22.132", "", ""},
		{"mapped v4 refused", &extra, "::ffff:198.19.22.132", "::ffff:0.0.0.0/96", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := Lookup(tt.s, netip.MustParseAddr(tt.dst))
			if tt.want == "" {
				if ok {
					t.Fatalf("found %+v, want none", r)
				}
				return
			}
			if !ok {
				t.Fatalf("no route, want %s", tt.want)
			}
			if r.Dst.String() != tt.want {
				t.Fatalf("route %s, want %s", r.Dst, tt.want)
			}
			if tt.gw != "" && r.Gw.String() != tt.gw {
				t.Fatalf("via %s, want %s", r.Gw, tt.gw)
			}
		})
	}
	if _, ok := Lookup(nil, netip.MustParseAddr("1.1.1.1")); ok {
		t.Fatal("nil snapshot found a route")
	}
}
