package content

import (
	"net/netip"
	"slices"
	"strings"

	"podlab/kubeproxy"
	"podlab/netview"
)

// ExtraFacts are what a lab read beyond the pod and its node (a pair's
// Extra) as expressions see it: lists of maps, made once per refresh and
// never changed, so that Vars stays comparable (it holds a pointer).
type ExtraFacts struct {
	values map[string]any
}

// extraFactNames are the facts ExtraFacts holds, in the guide's order.
var extraFacts = []Fact{
	{"Unread", "map(string, string)", "why a part the pack reads could not be read, by part: host1, host1-bird, bird, nat, resources", "all", nil},
	{"Nodes", "list(map)", "the nodes: {name, ip}", "all", nil},
	{"Host1Routes", "list(map)", "host1's routes: {dst, kind (pool-block, service-cluster-ips, service-external-ips, fabric, default, other), pool, via (list), nodes (list), proto}", "all", nil},
	{"Host1Absent", "list(string)", "pool by pool, the blocks host1 has no route to and why", "all", nil},
	{"Host1Problems", "list(string)", "what host1 lacks that its import filter would let in", "all", nil},
	{"Host1Imports", "list(string)", "host1's BIRD import filter's prefixes: 198.19.24.0/21+", "all", nil},
	{"Host1Sessions", "list(map)", "host1's BGP sessions: {name, peer, node, state (BGP's: Established, Active, ...), protocolState (BIRD's: up, start), since, info, established, imported, exported}", "all", nil},
	{"NodeSessions", "list(map)", "the node's BGP sessions, likewise", "all", nil},
	{"Pools", "list(map)", "Calico's IP pools: {name, cidr, blockSize, ipip, vxlan, natOutgoing, disabled, selector}", "all", nil},
	{"PoolBlocks", "list(map)", "the IPAM blocks with their pool: {cidr, node, pool}", "all", nil},
	{"Peers", "list(map)", "Calico's BGP peers: {name, ip, as, node, selector}", "all", nil},
	{"AdvertisedClusterIPs", "list(string)", "the service cluster IP ranges the nodes advertise", "all", nil},
	{"AdvertisedExternalIPs", "list(string)", "the service external IP ranges the nodes advertise", "all", nil},
	{"Services", "list(map)", "the Services of the pod's namespace: {namespace, name, type, clusterIP, externalIPs, policy, ports: [{name, protocol, port, targetPort, nodePort}], endpoints: [{ip, node, pod, ready}]}", "all", nil},
	{"NATMode", "string", "the mode kube-proxy's rules were read in: iptables, nftables, \"\" not read", "all", nil},
	{"NAT", "list(map)", "each Service port followed through kube-proxy's rules: {service, namespace, name, port, protocol, svcChain, chain, found, entries: [{chain, kind, packets}], hops: [{index, chain, want, named, probability (as the rule prints it), p (as a number), share (1/2), why, toDest, packets, dnatPackets}]}", "all", nil},
}

// extraFactOf is the value a fact of ExtraFacts has in x; an empty one
// when nothing was read.
func extraFactOf(x *ExtraFacts, f Fact) any {
	if x != nil {
		if v, ok := x.values[f.Name]; ok {
			return v
		}
	}
	switch f.Type {
	case "string":
		return ""
	case "list(string)", "list(map)":
		return []any{}
	}
	return map[string]any{}
}

func isExtraFact(name string) bool {
	return slices.ContainsFunc(extraFacts, func(f Fact) bool { return f.Name == name })
}

