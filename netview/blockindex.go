package netview

import (
	"net/netip"
	"slices"
)

// blockIndex finds a node's IPAM blocks by address without walking them
// all: a large cluster has thousands, and each of a node's thousands of
// routes asks. It answers exactly as a walk of f.Blocks in order would.
type blockIndex struct {
	blocks []Block
	// lens are the prefix lengths blocks have; byMasked maps a block's
	// masked prefix to the indexes of the blocks with it, in order.
	lens     []int
	byMasked map[netip.Prefix][]int
	// exact maps a block's CIDR as written to its indexes, in order.
	exact map[netip.Prefix][]int
	// sorted are the indexes ordered by masked address, for the blocks
	// inside a wider prefix.
	sorted []int
}

func newBlockIndex(blocks []Block) *blockIndex {
	x := &blockIndex{blocks: blocks, byMasked: map[netip.Prefix][]int{}, exact: map[netip.Prefix][]int{}}
	for i, b := range blocks {
		if !b.CIDR.IsValid() {
			continue
		}
		m := b.CIDR.Masked()
		x.byMasked[m] = append(x.byMasked[m], i)
		x.exact[b.CIDR] = append(x.exact[b.CIDR], i)
		if !slices.Contains(x.lens, b.CIDR.Bits()) {
			x.lens = append(x.lens, b.CIDR.Bits())
		}
		x.sorted = append(x.sorted, i)
	}
	slices.SortFunc(x.sorted, func(a, b int) int {
		return x.blocks[a].CIDR.Masked().Addr().Compare(x.blocks[b].CIDR.Masked().Addr())
	})
	return x
}

// containing calls fn with the index of each block that contains a, in
// no particular order.
func (x *blockIndex) containing(a netip.Addr, fn func(i int)) {
	for _, bits := range x.lens {
		if bits > a.BitLen() {
			continue
		}
		p, err := a.Prefix(bits)
		if err != nil {
			continue
		}
		for _, i := range x.byMasked[p] {
			fn(i)
		}
	}
}

// first is the first block, in f.Blocks' order, that contains a; nil
// when none does.
func (x *blockIndex) first(a netip.Addr) *Block {
	best := -1
	x.containing(a, func(i int) {
		if best < 0 || i < best {
			best = i
		}
	})
	if best < 0 {
		return nil
	}
	return &x.blocks[best]
}

// overlaps says whether any block overlaps dst.
func (x *blockIndex) overlaps(dst netip.Prefix) bool {
	found := false
	// Blocks holding dst (as wide as it or wider) contain its address.
	x.containing(dst.Addr(), func(i int) {
		if x.blocks[i].CIDR.Bits() <= dst.Bits() {
			found = true
		}
	})
	if found {
		return true
	}
	// Blocks inside dst start at an address within it.
	lo := dst.Masked().Addr()
	j, _ := slices.BinarySearchFunc(x.sorted, lo, func(i int, a netip.Addr) int {
		return x.blocks[i].CIDR.Masked().Addr().Compare(a)
	})
	return j < len(x.sorted) && dst.Masked().Contains(x.blocks[x.sorted[j]].CIDR.Masked().Addr())
}

// lastNode is the node of the last block, in f.Blocks' order, whose CIDR
// is dst or, when contains, that contains dst's address; "" when none.
func (x *blockIndex) lastNode(dst netip.Prefix, contains bool) string {
	best := -1
	for _, i := range x.exact[dst] {
		best = max(best, i)
	}
	if contains {
		x.containing(dst.Addr(), func(i int) { best = max(best, i) })
	}
	if best < 0 {
		return ""
	}
	return x.blocks[best].Node
}
