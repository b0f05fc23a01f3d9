package netview

import (
	"net/netip"
	"testing"
)

// BenchmarkAnalyzeManyBlocks: a node of a large cluster, with a route
// and an IPAM block for each of 5,000 other nodes' blocks.
func BenchmarkAnalyzeManyBlocks(b *testing.B) {
	p := variant(&testing.T{}, nil)
	gw := netip.MustParseAddr("198.19.0.3")
	for i := range 5000 {
		dst := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 10), byte(i >> 2), byte(i&3) << 6}), 26)
		p.Host.Routes = append(p.Host.Routes, Route{Family: 4, Table: TableMain, Type: "unicast", Dst: dst, Gw: gw, Dev: "eth0", Scope: "universe", Protocol: ProtoBird})
		p.Facts.Blocks = append(p.Facts.Blocks, Block{CIDR: dst, Node: "node2"})
	}
	b.ReportAllocs()
	for b.Loop() {
		Analyze(p)
	}
}
