package netview

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestBlockIndexAsWalk: the index answers every question exactly as a
// walk of the blocks in order does, over random blocks of both families,
// of mixed lengths, overlapping and repeated.
func TestBlockIndexAsWalk(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	addr := func() netip.Addr {
		if r.IntN(4) == 0 {
			return netip.AddrFrom16([16]byte{0xfd, 0, 0, 0x19, 15: byte(r.IntN(256))})
		}
		return netip.AddrFrom4([4]byte{198, 19, byte(16 + r.IntN(4)), byte(r.IntN(256))})
	}
	prefix := func() netip.Prefix {
		a := addr()
		bits := []int{24, 26, 28, 29, 32}[r.IntN(5)]
		if a.Is6() {
			bits = []int{116, 120, 122, 128}[r.IntN(4)]
		}
		p, _ := a.Prefix(bits)
		if r.IntN(5) == 0 {
			p = netip.PrefixFrom(a, bits) // as written, not masked
		}
		return p
	}
	for round := range 200 {
		var blocks []Block
		for i := range r.IntN(30) {
			blocks = append(blocks, Block{CIDR: prefix(), Node: string(rune('a' + i))})
		}
		x := newBlockIndex(blocks)
		f := &Facts{Blocks: blocks}
		for range 50 {
			a, dst := addr(), prefix()
			if got, want := x.first(a), blockOf(f, a); got != want {
				t.Fatalf("round %d: first(%s) = %v, want %v", round, a, got, want)
			}
			overlaps := false
			for _, b := range blocks {
				overlaps = overlaps || b.CIDR.Overlaps(dst)
			}
			if got := x.overlaps(dst); got != overlaps {
				t.Fatalf("round %d: overlaps(%s) = %v, want %v (blocks %v)", round, dst, got, overlaps, blocks)
			}
			for _, contains := range []bool{false, true} {
				want := ""
				for _, b := range blocks {
					if b.CIDR == dst || contains && b.CIDR.Contains(dst.Addr()) {
						want = b.Node
					}
				}
				if got := x.lastNode(dst, contains); got != want {
					t.Fatalf("round %d: lastNode(%s, %v) = %q, want %q", round, dst, contains, got, want)
				}
			}
		}
	}
}
