package netview

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// host1 is the course's machine outside the cluster: a BIRD peered with
// every node, importing only the ranges its filter lists. Its table says
// what the nodes announce and what host1 lets in: the external pool's
// blocks, each via the node that owns it, and the service ranges over
// every node that advertises them (ECMP).

// Host1Facts are what the analysis of host1's table reads besides the
// table: the nodes (to name next hops) and their blocks, the pools and
// the BGP configuration (the advertised service ranges), and host1's
// import filter.
type Host1Facts struct {
	Facts     Facts     `json:"facts"`
	Resources Resources `json:"resources"`
	// Imports are host1's BIRD import filter's prefix patterns as BIRD
	// writes them: "198.19.24.0/21+" (that prefix and longer ones) or
	// "198.19.48.0/20" (exactly that one).
	Imports []string `json:"imports,omitempty"`
}

// Sanitize cleans and cuts every string of the facts.
func (f *Host1Facts) Sanitize() {
	f.Facts.Sanitize()
	f.Resources.Sanitize()
	for i := range f.Imports {
		visit(sanitize).at(&f.Imports[i], kindWord)
	}
}

// Host1Kind is what a route of host1's is, in the lesson's terms.
type Host1Kind string

// The kinds of host1's routes.
const (
	Host1PoolBlock   Host1Kind = "pool-block"           // a node's block of a pool
	Host1PoolAddr    Host1Kind = "pool-address"         // a single pod address of a pool
	Host1ClusterIPs  Host1Kind = "service-cluster-ips"  // the advertised service cluster IP range
	Host1ExternalIPs Host1Kind = "service-external-ips" // the advertised service external IP range
	Host1Fabric      Host1Kind = "fabric"               // the network host1 shares with the nodes
	Host1Default     Host1Kind = "default"
	Host1Other       Host1Kind = "other"
)

// Host1Route is one route of host1's with its class (the colour its
// line takes: a range learned from the nodes is a remote block, as a
// node's analysis calls one) and what it is.
type Host1Route struct {
	RouteClass
	Kind Host1Kind `json:"kind"`
	// Pool names the pool a pool block or address is of.
	Pool string `json:"pool,omitempty"`
}

// Host1Analysis is host1's table explained.
type Host1Analysis struct {
	Routes []Host1Route `json:"routes"`
	// Absent says, pool by pool, which blocks host1 has no route to
	// because its import filter rejects them.
	Absent []string `json:"absent,omitempty"`
	// Problems are what host1 lacks that its filter would let in: a
	// block, a node's next hop of a service range.
	Problems []string `json:"problems,omitempty"`
}

// Analysis is h as an analysis of the host side, for Render to tag
// host1's lines with.
func (h *Host1Analysis) Analysis() *Analysis {
	a := &Analysis{Routes: make([]RouteClass, len(h.Routes))}
	for i := range h.Routes {
		a.Routes[i] = h.Routes[i].RouteClass
	}
	return a
}

// importPattern is one of BIRD's prefix patterns: a prefix, exactly or
// with the longer ones inside it ("+").
type importPattern struct {
	prefix netip.Prefix
	longer bool
}

func parseImports(ss []string) []importPattern {
	var out []importPattern
	for _, s := range ss {
		p, longer := strings.CutSuffix(strings.TrimSpace(s), "+")
		if pf, err := netip.ParsePrefix(p); err == nil {
			out = append(out, importPattern{pf.Masked(), longer})
		}
	}
	return out
}

// admits says whether host1's filter lets dst in.
func admits(ps []importPattern, dst netip.Prefix) bool {
	for _, p := range ps {
		if p.prefix == dst || p.longer && dst.Bits() >= p.prefix.Bits() && p.prefix.Contains(dst.Addr()) {
			return true
		}
	}
	return false
}