// NewExtraFacts makes the facts of p's Extra; nil when it has none.
func NewExtraFacts(p *netview.Pair) *ExtraFacts {
	if p == nil || p.Extra == nil {
		return nil
	}
	e, f := p.Extra, &p.Facts
	v := map[string]any{}
	unread := map[string]any{}
	for k, why := range e.Unread {
		unread[k] = why
	}
	v["Unread"] = unread
	nodes := []any{}
	for _, n := range f.Nodes {
		nodes = append(nodes, map[string]any{"name": n.Name, "ip": addrText(n.InternalIP)})
	}
	res := e.Resources
	if res == nil && e.Host1Facts != nil {
		res = &e.Host1Facts.Resources
	}
	if e.Host1Facts != nil && len(nodes) == 0 {
		for _, n := range e.Host1Facts.Facts.Nodes {
			nodes = append(nodes, map[string]any{"name": n.Name, "ip": addrText(n.InternalIP)})
		}
	}
	v["Nodes"] = nodes
	nodeOf := func(a netip.Addr) string {
		if n := f.NodeByIP(a); n != "" {
			return n
		}
		if e.Host1Facts != nil {
			return e.Host1Facts.Facts.NodeByIP(a)
		}
		return ""
	}
	if e.Host1 != nil && e.Host1Facts != nil {
		a := netview.AnalyzeHost1(e.Host1, e.Host1Facts)
		routes := []any{}
		byDst := map[string]*netview.Route{}
		for i := range e.Host1.Routes {
			r := &e.Host1.Routes[i]
			byDst[netview.DstString(r.Dst)] = r
		}
		for _, hr := range a.Routes {
			via, names := []any{}, []any{}
			proto := ""
			if r := byDst[hr.Dst]; r != nil {
				proto = netview.ProtoName(r.Protocol)
				gws := []netip.Addr{r.Gw}
				if len(r.NextHops) > 0 {
					gws = gws[:0]
					for _, nh := range r.NextHops {
						gws = append(gws, nh.Gw)
					}
				}
				for _, g := range gws {
					if g.IsValid() {
						via = append(via, g.String())
						names = append(names, nodeOf(g))
					}
				}
			}
			routes = append(routes, map[string]any{"dst": hr.Dst, "kind": string(hr.Kind), "pool": hr.Pool,
				"via": via, "nodes": names, "proto": proto})
		}
		v["Host1Routes"] = routes
		v["Host1Absent"] = strings2(a.Absent)
		v["Host1Problems"] = strings2(a.Problems)
		v["Host1Imports"] = strings2(e.Host1Facts.Imports)
	}
	v["Host1Sessions"] = sessions(e.Host1Bird, nodeOf)
	v["NodeSessions"] = sessions(e.Bird, nodeOf)
	if res != nil {
		pools, blocks := []any{}, []any{}
		for _, p := range res.Pools {
			pools = append(pools, map[string]any{"name": p.Name, "cidr": prefixText(p.CIDR), "blockSize": int64(p.BlockSize),
				"ipip": p.IPIPMode, "vxlan": p.VXLANMode, "natOutgoing": p.NATOutgoing, "disabled": p.Disabled, "selector": p.NodeSelector})
		}
		allBlocks := f.Blocks
		if len(allBlocks) == 0 && e.Host1Facts != nil {
			allBlocks = e.Host1Facts.Facts.Blocks
		}
		for _, b := range allBlocks {
			pool := ""
			for _, p := range res.Pools {
				if p.CIDR.IsValid() && p.CIDR.Overlaps(b.CIDR) && p.CIDR.Bits() <= b.CIDR.Bits() {
					pool = p.Name
				}
			}
			blocks = append(blocks, map[string]any{"cidr": prefixText(b.CIDR), "node": b.Node, "pool": pool})
		}
		v["Pools"], v["PoolBlocks"] = pools, blocks
		peers := []any{}
		for _, p := range res.Peers {
			peers = append(peers, map[string]any{"name": p.Name, "ip": addrText(p.PeerIP), "as": int64(p.ASNumber),
				"node": p.Node, "selector": p.NodeSelector})
		}
		v["Peers"] = peers
		var cips, eips []netip.Prefix
		for _, c := range res.BGPConfigs {
			cips = append(cips, c.ServiceClusterIPs...)
			eips = append(eips, c.ServiceExternalIPs...)
		}
		v["AdvertisedClusterIPs"], v["AdvertisedExternalIPs"] = prefixes(cips), prefixes(eips)
		v["Services"] = services(res)
	}
	if e.NAT != nil {
		v["NATMode"] = string(e.NAT.Mode)
		v["NAT"] = natWalks(e.NAT, res)
	}
	return &ExtraFacts{values: v}
}

