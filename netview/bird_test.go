package netview

import (
	"net/netip"
	"strings"
	"testing"

	"podlab/internal/hostile"
)

func TestBirdEstablished(t *testing.T) {
	tests := []struct {
		name string
		p    BirdProtocol
		want bool
	}{
		{"details say so", BirdProtocol{Proto: "BGP", Info: "Established", BGP: &BirdBGP{State: "Established"}}, true},
		{"row only", BirdProtocol{Proto: "BGP", Info: "Established"}, true},
		{"details win over the row", BirdProtocol{Proto: "BGP", Info: "Established", BGP: &BirdBGP{State: "Active"}}, false},
		{"active", BirdProtocol{Proto: "BGP", Info: "Active Socket: Connection refused"}, false},
		{"a word that starts alike", BirdProtocol{Proto: "BGP", Info: "EstablishedX"}, false},
		{"not bgp", BirdProtocol{Proto: "Kernel", Info: "Established"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Established(); got != tt.want {
				t.Errorf("Established() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestBirdSanitizeReachesEveryString: every string of BIRD's protocols,
// set to hostile text by reflection (so a field added later is too),
// is clean after Sanitize and within its cap.
func TestBirdSanitizeReachesEveryString(t *testing.T) {
	ll := netip.MustParseAddr("fe80::1").WithZone("eth0")
	ps := BirdProtocols{{
		Name: strings.Repeat("n", 100), BGP: &BirdBGP{NeighborAddr: ll, NeighborID: ll, SourceAddr: ll},
		Channels: []BirdChannel{{Name: "ipv4"}, {}},
	}}
	hostile.Taint(&ps)
	ps[0].BGP.NeighborAddr = ll.WithZone("eth0" + hostile.Text)
	ps[0].BGP.SourceAddr = ll.WithZone("eth0" + hostile.Text)
	ps[0].BGP.NeighborID = ll.WithZone("eth0" + hostile.Text)
	if len(hostile.Unclean(&ps)) == 0 {
		t.Fatal("tainting left nothing to clean")
	}
	ps.Sanitize()
	if dirty := hostile.Unclean(&ps); len(dirty) > 0 {
		t.Errorf("control characters left in %v", dirty)
	}
	if n := len(ps[0].Name); n > textCaps[kindWord].max+len(CutMark)+16 {
		t.Errorf("name of %d bytes not cut", n)
	}
}

// TestResourcesSanitizeReachesEveryString: as for BIRD's protocols, every
// string of the cluster's resources, zones included, is clean after
// Sanitize.
func TestResourcesSanitizeReachesEveryString(t *testing.T) {
	z := netip.MustParseAddr("fe80::1").WithZone("eth0" + hostile.Text)
	yes := true
	r := Resources{
		Pools:          []IPPool{{}},
		Peers:          []BGPPeer{{PeerIP: z}},
		BGPConfigs:     []BGPConfiguration{{NodeToNodeMeshEnabled: &yes}},
		Services:       []Service{{ClusterIPs: []netip.Addr{z}, ExternalIPs: []netip.Addr{z}, Ports: []ServicePort{{}}}},
		EndpointSlices: []EndpointSlice{{Endpoints: []Endpoint{{Addresses: []netip.Addr{z}}}}},
		Unreadable:     []ResourceGap{{}},
	}
	hostile.Taint(&r)
	if len(hostile.Unclean(&r)) == 0 {
		t.Fatal("tainting left nothing to clean")
	}
	r.Sanitize()
	if dirty := hostile.Unclean(&r); len(dirty) > 0 {
		t.Errorf("control characters left in %v", dirty)
	}
}