// AnalyzeHost1 classes and explains host1's main-table routes (IPv4
// and IPv6), and says which pools' blocks are absent and why.
func AnalyzeHost1(s *Snapshot, f *Host1Facts) Host1Analysis {
	var h Host1Analysis
	if s == nil || f == nil {
		return h
	}
	imports := parseImports(f.Imports)
	have := map[netip.Prefix]*Route{}
	var clusterIPs, externalIPs []netip.Prefix
	for _, c := range f.Resources.BGPConfigs {
		clusterIPs = append(clusterIPs, c.ServiceClusterIPs...)
		externalIPs = append(externalIPs, c.ServiceExternalIPs...)
	}
	for i := range s.Routes {
		r := &s.Routes[i]
		// The kernel's fe80::/64 is on every IPv6 link: not host1's to explain.
		if !isMain(r) || !routeDst(r).IsValid() || routeDst(r).Addr().IsLinkLocalUnicast() {
			continue
		}
		have[routeDst(r)] = r
		h.Routes = append(h.Routes, host1Route(r, f, clusterIPs, externalIPs, &h.Problems))
	}
	h.Absent, h.Problems = host1Absent(f, imports, have, h.Problems)
	return h
}

// hopNode is a next hop with the node it is.
type hopNode struct {
	gw   netip.Addr
	dev  string
	node string
}

func (x hopNode) words() string {
	if x.node == "" {
		return fmt.Sprintf("via %s on %s", x.gw, x.dev)
	}
	return fmt.Sprintf("via %s (%s) on %s", x.node, x.gw, x.dev)
}

func host1Hops(r *Route, s *Facts) []hopNode {
	if len(r.NextHops) == 0 {
		if !r.Gw.IsValid() {
			return nil
		}
		return []hopNode{{r.Gw, r.Dev, s.NodeByIP(r.Gw)}}
	}
	out := make([]hopNode, len(r.NextHops))
	for i, nh := range r.NextHops {
		out[i] = hopNode{nh.Gw, cmp.Or(nh.Dev, r.Dev), s.NodeByIP(nh.Gw)}
	}
	return out
}

func withinAny(p netip.Prefix, in []netip.Prefix) (netip.Prefix, bool) {
	for _, x := range in {
		if x.Addr().Is4() == p.Addr().Is4() && p.Bits() >= x.Bits() && x.Contains(p.Addr()) {
			return x, true
		}
	}
	return netip.Prefix{}, false
}

// poolOf is the pool holding dst, or nil.
func poolOf(f *Host1Facts, dst netip.Prefix) *IPPool {
	for i := range f.Resources.Pools {
		p := &f.Resources.Pools[i]
		if p.CIDR.IsValid() && p.CIDR.Bits() <= dst.Bits() && p.CIDR.Contains(dst.Addr()) {
			return p
		}
	}
	return nil
}

func poolWords(p *IPPool) string {
	return fmt.Sprintf("pool %s (%s, /%d blocks)", p.Name, p.CIDR, p.BlockSize)
}

func host1Route(r *Route, f *Host1Facts, clusterIPs, externalIPs []netip.Prefix, problems *[]string) Host1Route {
	dst := routeDst(r)
	hr := Host1Route{RouteClass: newRouteClass(SideHost, r), Kind: Host1Other}
	hops := host1Hops(r, &f.Facts)
	if len(r.NextHops) > 0 {
		hw := make([]HopWords, len(hops))
		for i, x := range hops {
			hw[i] = HopWords{Gateway: x.gw.String(), Dev: x.dev, Peer: x.node}
		}
		hr.NextHops = &hw
	}
	var nodes []string
	var via []string
	for _, x := range hops {
		if x.node != "" && !slices.Contains(nodes, x.node) {
			nodes = append(nodes, x.node)
		}
		via = append(via, x.words())
	}
	hr.Peer = strings.Join(nodes, ", ")
	learned := "learned over BGP (proto bird)"
	if r.Protocol != ProtoBird {
		learned = "not learned over BGP (" + protoWords(r) + ")"
	}
	switch {
	case routeType(r) != "unicast":
		hr.Class, hr.Reason = ClassOther, fmt.Sprintf("a %s route, not one host1 learned from the nodes", routeType(r))
	case isConnected(r, dst):
		hr.Class, hr.Kind = ClassConnected, Host1Fabric
		hr.Reason = fmt.Sprintf("added by the kernel for %s's address: %s is reached directly on %s", r.Dev, dst, r.Dev)
		var in []string
		for _, n := range f.Facts.Nodes {
			if dst.Contains(n.InternalIP) {
				in = append(in, n.Name)
			}
		}
		if len(in) > 0 {
			hr.Reason += ", and the nodes are in it (" + strings.Join(in, ", ") + "): host1's BGP sessions to them and the next hops of what it learns go this way"
		}
	case dst.Bits() == 0:
		hr.Class, hr.Kind = ClassDefault, Host1Default
		hr.Reason = fmt.Sprintf("host1's default route (%s), %s", protoWords(r), strings.Join(via, "; "))
	case len(hops) == 0:
		hr.Class, hr.Reason = ClassOther, "a route with no next hop, not one host1 learned from the nodes"
	default:
		host1Learned(&hr, r, f, dst, hops, nodes, via, learned, clusterIPs, externalIPs, problems)
	}
	return hr
}