func strings2(ss []string) []any {
	out := make([]any, 0, len(ss))
	for _, s := range ss {
		out = append(out, s)
	}
	return out
}

func prefixes(ps []netip.Prefix) []any {
	out := make([]any, 0, len(ps))
	for _, p := range ps {
		out = append(out, prefixText(p))
	}
	return out
}

func sessions(ps netview.BirdProtocols, nodeOf func(netip.Addr) string) []any {
	out := []any{}
	for _, p := range ps.Sessions() {
		peer := ""
		var node string
		if p.BGP != nil && p.BGP.NeighborAddr.IsValid() {
			peer = p.BGP.NeighborAddr.String()
			node = nodeOf(p.BGP.NeighborAddr)
		}
		state := p.State
		if p.BGP != nil && p.BGP.State != "" {
			state = p.BGP.State
		} else if first, _, _ := strings.Cut(p.Info, " "); first != "" {
			state = first
		}
		out = append(out, map[string]any{"name": p.Name, "peer": peer, "node": node, "state": state, "protocolState": p.State,
			"since": p.Since, "info": p.Info, "established": p.Established(),
			"imported": int64(p.Routes.Imported), "exported": int64(p.Routes.Exported)})
	}
	return out
}

func services(res *netview.Resources) []any {
	out := []any{}
	for _, s := range res.Services {
		cip := ""
		if len(s.ClusterIPs) > 0 {
			cip = s.ClusterIPs[0].String()
		}
		eips := []any{}
		for _, a := range s.ExternalIPs {
			eips = append(eips, a.String())
		}
		ports := []any{}
		for _, p := range s.Ports {
			ports = append(ports, map[string]any{"name": p.Name, "protocol": p.Protocol, "port": int64(p.Port),
				"targetPort": p.TargetPort, "nodePort": int64(p.NodePort)})
		}
		eps := []any{}
		for _, es := range res.EndpointSlices {
			if es.Namespace != s.Namespace || es.Service != s.Name {
				continue
			}
			for _, ep := range es.Endpoints {
				for _, a := range ep.Addresses {
					eps = append(eps, map[string]any{"ip": a.String(), "node": ep.Node, "pod": ep.Pod, "ready": ep.Ready})
				}
			}
		}
		out = append(out, map[string]any{"namespace": s.Namespace, "name": s.Name, "type": s.Type, "clusterIP": cip,
			"externalIPs": eips, "policy": s.ExternalTrafficPolicy, "ports": ports, "endpoints": eps})
	}
	return out
}

// natWalks follows each Service port of res through t; without res,
// each service port KUBE-SERVICES names.
func natWalks(t *kubeproxy.Table, res *netview.Resources) []any {
	var sps []kubeproxy.ServicePort
	if res != nil {
		for _, s := range res.Services {
			for _, p := range s.Ports {
				sps = append(sps, kubeproxy.ServicePort{Namespace: s.Namespace, Name: s.Name, Port: p.Name, Protocol: p.Protocol})
			}
		}
	}
	out := []any{}
	for _, sp := range sps {
		w := kubeproxy.WalkService(t, sp)
		entries := []any{}
		for _, en := range w.Entries {
			entries = append(entries, map[string]any{"chain": en.Chain, "kind": en.Kind, "packets": int64(en.Rule.Packets)})
		}
		hops := []any{}
		for i, h := range w.Hops {
			hops = append(hops, map[string]any{"index": int64(i), "p": h.P, "why": h.Why, "chain": h.Chain, "want": h.Want, "named": h.Named,
				"probability": h.Probability, "share": kubeproxy.Fraction(h.Share), "toDest": h.ToDest,
				"packets": int64(h.Rule.Packets), "dnatPackets": int64(h.DNAT.Packets)})
		}
		out = append(out, map[string]any{"service": sp.String(), "namespace": sp.Namespace, "name": sp.Name,
			"port": sp.Port, "protocol": strings.ToLower(sp.Protocol), "svcChain": w.SVC, "chain": w.Chain,
			"found": w.Found, "entries": entries, "hops": hops})
	}
	return out
}
