package content

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"podlab/netview"
)

// Lab is one refresh as the lesson reads it: netview's derived data and
// the lesson's variables, made once and read by every part of the
// program that shows the lab. Never changed once made.
type Lab struct {
	*netview.Refresh
	Vars Vars
	// Host1 is host1's table explained, when the lab read host1.
	Host1 *netview.Host1Analysis
}

// NewLab derives the lesson's variables of a refresh; recorded says the
// lab is a recording (see Vars.Recorded).
func NewLab(r *netview.Refresh, recorded bool) *Lab {
	l := &Lab{Refresh: r, Vars: VarsOf(r.Pair, r.Analysis)}
	l.Vars.Recorded = recorded
	if e := r.Pair.Extra; e != nil && e.Host1 != nil && e.Host1Facts != nil {
		h := netview.AnalyzeHost1(e.Host1, e.Host1Facts)
		l.Host1 = &h
	}
	return l
}

// Extra is what the lab read beyond the pair, and the previous
// refresh's (nil when none).
// Its NAT table is the one the current counters are held against
// (Refresh.NATBase).
func (l *Lab) Extra() (cur, prev *netview.Extra) {
	cur = l.Pair.Extra
	if l.Prev != nil && l.Prev.Extra != nil {
		p := *l.Prev.Extra
		p.NAT = l.NATBase
		prev = &p
	}
	return cur, prev
}

// MaxRemoteBlocks is how many remote blocks the lesson's text lists.
const MaxRemoteBlocks = 8

// VarsOf fills the lesson's placeholders from a pair and its analysis.
func VarsOf(p *netview.Pair, a *netview.Analysis) Vars {
	f := &p.Facts
	v := Vars{
		PodName: f.Pod.Name, PodNamespace: f.Pod.Namespace, Node: f.NodeName(),
		PodIf: a.Veth.PodIf, PodIndex: a.Veth.PodIndex, PodPeerIndex: a.Veth.PodPeerIndex,
		HostIf: a.Veth.HostIf, HostIndex: a.Veth.HostIndex, HostPeerIndex: a.Veth.HostPeerIndex,
		HostLinkNetns: a.Veth.HostLinkNetns, ExpectedHostIf: a.ExpectedHostIf,
		InterfacePrefix: f.Prefix(), GatewayMAC: a.Gateway.NeighMAC,
		PodIP: f.Pod.IP, Gateway: a.Gateway.Address,
	}
	if a.Veth.PodIndex > 0 && a.Veth.PodNetNSID >= 0 {
		v.PodNetNSID = strconv.Itoa(a.Veth.PodNetNSID)
	}
	if f.Pod.IP6.IsValid() {
		v.PodIP6 = f.Pod.IP6
	}
	if g := a.Gateway6; g != nil && g.DefaultRoute {
		v.Gateway6, v.HostOwnsGateway6 = g.Address.WithZone(""), g.HostOwns
	}
	if a.Veth.HostIf != "" {
		if l := p.Host.LinkByName(a.Veth.HostIf); l != nil {
			if x, ok := l.Sysctl(netview.SysctlProxyARP); ok {
				v.HostProxyARP = strconv.Itoa(x)
			}
		}
	}
	// The text is IPv4-first: a dual-stack node's IPv6 blocks are named
	// apart.
	var own, own6 netip.Prefix
	for _, b := range f.Blocks {
		switch {
		case b.Node != v.Node || v.Node == "":
		case b.CIDR.Addr().Is4():
			own = b.CIDR
		default:
			own6 = b.CIDR
		}
	}
	var remotes []string
	more := 0
	local := map[string]bool{} // the addresses of the node's pods' /32s
	for _, rc := range a.Routes {
		if rc.Side != netview.SideHost {
			continue
		}
		switch rc.Class {
		case netview.ClassLocalPod:
			local[rc.Dst] = true
		case netview.ClassLocalBlockBlackhole:
			b, err := netip.ParsePrefix(rc.Dst)
			switch {
			case err != nil:
			case b.Addr().Is4() && !own.IsValid():
				own = b
			case b.Addr().Is6() && !own6.IsValid():
				own6 = b
			}
		case netview.ClassRemoteBlock:
			if strings.Contains(rc.Dst, ":") {
				continue // IPv6: the text names IPv4 blocks
			}
			if !v.RemoteBlock.IsValid() || rc.Peer != "" && v.RemoteNode == "" {
				v.RemoteBlock, v.RemoteVia, v.RemoteNode = dstPrefix(rc.Dst), gatewayAddr(rc.Gateway), rc.Peer
			}
			if len(remotes) == MaxRemoteBlocks {
				more++ // a large node's thousands are counted, not listed
				continue
			}
			r := rc.Dst + " via " + rc.Gateway
			if rc.Peer != "" {
				r += " (" + rc.Peer + ")"
			}
			remotes = append(remotes, r)
		}
	}
	v.DeletePod, v.DeleteIP = podToDelete(f, v.Node, local)
	v.RemoteBlocks = strings.Join(remotes, ", ")
	if more > 0 {
		v.RemoteBlocks += fmt.Sprintf(" and %d more", more)
	}
	v.OwnBlock6 = own6
	if own.IsValid() {
		v.OwnBlock = own
		v.BlockSize = own.Bits()
		v.FreeIP = freeIP(p, own)
	} else if f.BlockSize > 0 {
		v.BlockSize = f.BlockSize
	}
	v.Extra = NewExtraFacts(p)
	return v
}