// host1Learned classes a route through the nodes: a pool's block or
// address, or an advertised service range.
func host1Learned(hr *Host1Route, r *Route, f *Host1Facts, dst netip.Prefix, hops []hopNode, nodes, via []string, learned string,
	clusterIPs, externalIPs []netip.Prefix, problems *[]string) {
	if rng, ok := withinAny(dst, clusterIPs); ok {
		hr.Kind = Host1ClusterIPs
		hr.Class = ClassServiceRange
		hr.Reason = serviceWords("the service cluster IP range", "serviceClusterIPs", dst, rng, f, hops, nodes, via, learned, problems)
		return
	}
	if rng, ok := withinAny(dst, externalIPs); ok {
		hr.Kind = Host1ExternalIPs
		hr.Class = ClassServiceRange
		hr.Reason = serviceWords("the service external IP range", "serviceExternalIPs", dst, rng, f, hops, nodes, via, learned, problems)
		return
	}
	pool := poolOf(f, dst)
	var owner string
	for _, b := range f.Facts.Blocks {
		if b.CIDR == dst {
			owner = b.Node
		}
	}
	switch {
	case owner != "" || pool != nil && dst.Bits() == pool.BlockSize:
		hr.Kind = Host1PoolBlock
		hr.Class = ClassRemoteBlock
		whose := cmp.Or(owner, "a node") + "'s block"
		if pool != nil {
			hr.Pool = pool.Name
			whose += " of " + poolWords(pool)
		}
		hr.Reason = fmt.Sprintf("%s, %s, %s", whose, learned, strings.Join(via, "; "))
		if owner != "" && (len(nodes) != 1 || nodes[0] != owner) {
			hr.Reason += fmt.Sprintf(": but the block is %s's, so %s should be its next hop", owner, owner)
			*problems = append(*problems, fmt.Sprintf("host1 reaches %s's block %s %s, not via %s", owner, dst, strings.Join(via, "; "), owner))
		}
	case pool != nil && hostLen(dst):
		hr.Kind = Host1PoolAddr
		hr.Class = ClassRemotePod
		hr.Pool = pool.Name
		hr.Reason = fmt.Sprintf("a single address %s of %s, %s, %s: a pod's address announced on its own, outside its node's block", dst.Addr(), poolWords(pool), learned, strings.Join(via, "; "))
	case pool != nil:
		hr.Kind = Host1PoolBlock
		hr.Class = ClassOther
		hr.Pool = pool.Name
		hr.Reason = fmt.Sprintf("addresses of %s, %s, %s, but not one of its blocks", poolWords(pool), learned, strings.Join(via, "; "))
	default:
		hr.Class = ClassOther
		hr.Reason = fmt.Sprintf("%s, %s, but neither a pool's block nor an advertised service range", learned, strings.Join(via, "; "))
	}
}

