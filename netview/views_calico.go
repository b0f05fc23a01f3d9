package netview

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// calicoctl prints its tables through a tabwriter of minimum width 5 and
// padding 3, every cell ended by a tab: the last column is padded too.
const (
	calicoctlMinWidth = 5
	calicoctlPadding  = 3
)

// defaultASNumber is Calico's AS when no BGPConfiguration sets one.
const defaultASNumber = 64512

// maxListed bounds the items a Why names one by one.
const maxListed = 8

// renderPools lays out `calicoctl get ippools -o wide`.
func renderPools(p Place, e *Extra) []Line {
	r := e.Resources
	rows := []row{header("pools:header", "NAME", "CIDR", "NAT", "IPIPMODE", "VXLANMODE", "DISABLED", "DISABLEBGPEXPORT", "SELECTOR")}
	var imports []importPattern
	if e.Host1Facts != nil && len(e.Host1Facts.Imports) > 0 {
		imports = parseImports(e.Host1Facts.Imports)
	}
	for i := range r.Pools {
		pl := &r.Pools[i]
		external := poolExternal(pl, imports)
		tag := TagPool
		if external {
			tag = TagPoolExternal
		}
		cidr := ""
		if pl.CIDR.IsValid() {
			cidr = pl.CIDR.String()
		}
		rows = append(rows, row{
			key: "pool:" + pl.Name, label: "IP pool " + pl.Name, why: poolWhy(p, pl, e, imports, external),
			cells: []cell{{pl.Name, tag}, {cidr, tag}, {strconv.FormatBool(pl.NATOutgoing), TagNone},
				{orNever(pl.IPIPMode), TagNone}, {orNever(pl.VXLANMode), TagNone}, {strconv.FormatBool(pl.Disabled), TagNone},
				// The model does not carry disableBGPExport: Calico's default.
				{"false", TagNone}, {pl.NodeSelector, TagNone}},
		})
	}
	return tabulate(rows, calicoctlMinWidth, calicoctlPadding, true)
}

func orNever(mode string) string {
	if mode == "" {
		return "Never"
	}
	return mode
}

// poolExternal says whether host1 learns the pool's blocks: its import
// filter admits them. Without the filter, a pool other than Calico's
// default one counts as the lesson's external pool.
func poolExternal(pl *IPPool, imports []importPattern) bool {
	if !pl.CIDR.IsValid() {
		return false
	}
	if imports == nil {
		return !strings.HasPrefix(pl.Name, "default-ipv")
	}
	bits := pl.BlockSize
	if bits < pl.CIDR.Bits() {
		bits = pl.CIDR.Bits()
	}
	block, err := pl.CIDR.Addr().Prefix(bits)
	return err == nil && admits(imports, block)
}

func poolWhy(p Place, pl *IPPool, e *Extra, imports []importPattern, external bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "pool %s: %s cut in /%d blocks, each given to one node", pl.Name, pl.CIDR, pl.BlockSize)
	sel := pl.NodeSelector
	switch {
	case pl.Disabled:
		b.WriteString("; disabled: no pod takes a new address from it")
	case sel == "" || sel == "all()":
		b.WriteString("; pods on every node may take addresses from it")
	case sel == "!all()":
		b.WriteString("; it selects no node (!all()): only the pods, or the namespaces, that name it in their cni.projectcalico.org/ipv4pools annotation take addresses from it")
	default:
		fmt.Fprintf(&b, "; only pods on nodes matching %s take addresses from it", sel)
	}
	if e.Host1Facts != nil {
		var owned []string
		n := 0
		for _, bl := range e.Host1Facts.Facts.Blocks {
			if pl.CIDR.IsValid() && pl.CIDR.Bits() <= bl.CIDR.Bits() && pl.CIDR.Contains(bl.CIDR.Addr()) {
				if n++; n <= maxListed {
					owned = append(owned, bl.Node+"'s "+bl.CIDR.String())
				}
			}
		}
		if n > maxListed {
			owned = append(owned, fmt.Sprintf("and %d more", n-maxListed))
		}
		if len(owned) > 0 {
			b.WriteString("; blocks: " + strings.Join(owned, ", "))
		}
	}
	if imports != nil && (p == PlaceHost1 || external) {
		filter := strings.Join(e.Host1Facts.Imports, ", ")
		if external {
			fmt.Fprintf(&b, "; host1 learns its blocks, each via the node that owns it: host1's import filter admits them (%s)", filter)
		} else {
			fmt.Fprintf(&b, "; its blocks never reach host1: host1's import filter admits only %s", filter)
		}
	}
	return b.String()
}

