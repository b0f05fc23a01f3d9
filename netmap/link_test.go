package netmap

import (
	"testing"

	"podlab/netview"
)

// The map names how the node reaches the others by what the routes are,
// never by a protocol number: recent Felix's VXLAN routes have none
// (boot), older Felix's proto 80, and a cross-subnet node has VXLAN and
// plain routes side by side.
func TestLinkLabel(t *testing.T) {
	vxlanDev := func(p *netview.Pair) {
		p.Host.Links = append(p.Host.Links, netview.Link{Index: 10, Name: "vxlan.calico", Kind: "vxlan",
			Flags: []string{"BROADCAST", "MULTICAST", "UP", "LOWER_UP"}, MTU: 1410, LinkNetNSID: -1})
	}
	tests := []struct {
		name string
		edit func(p *netview.Pair)
		want string
	}{
		{"bgp", func(*netview.Pair) {}, "BGP (proto bird)"},
		{"vxlan, proto 80", func(p *netview.Pair) {
			vxlanDev(p)
			replaceRoutes(&p.Host, map[string]netview.Route{
				"198.19.21.0/26":  hostRoute("198.19.21.0/26", "198.19.21.1", "vxlan.calico", netview.ProtoFelix, "onlink"),
				"198.19.21.64/26": hostRoute("198.19.21.64/26", "198.19.21.65", "vxlan.calico", netview.ProtoFelix, "onlink"),
			})
		}, "VXLAN"},
		{"vxlan, no proto", func(p *netview.Pair) {
			vxlanDev(p)
			replaceRoutes(&p.Host, map[string]netview.Route{
				"198.19.21.0/26":  hostRoute("198.19.21.0/26", "198.19.21.1", "vxlan.calico", netview.ProtoBoot, "onlink"),
				"198.19.21.64/26": hostRoute("198.19.21.64/26", "198.19.21.65", "vxlan.calico", netview.ProtoBoot, "onlink"),
			})
		}, "VXLAN"},
		{"cross-subnet", func(p *netview.Pair) {
			p.Facts.Mode = "vxlan"
			vxlanDev(p)
			replaceRoutes(&p.Host, map[string]netview.Route{
				"198.19.21.0/26":  hostRoute("198.19.21.0/26", "198.19.21.1", "vxlan.calico", netview.ProtoFelix, "onlink"),
				"198.19.21.64/26": hostRoute("198.19.21.64/26", "198.19.0.3", "eth0", netview.ProtoFelix),
			})
		}, "VXLAN + direct"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, a := variant(t, tc.edit)
			m := Build(p, a)
			if m.Link != tc.want {
				t.Errorf("link %q, want %q", m.Link, tc.want)
			}
		})
	}
}