// serviceWords explain a service range host1 routes over the nodes, and
// note the nodes it has no next hop through.
func serviceWords(what, field string, dst, rng netip.Prefix, f *Host1Facts, hops []hopNode, nodes, via []string, learned string, problems *[]string) string {
	if dst != rng {
		what = "part of " + what + " " + rng.String()
	}
	w := fmt.Sprintf("%s, which the nodes advertise (BGPConfiguration %s), %s", what, field, learned)
	if svc, at := localService(f, dst); svc != nil {
		// externalTrafficPolicy Local: only the nodes with an endpoint
		// announce the Service's /32, so those are the next hops due.
		w = fmt.Sprintf("Service %s/%s's address %s, externalTrafficPolicy Local: only the nodes with one of its endpoints (%s) announce it as a /32, %s, %s",
			svc.Namespace, svc.Name, dst.Addr(), strings.Join(at, ", "), learned, strings.Join(via, "; "))
		var wrong []string
		for _, n := range nodes {
			if !slices.Contains(at, n) {
				wrong = append(wrong, n)
			}
		}
		if len(wrong) > 0 {
			*problems = append(*problems, fmt.Sprintf("host1 routes %s/%s's %s via %s, which has no endpoint of it", svc.Namespace, svc.Name, dst.Addr(), strings.Join(wrong, ", ")))
		}
		return w
	}
	switch {
	case len(hops) > 1:
		w += fmt.Sprintf(", ECMP over %s: one next hop per node that advertises it, and host1's kernel spreads flows over them (%s)", strings.Join(nodes, ", "), strings.Join(via, "; "))
	default:
		w += ", " + strings.Join(via, "; ") + ": one node only"
	}
	var missing []string
	for _, n := range f.Facts.Nodes {
		if n.InternalIP.IsValid() && !slices.ContainsFunc(hops, func(x hopNode) bool { return x.gw == n.InternalIP }) {
			missing = append(missing, fmt.Sprintf("%s (%s)", n.Name, n.InternalIP))
		}
	}
	if len(missing) > 0 {
		w += "; no next hop via " + strings.Join(missing, ", ") + ": host1 hears no route to it from there"
		*problems = append(*problems, fmt.Sprintf("%s %s has no next hop via %s: host1 learns it from the other nodes only", what, dst, strings.Join(missing, ", ")))
	}
	return w
}

// localService is the Service with externalTrafficPolicy Local whose
// cluster or external IP dst is (a /32), and the nodes of its endpoints.
func localService(f *Host1Facts, dst netip.Prefix) (*Service, []string) {
	if !dst.IsSingleIP() {
		return nil, nil
	}
	r := &f.Resources
	for i := range r.Services {
		s := &r.Services[i]
		if s.ExternalTrafficPolicy != "Local" || !slices.Contains(slices.Concat(s.ClusterIPs, s.ExternalIPs), dst.Addr()) {
			continue
		}
		var at []string
		for _, es := range r.EndpointSlices {
			if es.Namespace != s.Namespace || es.Service != s.Name {
				continue
			}
			for _, e := range es.Endpoints {
				if e.Node != "" && !slices.Contains(at, e.Node) {
					at = append(at, e.Node)
				}
			}
		}
		slices.Sort(at)
		return s, at
	}
	return nil, nil
}

// host1Absent says, pool by pool, which blocks host1 has no route to:
// those its import filter rejects (absent, and why), and those it would
// admit (problems).
func host1Absent(f *Host1Facts, imports []importPattern, have map[netip.Prefix]*Route, problems []string) (absent, _ []string) {
	type gap struct {
		pool   string
		blocks []string
	}
	var rejected []gap
	find := func(name string) *gap {
		for i := range rejected {
			if rejected[i].pool == name {
				return &rejected[i]
			}
		}
		rejected = append(rejected, gap{pool: name})
		return &rejected[len(rejected)-1]
	}
	for _, b := range f.Facts.Blocks {
		if have[b.CIDR] != nil || !b.CIDR.Addr().Is4() {
			continue
		}
		pool := poolOf(f, b.CIDR)
		name := "a pool"
		if pool != nil {
			name = poolWords(pool)
		}
		if admits(imports, b.CIDR) {
			problems = append(problems, fmt.Sprintf("host1 has no route to %s's block %s of %s, which its import filter admits: %s does not announce it to host1 (is its BGP session up?)", b.Node, b.CIDR, name, b.Node))
			continue
		}
		g := find(name)
		g.blocks = append(g.blocks, fmt.Sprintf("%s's %s", b.Node, b.CIDR))
	}
	if len(rejected) == 0 {
		return nil, problems
	}
	for _, g := range rejected {
		if len(f.Imports) == 0 {
			// A real host1's filter is no object of the cluster's: say
			// what is seen, not why.
			absent = append(absent, fmt.Sprintf("the blocks of %s are absent (%s): the nodes announce every block they own, so host1's BIRD does not take them in (its import filter, which podlab cannot read here, is the usual reason: sudo birdc show protocols all on host1 shows it)", g.pool, strings.Join(g.blocks, ", ")))
			continue
		}
		absent = append(absent, fmt.Sprintf("the blocks of %s are absent (%s): the nodes announce every block they own, but host1's BIRD imports only the ranges its filter lists (%s), and this pool lies outside them", g.pool, strings.Join(g.blocks, ", "), strings.Join(f.Imports, ", ")))
	}
	return absent, problems
}