// podToDelete picks the pod step 4.8 has the student delete: one on the
// node, other than the pod shown, whose /32 the node has now; a yaobank
// summary pod as the lesson's, else another of yaobank's, else any; the
// first by name among equals, so it does not change between refreshes.
func podToDelete(f *netview.Facts, node string, local map[string]bool) (pod string, ip netip.Addr) {
	rank := func(p netview.PodFact) int {
		switch {
		case p.Namespace == netview.DefaultNamespace && strings.HasPrefix(p.Name, "summary-"):
			return 0
		case p.Namespace == netview.DefaultNamespace:
			return 1
		}
		return 2
	}
	var best *netview.PodFact
	for i := range f.Pods {
		p := &f.Pods[i]
		if p.Node != node || node == "" || !p.IP.IsValid() || !local[p.IP.String()] ||
			p.Namespace == f.Pod.Namespace && p.Name == f.Pod.Name {
			continue
		}
		if best == nil || rank(*p) < rank(*best) || rank(*p) == rank(*best) && p.Namespace+"/"+p.Name < best.Namespace+"/"+best.Name {
			best = p
		}
	}
	if best == nil {
		return "", netip.Addr{}
	}
	return best.Namespace + "/" + best.Name, best.IP
}

// freeIP is an address of the node's own block that no pod holds, for a
// lookup that hits the blackhole; from the block's upper half, where a
// small lab has no pods.
func freeIP(p *netview.Pair, block netip.Prefix) netip.Addr {
	used := map[netip.Addr]bool{}
	for _, pf := range p.Facts.Pods {
		used[pf.IP] = true
	}
	used[p.Facts.Pod.IP] = true
	for _, r := range p.Host.Routes {
		if r.Dst.IsSingleIP() {
			used[r.Dst.Addr()] = true
		}
	}
	a := block.Masked().Addr()
	size := 1 << (a.BitLen() - block.Bits())
	if a.BitLen() != 32 || size < 4 {
		return netip.Addr{}
	}
	for range size / 2 {
		a = a.Next()
	}
	for ; block.Contains(a); a = a.Next() {
		if !used[a] {
			return a
		}
	}
	return netip.Addr{}
}

// dstPrefix reads a route's destination as the analysis prints it (a
// /32 prints bare, as ip does); a zero prefix when it names none.
func dstPrefix(s string) netip.Prefix {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen())
	}
	return netip.Prefix{}
}

// gatewayAddr reads a route's next hop as the analysis prints it.
func gatewayAddr(s string) netip.Addr {
	a, _ := netip.ParseAddr(s)
	return a
}