// renderPeers lays out `calicoctl get bgppeers`.
func renderPeers(e *Extra) []Line {
	r := e.Resources
	rows := []row{header("peers:header", "NAME", "PEERIP", "NODE", "ASN")}
	as := clusterAS(r)
	for i := range r.Peers {
		pe := &r.Peers[i]
		ip := ""
		if pe.PeerIP.IsValid() {
			ip = pe.PeerIP.String()
			if pe.PeerPort != 0 {
				ip = netip.AddrPortFrom(pe.PeerIP, pe.PeerPort).String()
			}
		}
		node, which := "(global)", "every node peers with it"
		switch {
		case pe.Node != "":
			node, which = pe.Node, "only "+pe.Node+" peers with it"
		case pe.NodeSelector != "":
			node, which = pe.NodeSelector, "the nodes matching "+pe.NodeSelector+" peer with it"
		}
		kind := "iBGP: the same AS as the nodes, so it passes on nothing it learns from one node to another"
		if pe.ASNumber != as {
			kind = fmt.Sprintf("eBGP: another AS than the nodes' %d", as)
		}
		rows = append(rows, row{
			key: "peer:" + pe.Name, label: "BGP peer " + pe.Name,
			why: fmt.Sprintf("%s at %s, AS %d: %s; %s", pe.Name, ip, pe.ASNumber, which, kind),
			cells: []cell{{pe.Name, TagPeer}, {ip, TagPeer}, {node, TagNone},
				{strconv.FormatUint(uint64(pe.ASNumber), 10), TagNone}},
		})
	}
	return tabulate(rows, calicoctlMinWidth, calicoctlPadding, true)
}

// clusterAS is the nodes' AS: the default BGPConfiguration's, or Calico's.
func clusterAS(r *Resources) uint32 {
	if c := defaultBGPConfig(r); c != nil && c.ASNumber != 0 {
		return c.ASNumber
	}
	return defaultASNumber
}

func defaultBGPConfig(r *Resources) *BGPConfiguration {
	for i := range r.BGPConfigs {
		if r.BGPConfigs[i].Name == "default" {
			return &r.BGPConfigs[i]
		}
	}
	return nil
}

// renderBGPConfig lays out the fields the lesson reads of `calicoctl get
// bgpconfiguration default -o yaml`, in its order (keys sorted).
func renderBGPConfig(e *Extra) []Line {
	c := defaultBGPConfig(e.Resources)
	if c == nil {
		return []Line{noteLine("bgp:none", "no BGPConfiguration default",
			fmt.Sprintf("without a BGPConfiguration called default Calico's defaults apply: AS %d, every node peers with every other (the mesh), and no service range is advertised", defaultASNumber),
			"# no BGPConfiguration default: Calico's defaults apply")}
	}
	var out []Line
	add := func(key, label, why string, spans ...Span) {
		b := lineBuilder{key: "bgp:" + key}
		for _, s := range spans {
			b.add(s.Text, s.Tag)
		}
		l := b.line()
		l.Label, l.Why = label, why
		out = append(out, l)
	}
	add("apiVersion", "", "", Span{Text: "apiVersion: projectcalico.org/v3"})
	add("kind", "", "", Span{Text: "kind: BGPConfiguration"})
	add("metadata", "", "", Span{Text: "metadata:"})
	add("name", "the cluster-wide settings", "default holds the BGP settings of every node; a BGPConfiguration node.<name> would override them for one node",
		Span{Text: "  name: " + c.Name})
	add("spec", "", "", Span{Text: "spec:"})
	if c.ASNumber != 0 {
		add("asNumber", "the nodes' AS", fmt.Sprintf("every node speaks BGP as AS %d; a peer in the same AS is iBGP", c.ASNumber),
			Span{Text: "  asNumber: " + strconv.FormatUint(uint64(c.ASNumber), 10)})
	}
	if m := c.NodeToNodeMeshEnabled; m != nil {
		why := "the nodes peer with each other (the full mesh): each learns the others' blocks directly"
		if !*m {
			why = "the nodes do not peer with each other: they learn each other's blocks only through the BGPPeers (a route reflector)"
		}
		add("nodeToNodeMeshEnabled", "the node-to-node mesh", why, Span{Text: "  nodeToNodeMeshEnabled: " + strconv.FormatBool(*m)})
	}
	ranges := func(field, what string, ps []netip.Prefix) {
		if len(ps) == 0 {
			return
		}
		add(field, "advertised "+what, fmt.Sprintf("every node announces these %s over BGP to its peers, as routes through itself", what),
			Span{Text: "  " + field + ":"})
		for _, pf := range ps {
			add(field+":"+pf.String(), "advertised range "+pf.String(),
				fmt.Sprintf("%s is announced by every node (by the nodes with an endpoint only, for a Service whose externalTrafficPolicy is Local): a peer that imports it routes %s over the nodes, ECMP", pf, what),
				Span{Text: "  - cidr: "}, Span{Text: pf.String(), Tag: TagServiceRange})
		}
	}
	ranges("serviceClusterIPs", "service cluster IPs", c.ServiceClusterIPs)
	ranges("serviceExternalIPs", "service external IPs", c.ServiceExternalIPs)
	return out
}
